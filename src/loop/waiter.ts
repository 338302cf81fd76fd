/**
 * The Reactor's per-fd bookkeeping: who wants the fd (reader/writer callbacks and
 * promise waiters), and what interest the selector holds for it. Interest is kept
 * registered while nobody waits ("lingering") so the next await costs no syscall; it
 * is dropped only after a dispatch finds nobody wanting an event (see reactor.ts).
 */
import { TimeoutError, errno as E } from '../errors.js';
import * as libc from '../sys/libc.js';
import { sysret } from '../sys/call.js';
import { POLLIN, POLLOUT, POLLERR, POLLHUP } from '../sys/constants.js';
import { describeValue, type FileLike } from '../select/args.js';
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

const ETIMEDOUT = E.ETIMEDOUT!;
const TIMER_MAX = 0x7fffffff;

/** Checked wait options: `timeout` -1 for none. */
export interface WaitArgs {
  timeout: number;
  signal: AbortSignal | null;
}

const NO_ARGS: WaitArgs = Object.freeze({ timeout: -1, signal: null });

/**
 * Validates `{ timeout, signal }`.
 * @throws TypeError for wrong types; RangeError for a negative, NaN or too large timeout.
 */
export function checkWaitOptions(opts: unknown): WaitArgs {
  if (opts === undefined || opts === null) return NO_ARGS;
  if (typeof opts !== 'object') throw new TypeError(`options must be an object like { timeout, signal }, got ${describeValue(opts)}`);
  const { timeout, signal } = opts as ReactorWaitOptions;
  let t = -1;
  if (timeout !== undefined && timeout !== null && timeout !== Infinity) {
    if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number of milliseconds or null, got ${describeValue(timeout)}`);
    if (!(timeout >= 0 && timeout <= TIMER_MAX)) {
      throw new RangeError(`timeout must be from 0 to ${TIMER_MAX} milliseconds (or null for none), got ${timeout}`);
    }
    t = timeout;
  }
  if (signal !== undefined && signal !== null) {
    if (typeof signal !== 'object' || typeof (signal as AbortSignal).aborted !== 'boolean'
      || typeof (signal as AbortSignal).addEventListener !== 'function') {
      throw new TypeError(`signal must be an AbortSignal, got ${describeValue(signal)}`);
    }
    return { timeout: t, signal };
  }
  return t < 0 ? NO_ARGS : { timeout: t, signal: null };
}

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

/** One `struct pollfd` (fd, events, revents), reused by {@link readyNow}. */
const PFD = Buffer.alloc(8);

/**
 * Whether `fd` is ready right now (a zero-timeout `poll()`), asked when a wait's timer
 * fires: Node's timers run before its poll phase in each loop iteration and measure
 * from a cached loop time, so a timer can fire while the fd is already ready but not
 * yet dispatched. A ready fd wins over its timeout. Errors and hang-ups count as ready
 * (selectors report them as READ|WRITE); a closed fd (POLLNVAL) does not.
 */
export function readyNow(fd: number, write: boolean): boolean {
  PFD.writeInt32LE(fd, 0);
  PFD.writeInt16LE(write ? POLLOUT : POLLIN, 4);
  PFD.writeInt16LE(0, 6);
  for (;;) {
    const r = sysret(libc.poll(PFD, 1, 0) as number);
    if (r >= 0) return r > 0 && (PFD.readInt16LE(6) & ((write ? POLLOUT : POLLIN) | POLLERR | POLLHUP)) !== 0;
    if (r !== -E.EINTR!) return false; // EINTR: retry (PEP 475); anything else: not ready
  }
}

/** The error a timed-out wait rejects with. */
export function timeoutError(what: string, fd: number, ms: number): Error {
  return new TimeoutError(ETIMEDOUT, `fd ${fd} was not ${what} within ${ms} ms`);
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

  /** Drops both callbacks. */
  clearCallbacks(): void {
    this.reader = this.writer = null;
    this.readerObj = this.writerObj = -1;
  }

  /** The EVENT_* bits somebody wants now. */
  wanted(): number {
    return (this.reader !== null || this.readWaiters.length !== 0 ? EVENT_READ : 0)
      | (this.writer !== null || this.writeWaiters.length !== 0 ? EVENT_WRITE : 0);
  }
}
