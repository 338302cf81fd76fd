/**
 * `EpollSelector`: the selector over epoll(7), straight on libc. The event buffer and
 * the `epoll_ctl` argument are preallocated; `select()` allocates only the array it
 * returns and its pairs.
 */
import * as libc from '../sys/libc.js';
import { check, raise, sysret } from '../sys/call.js';
import { EPOLLIN, EPOLLOUT, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from '../sys/constants.js';
import { EPOLL_EVENT_SIZE, EPOLL_EVENT_DATA } from '../sys/structs.js';
import { deadlineFor, remainingMs } from '../select/args.js';
import { BaseSelector, selectorTimeoutMs, type SelectorEvent } from './base.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';

const EINTR = 4;
/** One epoll_event in 32-bit words, and the word holding the fd in `data`. */
const STRIDE = EPOLL_EVENT_SIZE / 4;
const DATA_WORD = EPOLL_EVENT_DATA / 4;
/** Bits that make an fd count as READ / WRITE (CPython: anything but OUT is READ, anything but IN is WRITE). */
const NOT_OUT = ~EPOLLOUT;
const NOT_IN = ~EPOLLIN;

const kernelEvents = (events: number): number =>
  ((events & EVENT_READ) !== 0 ? EPOLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? EPOLLOUT : 0);

/** The selector over epoll (Python's `selectors.EpollSelector`); close-on-exec. */
export class EpollSelector<T = any> extends BaseSelector<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  #epfd: number;
  readonly #ctl = Buffer.alloc(16);
  readonly #ctlWords = new Uint32Array(this.#ctl.buffer, this.#ctl.byteOffset, 4);
  #buf = Buffer.alloc(64 * EPOLL_EVENT_SIZE);
  #words = new Uint32Array(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length / 4);
  #capacity = 64;

  constructor() {
    super();
    this.#epfd = check(libc.epoll_create1(EPOLL_CLOEXEC), 'epoll_create1');
  }

  /** The epoll fd (what the Reactor hands to libuv). @throws ClosedError after close(). */
  fileno(): number {
    this._checkOpen();
    return this.#epfd;
  }

  #ctlCall(op: number, fd: number, events: number): number {
    const w = this.#ctlWords;
    w[0] = kernelEvents(events);
    w[1] = 0; w[2] = 0; w[3] = 0;
    w[DATA_WORD] = fd;
    return sysret(libc.epoll_ctl(this.#epfd, op, fd, this.#ctl));
  }

  protected override _add(fd: number, events: number): void {
    const r = this.#ctlCall(EPOLL_CTL_ADD, fd, events);
    if (r < 0) raise(r, 'epoll_ctl', `register fd ${fd}`);
  }

  protected override _change(fd: number, events: number): void {
    const r = this.#ctlCall(EPOLL_CTL_MOD, fd, events);
    if (r < 0) raise(r, 'epoll_ctl', `modify fd ${fd}`);
  }

  protected override _remove(fd: number): void {
    // EBADF / ENOENT: the fd was closed (epoll dropped it) or reused; nothing to undo.
    this.#ctlCall(EPOLL_CTL_DEL, fd, 0);
  }

  protected override _close(): void {
    const fd = this.#epfd;
    this.#epfd = -1;
    libc.close(fd); // errors ignored, as CPython's epoll.close() does
  }

  #grow(n: number): void {
    let cap = this.#capacity;
    while (cap < n) cap *= 2;
    this.#capacity = cap;
    this.#buf = Buffer.alloc(cap * EPOLL_EVENT_SIZE);
    this.#words = new Uint32Array(this.#buf.buffer, this.#buf.byteOffset, this.#buf.length / 4);
  }

  override select(timeout?: number | null): Array<SelectorEvent<T>> {
    this._checkOpen();
    let ms = selectorTimeoutMs(timeout);
    const fdToKey = this._fdToKey;
    const max = fdToKey.size > 1 ? fdToKey.size : 1;
    if (max > this.#capacity) this.#grow(max);
    // The deadline is taken before the first call, so time spent before a signal counts.
    const deadline = deadlineFor(ms);
    let n: number;
    for (;;) {
      n = sysret(libc.epoll_wait(this.#epfd, this.#buf, max, ms));
      if (n !== -EINTR) break;
      // EINTR: retry with the remaining time recomputed (PEP 475).
      ms = remainingMs(ms, deadline);
    }
    if (n < 0) raise(n, 'epoll_wait');
    const out: Array<SelectorEvent<T>> = [];
    const w = this.#words;
    for (let i = 0, o = 0; i < n; i++, o += STRIDE) {
      const key = fdToKey.get(w[o + DATA_WORD]!);
      if (key === undefined) continue;
      const ev = w[o]!;
      const events = ((ev & NOT_IN) !== 0 ? EVENT_WRITE : 0) | ((ev & NOT_OUT) !== 0 ? EVENT_READ : 0);
      out.push([key, events & key.events]);
    }
    return this._result(out);
  }
}
