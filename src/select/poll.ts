/**
 * `Poll`: Python's `select.poll` object, a thin face over the system layer's
 * {@link PollFds}. Registrations live in a Map (registration order, as Python's dict);
 * the pollfd array is refilled from it only after they change and is otherwise passed
 * to the kernel as it is.
 */
import { PollFds } from '../sys/pollfd.js';
import { raise } from '../sys/call.js';
import { errno } from '../sys/errno.js';
import { POLLIN, POLLPRI, POLLOUT } from '../sys/constants.js';
import { OSError, KeyError } from '../errors.js';
import { toFd, toMask16, millisToMs, type FileLike } from '../validate.js';

/** A poll object: register fds with event masks, then wait with {@link Poll.poll}. */
export class Poll {
  readonly #masks = new Map<number, number>();
  #dirty = false;
  readonly #fds = new PollFds();

  /**
   * Starts watching `fd` for the events in `eventmask`; registering again overwrites the
   * mask. Makes no system call, so a closed fd is accepted (it polls as POLLNVAL).
   * @param eventmask poll bits, default `POLLIN | POLLPRI | POLLOUT`; 0..65535.
   */
  register(fd: FileLike, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    const n = toFd(fd);
    const mask = toMask16(eventmask);
    if (this.#masks.get(n) !== mask) {
      this.#masks.set(n, mask);
      this.#dirty = true;
    }
  }

  /**
   * Changes the mask of a registered fd.
   * @throws OSError (ENOENT) when `fd` is not registered.
   */
  modify(fd: FileLike, eventmask: number): void {
    const n = toFd(fd);
    const mask = toMask16(eventmask);
    if (!this.#masks.has(n)) throw OSError.fromErrno(errno.ENOENT, undefined, `fd ${n} is not registered`);
    if (this.#masks.get(n) !== mask) {
      this.#masks.set(n, mask);
      this.#dirty = true;
    }
  }

  /**
   * Stops watching `fd`.
   * @throws KeyError when `fd` is not registered.
   */
  unregister(fd: FileLike): void {
    const n = toFd(fd);
    if (!this.#masks.delete(n)) throw new KeyError(`fd ${n} is not registered`, n);
    this.#dirty = true;
  }

  #refill(): void {
    const fds = this.#fds;
    fds.clear();
    for (const [fd, mask] of this.#masks) fds.add(fd, mask);
    this.#dirty = false;
  }

  /**
   * Waits for events on the registered fds. A signal does not end the wait early (PEP
   * 475): the call goes on with the time left.
   * @param timeout milliseconds, fractions rounded up; `null`/`undefined`/negative block.
   * @returns `[fd, revents]` for each fd with events, in registration order; a closed
   *   fd reports `POLLNVAL`.
   */
  poll(timeout?: number | null): Array<[number, number]> {
    const ms = millisToMs(timeout);
    if (this.#dirty) this.#refill();
    const fds = this.#fds;
    const n = fds.poll(ms);
    if (n < 0) raise(n, 'poll');
    const out: Array<[number, number]> = [];
    for (let i = 0, count = fds.length; i < count && out.length < n; i++) {
      const revents = fds.revents(i);
      if (revents !== 0) out.push([fds.fd(i), revents]);
    }
    return out;
  }
}

/** Returns a new {@link Poll} object (Python's `select.poll()`). */
export function poll(): Poll {
  return new Poll();
}
