/**
 * `BaseSelector`: the part every selector shares (CPython's `_BaseSelectorImpl`): the
 * fd-to-key map, every argument check, lookup by identity for objects whose `fileno()`
 * no longer works, rollback when the kernel refuses, `getMap()`, `close()`.
 *
 * A backend subclass supplies four small hooks (`_add`, `_change`, `_remove`, `_close`)
 * and `select()`; see docs/design.md ("The backend contract").
 */
import { ClosedError, KeyError } from '../errors.js';
import { toFd, describe, secondsToMs, type FileLike } from '../validate.js';
import { SelectorKey, EVENT_READ, EVENT_WRITE } from './key.js';
import { SelectorMapping } from './mapping.js';
import { SelectResult, toSelectResult, dropPair, dropAllPairs, type SelectorEvent } from './result.js';

export { SelectResult };
export type { SelectorEvent };

/**
 * A message about a file object: `fd 12 is not registered`, with the object's class
 * after it when it is not a bare fd: `fd 12 is not registered (Socket)`.
 */
function aboutFileobj(fileobj: unknown, fd: number, what: string): string {
  return typeof fileobj === 'number' ? `fd ${fd} ${what}` : `fd ${fd} ${what} (${describe(fileobj)})`;
}

/**
 * Checks an `events` mask: `EVENT_READ`, `EVENT_WRITE` or both.
 * @throws TypeError for a non-number; RangeError for anything else.
 */
export function checkEvents(events: unknown): number {
  if (typeof events !== 'number') {
    throw new TypeError(`events must be EVENT_READ (1), EVENT_WRITE (2) or both, got ${describe(events)}`);
  }
  if (!(events >= 1 && events <= (EVENT_READ | EVENT_WRITE)) || !Number.isInteger(events)) {
    throw new RangeError(`invalid events ${describe(events)}: expected EVENT_READ (1), EVENT_WRITE (2) or both (3)`);
  }
  return events;
}

/**
 * A selector timeout in seconds as kernel milliseconds: `null`/`undefined` → -1 (block),
 * <= 0 → 0 (poll), otherwise rounded up so the wait is never shorter than asked.
 * @throws TypeError for a non-number; RangeError for NaN or a value too large.
 */
export function selectorTimeoutMs(timeout: unknown): number {
  return secondsToMs(timeout, 'poll');
}

/**
 * What every selector does (Python's `selectors.BaseSelector`). Use a concrete class:
 * `EpollSelector`, `PollSelector`, `SelectSelector` or `DefaultSelector`.
 * @typeParam D the type of the `data` attached to each key (`unknown` unless given).
 * @typeParam F the type of the file objects registered (any {@link FileLike} unless
 *   given): `register` accepts only those, and `key.fileobj` has that type, so the keys
 *   select() returns need no cast. Lookups (`unregister`, `modify`, `getKey`) accept
 *   any file-like, as Python's do (the fd or the object).
 */
export abstract class BaseSelector<D = unknown, F extends FileLike = FileLike> implements Disposable {
  /** fd → key, in registration order. Cleared (not replaced) by close(). */
  protected readonly _fdToKey = new Map<number, SelectorKey<D, F>>();
  #map: SelectorMapping<D, F> | null;
  #closed = false;
  /** The latest select() result, kept true to the registrations (see {@link SelectResult}). */
  #last: SelectResult<D, F> | null = null;

  constructor() {
    this.#map = new SelectorMapping(this._fdToKey, (f) => this._fileobjLookup(f));
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
   *
   * A signal does not end the wait early (PEP 475): the call goes on with the time
   * left, and a JS signal handler runs only once the thread is free again, so Ctrl-C
   * with a `process.on('SIGINT')` handler installed seems ignored by a blocking
   * select() loop on the main thread. Register an eventfd that another thread writes to
   * (run the loop in a worker; the main thread's handler writes), or wait in slices and
   * yield to the event loop between them (see docs/design.md, "Blocking calls and
   * signals").
   * @param timeout seconds (fractions allowed); `null`/`undefined` block; <= 0 polls.
   * @returns a {@link SelectResult} of `[key, events]` pairs, `events` masked to
   *   `key.events`. Until the next select(), a pair whose file object is unregistered
   *   (e.g. by an earlier callback) leaves the result: `length`, indexing and iteration
   *   always agree.
   * @throws ClosedError after close().
   */
  abstract select(timeout?: number | null): SelectResult<D, F>;

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
   * Hands out the pairs select() collected as its {@link SelectResult}: from now on it
   * is the one kept true to the registrations.
   */
  protected _result(pairs: Array<SelectorEvent<D, F>>): SelectResult<D, F> {
    const out = toSelectResult(pairs);
    this.#last = out;
    return out;
  }

  /** Forgets the registration of `key` (the backend is told by the caller). */
  #forget(key: SelectorKey<D, F>): void {
    this._fdToKey.delete(key.fd);
    if (this.#last !== null) dropPair(this.#last, key.fd);
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

  #lookupKey(fileobj: unknown): SelectorKey<D, F> {
    const fd = this._fileobjLookup(fileobj);
    const key = this._fdToKey.get(fd);
    if (key === undefined) throw new KeyError(aboutFileobj(fileobj, fd, 'is not registered'), fileobj);
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
  register(fileobj: F, events: number, data?: D): SelectorKey<D, F> {
    this._checkOpen();
    checkEvents(events);
    const fd = this._fileobjLookup(fileobj);
    if (this._fdToKey.has(fd)) throw new KeyError(aboutFileobj(fileobj, fd, 'is already registered'), fileobj);
    this._add(fd, events); // throws before anything is recorded when the kernel refuses
    const key = new SelectorKey<D, F>(fileobj, fd, events, data as D);
    this._fdToKey.set(fd, key);
    return key;
  }

  /**
   * Stops watching `fileobj` and returns its key. Works after the fd was closed, or
   * reused by another file (kernel errors are ignored then).
   * @throws KeyError when not registered; ClosedError after close().
   */
  unregister(fileobj: FileLike): SelectorKey<D, F> {
    this._checkOpen();
    const key = this.#lookupKey(fileobj);
    this.#forget(key);
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
  modify(fileobj: FileLike, events: number, data?: D): SelectorKey<D, F> {
    this._checkOpen();
    const key = this.#lookupKey(fileobj);
    checkEvents(events);
    if (events !== key.events) {
      try {
        this._change(key.fd, events, key.events);
      } catch (err) {
        // As CPython: the registration is dropped. Tell the backend too (it ignores
        // errors), so no kernel registration outlives the key.
        this.#forget(key);
        this._remove(key.fd, key.events);
        throw err;
      }
    } else if (data === key.data) {
      return key;
    }
    const next = new SelectorKey<D, F>(key.fileobj, key.fd, events, data as D);
    this._fdToKey.set(key.fd, next);
    return next;
  }

  /**
   * The key of a registered file object.
   * @throws KeyError when not registered; ClosedError after close().
   */
  getKey(fileobj: FileLike): SelectorKey<D, F> {
    this._checkOpen();
    return this.#lookupKey(fileobj);
  }

  /**
   * A live read-only view of the registrations, keyed by fd, whose `get`/`has` also
   * accept the file object; `null` after close() (a view taken before is then empty).
   */
  getMap(): SelectorMapping<D, F> | null {
    return this.#map;
  }

  /** Unregisters everything and releases the backend's resources. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this._fdToKey.clear();
    if (this.#last !== null) {
      dropAllPairs(this.#last);
      this.#last = null;
    }
    this.#map = null;
    this._close();
  }

  /** Same as {@link BaseSelector.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
