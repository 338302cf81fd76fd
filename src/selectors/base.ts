/**
 * `BaseSelector`: the part every selector shares (CPython's `_BaseSelectorImpl`): the
 * fd-to-key map, every argument check, lookup by identity for objects whose `fileno()`
 * no longer works, rollback when the kernel refuses, `getMap()`, `close()`.
 *
 * A backend subclass supplies four small hooks (`_add`, `_change`, `_remove`, `_close`)
 * and `select()`; see docs/design.md ("The backend contract").
 */
import { ClosedError, KeyError } from '../errors.js';
import { toFd, describeValue, type FileLike } from '../select/args.js';
import { SelectorKey, EVENT_READ, EVENT_WRITE } from './key.js';
import { SelectorMapping } from './mapping.js';

/** One ready file object: its key and the `EVENT_*` bits that are ready (masked to `key.events`). */
export type SelectorEvent<T = any> = [key: SelectorKey<T>, events: number]; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A message about a file object: `fd 12 is not registered`, with the object's class
 * after it when it is not a bare fd: `fd 12 is not registered (Socket)`.
 */
export function describeFileobj(fileobj: unknown, fd: number, what: string): string {
  if (typeof fileobj === 'number') return `fd ${fd} ${what}`;
  const name = fileobj !== null && typeof fileobj === 'object'
    ? ((fileobj as object).constructor?.name ?? 'object') : typeof fileobj;
  return `fd ${fd} ${what} (${name})`;
}

/**
 * Checks an `events` mask: `EVENT_READ`, `EVENT_WRITE` or both.
 * @throws TypeError for a non-number; RangeError for anything else.
 */
export function checkEvents(events: unknown): number {
  if (typeof events !== 'number') {
    throw new TypeError(`events must be EVENT_READ (1), EVENT_WRITE (2) or both, got ${describeValue(events)}`);
  }
  if (!(events >= 1 && events <= (EVENT_READ | EVENT_WRITE)) || !Number.isInteger(events)) {
    throw new RangeError(`invalid events ${events}: expected EVENT_READ (1), EVENT_WRITE (2) or both (3)`);
  }
  return events;
}

/**
 * A selector timeout in seconds as kernel milliseconds: `null`/`undefined` → -1 (block),
 * <= 0 → 0 (poll), otherwise rounded up so the wait is never shorter than asked.
 * @throws TypeError for a non-number; RangeError for NaN or a value too large.
 */
