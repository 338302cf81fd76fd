/**
 * The Reactor's engine: per-fd bookkeeping (who wants which fd, what interest the
 * selector holds) and the dispatch that runs when libuv reports the selector's fd
 * readable. libuv watches the selector's fd; on readiness one `setImmediate` hop runs
 * `select(0)` and calls the callbacks and resolves the waiters, so user code runs as an
 * ordinary Node callback (promise reactions and nextTicks it queues run before Node's
 * next phase; its exceptions reach `uncaughtException`). No thread blocks in epoll_wait.
 *
 * The public API (`Reactor`) lives in reactor.ts; the order of work in one wake-up is
 * described in docs/design.md.
 */
import { OSError, errno as E } from '../errors.js';
import type { FileLike } from '../select/args.js';
import { toFd } from '../select/args.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import type { PollableSelector } from '../selectors/default.js';
import { FdWatcher } from './watcher.js';
import { FdState, type Waiter } from './waiter.js';

const EBADF = E.EBADF!;

/** The fd of a file object now, or -1 once its `fileno()` fails. */
function fdOf(fileobj: FileLike): number {
  try {
    return toFd(fileobj);
  } catch {
    return -1;
  }
}

/** Rethrows `err` as an uncaught exception, after the current callback returns. */
export function reportUncaught(err: unknown): void {
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

/** Bookkeeping and dispatch of one Reactor (not exported from the package). */
export class Dispatcher {
  /** The selector whose fd libuv watches; each key's `data` is the fd's {@link FdState}. */
  readonly selector: PollableSelector<FdState>;
  /** Whether the selector was made for this reactor (and so is closed with it). */
  readonly ownsSelector: boolean;
  readonly #states = new Map<number, FdState>();
  #watcher: FdWatcher | null = null;
  /** Number of fds somebody wants (keeps the process alive unless unref()'d). */
  #active = 0;
  #userRef = true;
  #scheduled = false;
  /** Set by {@link Dispatcher.shutdown}; a dispatch in progress stops at once. */
  closed = false;
  readonly #dispatchFn = (): void => this.#dispatch();

  /** @param ownsSelector whether {@link Dispatcher.shutdown} closes `selector`. */
  constructor(selector: PollableSelector<FdState>, ownsSelector: boolean) {
    this.selector = selector;
    this.ownsSelector = ownsSelector;
  }

  // ---- bookkeeping -----------------------------------------------------------------

  /** The state for `fileobj`'s fd, created if needed. */
  acquire(fileobj: FileLike): FdState {
    const fd = toFd(fileobj);
    let st = this.#states.get(fd);
    if (st === undefined) {
      st = new FdState(fd, fileobj);
      this.#states.set(fd, st);
      return st;
    }
    if (st.fileobj !== fileobj || typeof fileobj === 'number') {
      if (typeof st.fileobj === 'object' && fdOf(st.fileobj) !== fd) {
        // The object it was registered with has been closed (its fileno() changed) and
        // the number now belongs to another file: what waited on the old one cannot
        // be served, and epoll dropped the old registration by itself.
        this.#stale(st);
      } else if (!st.active && st.interest !== 0) {
        // A lingering registration seen through a bare number or another object: the old
        // file may have been closed and its number reused, which epoll cannot tell us.
        // Register afresh (the fast path is for the same object awaited again).
        this.#dropInterest(st);
      }
    }
    st.fileobj = fileobj;
    return st;
  }

  /** Clears a state whose file was closed: callbacks go, waiters reject with EBADF. */
  #stale(st: FdState): void {
    this.#dropInterest(st);
    st.clearCallbacks();
    const err = OSError.fromErrno(EBADF, undefined, `fd ${st.fd} was closed while waited on`);
    for (const list of [st.readWaiters, st.writeWaiters]) {
      for (const w of list.splice(0)) {
        w.cleanup();
        w.reject(err);
      }
    }
    if (st.active) {
      st.active = false;
      this.#active--;
      this.#refresh();
    }
  }

  /** The state of a file object, also found by identity once its `fileno()` fails. */
  find(fileobj: FileLike): FdState | undefined {
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
      this.selector.unregister(st.fd);
    } catch {
      // Already gone from the selector (a kernel refusal dropped it): nothing to undo.
    }
  }

  /** Drops `st` altogether (its interest and its place in the table). */
  forget(st: FdState): void {
    this.#dropInterest(st);
    st.dead = true;
    if (this.#states.get(st.fd) === st) this.#states.delete(st.fd);
  }

  /**
   * Brings the selector and the liveness count in line with what `st` wants. Interest
   * only grows here (with the syscall that needs); it shrinks in #dispatch.
   * @throws OSError when the kernel refuses the fd (e.g. EPERM for a regular file).
   */
  update(st: FdState): void {
    const want = st.wanted();
    const active = want !== 0;
    if (active !== st.active) {
      st.active = active;
      this.#active += active ? 1 : -1;
      this.#refresh();
    }
    if ((want & ~st.interest) === 0) {
      if (!active && st.interest === 0) this.forget(st);
      return;
    }
    const sel = this.selector;
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

  /**
   * Shrinks the interest of `st` to what is wanted now (dropping it when nothing is), so
   * a level-triggered fd nobody waits on does not wake the loop again.
   */
  shrink(st: FdState): void {
    const want = st.wanted();
    if (st.active !== (want !== 0)) {
      st.active = want !== 0;
      this.#active += st.active ? 1 : -1;
      this.#refresh();
    }
    if (want === 0) {
      this.forget(st);
      return;
    }
    try {
      this.selector.modify(st.fd, want, st);
      st.interest = want;
    } catch {
      // EBADF/ENOENT: the fd was closed under us (e.g. removeWriter after close()), so
      // epoll has already forgotten it and the selector dropped its key. What is still
      // wanted is wanted of a closed file, as with callbacks left on a closed fd; a
      // later removal forgets the state. Never an uncaught error for a removal.
      st.interest = 0;
    }
  }

  /** Creates and starts the libuv watcher on the selector's fd. */
  #watch(): void {
    let w = this.#watcher;
    if (w === null) {
      w = new FdWatcher(this.selector.fileno(), () => this.#wake());
      this.#watcher = w;
      this.#refresh();
    }
    if (!w.active) w.start();
  }

  /** Whether registrations keep the process alive (`ref()`/`unref()`). */
  setUserRef(on: boolean): void {
    this.#userRef = on;
    this.#refresh();
  }

  /** The libuv handle holds the process open iff somebody waits and ref() is on. */
  #refresh(): void {
    this.#watcher?.setRef(this.#userRef && this.#active > 0);
  }

  // ---- dispatch --------------------------------------------------------------------

  /** From libuv's poll phase: hop to the check phase of this same loop iteration. */
  #wake(): void {
    if (this.#scheduled || this.closed) return;
    this.#scheduled = true;
    setImmediate(this.#dispatchFn);
  }

  #dispatch(): void {
    this.#scheduled = false;
    if (this.closed) return;
    const events = this.selector.select(0);
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
          if (this.closed) return;
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
          if (this.closed) return;
        }
        if (st.writeWaiters.length !== 0) resolveAll(st.writeWaiters);
      }
      if (st.dead) continue;
      if ((ev & ~before) !== 0) {
        // An event nobody wanted: the interest was lingering. Shrink it to what is
        // wanted now, so a level-triggered fd does not wake the loop again.
        this.shrink(st);
      } else if (st.active && st.wanted() === 0) {
        this.update(st); // resolved waiters: lower the liveness count, keep the interest
      }
    }
    if (this.selector.getMap()?.size === 0) this.#watcher?.stop();
  }

  // ---- lifetime --------------------------------------------------------------------

  /**
   * Forgets every fd, rejecting its waiters with `err`; closes the libuv handle, and the
   * selector if it is owned (a given one only loses the reactor's registrations).
   */
  shutdown(err: Error): void {
    this.closed = true;
    const states = [...this.#states.values()];
    this.#states.clear();
    for (const st of states) {
      st.dead = true;
      st.clearCallbacks();
      for (const list of [st.readWaiters, st.writeWaiters]) {
        const ws = list.splice(0);
        for (const w of ws) {
          w.cleanup();
          w.reject(err);
        }
      }
      if (!this.ownsSelector && st.interest !== 0 && !this.selector.closed) this.#dropInterest(st);
      st.interest = 0;
    }
    this.#active = 0;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.ownsSelector) this.selector.close();
  }
}
