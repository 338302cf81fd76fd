/**
 * `Epoll`: Python's `select.epoll` object over epoll(7). The event buffer is allocated
 * once per object (grown only when a larger `maxevents` is asked for) and decoded
 * through typed-array views, so a `poll()` allocates only the array it returns.
 */
import * as libc from '../sys/libc.js';
import { check, raise, sysret } from '../sys/call.js';
import {
  EPOLLIN, EPOLLPRI, EPOLLOUT, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, FD_SETSIZE,
} from '../sys/constants.js';
import { EPOLL_EVENT_SIZE, EPOLL_EVENT_DATA } from '../sys/structs.js';
import { OSError, ClosedError } from '../errors.js';
import { toFd, toInteger, describeValue, toMask32, secondsToMs, deadlineFor, remainingMs, type FileLike } from './args.js';

const EINTR = 4;
const EINVAL = 22;
/** Python's default for `maxevents = -1`. */
const DEFAULT_MAXEVENTS = FD_SETSIZE - 1;
/** Stride of one epoll_event in 32-bit words, and the word holding the fd in `data`. */
const STRIDE = EPOLL_EVENT_SIZE / 4;
const DATA_WORD = EPOLL_EVENT_DATA / 4;
/** Set only while {@link Epoll.fromFd} runs the constructor: the fd to adopt. */
let adopting = -1;

/** An epoll object (Python's `select.epoll`): close-on-exec, closed with {@link Epoll.close}. */
export class Epoll implements Disposable {
  #fd: number;
  #events: Buffer;
  #words: Uint32Array;
  #capacity: number;
  readonly #ctl = Buffer.alloc(16);
  readonly #ctlWords = new Uint32Array(this.#ctl.buffer, this.#ctl.byteOffset, 4);

  /**
   * @param sizehint expected number of fds (ignored by the kernel); -1 or positive.
   * @param flags    0 or `EPOLL_CLOEXEC` (the object is close-on-exec either way).
   * @throws RangeError for `sizehint` 0, < -1 or not an integer; OSError (EINVAL) for
   *   flags other than 0 and `EPOLL_CLOEXEC`; TypeError for a non-number.
   */
  constructor(sizehint: number = -1, flags: number = 0) {
    toInteger(sizehint, 'sizehint');
    if (sizehint === 0 || sizehint < -1 || sizehint > 0x7fffffff) {
      throw new RangeError(`sizehint must be -1 or a positive int (at most 2^31-1), got ${sizehint}`);
    }
    if (typeof flags !== 'number') throw new TypeError(`flags must be an integer, got ${describeValue(flags)}`);
    if (flags !== 0 && flags !== EPOLL_CLOEXEC) {
      throw OSError.fromErrno(EINVAL, 'epoll_create1', `flags ${flags}: expected 0 or EPOLL_CLOEXEC`);
    }
    this.#fd = adopting >= 0 ? adopting : check(libc.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1');
    this.#capacity = 0;
    this.#events = Buffer.alloc(0);
    this.#words = new Uint32Array(0);
  }

  /**
   * Wraps an existing epoll fd; the object owns it from then on and closes it.
   * @throws RangeError / TypeError for a bad fd.
   */
  static fromFd(fd: number): Epoll {
    adopting = toFd(fd);
    try {
      return new Epoll();
    } finally {
      adopting = -1;
    }
  }

  /** Whether {@link Epoll.close} has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  #checkOpen(): number {
    if (this.#fd < 0) throw new ClosedError('I/O operation on closed epoll object');
    return this.#fd;
  }

  /** The epoll fd. @throws ClosedError after close(). */
  fileno(): number {
    return this.#checkOpen();
  }

