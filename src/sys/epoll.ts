/**
 * `EpollFd`: one epoll instance over epoll(7), the kernel side shared by the `Epoll`
 * object and the `EpollSelector`: `epoll_ctl` through one preallocated event, and
 * `epoll_wait` into a reused event buffer decoded through a typed view. Results are
 * numbers (`-errno` on failure), so each user chooses its own errors.
 */
import * as libc from './libc.js';
import { check, closeFd, retryWait, sysret } from './call.js';
import { EPOLL_CLOEXEC } from './constants.js';
import { EPOLL_EVENT_SIZE, EPOLL_EVENT_DATA } from './structs.js';

/** One epoll_event in 32-bit words, and the word holding the fd in `data`. */
const STRIDE = EPOLL_EVENT_SIZE / 4;
const DATA_WORD = EPOLL_EVENT_DATA / 4;
/** The most events one wait can ask for: the buffer must fit in a C int of bytes. */
export const EPOLL_MAXEVENTS_MAX = Math.floor(0x7fffffff / EPOLL_EVENT_SIZE);

/**
 * An epoll fd with its buffers. The fd is close-on-exec. After {@link EpollFd.close},
 * `fd` is -1 and the other methods must not be called.
 */
export class EpollFd {
  #fd: number;
  readonly #ctl = Buffer.alloc(16);
  readonly #ctlWords = new Uint32Array(this.#ctl.buffer, this.#ctl.byteOffset, 4);
  #events: Buffer;
  #words: Uint32Array;
  #capacity: number;
  #max = 0;
  /** The one epoll_wait call, made by {@link retryWait}; created once. */
  readonly #call = (ms: number): number => libc.epoll_wait(this.#fd, this.#events, this.#max, ms) as number;

  private constructor(fd: number, capacity: number) {
    this.#fd = fd;
    this.#capacity = capacity;
    this.#events = Buffer.alloc(capacity * EPOLL_EVENT_SIZE);
    this.#words = new Uint32Array(this.#events.buffer, this.#events.byteOffset, capacity * STRIDE);
  }

  /**
   * A new close-on-exec epoll instance with room for `capacity` events per wait at first.
   * @throws OSError when epoll_create1 fails (EMFILE...).
   */
  static create(capacity = 0): EpollFd {
    return new EpollFd(check(libc.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1'), capacity);
  }

  /** Wraps an existing epoll fd (not checked: a wrong fd fails at its first use). */
  static adopt(fd: number, capacity = 0): EpollFd {
    return new EpollFd(fd, capacity);
  }

  /** The epoll fd, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * `epoll_ctl(op, fd, { events, data: fd })`: 0 or `-errno`.
   * @param op EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL.
   */
  ctl(op: number, fd: number, events: number): number {
    const w = this.#ctlWords;
    w[0] = events;
    w[1] = 0; w[2] = 0; w[3] = 0;
    w[DATA_WORD] = fd;
    return sysret(libc.epoll_ctl(this.#fd, op, fd, this.#ctl));
  }

  /**
   * Waits for at most `maxevents` events (1..{@link EPOLL_MAXEVENTS_MAX}; the buffer grows
   * to fit): `ms` -1 blocks, 0 polls, > 0 waits (EINTR retried with the time left).
   * Returns the number of events, read with {@link EpollFd.eventFd} and
   * {@link EpollFd.events}, or `-errno`.
   */
  wait(maxevents: number, ms: number): number {
    if (maxevents > this.#capacity) this.#grow(maxevents);
    this.#max = maxevents;
    return retryWait(ms, this.#call);
  }

  /** The fd of event `i` of the last wait. */
  eventFd(i: number): number {
    return this.#words[i * STRIDE + DATA_WORD]!;
  }

  /** The event bits of event `i` of the last wait (unsigned). */
  events(i: number): number {
    return this.#words[i * STRIDE]!;
  }

  /** Closes the epoll fd (EINTR counts as closed): 0 or `-errno`; 0 when already closed. */
  close(): number {
    const fd = this.#fd;
    if (fd < 0) return 0;
    this.#fd = -1;
    return closeFd(fd);
  }

  #grow(n: number): void {
    let cap = this.#capacity > 0 ? this.#capacity : 64;
    while (cap < n) cap *= 2;
    if (cap > EPOLL_MAXEVENTS_MAX) cap = n;
    this.#capacity = cap;
    this.#events = Buffer.alloc(cap * EPOLL_EVENT_SIZE);
    this.#words = new Uint32Array(this.#events.buffer, this.#events.byteOffset, cap * STRIDE);
  }
}
