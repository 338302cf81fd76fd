/**
 * `Reactor`: selector readiness driven by Node's own event loop. libuv watches the
 * selector's fd (an epoll fd on Linux); when it is readable, one `setImmediate` hop
 * runs `select(0)` and dispatches, so user callbacks run as ordinary Node callbacks
 * (promise reactions and nextTicks they queue run before Node's next phase, and their
 * exceptions reach `uncaughtException`). No thread ever blocks in epoll_wait.
 *
 * The order of work in one wake-up is described in docs/design.md.
 */
import { ClosedError } from '../errors.js';
import { toFd, type FileLike } from '../select/args.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import { newPollableSelector, type PollableSelector } from '../selectors/default.js';
import type { Socket } from '../net/socket.js';
import * as sockops from './sockops.js';
import { FdWatcher } from './watcher.js';
import {
  FdState, Waiter, checkWaitOptions, timeoutError, type ReactorWaitOptions, type ReadyCallback,
} from './waiter.js';

/** Rethrows `err` as an uncaught exception, after the current callback returns. */
function reportUncaught(err: unknown): void {
  process.nextTick(() => { throw err; });
}

function resolveAll(list: Waiter[]): void {
  const n = list.length;
  for (let i = 0; i < n; i++) {
    const w = list[i]!;
    if (w.timer !== null || w.onAbort !== null) w.cleanup();
    w.resolve();
  }
  // Waiters added by the resolutions above cannot exist yet (they run as microtasks).
  list.length = 0;
}

/**
 * Readiness callbacks and promises on file objects, inside Node's event loop (asyncio's
 * `add_reader`/`add_writer`/`sock_*`, with Node's `timeout`/`AbortSignal` options).
 */
export class Reactor implements Disposable {
  readonly #selector: PollableSelector<FdState>;
  readonly #ownsSelector: boolean;
  readonly #states = new Map<number, FdState>();
  #watcher: FdWatcher | null = null;
  /** Number of fds somebody wants (keeps the process alive unless unref()'d). */
  #active = 0;
  #userRef = true;
  #scheduled = false;
  #closed = false;
  readonly #dispatchFn = (): void => this.#dispatch();

  /**
   * @param selector a selector with `fileno()` (epoll); default: a new one of the best
   *   kind that has an fd, which close() then closes. A given selector is left open.
   * @throws TypeError when `selector` has no `fileno()`; ClosedError when it is closed.
   */
  constructor(selector?: PollableSelector) {
    if (selector === undefined || selector === null) {
      this.#selector = newPollableSelector<FdState>();
      this.#ownsSelector = true;
    } else {
      const s = selector as Partial<PollableSelector>;
      if (typeof s !== 'object' || typeof s.fileno !== 'function' || typeof s.select !== 'function'
        || typeof s.register !== 'function' || typeof s.modify !== 'function' || typeof s.unregister !== 'function') {
        const name = typeof selector === 'object' ? (selector as object).constructor?.name : typeof selector;
        throw new TypeError(`Reactor needs a selector with fileno() (such as EpollSelector) for libuv to watch, got ${name}`);
      }
      selector.fileno(); // ClosedError for a closed selector
      this.#selector = selector as PollableSelector<FdState>;
      this.#ownsSelector = false;
    }
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The selector the reactor drives. */
  get selector(): PollableSelector {
    return this.#selector;
  }

  // ---- bookkeeping -----------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('reactor is closed');
  }

