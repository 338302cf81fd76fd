/**
 * `SelectorKey`: what a selector keeps for one registered file object (Python's
 * `selectors.SelectorKey` named tuple), frozen.
 */
import type { FileLike } from '../select/args.js';

/** Ready for reading (Python's `selectors.EVENT_READ`). */
export const EVENT_READ = 1;
/** Ready for writing (Python's `selectors.EVENT_WRITE`). */
export const EVENT_WRITE = 2;

/**
 * One registration: the file object as given, its fd, the `EVENT_*` mask and the
 * caller's `data`. Instances are frozen; {@link BaseSelector.modify} returns a new one.
 * @typeParam T the type of `data`.
 */
export class SelectorKey<T = any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The object given to `register`, kept as is (the same object, not a copy). */
  readonly fileobj: FileLike;
  /** Its file descriptor at registration time. */
  readonly fd: number;
  /** `EVENT_READ`, `EVENT_WRITE` or both. */
  readonly events: number;
  /** The caller's data (for example a callback, as in the seeds' servers). */
  readonly data: T;

  /** Fields in Python's order: `(fileobj, fd, events, data)`. */
  constructor(fileobj: FileLike, fd: number, events: number, data: T) {
    this.fileobj = fileobj;
    this.fd = fd;
    this.events = events;
    this.data = data;
    Object.freeze(this);
  }
}
