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

// ---- event detail (the Reactor's callbacks and promises) ----------------------------
// Bits of the mask a Reactor callback receives after its file object (and that
// `readable()`, `writable()` and `priority()` resolve to). Selectors' `select()` reports
// EVENT_READ and EVENT_WRITE only, as Python's do.

/**
 * Priority data (POLLPRI / EPOLLPRI): TCP urgent (out-of-band) data is waiting; a
 * sysfs/kernfs attribute or a cgroup/PSI trigger changed (kernfs reports POLLPRI with
 * POLLERR); a pty in packet mode has a status change.
 */
export const EVENT_PRIORITY = 4;
/**
 * Hang-up (EPOLLRDHUP or EPOLLHUP): a stream socket's peer shut down its writing side
 * or closed (RDHUP; a read returns end of file once the data is read), both directions
 * are shut down, a pipe's or FIFO's other end is closed (POLLHUP on the reading end), a
 * pty's other side closed. Linux reports EPOLLHUP whatever the interest.
 */
export const EVENT_HANGUP = 8;
/**
 * Error (EPOLLERR): a socket has a pending error (SO_ERROR: a refused or reset
 * connection), a pipe's reading end is closed (on the writing end), a device reports an
 * error; kernfs reports it with POLLPRI. Linux reports EPOLLERR whatever the interest.
 */
export const EVENT_ERROR = 16;
