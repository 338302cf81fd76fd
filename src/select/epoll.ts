/**
 * `Epoll`: Python's `select.epoll` object, a thin face over the system layer's
 * {@link EpollFd}: Python's argument rules and errors here, the kernel calls and the
 * reused event buffer there. A `poll()` allocates only the array it returns.
 */
import { EpollFd, EPOLL_MAXEVENTS_MAX } from '../sys/epoll.js';
import { raise } from '../sys/call.js';
import { fdClosing } from '../sys/closing.js';
import { errno } from '../sys/errno.js';
import {
  EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, FD_SETSIZE,
} from '../sys/constants.js';
import { OSError, ClosedError } from '../errors.js';
import { toFd, toInteger, toMask32, secondsToMs, describe, INT_MAX, type FileLike } from '../validate.js';

/** Python's default for `maxevents = -1`. */
const DEFAULT_MAXEVENTS = FD_SETSIZE - 1;
/** Passed by {@link Epoll.fromFd} alone to the constructor: the fd to adopt follows. */
const ADOPT: unique symbol = Symbol('Epoll.fromFd');
/** The constructor's private form, for {@link Epoll.fromFd}. */
type AdoptingCtor = new (token: typeof ADOPT, fd: number) => Epoll;

/** An epoll object (Python's `select.epoll`): close-on-exec, closed with {@link Epoll.close}. */
export class Epoll implements Disposable {
  readonly #ep: EpollFd;

  /**
   * @param sizehint expected number of fds (ignored by the kernel); -1 or positive.
   * @param flags    0 or `EPOLL_CLOEXEC` (the object is close-on-exec either way).
   * @throws RangeError for `sizehint` 0, < -1 or not an integer; OSError (EINVAL) for
   *   flags other than 0 and `EPOLL_CLOEXEC`; TypeError for a non-number.
   */
  constructor(sizehint?: number, flags?: number);
  constructor(sizehint: unknown = -1, flags: unknown = 0) {
    if (sizehint === ADOPT) {
      this.#ep = EpollFd.adopt(flags as number);
      return;
    }
    toInteger(sizehint, 'sizehint');
    if (sizehint === 0 || (sizehint as number) < -1 || (sizehint as number) > INT_MAX) {
      throw new RangeError(`sizehint must be -1 or a positive int (at most 2^31-1), got ${sizehint as number}`);
    }
    // As Python: any flags number but 0 and EPOLL_CLOEXEC is refused by the kernel's rule.
    if (typeof flags !== 'number') throw new TypeError(`flags must be an integer, got ${describe(flags)}`);
    if (flags !== 0 && flags !== EPOLL_CLOEXEC) {
      throw OSError.fromErrno(errno.EINVAL, 'epoll_create1', `flags ${flags}: expected 0 or EPOLL_CLOEXEC`);
    }
    this.#ep = EpollFd.create();
  }

  /**
   * Wraps an existing epoll fd; the object owns it from then on and closes it.
   * @throws RangeError / TypeError for a bad fd.
   */
  static fromFd(fd: number): Epoll {
    return new (Epoll as unknown as AdoptingCtor)(ADOPT, toFd(fd));
  }

  /** Whether {@link Epoll.close} has been called. */
  get closed(): boolean {
    return this.#ep.fd < 0;
  }

  #checkOpen(): void {
    if (this.#ep.fd < 0) throw new ClosedError('I/O operation on closed epoll object');
  }

  /** The epoll fd. @throws ClosedError after close(). */
  fileno(): number {
    this.#checkOpen();
    return this.#ep.fd;
  }

  /**
   * Closes the epoll fd. Idempotent. As in CPython, an error from close(2) is ignored
   * (e.g. EBADF when the fd was already closed through another object).
   */
  close(): void {
    const fd = this.#ep.fd;
    if (fd < 0) return;
    fdClosing(fd);
    this.#ep.close(); // errors ignored, as CPython's epoll.close() does
  }

  /** Same as {@link Epoll.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #ctl(op: number, fileobj: FileLike, eventmask: number, name: string): void {
    this.#checkOpen();
    const fd = toFd(fileobj);
    const r = this.#ep.ctl(op, fd, eventmask);
    if (r < 0) raise(r, 'epoll_ctl', `${name} fd ${fd}`);
  }

  /**
   * Starts watching `fd`.
   * @param eventmask EPOLL* bits, default `EPOLLIN | EPOLLPRI | EPOLLOUT`.
   * @throws OSError EEXIST if already registered, EBADF for a closed fd, EPERM for a
   *   regular file; RangeError for a negative fd or a mask out of range.
   */
  register(fd: FileLike, eventmask: number = EPOLLIN | EPOLLPRI | EPOLLOUT): void {
    this.#checkOpen();
    this.#ctl(EPOLL_CTL_ADD, fd, toMask32(eventmask), 'register');
  }

  /** Changes the mask of a registered fd. @throws OSError ENOENT if not registered. */
  modify(fd: FileLike, eventmask: number): void {
    this.#checkOpen();
    this.#ctl(EPOLL_CTL_MOD, fd, toMask32(eventmask), 'modify');
  }

  /** Stops watching `fd`. @throws OSError (EBADF for a closed fd, ENOENT if not registered). */
  unregister(fd: FileLike): void {
    this.#ctl(EPOLL_CTL_DEL, fd, 0, 'unregister');
  }

  /**
   * Waits for events. A signal does not end the wait early (PEP 475): the call goes on
   * with the time left; a JS signal handler runs only after it returns (see
   * docs/design.md, "Blocking calls and signals").
   * @param timeout   seconds, rounded up to whole ms; `null`/`undefined`/negative block.
   * @param maxevents most events to return; -1 means FD_SETSIZE - 1.
   * @returns `[fd, events]` pairs, events non-negative.
   * @throws RangeError for `maxevents` 0, < -1 or not an integer, or a timeout too
   *   large; TypeError for a non-number; ClosedError after close().
   */
  poll(timeout?: number | null, maxevents: number = -1): Array<[number, number]> {
    this.#checkOpen();
    const ms = secondsToMs(timeout, 'block');
    toInteger(maxevents, 'maxevents');
    if (maxevents === -1) maxevents = DEFAULT_MAXEVENTS;
    else if (maxevents <= 0) throw new RangeError(`maxevents must be greater than 0 or -1, got ${maxevents}`);
    else if (maxevents > EPOLL_MAXEVENTS_MAX) throw new RangeError(`maxevents ${maxevents} is too large`);
    const ep = this.#ep;
    const n = ep.wait(maxevents, ms);
    if (n < 0) raise(n, 'epoll_wait');
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [ep.eventFd(i), ep.events(i)];
    return out;
  }
}

/** Returns a new {@link Epoll} (Python's `select.epoll(sizehint, flags)`). */
export function epoll(sizehint: number = -1, flags: number = 0): Epoll {
  return new Epoll(sizehint, flags);
}
