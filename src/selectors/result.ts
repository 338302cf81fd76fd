/**
 * `SelectResult`: what a selector's `select()` returns, an Array of `[key, events]`
 * pairs that stays true to the registrations while it is being handled.
 *
 * A callback run for one pair often unregisters others (it closes a connection, or a
 * whole group of them). The pairs of file objects unregistered that way (or by
 * `close()`) after the result was made are removed from it, so `length`, indexing,
 * `forEach` and iteration all agree, and a stale pair never reaches a callback. Only the
 * selector's latest result is kept up to date; an older one stays as it was.
 *
 * `for...of`, spread, `forEach` and `values()` are safe while pairs are removed,
 * including the current one: they visit every pair still registered exactly once, in
 * order. An index loop (`for (let i = 0; i < r.length; i++)`) sees the array shift
 * when a pair at or before `i` is removed, as with any array changed during a loop, and
 * may then pass over the next pair until the next `select()`: prefer `for...of` when
 * callbacks unregister file objects.
 */
import type { SelectorKey } from './key.js';

/** One ready file object: its key and the `EVENT_*` bits that are ready (masked to `key.events`). */
export type SelectorEvent<T = any> = [key: SelectorKey<T>, events: number]; // eslint-disable-line @typescript-eslint/no-explicit-any

let dropImpl: <T>(r: SelectResult<T>, fd: number) => void;
let dropAllImpl: <T>(r: SelectResult<T>) => void;
let snapshotOf: <T>(r: SelectResult<T>) => ReadonlyArray<SelectorEvent<T>>;
let isRemoved: <T>(r: SelectResult<T>, pair: SelectorEvent<T>) => boolean;

/**
 * The pairs of one `select()` call (see the module comment above for how they follow
 * unregistrations). Methods that build a new array (`map`, `filter`, `slice`...) return
 * plain Arrays.
 * @typeParam T the type of the keys' `data`.
 */
export class SelectResult<T = any> extends Array<SelectorEvent<T>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The pairs as they were before the first removal (`null`: nothing removed yet). */
  #all: Array<SelectorEvent<T>> | null = null;
  /** The pairs removed since (`null`: none). */
  #removed: Set<SelectorEvent<T>> | null = null;

  /** Derived arrays (`map`, `filter`, `slice`, `splice`) are plain Arrays. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  static {
    dropImpl = <U>(r: SelectResult<U>, fd: number): void => {
      for (let i = 0; i < r.length; i++) {
        const pair = r[i]!;
        if (pair[0].fd !== fd) continue;
        r.#all ??= Array.from(r as Array<SelectorEvent<U>>);
        (r.#removed ??= new Set()).add(pair);
        r.splice(i, 1);
        return;
      }
    };
    dropAllImpl = <U>(r: SelectResult<U>): void => {
      if (r.length === 0) return;
      r.#all ??= Array.from(r as Array<SelectorEvent<U>>);
      const removed = (r.#removed ??= new Set());
      for (let i = 0; i < r.length; i++) removed.add(r[i]!);
      r.length = 0;
    };
    snapshotOf = <U>(r: SelectResult<U>): ReadonlyArray<SelectorEvent<U>> => r.#all ?? r;
    isRemoved = <U>(r: SelectResult<U>, pair: SelectorEvent<U>): boolean => r.#removed !== null && r.#removed.has(pair);
  }

  /** Every pair still registered, in order, each once, even while pairs are removed. */
  override [Symbol.iterator](): ArrayIterator<SelectorEvent<T>> {
    return new ResultIterator(this) as unknown as ArrayIterator<SelectorEvent<T>>;
  }

  /** Same as iterating the result. */
  override values(): ArrayIterator<SelectorEvent<T>> {
    return new ResultIterator(this) as unknown as ArrayIterator<SelectorEvent<T>>;
  }

  /**
   * Calls `fn(pair, index, result)` for every pair still registered, in order, each
   * once, even while pairs are removed; `index` is the pair's place in the result at
   * the time of the call.
   */
  override forEach(fn: (value: SelectorEvent<T>, index: number, array: SelectorEvent<T>[]) => void, thisArg?: unknown): void {
    let i = 0;
    for (const pair of this) {
      const at = this[i] === pair ? i : this.indexOf(pair);
      fn.call(thisArg, pair, at, this);
      i = at + 1;
    }
  }
}

/** The iterator of a {@link SelectResult}: walks the pairs as they were, skipping removed ones. */
class ResultIterator<T> implements IterableIterator<SelectorEvent<T>> {
  readonly #r: SelectResult<T>;
  #i = 0;

  constructor(r: SelectResult<T>) {
    this.#r = r;
  }

  next(): IteratorResult<SelectorEvent<T>> {
    const r = this.#r;
    const all = snapshotOf(r);
    while (this.#i < all.length) {
      const pair = all[this.#i++]!;
      if (!isRemoved(r, pair)) return { value: pair, done: false };
    }
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/** Removes the pair of `fd` from `r` (the file object was unregistered). */
export function dropPair<T>(r: SelectResult<T>, fd: number): void {
  dropImpl(r, fd);
}

/** Removes every pair of `r` (the selector was closed). */
export function dropAllPairs<T>(r: SelectResult<T>): void {
  dropAllImpl(r);
}
