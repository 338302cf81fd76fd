/**
 * `Reactor`: selector readiness driven by Node's own event loop. libuv watches the
 * selector's fd (an epoll fd on Linux); when it is readable, one `setImmediate` hop
 * runs `select(0)` and dispatches, so user callbacks run as ordinary Node callbacks
 * (promise reactions and nextTicks they queue run before Node's next phase, and their
 * exceptions reach `uncaughtException`). No thread ever blocks in epoll_wait.
 *
 * This file is the public API (argument checks, promise waits with their timers and
 * signals, lifetime); the per-fd bookkeeping and the dispatch are in dispatcher.ts.
 */
import { ClosedError } from '../errors.js';
import { describe, toFunction, toWaitOptions, type FileLike } from '../validate.js';
import { newPollableSelector, type PollableSelector } from '../selectors/default.js';
import { Dispatcher } from './dispatcher.js';
import { Waiter, type FdState, type ReactorWaitOptions, type ReadyCallback } from './waiter.js';

function closedError(): ClosedError {
  return new ClosedError('reactor is closed');
}

/**
 * Readiness callbacks and promises on file objects, inside Node's event loop (asyncio's
 * `add_reader`/`add_writer`, with Node's `timeout`/`AbortSignal` options).
 */
export class Reactor implements Disposable {
  readonly #d: Dispatcher;

  /**
   * @param selector a selector with `fileno()` (epoll); default: a new one of the best
   *   kind that has an fd (`EpollSelector` on Linux, whatever `IOMUX_SELECTOR` forces),
   *   which close() then closes. A given selector is left open; it should be the
   *   Reactor's alone (fds registered on it directly are never dispatched, and while
   *   ready they keep waking the loop) and must outlive the Reactor.
   * @throws TypeError when `selector` has no `fileno()` (select, poll); ClosedError when
   *   it is closed.
   */
  constructor(selector?: PollableSelector) {
    if (selector === undefined || selector === null) {
      this.#d = new Dispatcher(newPollableSelector<FdState>(), true);
      return;
    }
    const s = selector as Partial<PollableSelector>;
    if (typeof s !== 'object' || typeof s.fileno !== 'function' || typeof s.select !== 'function'
      || typeof s.register !== 'function' || typeof s.modify !== 'function' || typeof s.unregister !== 'function') {
      throw new TypeError(`selector must have fileno() (such as EpollSelector) for libuv to watch, got ${describe(selector)}`);
    }
    selector.fileno(); // ClosedError for a closed selector
    this.#d = new Dispatcher(selector as PollableSelector<FdState>, false);
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#d.closed;
  }

  /** The selector the reactor drives. */
  get selector(): PollableSelector {
    return this.#d.selector;
  }

  // ---- callbacks -------------------------------------------------------------------

  #add(fileobj: FileLike, callback: unknown, write: boolean): void {
    if (this.#d.closed) throw closedError();
    this.#d.addCallback(fileobj, write, toFunction<ReadyCallback>(callback));
  }

  #remove(fileobj: FileLike, write: boolean): boolean {
    return !this.#d.closed && this.#d.removeCallback(fileobj, write);
  }

  /**
   * Calls `callback(fileobj)` each time `fileobj` is readable (level-triggered) until
   * removed; adding again replaces the callback.
   * @throws TypeError / RangeError for a bad file object or callback; OSError when the
   *   kernel refuses the fd; ClosedError after close().
   */
  addReader<F extends FileLike>(fileobj: F, callback: ReadyCallback<F>): void {
    this.#add(fileobj, callback as ReadyCallback, false);
  }

  /** As {@link Reactor.addReader}, for writability. */
  addWriter<F extends FileLike>(fileobj: F, callback: ReadyCallback<F>): void {
    this.#add(fileobj, callback as ReadyCallback, true);
  }

  /**
   * Stops calling the reader callback of `fileobj`.
   * @returns whether one was registered (false after close()).
   */
  removeReader(fileobj: FileLike): boolean {
    return this.#remove(fileobj, false);
  }

  /** As {@link Reactor.removeReader}, for the writer callback. */
  removeWriter(fileobj: FileLike): boolean {
    return this.#remove(fileobj, true);
  }

  // ---- promises --------------------------------------------------------------------

  #wait(fileobj: FileLike, write: boolean, opts: ReactorWaitOptions | undefined): Promise<void> {
    const d = this.#d;
    if (d.closed) return Promise.reject(closedError());
    let args;
    let st: FdState;
    try {
      args = toWaitOptions(opts);
      st = d.waitState(fileobj);
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = args.signal;
    if (signal !== null && signal.aborted) {
      d.unused(st);
      return Promise.reject(signal.reason);
    }
    return new Promise<void>((resolve, reject) => {
      const w = new Waiter(resolve, reject);
      try {
        d.addWaiter(st, write, w);
      } catch (err) {
        reject(err);
        return;
      }
      if (args.timeout >= 0) {
        const ms = args.timeout;
        // Whole milliseconds, rounded up: a wait is never shorter than asked. When the
        // timer fires, an fd that is ready by then (not yet dispatched) still resolves.
        w.timer = setTimeout(() => {
          w.timer = null;
          d.timeUp(st, write, w, ms);
        }, Math.ceil(ms));
        w.timer.unref(); // liveness is the libuv handle's business (ref()/unref())
      }
      if (signal !== null) {
        w.signal = signal;
        w.onAbort = () => d.settle(st, write, w, signal.reason, true);
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
    });
  }

  /**
   * Resolves once `fileobj` is readable.
   * @param opts `timeout` (ms) rejects with iomux's `TimeoutError` (errno ETIMEDOUT);
   *   `signal` rejects with its reason. A closed reactor rejects with `ClosedError`.
   */
  readable(fileobj: FileLike, opts?: ReactorWaitOptions): Promise<void> {
    return this.#wait(fileobj, false, opts);
  }

  /** As {@link Reactor.readable}, for writability. */
  writable(fileobj: FileLike, opts?: ReactorWaitOptions): Promise<void> {
    return this.#wait(fileobj, true, opts);
  }

  // ---- lifetime --------------------------------------------------------------------

  /** Lets the process exit even while something is registered. */
  unref(): this {
    this.#d.setUserRef(false);
    return this;
  }

  /** Undoes {@link Reactor.unref}: registrations keep the process alive again. */
  ref(): this {
    this.#d.setUserRef(true);
    return this;
  }

  /**
   * Removes everything, rejects pending promises with `ClosedError`, closes the libuv
   * handle, and closes the selector if the reactor created it. Idempotent.
   */
  close(): void {
    if (this.#d.closed) return;
    this.#d.shutdown(closedError());
  }

  /** Same as {@link Reactor.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

export type { ReactorWaitOptions, ReadyCallback };
