/**
 * The Reactor's engine: per-fd bookkeeping (who wants which fd, what interest the
 * selector holds) and the dispatch that runs when libuv reports the selector's fd
 * readable. libuv watches the selector's fd; on readiness one `setImmediate` hop runs
 * `select(0)` and calls the callbacks and resolves the waiters, so user code runs as an
 * ordinary Node callback (promise reactions and nextTicks it queues run before Node's
 * next phase; its exceptions reach `uncaughtException`). No thread blocks in epoll_wait.
 *
 * Every change to an `FdState` happens here; the public API (`Reactor`) lives in
 * reactor.ts; the order of work in one wake-up is described in docs/design.md.
 */
import { OSError } from '../errors.js';
import { errno } from '../sys/errno.js';
import { onFdClosing } from '../sys/closing.js';
import { toFd, type FileLike } from '../validate.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import type { PollableSelector } from '../selectors/default.js';
import { FdWatcher } from './watcher.js';
import { reportUncaught } from './uncaught.js';
import { FdState, readyNow, timeoutError, type ReadyCallback, type Waiter } from './waiter.js';

const EBADF = errno.EBADF;

/** The fd of a file object now, or -1 once its `fileno()` fails. */
function fdOf(fileobj: FileLike): number {
  try {
    return toFd(fileobj);
  } catch {
    return -1;
  }
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
  #closed = false;
  /** Unsubscribes from close notifications; set while any fd has a state. */
  #unsubscribe: (() => void) | null = null;
  readonly #dispatchFn = (): void => this.#dispatch();
  readonly #onFdClosing = (fd: number): void => {
    const st = this.#states.get(fd);
    // The fd is still open: its registration can be removed from the epoll set.
    if (st !== undefined) this.#discard(st, true, () => closedWhileWaited(fd));
  };

  /** @param ownsSelector whether {@link Dispatcher.shutdown} closes `selector`. */
  constructor(selector: PollableSelector<FdState>, ownsSelector: boolean) {
    this.selector = selector;
    this.ownsSelector = ownsSelector;
  }

  /** Set by {@link Dispatcher.shutdown}; a dispatch in progress stops at once. */
  get closed(): boolean {
    return this.#closed;
  }

  // ---- the Reactor's requests ------------------------------------------------------

  /**
   * Sets the reader (or writer) callback of `fileobj`, registering interest as needed.
   * @throws what {@link toFd} throws; OSError when the kernel refuses the fd (nothing
   *   changes then).
   */
  addCallback(fileobj: FileLike, write: boolean, cb: ReadyCallback): void {
    const st = this.#acquire(fileobj);
    const prev = st.callback(write);
    const prevObj = write ? st.writerObj : st.readerObj;
    st.setCallback(write, cb, fileobj);
    try {
      this.#update(st);
    } catch (err) {
      st.setCallback(write, prev, prevObj);
      this.#update(st);
      throw err;
    }
  }

  /** Removes the reader (or writer) callback of `fileobj`; whether there was one. */
  removeCallback(fileobj: FileLike, write: boolean): boolean {
    const st = this.#find(fileobj);
    if (st === undefined || st.callback(write) === null) return false;
    st.setCallback(write, null, -1);
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
   * The state `fileobj` is waited on through, before a wait starts (so that argument
   * errors come first). {@link Dispatcher.addWaiter} registers the wait.
   * @throws what {@link toFd} throws.
   */
  waitState(fileobj: FileLike): FdState {
    return this.#acquire(fileobj);
  }

  /** Forgets a state that a wait acquired but did not use (an already-aborted signal). */
  unused(st: FdState): void {
    if (!st.active && st.interest === 0) this.#forget(st);
  }

  /**
   * Adds a waiter on `st`, registering interest as needed.
   * @throws OSError when the kernel refuses the fd (the waiter is not added).
   */
  addWaiter(st: FdState, write: boolean, w: Waiter): void {
    const list = st.waiters(write);
    list.push(w);
    try {
      this.#update(st);
    } catch (err) {
      list.pop();
      this.#update(st);
      throw err;
    }
  }

  /**
   * Settles a waiter early (timeout, abort): takes it off its list and resolves it
   * (`reason` null, `rejects` false) or rejects it with `reason`. Nothing if it was
   * settled already.
   */
  settle(st: FdState, write: boolean, w: Waiter, reason: unknown, rejects = reason !== null): void {
    const list = st.waiters(write);
    const i = list.indexOf(w);
    if (i < 0) return;
    list.splice(i, 1);
    w.cleanup();
    if (rejects) w.reject(reason);
    else w.resolve();
    if (!st.dead) this.#update(st);
  }

  /**
   * A waiter's timeout of `ms` ran out: it rejects with `TimeoutError`, unless the fd is
   * ready by now (Node runs timers before its poll phase, so a ready fd may not have
   * been dispatched yet): a ready fd wins over its timeout.
   */
  timeUp(st: FdState, write: boolean, w: Waiter, ms: number): void {
    if (!st.dead && readyNow(st.fd, write)) this.settle(st, write, w, null);
    else this.settle(st, write, w, timeoutError(write, st.fd, ms));
  }

  /** Whether registrations keep the process alive (`ref()`/`unref()`). */
  setUserRef(on: boolean): void {
    this.#userRef = on;
    this.#refresh();
  }

  // ---- bookkeeping -----------------------------------------------------------------

  /** The state for `fileobj`'s fd, created if needed. */
  #acquire(fileobj: FileLike): FdState {
    const fd = toFd(fileobj);
    let st = this.#states.get(fd);
    if (st !== undefined && (st.fileobj !== fileobj || typeof fileobj === 'number')) {
      if (typeof st.fileobj === 'object' && fdOf(st.fileobj) !== fd) {
        // The object it was registered with has been closed (its fileno() changed) and
        // the number now belongs to another file: that file gets a state of its own,
        // and what waited on the old one cannot be served. (epoll dropped the old file by
        // itself; the selector still has to forget its key.)
        this.#discard(st, true, () => closedWhileWaited(fd));
        st = undefined;
      } else if (st.interest !== 0) {
        // Seen through a bare number or another object: the old file may have been
        // closed behind the Reactor's back and its number reused, which epoll cannot
        // tell (the kernel dropped the closed file from the set by itself). Register
        // afresh; the fast path is for the same object awaited again.
        this.#dropInterest(st);
      }
    }
    if (st === undefined) {
      st = new FdState(fd, fileobj);
      if (this.#states.size === 0) this.#unsubscribe = onFdClosing(this.#onFdClosing);
      this.#states.set(fd, st);
      return st;
    }
    st.fileobj = fileobj;
    return st;
  }

  /**
   * The state of a file object, also found by identity once its `fileno()` fails (a
   * closed object: undefined if nothing of it is left).
   * @throws what {@link toFd} throws for what is not a file object at all.
   */
  #find(fileobj: FileLike): FdState | undefined {
    try {
      return this.#states.get(toFd(fileobj));
    } catch (err) {
      for (const st of this.#states.values()) {
        if (st.readerObj === fileobj || st.writerObj === fileobj || st.fileobj === fileobj) return st;
      }
      if (typeof fileobj === 'object' && fileobj !== null && typeof fileobj.fileno === 'function') return undefined;
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

  /** Drops `st` from the table (and its interest from the selector if `unregister`). */
  #forget(st: FdState, unregister = true): void {
    if (unregister) this.#dropInterest(st);
    else st.interest = 0;
    st.dead = true;
    if (this.#states.get(st.fd) === st) {
      this.#states.delete(st.fd);
      if (this.#states.size === 0) this.#unsubscribeClosing();
    }
  }

  /**
   * Ends `st`: its callbacks go, its waiters reject with `makeError()`, it leaves the
   * table (and the selector if `unregister`) and the liveness count.
   */
  #discard(st: FdState, unregister: boolean, makeError: () => unknown): void {
    st.drop(makeError);
    this.#live(st);
    this.#forget(st, unregister);
  }

  #unsubscribeClosing(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** Brings the liveness count in line with whether anyone wants `st`. */
  #live(st: FdState): void {
    const active = st.wanted() !== 0;
    if (active === st.active) return;
    st.active = active;
    this.#active += active ? 1 : -1;
    this.#refresh();
  }

  /**
   * Brings the selector and the liveness count in line with what `st` wants. Interest
   * only grows here (with the syscall that needs); it shrinks in {@link Dispatcher.#shrink}.
   * @throws OSError when the kernel refuses the fd (e.g. EPERM for a regular file).
   */
  #update(st: FdState): void {
    this.#live(st);
    const want = st.wanted();
    if ((want & ~st.interest) === 0) {
      if (want === 0 && st.interest === 0) this.#forget(st);
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
  #shrink(st: FdState): void {
    this.#live(st);
    const want = st.wanted();
    if (want === 0) {
      this.#forget(st);
      return;
    }
    try {
      this.selector.modify(st.fd, want, st);
      st.interest = want;
    } catch {
      // EBADF/ENOENT: the fd was closed under us (e.g. removeWriter after a close that
      // bypassed iomux), so epoll has already forgotten it and the selector dropped its
      // key. What is still wanted is wanted of a closed file, as with callbacks left on
      // a closed fd; a later removal forgets the state. Never an uncaught error.
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
    const events = this.selector.select(0);
    for (const [key, ev] of events) {
      const st = key.data;
      // Skip keys that are not ours (a given selector may hold others) and states that
      // were forgotten or replaced (a callback closed the fd, maybe reused its number).
      if (this.#states.get(key.fd) !== st) continue;
      const before = st.wanted();
      if ((ev & EVENT_READ) !== 0) {
        st.fire(false, reportUncaught);
        if (this.#closed) return;
      }
      if ((ev & EVENT_WRITE) !== 0 && !st.dead) {
        st.fire(true, reportUncaught);
        if (this.#closed) return;
      }
      if (st.dead) continue;
      if ((ev & ~before) !== 0) {
        // An event nobody wanted: the interest was lingering. Shrink it to what is
        // wanted now, so a level-triggered fd does not wake the loop again.
        this.#shrink(st);
      } else {
        this.#live(st); // resolved waiters: lower the liveness count, keep the interest
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
    this.#closed = true;
    const unregister = !this.ownsSelector && !this.selector.closed;
    for (const st of [...this.#states.values()]) this.#discard(st, unregister, () => err);
    this.#unsubscribeClosing();
    this.#watcher?.close();
    this.#watcher = null;
    if (this.ownsSelector) this.selector.close();
  }
}

/** The error of a wait whose fd was closed. */
function closedWhileWaited(fd: number): OSError {
  return OSError.fromErrno(EBADF, undefined, `fd ${fd} was closed while waited on`);
}
