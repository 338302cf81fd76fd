/**
 * What the stream faces need from an event loop, and the default one. The stream and
 * datagram faces are driven by readiness callbacks (`addReader`/`addWriter`), which a
 * `Reactor` offers; each face registers a callback while it wants to read (and the
 * consumer keeps up) or has bytes waiting for room in the kernel, and removes it
 * otherwise.
 */
import { Reactor } from '../loop/reactor.js';
import type { FileLike } from '../validate.js';

/** The readiness callbacks a stream face uses: a `Reactor` has them. */
export interface ReadinessCallbacks {
  /** Calls `callback` each time `fileobj` is readable, until removed. */
  addReader(fileobj: FileLike, callback: (fileobj: never) => void): void;
  /** Calls `callback` each time `fileobj` is writable, until removed. */
  addWriter(fileobj: FileLike, callback: (fileobj: never) => void): void;
  /** Stops the reader callback; false when none was registered. */
  removeReader(fileobj: FileLike): boolean;
  /** Stops the writer callback; false when none was registered. */
  removeWriter(fileobj: FileLike): boolean;
  /** Whether the loop was closed (its callbacks then never run again). */
  readonly closed: boolean;
}

let shared: Reactor | null = null;

/**
 * The Reactor every stream face of this thread uses when none is given: made at first
 * use and never closed by iomux. It keeps the process alive only while a face waits for
 * data or for room to write. Closing it is allowed (to release its epoll fd): faces
 * still on it then fail with `ClosedError` at their next wait, and the next face made
 * gets a new one.
 */
export function defaultReactor(): Reactor {
  if (shared === null || shared.closed) shared = new Reactor();
  return shared;
}

/** `reactor` when it has the readiness callbacks, else a TypeError naming `what`. */
export function toReactor(reactor: unknown, what: string): ReadinessCallbacks {
  if (reactor === undefined || reactor === null) return defaultReactor();
  const r = reactor as Partial<ReadinessCallbacks>;
  if (typeof r !== 'object' || typeof r.addReader !== 'function' || typeof r.addWriter !== 'function'
    || typeof r.removeReader !== 'function' || typeof r.removeWriter !== 'function') {
    throw new TypeError(`${what} must be a Reactor (addReader, addWriter, removeReader, removeWriter), got ${typeof reactor}`);
  }
  return r as ReadinessCallbacks;
}
