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
import type { FileLike } from '../validate.js';
import type { SelectorKey } from './key.js';

/** One ready file object: its key and the `EVENT_*` bits that are ready (masked to `key.events`). */
export type SelectorEvent<D = unknown, F extends FileLike = FileLike> = [key: SelectorKey<D, F>, events: number];

/** What a result keeps once pairs were removed from it (none for most results). */
interface Removals<T, F extends FileLike = FileLike> {
  /** The pairs as they were before the first removal. */
  readonly all: Array<SelectorEvent<T, F>>;
  /** The pairs removed since. */
  readonly removed: Set<SelectorEvent<T, F>>;
}

const removals = new WeakMap<object, Removals<unknown>>();

/**
 * The pairs of one `select()` call (see the module comment above for how they follow
 * unregistrations).
 *
 * Selectors make a result from a plain array (see {@link toSelectResult}): creating an
 * Array subclass through its constructor measured 5 times the cost of the array itself.
 * A result of zero or one pair is a plain Array, which behaves the same (nothing can
 * be passed over), so `instanceof SelectResult` holds only from two pairs up.
 *
 * Its own `[Symbol.iterator]()`, `values()` and `forEach()` (installed on the prototype
 * below, with Array's signatures) visit every pair still registered, in order, each
 * once, even while pairs are removed; `forEach` passes each pair's index in the result
 * at the time of the call.
 * @typeParam D the type of the keys' `data`.
 * @typeParam F the type of the keys' `fileobj`.
 */
export class SelectResult<D = unknown, F extends FileLike = FileLike> extends Array<SelectorEvent<D, F>> {
  /** Arrays derived from a result (`map`, `filter`, `slice`...) are plain Arrays. */
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * The iterator of a {@link SelectResult}: walks the array while nothing is removed, and
 * the pairs as they were before the first removal (skipping the removed ones) after.
 */
class ResultIterator<T, F extends FileLike> implements IterableIterator<SelectorEvent<T, F>> {
  readonly #r: SelectResult<T, F>;
  #i = 0;
  #length: number;
  #src: Array<SelectorEvent<T, F>> | null = null;
  #removed: Set<SelectorEvent<T, F>> | null = null;

  constructor(r: SelectResult<T, F>) {
    this.#r = r;
    this.#length = r.length;
    const st = removals.get(r) as Removals<T, F> | undefined;
    if (st !== undefined) {
      this.#src = st.all;
      this.#removed = st.removed;
    }
  }

  next(): IteratorResult<SelectorEvent<T, F>> {
    let src = this.#src;
    if (src === null) {
      const r = this.#r;
      if (r.length === this.#length) return this.#i < r.length ? { value: r[this.#i++]!, done: false } : DONE;
      const st = removals.get(r) as Removals<T, F> | undefined;
      if (st === undefined) {
        // Changed by its owner (push, splice...), not by a selector: follow the array.
        this.#length = r.length;
        return this.next();
      }
      this.#src = src = st.all;
      this.#removed = st.removed;
    }
    const removed = this.#removed!;
    while (this.#i < src.length) {
      const pair = src[this.#i++]!;
      if (!removed.has(pair)) return { value: pair, done: false };
    }
    return DONE;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

// Iterators inherit from %IteratorPrototype%, as Array's do (with its helpers where
// Node has them: map, filter, take...).
Object.setPrototypeOf(ResultIterator.prototype, Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object);

function iterate<T, F extends FileLike>(this: SelectResult<T, F>): ResultIterator<T, F> {
  return new ResultIterator(this);
}

function forEachLive<T, F extends FileLike>(this: SelectResult<T, F>, fn: (value: SelectorEvent<T, F>, index: number, array: SelectorEvent<T, F>[]) => void, thisArg?: unknown): void {
  let i = 0;
  for (const pair of this) {
    const at = this[i] === pair ? i : this.indexOf(pair);
    fn.call(thisArg, pair, at, this);
    i = at + 1;
  }
}

Object.defineProperties(SelectResult.prototype, {
  [Symbol.iterator]: { value: iterate, writable: true, configurable: true },
  values: { value: iterate, writable: true, configurable: true },
  forEach: { value: forEachLive, writable: true, configurable: true },
});

const PROTO = SelectResult.prototype;

/**
 * Makes `pairs` (a plain array, filled) the {@link SelectResult} it is handed out as,
 * without copying it. Fewer than two pairs stay a plain array: with no pair after
 * another, removing one cannot make the Array's own iteration pass over anything, and
 * changing the prototype measured about 10% of a whole `select(0)`.
 */
export function toSelectResult<T, F extends FileLike>(pairs: Array<SelectorEvent<T, F>>): SelectResult<T, F> {
  return (pairs.length > 1 ? Object.setPrototypeOf(pairs, PROTO) : pairs) as SelectResult<T, F>;
}

function removalsOf<T, F extends FileLike>(r: SelectResult<T, F>): Removals<T, F> {
  let st = removals.get(r) as Removals<T, F> | undefined;
  if (st === undefined) {
    const all = new Array<SelectorEvent<T, F>>(r.length);
    for (let i = 0; i < r.length; i++) all[i] = r[i]!;
    st = { all, removed: new Set() };
    removals.set(r, st);
  }
  return st;
}

/** Removes the pair of `fd` from `r` (the file object was unregistered). */
export function dropPair<T, F extends FileLike>(r: SelectResult<T, F>, fd: number): void {
  const n = r.length;
  for (let i = 0; i < n; i++) {
    const pair = r[i]!;
    if (pair[0].fd !== fd) continue;
    removalsOf(r).removed.add(pair);
    for (let j = i + 1; j < n; j++) r[j - 1] = r[j]!;
    r.length = n - 1;
    return;
  }
}

/** Removes every pair of `r` (the selector was closed). */
export function dropAllPairs<T, F extends FileLike>(r: SelectResult<T, F>): void {
  if (r.length === 0) return;
  const removed = removalsOf(r).removed;
  for (let i = 0; i < r.length; i++) removed.add(r[i]!);
  r.length = 0;
}