  /**
   * Closes the epoll fd. Idempotent. As in CPython, an error from close(2) is ignored
   * (e.g. EBADF when the fd was already closed through another object).
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    libc.close(fd); // errors ignored, as CPython's epoll.close() does
  }

  /** Same as {@link Epoll.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #ctlCall(op: number, fd: number, mask: number, name: string): void {
    const epfd = this.#checkOpen();
    const w = this.#ctlWords;
    w[0] = mask;
    w[1] = 0; w[2] = 0; w[3] = 0;
    w[DATA_WORD] = fd;
    check(libc.epoll_ctl(epfd, op, fd, this.#ctl), 'epoll_ctl', `${name} fd ${fd}`);
  }

  /**
   * Starts watching `fd`.
   * @param eventmask EPOLL* bits, default `EPOLLIN | EPOLLPRI | EPOLLOUT`.
   * @throws OSError EEXIST if already registered, EBADF for a closed fd, EPERM for a
   *   regular file; RangeError for a negative fd or a mask out of range.
   */
  register(fd: FileLike, eventmask: number = EPOLLIN | EPOLLPRI | EPOLLOUT): void {
    this.#checkOpen();
    this.#ctlCall(EPOLL_CTL_ADD, toFd(fd), toMask32(eventmask), 'register');
  }

  /** Changes the mask of a registered fd. @throws OSError ENOENT if not registered. */
  modify(fd: FileLike, eventmask: number): void {
    this.#checkOpen();
    this.#ctlCall(EPOLL_CTL_MOD, toFd(fd), toMask32(eventmask), 'modify');
  }

  /** Stops watching `fd`. @throws OSError (EBADF for a closed fd, ENOENT if not registered). */
  unregister(fd: FileLike): void {
    this.#checkOpen();
    this.#ctlCall(EPOLL_CTL_DEL, toFd(fd), 0, 'unregister');
  }

  /**
   * Waits for events.
   * @param timeout   seconds, rounded up to whole ms; `null`/`undefined`/negative block.
   * @param maxevents most events to return; -1 means FD_SETSIZE - 1.
   * @returns `[fd, events]` pairs, events non-negative.
   * @throws RangeError for `maxevents` 0, < -1 or not an integer, or a timeout too
   *   large; TypeError for a non-number; ClosedError after close().
   */
  poll(timeout?: number | null, maxevents: number = -1): Array<[number, number]> {
    const epfd = this.#checkOpen();
    let ms = secondsToMs(timeout, 'block');
    toInteger(maxevents, 'maxevents');
    if (maxevents === -1) maxevents = DEFAULT_MAXEVENTS;
    else if (maxevents <= 0) throw new RangeError(`maxevents must be greater than 0 or -1, got ${maxevents}`);
    if (maxevents > this.#capacity) this.#grow(maxevents);
    const deadline = deadlineFor(ms);
    let n: number;
    for (;;) {
      n = sysret(libc.epoll_wait(epfd, this.#events, maxevents, ms));
      if (n !== -EINTR) break;
      // EINTR: retry with the remaining time recomputed (PEP 475).
      ms = remainingMs(ms, deadline);
    }
    if (n < 0) raise(n, 'epoll_wait');
    const out = new Array<[number, number]>(n);
    const w = this.#words;
    for (let i = 0, o = 0; i < n; i++, o += STRIDE) out[i] = [w[o + DATA_WORD]!, w[o]!];
    return out;
  }

  #grow(maxevents: number): void {
    if (maxevents > 0x7fffffff / EPOLL_EVENT_SIZE) throw new RangeError(`maxevents ${maxevents} is too large`);
    this.#capacity = maxevents;
    this.#events = Buffer.alloc(maxevents * EPOLL_EVENT_SIZE);
    this.#words = new Uint32Array(this.#events.buffer, this.#events.byteOffset, (maxevents * EPOLL_EVENT_SIZE) / 4);
  }
}

/** Returns a new {@link Epoll} (Python's `select.epoll(sizehint, flags)`). */
export function epoll(sizehint: number = -1, flags: number = 0): Epoll {
  return new Epoll(sizehint, flags);
}