export function selectorTimeoutMs(timeout: unknown): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number of seconds or null, got ${describeValue(timeout)}`);
  if (timeout <= 0) return 0;
  const ms = Math.ceil(timeout * 1000);
  if (!(ms <= 0x7fffffff)) throw new RangeError(`timeout ${timeout} s is out of range: expected at most ${0x7fffffff / 1000} s or null`);
  return ms;
}

/**
 * Iterates a select() result, skipping pairs whose file object was unregistered since
 * (by a callback earlier in the same batch). A plain iterator object, not a generator:
 * `select(0)` plus iterating 16 ready pairs measured 1.72 → 1.52 µs (epoll) and 1.38 →
 * 1.13 µs (poll) with this instead of a generator function.
 */
class LiveIterator<T> implements Iterator<SelectorEvent<T>> {
  #i = 0;
  readonly #pairs: Array<SelectorEvent<T>>;
  readonly #fdToKey: Map<number, SelectorKey<T>>;

  constructor(pairs: Array<SelectorEvent<T>>, fdToKey: Map<number, SelectorKey<T>>) {
    this.#pairs = pairs;
    this.#fdToKey = fdToKey;
  }

  next(): IteratorResult<SelectorEvent<T>> {
    const pairs = this.#pairs;
    while (this.#i < pairs.length) {
      const pair = pairs[this.#i++]!;
      const key = pair[0];
      const now = this.#fdToKey.get(key.fd);
      if (now === key || (now !== undefined && now.fileobj === key.fileobj)) return { value: pair, done: false };
    }
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): this {
    return this;
  }
}

/**
 * What every selector does (Python's `selectors.BaseSelector`). Use a concrete class:
 * `EpollSelector`, `PollSelector`, `SelectSelector` or `DefaultSelector`.
 * @typeParam T the type of the `data` attached to each key.
 */
export abstract class BaseSelector<T = any> implements Disposable { // eslint-disable-line @typescript-eslint/no-explicit-any
  /** fd → key, in registration order. Cleared (not replaced) by close(). */
  protected readonly _fdToKey = new Map<number, SelectorKey<T>>();
  #map: SelectorMapping<T> | null;
  #closed = false;
  /**
   * The iterator installed on every array `select()` returns: it skips pairs whose file
   * object was unregistered meanwhile (by a callback earlier in the same batch).
   */
  protected readonly _liveIterator: (this: Array<SelectorEvent<T>>) => Iterator<SelectorEvent<T>>;

  constructor() {
    const fdToKey = this._fdToKey;
    this.#map = new SelectorMapping(fdToKey, (f) => this._fileobjLookup(f));
    this._liveIterator = function live(this: Array<SelectorEvent<T>>): Iterator<SelectorEvent<T>> {
      return new LiveIterator(this, fdToKey);
    };
  }

  // ---- backend hooks -------------------------------------------------------------

  /** Tells the kernel about a new registration; throws (OSError) when it refuses. */
  protected abstract _add(fd: number, events: number): void;
  /** Changes the events of a registration; throws (OSError) when the kernel refuses. */
  protected abstract _change(fd: number, events: number, oldEvents: number): void;
  /** Forgets a registration; must not throw (the fd may be closed or reused by now). */
  protected abstract _remove(fd: number, events: number): void;
  /** Releases the backend's resources; called once, by close(). */
  protected abstract _close(): void;

  /**
   * Waits until some registered file objects are ready, or the timeout expires.
   * @param timeout seconds (fractions allowed); `null`/`undefined` block; <= 0 polls.
   * @returns `[key, events]` pairs, `events` masked to `key.events`. Iterating the array
   *   (`for...of`, spread) skips pairs unregistered meanwhile, e.g. by an earlier callback.
   * @throws ClosedError after close().
   */
  abstract select(timeout?: number | null): Array<SelectorEvent<T>>;

  // ---- shared behaviour ---------------------------------------------------------

  /** Throws `ClosedError` once the selector is closed. */
  protected _checkOpen(): void {
    if (this.#closed) throw new ClosedError('selector is closed');
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Marks `out` as a select() result (see {@link BaseSelector.select}) and returns it.
   * A batch of one has no "later in the batch", so it stays a plain array: installing
   * the iterator costs about as much as the whole epoll_wait call.
   */
  protected _result(out: Array<SelectorEvent<T>>): Array<SelectorEvent<T>> {
    if (out.length > 1) {
      Object.defineProperty(out, Symbol.iterator, { value: this._liveIterator, writable: true, configurable: true });
    }
    return out;
  }

  /**
   * The fd of `fileobj`; when `fileno()` fails (a closed object returning -1, or
   * throwing), the key registered for that same object, found by identity.
   */
  protected _fileobjLookup(fileobj: unknown): number {
    try {
      return toFd(fileobj);
    } catch (err) {
      for (const key of this._fdToKey.values()) if (key.fileobj === fileobj) return key.fd;
      throw err;
    }
  }

  #lookupKey(fileobj: unknown): SelectorKey<T> {
    const fd = this._fileobjLookup(fileobj);
    const key = this._fdToKey.get(fd);
    if (key === undefined) throw new KeyError(describeFileobj(fileobj, fd, 'is not registered'), fileobj);
    return key;
  }

  /**
   * Starts watching `fileobj`.
   * @param events `EVENT_READ`, `EVENT_WRITE` or both (checked first).
   * @param data   anything; kept in the key.
   * @throws RangeError for bad `events` or a negative fd; TypeError for a non-file-like;
   *   KeyError when that fd is already registered; OSError when the kernel refuses
   *   (nothing stays registered); ClosedError after close().
   */
  register(fileobj: FileLike, events: number, data?: T): SelectorKey<T> {
    this._checkOpen();
    checkEvents(events);
    const fd = this._fileobjLookup(fileobj);
    if (this._fdToKey.has(fd)) throw new KeyError(describeFileobj(fileobj, fd, 'is already registered'), fileobj);
    this._add(fd, events); // throws before anything is recorded when the kernel refuses
    const key = new SelectorKey<T>(fileobj, fd, events, data as T);
    this._fdToKey.set(fd, key);
    return key;
  }

  /**
   * Stops watching `fileobj` and returns its key. Works after the fd was closed, or
   * reused by another file (kernel errors are ignored then).
   * @throws KeyError when not registered; ClosedError after close().
   */
  unregister(fileobj: FileLike): SelectorKey<T> {
    this._checkOpen();
    const key = this.#lookupKey(fileobj);
    this._fdToKey.delete(key.fd);
    this._remove(key.fd, key.events);
    return key;
  }

  /**
   * Changes the events and data of a registration and returns the new key. Omitting
   * `data` sets it to `undefined` (as in CPython). A change of `data` alone makes no
   * system call. When the kernel refuses, the registration is dropped and the OSError
   * propagates (as in CPython).
   * @throws KeyError when not registered; RangeError for bad `events`; ClosedError.
   */
  modify(fileobj: FileLike, events: number, data?: T): SelectorKey<T> {
    this._checkOpen();
    const key = this.#lookupKey(fileobj);
    checkEvents(events);
    if (events !== key.events) {
      try {
        this._change(key.fd, events, key.events);
      } catch (err) {
        // As CPython: the registration is dropped. Tell the backend too (it ignores
        // errors), so no kernel registration outlives the key.
        this._fdToKey.delete(key.fd);
        this._remove(key.fd, key.events);
        throw err;
      }
    } else if (data === key.data) {
      return key;
    }
    const next = new SelectorKey<T>(key.fileobj, key.fd, events, data as T);
    this._fdToKey.set(key.fd, next);
    return next;
  }

  /**
   * The key of a registered file object.
   * @throws KeyError when not registered; ClosedError after close().
   */
  getKey(fileobj: FileLike): SelectorKey<T> {
    this._checkOpen();
    return this.#lookupKey(fileobj);
  }

  /**
   * A live read-only view of the registrations, keyed by fd, whose `get`/`has` also
   * accept the file object; `null` after close() (a view taken before is then empty).
   */
  getMap(): SelectorMapping<T> | null {
    return this.#map;
  }

  /** Unregisters everything and releases the backend's resources. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this._fdToKey.clear();
    this.#map = null;
    this._close();
  }

  /** Same as {@link BaseSelector.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
