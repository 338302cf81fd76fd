/**
 * `SelectSelector`: the selector over select(2), straight on libc. It keeps its own
 * read and write `fd_set`s up to date on register/unregister and copies them into
 * scratch sets for each call. As in CPython, an fd >= FD_SETSIZE can be registered but
 * makes `select()` throw.
 */
import * as libc from '../sys/libc.js';
import { raise, sysret } from '../sys/call.js';
import { FD_SETSIZE } from '../sys/constants.js';
import { FD_SET_SIZE, TIMEVAL_SIZE } from '../sys/structs.js';
import { deadlineFor, remainingMs } from '../select/args.js';
import { BaseSelector, selectorTimeoutMs, type SelectorEvent } from './base.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';

const EINTR = 4;

/** The selector over select (Python's `selectors.SelectSelector`): fds below FD_SETSIZE only. */
export class SelectSelector<T = any> extends BaseSelector<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  // Layout: wanted read set, wanted write set, scratch read set, scratch write set, timeval.
  readonly #mem = Buffer.alloc(FD_SET_SIZE * 4 + TIMEVAL_SIZE);
  readonly #wanted = this.#mem.subarray(0, FD_SET_SIZE * 2);
  readonly #r = this.#mem.subarray(FD_SET_SIZE * 2, FD_SET_SIZE * 3);
  readonly #w = this.#mem.subarray(FD_SET_SIZE * 3, FD_SET_SIZE * 4);
  readonly #tv = this.#mem.subarray(FD_SET_SIZE * 4);
  readonly #tvWords = new Int32Array(this.#mem.buffer, this.#mem.byteOffset + FD_SET_SIZE * 4, 4);
  /** Registered fds >= FD_SETSIZE (they make select() throw, as in CPython). */
  readonly #oversized = new Set<number>();
  #maxFd = -1;

  /** Sets `fd`'s bits in the wanted sets to `events` (an fd below FD_SETSIZE). */
  #setBits(fd: number, events: number): void {
    const byte = fd >> 3;
    const bit = 1 << (fd & 7);
    const m = this.#mem;
    m[byte] = (events & EVENT_READ) !== 0 ? m[byte]! | bit : m[byte]! & ~bit;
    m[FD_SET_SIZE + byte] = (events & EVENT_WRITE) !== 0 ? m[FD_SET_SIZE + byte]! | bit : m[FD_SET_SIZE + byte]! & ~bit;
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

  override select(timeout?: number | null): Array<SelectorEvent<T>> {
    this._checkOpen();
    const ms = selectorTimeoutMs(timeout);
    if (this.#oversized.size > 0) {
      const fd = this.#oversized.values().next().value as number;
      throw new RangeError(`fd ${fd} is out of range in select(): fds must be below FD_SETSIZE (${FD_SETSIZE})`);
    }
    const deadline = deadlineFor(ms);
    let waitMs = ms;
    const nfds = this.#maxFd + 1;
    let n: number;
    for (;;) {
      this.#wanted.copy(this.#mem, FD_SET_SIZE * 2);
      let tv: Buffer | null = null;
      if (waitMs >= 0) {
        // Two little-endian longs: seconds and microseconds (both fit the low word).
        const t = this.#tvWords;
        t[0] = Math.floor(waitMs / 1000); t[1] = 0;
        t[2] = (waitMs % 1000) * 1000; t[3] = 0;
        tv = this.#tv;
      }
      n = sysret(libc.select(nfds, this.#r, this.#w, null, tv));
      if (n !== -EINTR) break;
      // EINTR: retry with the remaining time recomputed (PEP 475).
      waitMs = remainingMs(waitMs, deadline);
    }
    if (n < 0) raise(n, 'select');
    const out: Array<SelectorEvent<T>> = [];
    if (n === 0) return this._result(out);
    const r = this.#r;
    const w = this.#w;
    for (const key of this._fdToKey.values()) {
      const fd = key.fd;
      const byte = fd >> 3;
      const bit = 1 << (fd & 7);
      const events = ((r[byte]! & bit) !== 0 ? EVENT_READ : 0) | ((w[byte]! & bit) !== 0 ? EVENT_WRITE : 0);
      if (events !== 0) out.push([key, events & key.events]);
    }
    return this._result(out);
  }
}
