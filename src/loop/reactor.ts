/**
 * `Reactor`: selector readiness driven by Node's own event loop. libuv watches the
 * selector's fd (an epoll fd on Linux); when it is readable, one `setImmediate` hop
 * runs `select(0)` and dispatches, so user callbacks run as ordinary Node callbacks
 * (promise reactions and nextTicks they queue run before Node's next phase, and their
 * exceptions reach `uncaughtException`). No thread ever blocks in epoll_wait.
 *
 * This file is the public API (argument checks, promise waits with their timers and
 * signals, lifetime); the per-fd bookkeeping is in fdtable.ts, the libuv watch in
 * wakeup.ts and the dispatch in dispatcher.ts.
 */
import { ClosedError } from '../errors.js';
import { describe, toBoolean, toFunction, toOptions, toWaitOptions, type FileLike } from '../validate.js';
import type { PollableSelector } from '../selectors/default.js';
import type { BaseSelector } from '../selectors/base.js';
import { EpollSelector } from '../selectors/epoll.js';
import { Dispatcher } from './dispatcher.js';
import type { FdTable } from './fdtable.js';
import {
  Waiter, READ, WRITE, PRIORITY,
  type FdState, type Kind, type ReactorCallbackOptions, type ReactorWaitOptions, type ReadyCallback,
} from './waiter.js';

function closedError(): ClosedError {
  return new ClosedError('reactor is closed');
}

/**
 * Readiness callbacks and promises on file objects, inside Node's event loop (asyncio's
 * `add_reader`/`add_writer`, with Node's `timeout`/`AbortSignal` options).
 */
export class Reactor implements Disposable {
  readonly #d: Dispatcher;
  /** The dispatcher's fd table, which takes the callbacks and waits. */
  readonly #fds: FdTable;

  /**
   * @param selector an `EpollSelector`; default: a new one (the Reactor is built on
   *   epoll whatever `IOMUX_SELECTOR` says), which close() then closes. A given selector is left open; it should be
   *   the Reactor's alone and must outlive the Reactor. An fd registered on it directly
   *   is never dispatched: the first time it is ready, the Reactor takes it out of the
   *   kernel's interest set (as libuv disarms fds it no longer watches, so it cannot
   *   keep waking the loop) and emits a process warning (code `IOMUX_FOREIGN_FD`).
   * @throws TypeError when `selector` is not an `EpollSelector` (select and poll have no
   *   fd for the event loop to watch); ClosedError when it is closed.
   */
  constructor(selector?: BaseSelector) {
    if (selector === undefined || selector === null) {
      this.#d = new Dispatcher(new EpollSelector<FdState>(), true);
    } else {
      if (!(selector instanceof EpollSelector)) {
        throw new TypeError(`selector must be an EpollSelector (with fileno() for libuv to watch), got ${describe(selector)}`);
      }
      selector.fileno(); // ClosedError for a closed selector
      this.#d = new Dispatcher(selector as EpollSelector<FdState>, false);
    }
    this.#fds = this.#d.fds;
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

  #add(fileobj: FileLike, callback: unknown, kind: Kind, options: unknown): void {
    if (this.#d.closed) throw closedError();
    const cb = toFunction<ReadyCallback>(callback);
    let once = false;
    if (options !== undefined) {
      const o = toOptions<ReactorCallbackOptions>(options);
      if (o.once !== undefined) once = toBoolean(o.once, 'once');
    }
    this.#fds.addCallback(fileobj, kind, cb, once);
  }

  #remove(fileobj: FileLike, kind: Kind): boolean {
    return !this.#d.closed && this.#fds.removeCallback(fileobj, kind);
  }

