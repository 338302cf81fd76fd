/**
 * `EpollSelector`: the selector over epoll(7), on the system layer's {@link EpollFd}
 * (as CPython's sits on `select.epoll`): the `epoll_ctl` argument and the event buffer
 * are preallocated there; `select()` allocates only the result and its pairs.
 */
import { EpollFd } from '../sys/epoll.js';
import { raise } from '../sys/call.js';
import { fdClosing } from '../sys/closing.js';
import { EPOLLIN, EPOLLOUT, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD } from '../sys/constants.js';
import { BaseSelector, selectorTimeoutMs, type SelectResult, type SelectorEvent } from './base.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import type { FileLike } from '../validate.js';

/** Bits that make an fd count as READ / WRITE (CPython: anything but OUT is READ, anything but IN is WRITE). */
const NOT_OUT = ~EPOLLOUT;
const NOT_IN = ~EPOLLIN;

const kernelEvents = (events: number): number =>
  ((events & EVENT_READ) !== 0 ? EPOLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? EPOLLOUT : 0);

/**
 * Internal to the package (not exported from its root): `selector[EXTRA_KERNEL_BITS](fd,
 * bits)` sets epoll bits beyond IN/OUT (EPOLLRDHUP, EPOLLPRI) that the next `register` or
 * `modify` of `fd` passes to the kernel in the same `epoll_ctl`. The Reactor uses it so a
 * read interest that includes RDHUP costs one system call, not two.
 */
export const EXTRA_KERNEL_BITS = Symbol('iomux.extraKernelBits');

/** The selector over epoll (Python's `selectors.EpollSelector`); close-on-exec. */
export class EpollSelector<D = unknown, F extends FileLike = FileLike> extends BaseSelector<D, F> {
  readonly #ep = EpollFd.create(64);
  /** Extra kernel bits per fd (see {@link EXTRA_KERNEL_BITS}); null until first used. */
  #extra: Map<number, number> | null = null;

  /** Sets the extra kernel bits of `fd` for its next register/modify (0: none). */
  [EXTRA_KERNEL_BITS](fd: number, bits: number): void {
    if (bits !== 0) (this.#extra ??= new Map()).set(fd, bits);
    else this.#extra?.delete(fd);
  }

  #kernel(fd: number, events: number): number {
    const extra = this.#extra;
    return extra === null ? kernelEvents(events) : kernelEvents(events) | (extra.get(fd) ?? 0);
  }

  /** The epoll fd (what the Reactor hands to libuv). @throws ClosedError after close(). */
  fileno(): number {
    this._checkOpen();
    return this.#ep.fd;
  }

  protected override _add(fd: number, events: number): void {
    const r = this.#ep.ctl(EPOLL_CTL_ADD, fd, this.#kernel(fd, events));
    if (r < 0) raise(r, 'epoll_ctl', `register fd ${fd}`);
  }

  protected override _change(fd: number, events: number): void {
    const r = this.#ep.ctl(EPOLL_CTL_MOD, fd, this.#kernel(fd, events));
    if (r < 0) raise(r, 'epoll_ctl', `modify fd ${fd}`);
  }

  protected override _remove(fd: number): void {
    // EBADF / ENOENT: the fd was closed (epoll dropped it) or reused; nothing to undo.
    this.#ep.ctl(EPOLL_CTL_DEL, fd, 0);
    this.#extra?.delete(fd);
  }

  protected override _close(): void {
    fdClosing(this.#ep.fd);
    this.#ep.close(); // errors ignored, as CPython's epoll.close() does
  }

  override select(timeout?: number | null): SelectResult<D, F> {
    this._checkOpen();
    const ms = selectorTimeoutMs(timeout);
    const fdToKey = this._fdToKey;
    const ep = this.#ep;
    const n = ep.wait(fdToKey.size > 1 ? fdToKey.size : 1, ms);
    if (n < 0) raise(n, 'epoll_wait');
    const out: Array<SelectorEvent<D, F>> = [];
    for (let i = 0; i < n; i++) {
      const key = fdToKey.get(ep.eventFd(i));
      if (key === undefined) continue;
      const ev = ep.events(i);
      const events = ((ev & NOT_IN) !== 0 ? EVENT_WRITE : 0) | ((ev & NOT_OUT) !== 0 ? EVENT_READ : 0);
      out.push([key, events & key.events]);
    }
    return this._result(out);
  }
}
