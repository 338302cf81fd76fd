/**
 * `SelectorKey`: what a selector keeps for one registered file object (Python's
 * `selectors.SelectorKey` named tuple), frozen.
 */
import type { FileLike } from '../validate.js';

/** Ready for reading (Python's `selectors.EVENT_READ`). */
export const EVENT_READ = 1;
/** Ready for writing (Python's `selectors.EVENT_WRITE`). */
export const EVENT_WRITE = 2;

/** Every key made by {@link SelectorKey}'s constructor, for `instanceof`. */
const made = new WeakSet<object>();

/**
 * One registration: the file object as given, its fd, the `EVENT_*` mask and the
 * caller's `data`. {@link BaseSelector.modify} returns a new one.
 *
 * A key is a plain frozen object `{ fileobj, fd, events, data }` (own enumerable fields
 * in Python's order, `Object.prototype` as its prototype, so it compares deep-equal to
 * that literal); `key instanceof SelectorKey` still holds for every key made here.
 * @typeParam D the type of `data` (`unknown` unless the selector says).
 * @typeParam F the type of the registered file objects (any {@link FileLike} unless the
 *   selector says), so `key.fileobj` needs no cast.
 */
export class SelectorKey<D = unknown, F extends FileLike = FileLike> {
  /** The object given to `register`, kept as is (the same object, not a copy). */
  declare readonly fileobj: F;
  /** Its file descriptor at registration time. */
  declare readonly fd: number;
  /** `EVENT_READ`, `EVENT_WRITE` or both. */
  declare readonly events: number;
  /** The caller's data (for example the callback to run when the file object is ready). */
  declare readonly data: D;

  /** Fields in Python's order: `(fileobj, fd, events, data)`. Returns the frozen key. */
  constructor(fileobj: F, fd: number, events: number, data: D) {
    const key = Object.freeze({ fileobj, fd, events, data });
    made.add(key);
    return key as SelectorKey<D, F>;
  }

  /** `true` for the keys this class made (they are plain objects, see above). */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && made.has(value);
  }
}
