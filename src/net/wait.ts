/**
 * Waiting on one fd, for sockets with a Python-style timeout (`settimeout(seconds)`):
 * the fd is non-blocking and each operation that meets EAGAIN waits here for the rest of
 * its time, then retries or throws `TimeoutError`. The waiting is the platform core's
 * single-fd poll, which resumes after a signal with the time left (PEP 475).
 */
import { raise } from '../sys/call.js';
import { pollOne } from '../sys/pollfd.js';
import { errno } from '../sys/errno.js';
import { TimeoutError } from '../errors.js';

/**
 * Waits until `fd` has `events` (POLLIN/POLLOUT), at most until `deadline` (a
 * `performance.now()` value; < 0 blocks).
 * @throws TimeoutError (`'timed out'`, as Python's) when the deadline passes.
 */
export function waitFd(fd: number, events: number, deadline: number, what: string): void {
  for (;;) {
    const ms = deadline < 0 ? -1 : Math.ceil(deadline - performance.now());
    if (deadline >= 0 && ms <= 0) throw new TimeoutError(errno.ETIMEDOUT, `timed out (${what})`);
    const r = pollOne(fd, events, ms);
    if (r < 0) raise(r, 'poll', what);
    if (r > 0) return;
    // 0: the time ran out; the check above throws unless the clock disagrees by a tick.
  }
}

/**
 * Whether `fd` has any of `events` right now (a zero-timeout poll). Errors and hang-ups
 * count as ready, and so does a failing poll: the operation then reports them at once.
 */
export function readyNow(fd: number, events: number): boolean {
  return pollOne(fd, events, 0) !== 0;
}
