/**
 * Waiting on one fd with poll(2), for sockets with a Python-style timeout
 * (`settimeout(seconds)`): the fd is non-blocking and each operation that meets EAGAIN
 * waits here for the rest of its time, then retries or throws `TimeoutError`.
 */
import * as libc from '../sys/libc.js';
import { raise, sysret } from '../sys/call.js';
import { TimeoutError, errno as E } from '../errors.js';

const EINTR = E.EINTR!;
const POLLFD = Buffer.alloc(8);

/**
 * Waits until `fd` has `events` (POLLIN/POLLOUT), at most until `deadline` (a
 * `performance.now()` value; < 0 blocks). Signals retry with the remaining time (PEP 475).
 * @throws TimeoutError (`'timed out'`, as Python's) when the deadline passes.
 */
export function waitFd(fd: number, events: number, deadline: number, what: string): void {
  POLLFD.writeInt32LE(fd, 0);
  POLLFD.writeInt16LE(events, 4);
  POLLFD.writeInt16LE(0, 6);
  for (;;) {
    const ms = deadline < 0 ? -1 : Math.ceil(deadline - performance.now());
    if (deadline >= 0 && ms <= 0) throw new TimeoutError(E.ETIMEDOUT!, `timed out (${what})`);
    const r = sysret(libc.poll(POLLFD, 1, ms));
    if (r === -EINTR) continue; // EINTR: retry with the remaining time (PEP 475).
    if (r < 0) raise(r, 'poll', what);
    if (r > 0) return;
  }
}


/**
 * Whether `fd` has any of `events` right now (a zero-timeout poll); errors and hang-ups
 * count as ready, since the operation will then report them at once.
 */
export function readyNow(fd: number, events: number): boolean {
  POLLFD.writeInt32LE(fd, 0);
  POLLFD.writeInt16LE(events, 4);
  POLLFD.writeInt16LE(0, 6);
  for (;;) {
    const r = sysret(libc.poll(POLLFD, 1, 0));
    if (r !== -EINTR) return r !== 0; // an error of poll itself: let the operation report it
  }
}