  /**
   * Calls `callback(fileobj, events)` each time `fileobj` is readable (level-triggered)
   * until removed; adding again replaces the callback. `events` is the mask of what
   * happened: `EVENT_READ` (data, or end of file, can be read), `EVENT_HANGUP` (the peer
   * shut down its writing side or closed: a socket's EPOLLRDHUP, which a read interest
   * always asks for, or EPOLLHUP), `EVENT_ERROR` (EPOLLERR), and `EVENT_PRIORITY` /
   * `EVENT_WRITE` when they happened at the same time. A hang-up or an error calls the
   * reader even without `EVENT_READ`.
   * @param options `once: true` runs the callback at most once, then removes it (before
   *   the call, so the callback may add one again, at no syscall's cost).
   * @throws TypeError / RangeError for a bad file object, callback or options; OSError
   *   when the kernel refuses the fd; ClosedError after close().
   */
  addReader<F extends FileLike>(fileobj: F, callback: ReadyCallback<F>, options?: ReactorCallbackOptions): void {
    this.#add(fileobj, callback, READ, options);
  }

  /**
   * As {@link Reactor.addReader}, for writability (`EVENT_WRITE`; a hang-up or an error
   * calls the writer too).
   */
  addWriter<F extends FileLike>(fileobj: F, callback: ReadyCallback<F>, options?: ReactorCallbackOptions): void {
    this.#add(fileobj, callback, WRITE, options);
  }

  /**
   * As {@link Reactor.addReader}, for priority data (`EVENT_PRIORITY`, POLLPRI): TCP
   * urgent data, a sysfs/kernfs attribute or a cgroup/PSI trigger that changed (these
   * report `EVENT_PRIORITY | EVENT_ERROR`). Alongside the reader and the writer of the
   * same fd. A hang-up or an error calls it too.
   */
  addPriority<F extends FileLike>(fileobj: F, callback: ReadyCallback<F>, options?: ReactorCallbackOptions): void {
    this.#add(fileobj, callback, PRIORITY, options);
  }

  /**
   * Stops calling the reader callback of `fileobj`.
   * @returns whether one was registered (false after close()).
   */
  removeReader(fileobj: FileLike): boolean {
    return this.#remove(fileobj, READ);
  }

  /** As {@link Reactor.removeReader}, for the writer callback. */
  removeWriter(fileobj: FileLike): boolean {
    return this.#remove(fileobj, WRITE);
  }

  /** As {@link Reactor.removeReader}, for the priority callback. */
  removePriority(fileobj: FileLike): boolean {
    return this.#remove(fileobj, PRIORITY);
  }

  // ---- promises --------------------------------------------------------------------

  #wait(fileobj: FileLike, kind: Kind, opts: ReactorWaitOptions | undefined): Promise<number> {
    if (this.#d.closed) return Promise.reject(closedError());
    const fds = this.#fds;
    let args;
    let st: FdState;
    try {
      args = toWaitOptions(opts);
      st = fds.waitState(fileobj);
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = args.signal;
    if (signal !== null && signal.aborted) {
      fds.unused(st);
      return Promise.reject(signal.reason);
    }
    return new Promise<number>((resolve, reject) => {
      const w = new Waiter(resolve, reject);
      try {
        fds.addWaiter(st, kind, w);
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
          fds.timeUp(st, kind, w, ms);
        }, Math.ceil(ms));
        w.timer.unref(); // liveness is the libuv handle's business (ref()/unref())
      }
      if (signal !== null) {
        w.signal = signal;
        w.onAbort = () => fds.settle(st, kind, w, signal.reason, true);
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
    });
  }

  /**
   * Resolves once `fileobj` is readable, or hung up, or in error, with the mask of what
   * happened (as the reader callback's `events`; see {@link Reactor.addReader}).
   * @param opts `timeout` (ms) rejects with iomux's `TimeoutError` (errno ETIMEDOUT);
   *   `signal` rejects with its reason. A closed reactor rejects with `ClosedError`.
   */
  readable(fileobj: FileLike, opts?: ReactorWaitOptions): Promise<number> {
    return this.#wait(fileobj, READ, opts);
  }

  /** As {@link Reactor.readable}, for writability. */
  writable(fileobj: FileLike, opts?: ReactorWaitOptions): Promise<number> {
    return this.#wait(fileobj, WRITE, opts);
  }

  /** As {@link Reactor.readable}, for priority data (see {@link Reactor.addPriority}). */
  priority(fileobj: FileLike, opts?: ReactorWaitOptions): Promise<number> {
    return this.#wait(fileobj, PRIORITY, opts);
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

export type { ReactorCallbackOptions, ReactorWaitOptions, ReadyCallback };
