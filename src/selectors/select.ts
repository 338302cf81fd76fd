/**
 * `SelectSelector`: the selector over select(2), on the system layer's
 * {@link SelectCall}. It keeps its own read and write `fd_set`s up to date on
 * register/unregister and copies them into the call's sets before each attempt. As in CPython, an fd >= FD_SETSIZE can be registered but
 * makes `select()` throw.
 */
import { raise } from '../sys/call.js';
import { FD_SETSIZE } from '../sys/constants.js';
import { SelectCall, fdSet, fdClr, fdIsSet } from '../sys/select.js';
import { FD_SET_SIZE } from '../sys/structs.js';
import { BaseSelector, selectorTimeoutMs, type SelectResult, type SelectorEvent } from './base.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import type { FileLike } from '../validate.js';

/** The selector over select (Python's `selectors.SelectSelector`): fds below FD_SETSIZE only. */
export class SelectSelector<D = unknown, F extends FileLike = FileLike> extends BaseSelector<D, F> {
  // Layout: wanted read set, wanted write set, then the read and write sets of a call.
  readonly #mem = Buffer.alloc(FD_SET_SIZE * 4);
  readonly #wantR = this.#mem.subarray(0, FD_SET_SIZE);
  readonly #wantW = this.#mem.subarray(FD_SET_SIZE, FD_SET_SIZE * 2);
  readonly #wanted = this.#mem.subarray(0, FD_SET_SIZE * 2);
  readonly #r = this.#mem.subarray(FD_SET_SIZE * 2, FD_SET_SIZE * 3);
  readonly #w = this.#mem.subarray(FD_SET_SIZE * 3, FD_SET_SIZE * 4);
  /** Copies the wanted sets into the call's sets before each attempt. */
  readonly #caller = new SelectCall(() => { this.#wanted.copy(this.#mem, FD_SET_SIZE * 2); });
  /** Registered fds >= FD_SETSIZE (they make select() throw, as in CPython). */
  readonly #oversized = new Set<number>();
  #maxFd = -1;

  /** Sets `fd`'s bits in the wanted sets to `events` (an fd below FD_SETSIZE). */
  #setBits(fd: number, events: number): void {
    if ((events & EVENT_READ) !== 0) fdSet(this.#wantR, fd);
    else fdClr(this.#wantR, fd);
    if ((events & EVENT_WRITE) !== 0) fdSet(this.#wantW, fd);
    else fdClr(this.#wantW, fd);
  }

  protected override _add(fd: number, events: number): void {
    if (fd >= FD_SETSIZE) {
      this.#oversized.add(fd);
      return;
    }
    this.#setBits(fd, events);
    if (fd > this.#maxFd) this.#maxFd = fd;
  }

  protected override _change(fd: number, events: number): void {
    if (fd < FD_SETSIZE) this.#setBits(fd, events);
  }

  protected override _remove(fd: number): void {
    if (fd >= FD_SETSIZE) {
      this.#oversized.delete(fd);
      return;
    }
    this.#setBits(fd, 0);
    if (fd === this.#maxFd) {
      let max = -1;
      for (const k of this._fdToKey.keys()) if (k > max && k < FD_SETSIZE) max = k;
      this.#maxFd = max;
    }
  }

  protected override _close(): void {
    this.#mem.fill(0);
    this.#oversized.clear();
    this.#maxFd = -1;
  }

  override select(timeout?: number | null): SelectResult<D, F> {
    this._checkOpen();
    const ms = selectorTimeoutMs(timeout);
    if (this.#oversized.size > 0) {
      const fd = this.#oversized.values().next().value as number;
      throw new RangeError(`fd ${fd} is out of range in select(): fds must be below FD_SETSIZE (${FD_SETSIZE})`);
    }
    const n = this.#caller.select(this.#maxFd + 1, this.#r, this.#w, null, ms);
    if (n < 0) raise(n, 'select');
    const out: Array<SelectorEvent<D, F>> = [];
    if (n === 0) return this._result(out);
    const r = this.#r;
    const w = this.#w;
    for (const key of this._fdToKey.values()) {
      const fd = key.fd;
      const events = (fdIsSet(r, fd) ? EVENT_READ : 0) | (fdIsSet(w, fd) ? EVENT_WRITE : 0);
      if (events !== 0) out.push([key, events & key.events]);
    }
    return this._result(out);
  }
}
