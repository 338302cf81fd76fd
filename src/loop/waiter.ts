/**
 * The Reactor's per-fd record: who wants the fd (reader/writer callbacks and promise
 * waiters) and what interest the selector holds for it. Interest is kept registered
 * while nobody waits ("lingering") so the next await costs no syscall; it is dropped
 * only after a dispatch finds nobody wanting an event (see dispatcher.ts).
 *
 * An `FdState` is changed by the dispatcher only; the Reactor asks the dispatcher.
 */
import { TimeoutError } from '../errors.js';
import { errno } from '../sys/errno.js';
import { pollOne } from '../sys/pollfd.js';
import { POLLIN, POLLOUT, POLLERR, POLLHUP } from '../sys/constants.js';
import type { FileLike } from '../validate.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';

/** Options of `Reactor#readable` / `Reactor#writable`, in Node's style. */
export interface ReactorWaitOptions {
  /** Milliseconds before the promise rejects with iomux's `TimeoutError`; `null`/`undefined`/`Infinity`: none. */
  timeout?: number | null;
  /** Rejects the promise with `signal.reason` when aborted. */
  signal?: AbortSignal | null;
}

/** A reader/writer callback: called with the file object it was added with. */
export type ReadyCallback<F extends FileLike = FileLike> = (fileobj: F) => void;

const ETIMEDOUT = errno.ETIMEDOUT;

/** One pending `readable()`/`writable()` promise. */
export class Waiter {
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
  timer: NodeJS.Timeout | null = null;
  signal: AbortSignal | null = null;
  onAbort: (() => void) | null = null;

  constructor(resolve: () => void, reject: (err: unknown) => void) {
    this.resolve = resolve;
    this.reject = reject;
  }

  /** Clears the timer and the abort listener. */
  cleanup(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.onAbort !== null) {
      this.signal!.removeEventListener('abort', this.onAbort);
      this.onAbort = null;
      this.signal = null;
    }
  }
}

/**
 * Whether `fd` is ready right now (a zero-timeout `poll()`), asked when a wait's timer
 * fires: Node's timers run before its poll phase in each loop iteration and measure
 * from a cached loop time, so a timer can fire while the fd is already ready but not
 * yet dispatched. A ready fd wins over its timeout. Errors and hang-ups count as ready
 * (selectors report them as READ|WRITE); a closed fd (POLLNVAL) or a failed call does not.
 */
export function readyNow(fd: number, write: boolean): boolean {
  const want = write ? POLLOUT : POLLIN;
  const revents = pollOne(fd, want, 0);
  return revents > 0 && (revents & (want | POLLERR | POLLHUP)) !== 0;
}

/** The error a timed-out wait rejects with. */
export function timeoutError(write: boolean, fd: number, ms: number): Error {
  return new TimeoutError(ETIMEDOUT, `fd ${fd} was not ${write ? 'writable' : 'readable'} within ${ms} ms`);
}

/** Everything the Reactor knows about one fd. */
export class FdState {
  readonly fd: number;
  /** The file object of the last registration (a bare number is re-checked on reuse). */
  fileobj: FileLike;
  reader: ReadyCallback | null = null;
  readerObj: FileLike = -1;
  writer: ReadyCallback | null = null;
  writerObj: FileLike = -1;
  readonly readWaiters: Waiter[] = [];
  readonly writeWaiters: Waiter[] = [];
  /** EVENT_* bits registered with the selector (0: not registered). */
  interest = 0;
  /** Whether anyone wants the fd (counted in the Reactor's active total). */
  active = false;
  /** Set when the state is forgotten; a dispatch still holding it skips it. */
  dead = false;

  constructor(fd: number, fileobj: FileLike) {
    this.fd = fd;
    this.fileobj = fileobj;
  }

  /** The reader or the writer callback. */
  callback(write: boolean): ReadyCallback | null {
    return write ? this.writer : this.reader;
  }

  /** Sets (or, with `null` and -1, clears) the reader or the writer callback and its object. */
  setCallback(write: boolean, cb: ReadyCallback | null, obj: FileLike): void {
    if (write) {
      this.writer = cb;
      this.writerObj = obj;
    } else {
      this.reader = cb;
      this.readerObj = obj;
    }
  }

  /** The read or the write waiters. */
  waiters(write: boolean): Waiter[] {
    return write ? this.writeWaiters : this.readWaiters;
  }

  /** The EVENT_* bits somebody wants now. */
  wanted(): number {
    return (this.reader !== null || this.readWaiters.length !== 0 ? EVENT_READ : 0)
      | (this.writer !== null || this.writeWaiters.length !== 0 ? EVENT_WRITE : 0);
  }

  /**
   * Calls the reader (or writer) callback with its object, then resolves every read (or
   * write) waiter. A callback's exception goes to `onError`; the waiters still resolve.
   */
  fire(write: boolean, onError: (err: unknown) => void): void {
    const cb = write ? this.writer : this.reader;
    if (cb !== null) {
      try {
        cb(write ? this.writerObj : this.readerObj);
      } catch (err) {
        onError(err);
      }
    }
    const list = write ? this.writeWaiters : this.readWaiters;
    const n = list.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      const w = list[i]!;
      if (w.timer !== null || w.onAbort !== null) w.cleanup();
      w.resolve();
    }
    // Waiters added by the resolutions above cannot exist yet (they run as microtasks);
    // the callback may have added some before, and they are served by this event too.
    list.length = 0;
  }

  /**
   * Forgets everything the fd was wanted for: both callbacks go and every waiter rejects
   * with `makeError()` (called only if there is a waiter).
   */
  drop(makeError: () => unknown): void {
    this.reader = this.writer = null;
    this.readerObj = this.writerObj = -1;
    if (this.readWaiters.length === 0 && this.writeWaiters.length === 0) return;
    const err = makeError();
    for (const list of [this.readWaiters, this.writeWaiters]) {
      for (const w of list.splice(0)) {
        w.cleanup();
        w.reject(err);
      }
    }
  }
}
