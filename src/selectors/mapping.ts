/**
 * `SelectorMapping`: the read-only view `getMap()` returns (CPython's
 * `_SelectorMapping`): keyed by fd, live, and `get`/`has` also take the file object.
 */
import type { FileLike } from '../validate.js';
import type { SelectorKey } from './key.js';

/**
 * A live `ReadonlyMap<number, SelectorKey>` over a selector's registrations. `get` and
 * `has` accept an fd or a file object (found by identity when its `fileno()` fails);
 * they never throw: anything not registered is simply absent.
 * @typeParam D the type of the keys' `data`.
 * @typeParam F the type of the keys' `fileobj`.
 */
export class SelectorMapping<D = unknown, F extends FileLike = FileLike> implements ReadonlyMap<number, SelectorKey<D, F>> {
  readonly #keys: Map<number, SelectorKey<D, F>>;
  readonly #lookup: (fileobj: unknown) => number;

  /** @internal Made by the selector; users get it from `getMap()`. */
  constructor(keys: Map<number, SelectorKey<D, F>>, lookup: (fileobj: unknown) => number) {
    this.#keys = keys;
    this.#lookup = lookup;
  }

  /** Number of registered file objects. */
  get size(): number {
    return this.#keys.size;
  }

  /** The key for an fd or file object, or `undefined`. */
  get(fileobj: FileLike): SelectorKey<D, F> | undefined {
    let fd: number;
    try {
      fd = this.#lookup(fileobj);
    } catch {
      return undefined;
    }
    return this.#keys.get(fd);
  }

  /** Whether an fd or file object is registered. */
  has(fileobj: FileLike): boolean {
    return this.get(fileobj) !== undefined;
  }

  /** Calls `fn(key, fd, this)` for each registration, in registration order. */
  forEach(fn: (value: SelectorKey<D, F>, key: number, map: ReadonlyMap<number, SelectorKey<D, F>>) => void, thisArg?: unknown): void {
    for (const [fd, key] of this.#keys) fn.call(thisArg, key, fd, this);
  }

  /** The registered fds. */
  keys(): MapIterator<number> {
    return this.#keys.keys();
  }

  /** The keys. */
  values(): MapIterator<SelectorKey<D, F>> {
    return this.#keys.values();
  }

  /** `[fd, key]` pairs. */
  entries(): MapIterator<[number, SelectorKey<D, F>]> {
    return this.#keys.entries();
  }

  /** Same as {@link SelectorMapping.entries}. */
  [Symbol.iterator](): MapIterator<[number, SelectorKey<D, F>]> {
    return this.#keys.entries();
  }

  /** `'SelectorMapping'`. */
  get [Symbol.toStringTag](): string {
    return 'SelectorMapping';
  }
}