  /** The state for `fileobj`'s fd, created if needed. */
  #acquire(fileobj: FileLike): FdState {
    const fd = toFd(fileobj);
    let st = this.#states.get(fd);
    if (st === undefined) {
      st = new FdState(fd, fileobj);
      this.#states.set(fd, st);
      return st;
    }
    if (!st.active && st.interest !== 0 && (typeof fileobj === 'number' || st.fileobj !== fileobj)) {
      // A lingering registration seen through a bare number or another object: the old
      // file may have been closed and its number reused, which epoll cannot tell us.
      // Register afresh (the fast path is for the same object awaited again).
      this.#dropInterest(st);
    }
    st.fileobj = fileobj;
    return st;
  }

  /** The state of a file object, also found by identity once its `fileno()` fails. */
  #find(fileobj: FileLike): FdState | undefined {
    try {
      return this.#states.get(toFd(fileobj));
    } catch (err) {
      for (const st of this.#states.values()) {
        if (st.readerObj === fileobj || st.writerObj === fileobj || st.fileobj === fileobj) return st;
      }
      throw err;
    }
  }

  #dropInterest(st: FdState): void {
    if (st.interest === 0) return;
    st.interest = 0;
    try {
      this.#selector.unregister(st.fd);
    } catch {
      // Already gone from the selector (a kernel refusal dropped it): nothing to undo.
    }
  }

  #forget(st: FdState): void {
    this.#dropInterest(st);
    st.dead = true;
    if (this.#states.get(st.fd) === st) this.#states.delete(st.fd);
  }

  /**
   * Brings the selector and the liveness count in line with what `st` wants. Interest
   * only grows here (with the syscall that needs); it shrinks in #dispatch.
   * @throws OSError when the kernel refuses the fd (e.g. EPERM for a regular file).
   */
  #update(st: FdState): void {
    const want = st.wanted();
    const active = want !== 0;
    if (active !== st.active) {
      st.active = active;
      this.#active += active ? 1 : -1;
      this.#refresh();
    }
    if ((want & ~st.interest) === 0) {
      if (!active && st.interest === 0) this.#forget(st);
      return;
    }
    const sel = this.#selector;
    try {
      if (st.interest === 0) sel.register(st.fd, want, st);
      else sel.modify(st.fd, want, st);
    } catch (err) {
      st.interest = 0; // the selector dropped it (CPython's rollback)
      throw err;
    }
    st.interest = want;
    this.#watch();
  }

  /** Creates and starts the libuv watcher on the selector's fd. */
  #watch(): void {
    let w = this.#watcher;
    if (w === null) {
      w = new FdWatcher(this.#selector.fileno(), () => this.#wake());
      this.#watcher = w;
      this.#refresh();
    }
    if (!w.active) w.start();
  }

  /** The libuv handle holds the process open iff somebody waits and ref() is on. */
  #refresh(): void {
    this.#watcher?.setRef(this.#userRef && this.#active > 0);
  }

  // ---- dispatch --------------------------------------------------------------------

  /** From libuv's poll phase: hop to the check phase of this same loop iteration. */
  #wake(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    setImmediate(this.#dispatchFn);
  }

  #dispatch(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    const events = this.#selector.select(0);
    for (const [key, ev] of events) {
      const st = key.data;
      // Skip keys that are not ours (a given selector may hold others) or forgotten ones.
      if (this.#states.get(key.fd) !== st) continue;
      const before = st.wanted();
      if ((ev & EVENT_READ) !== 0) {
        const cb = st.reader;
        if (cb !== null) {
          try {
            cb(st.readerObj);
          } catch (err) {
            reportUncaught(err);
          }
          if (this.#closed) return;
        }
        if (st.readWaiters.length !== 0) resolveAll(st.readWaiters);
      }
      if ((ev & EVENT_WRITE) !== 0 && !st.dead) {
        const cb = st.writer;
        if (cb !== null) {
          try {
            cb(st.writerObj);
          } catch (err) {
            reportUncaught(err);
          }
          if (this.#closed) return;
        }
        if (st.writeWaiters.length !== 0) resolveAll(st.writeWaiters);
      }
      if (st.dead) continue;
      if ((ev & ~before) !== 0) {
        // An event nobody wanted: the interest was lingering. Shrink it to what is
        // wanted now, so a level-triggered fd does not wake the loop again.
        this.#shrink(st);
      } else if (st.active && st.wanted() === 0) {
        this.#update(st); // resolved waiters: lower the liveness count, keep the interest
      }
    }
    if (this.#selector.getMap()?.size === 0) this.#watcher?.stop();
  }

  #shrink(st: FdState): void {
    const want = st.wanted();
    if (st.active !== (want !== 0)) {
      st.active = want !== 0;
      this.#active += st.active ? 1 : -1;
      this.#refresh();
    }
    if (want === 0) {
      this.#forget(st);
      return;
    }
    try {
      this.#selector.modify(st.fd, want, st);
      st.interest = want;
    } catch (err) {
      // The fd was closed under us; report it like any failed callback would be.
      st.interest = 0;
      reportUncaught(err);
    }
  }

  // ---- callbacks -------------------------------------------------------------------

  #add(fileobj: FileLike, callback: ReadyCallback, write: boolean): void {
    this.#checkOpen();
    if (typeof callback !== 'function') throw new TypeError(`callback must be a function, got ${typeof callback}`);
    const st = this.#acquire(fileobj);
    const prev = write ? st.writer : st.reader;
    if (write) {
      st.writer = callback;
      st.writerObj = fileobj;
    } else {
      st.reader = callback;
      st.readerObj = fileobj;
    }
    try {
      this.#update(st);
    } catch (err) {
      if (write) st.writer = prev;
      else st.reader = prev;
      this.#update(st);
      throw err;
    }
  }

  #remove(fileobj: FileLike, write: boolean): boolean {
    if (this.#closed) return false;
    const st = this.#find(fileobj);
    if (st === undefined || (write ? st.writer : st.reader) === null) return false;
    if (write) {
      st.writer = null;
      st.writerObj = -1;
    } else {
      st.reader = null;
      st.readerObj = -1;
    }
    if (write && (st.interest & ~st.wanted() & EVENT_WRITE) !== 0) {
      // A socket is nearly always writable: a lingering WRITE interest would cost a
      // wake-up for nothing right away, so drop it now (read interest may linger).
      this.#shrink(st);
    } else {
      this.#update(st);
    }
    return true;
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

  /** Stops calling the reader callback of `fileobj`. @returns whether one was registered. */
  removeReader(fileobj: FileLike): boolean {
    return this.#remove(fileobj, false);
  }

  /** Stops calling the writer callback of `fileobj`. @returns whether one was registered. */
  removeWriter(fileobj: FileLike): boolean {
    return this.#remove(fileobj, true);
  }

  // ---- promises --------------------------------------------------------------------

  #wait(fileobj: FileLike, write: boolean, opts: ReactorWaitOptions | undefined): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('reactor is closed'));
    let args;
    let st: FdState;
    try {
      args = checkWaitOptions(opts);
      st = this.#acquire(fileobj);
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = args.signal;
    if (signal !== null && signal.aborted) {
      if (!st.active && st.interest === 0) this.#forget(st);
      return Promise.reject(signal.reason);
    }
    return new Promise<void>((resolve, reject) => {
      const w = new Waiter(resolve, reject);
      const list = write ? st.writeWaiters : st.readWaiters;
      list.push(w);
      try {
        this.#update(st);
      } catch (err) {
        list.pop();
        this.#update(st);
        reject(err);
        return;
      }
      if (args.timeout >= 0) {
        const ms = args.timeout;
        w.timer = setTimeout(() => {
          w.timer = null;
          this.#cancel(st, list, w, timeoutError(write ? 'writable' : 'readable', st.fd, ms));
        }, ms);
        w.timer.unref(); // liveness is the libuv handle's business (ref()/unref())
      }
      if (signal !== null) {
        w.signal = signal;
        w.onAbort = () => this.#cancel(st, list, w, signal.reason);
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
    });
  }

  #cancel(st: FdState, list: Waiter[], w: Waiter, reason: unknown): void {
    const i = list.indexOf(w);
    if (i < 0) return;
    list.splice(i, 1);
    w.cleanup();
    w.reject(reason);
    if (!st.dead) this.#update(st);
  }

  /**
   * Resolves once `fileobj` is readable.
   * @param opts `timeout` (ms) rejects with iomux's `TimeoutError`; `signal` rejects
   *   with its reason. A closed reactor rejects with `ClosedError`.
   */
  readable(fileobj: FileLike, opts?: ReactorWaitOptions): Promise<void> {
    return this.#wait(fileobj, false, opts);
  }

  /** As {@link Reactor.readable}, for writability. */
  writable(fileobj: FileLike, opts?: ReactorWaitOptions): Promise<void> {
    return this.#wait(fileobj, true, opts);
  }

  // ---- sockets (asyncio's loop.sock_*; implemented in sockops.ts) ------------------

  /** Receives up to `n` bytes from a non-blocking socket (empty at EOF). */
  sockRecv(sock: Socket, n: number, opts?: sockops.SockOpOptions): Promise<Buffer> {
    return sockops.sockRecv(this, sock, n, opts);
  }

  /** Receives into `buf`; resolves with the count (0 at EOF). */
  sockRecvInto(sock: Socket, buf: ArrayBufferView, opts?: sockops.SockOpOptions): Promise<number> {
    return sockops.sockRecvInto(this, sock, buf, opts);
  }

  /** Sends all of `data`. */
  sockSendall(sock: Socket, data: Uint8Array | string, opts?: sockops.SockOpOptions): Promise<void> {
    return sockops.sockSendall(this, sock, data, opts);
  }

  /** Accepts a connection; the new socket is non-blocking. */
  sockAccept(sock: Socket, opts?: sockops.SockOpOptions): ReturnType<typeof sockops.sockAccept> {
    return sockops.sockAccept(this, sock, opts);
  }

  /** Connects a non-blocking socket. */
  sockConnect(sock: Socket, addr: Parameters<typeof sockops.sockConnect>[2], opts?: sockops.SockOpOptions): Promise<void> {
    return sockops.sockConnect(this, sock, addr, opts);
  }

  // ---- lifetime --------------------------------------------------------------------

  /** Lets the process exit even while something is registered. */
  unref(): this {
    this.#userRef = false;
    this.#refresh();
    return this;
  }

  /** Undoes {@link Reactor.unref}: registrations keep the process alive again. */
  ref(): this {
    this.#userRef = true;
    this.#refresh();
    return this;
  }

  /**
   * Removes everything, rejects pending promises with `ClosedError`, closes the libuv
   * handle, and closes the selector if the reactor created it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const states = [...this.#states.values()];
    this.#states.clear();
    const err = new ClosedError('reactor is closed');
    for (const st of states) {
      st.dead = true;
      st.reader = st.writer = null;
      st.readerObj = st.writerObj = -1;
      for (const list of [st.readWaiters, st.writeWaiters]) {
        const ws = list.splice(0);
        for (const w of ws) {
          w.cleanup();
          w.reject(err);
        }
      }
      if (!this.#ownsSelector && st.interest !== 0 && !this.#selector.closed) this.#dropInterest(st);
      st.interest = 0;
    }
    this.#active = 0;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#ownsSelector) this.#selector.close();
  }

  /** Same as {@link Reactor.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

export type { ReactorWaitOptions, ReadyCallback };
