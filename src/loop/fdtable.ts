/**
 * The Reactor's fd table: the {@link FdState} of every fd somebody wants (callbacks and
 * waiters), the interest the selector and the kernel hold for it, the liveness count
 * (fds somebody waits on), and the close notification that ends the state of an fd
 * iomux closes. Every change to an `FdState` happens here (the Reactor's requests: add
 * or remove a callback, add or settle a waiter; after a dispatch: the liveness and the
 * shrinking of a lingering interest), except its firing (`FdState.fire()`, called by the
 * dispatch in dispatcher.ts).
 *
 * The table does not watch the selector's fd itself: it tells the owner of the libuv
 * watch ({@link WatchControl}, wakeup.ts) when an interest is registered and whether
 * anyone waits. The dispatch (dispatcher.ts) reads {@link FdTable.states}.
 */
import { OSError } from '../errors.js';
import { errno } from '../sys/errno.js';
import { onFdClosing } from '../sys/closing.js';
import type { EpollFd } from '../sys/epoll.js';
import { EPOLL_CTL_MOD, EPOLLIN, EPOLLOUT } from '../sys/constants.js';
import { toFd, type FileLike } from '../validate.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import { EXTRA_KERNEL_BITS, type EpollSelector } from '../selectors/epoll.js';
import {
  FdState, WRITE, kernelInterest, readyNow, timeoutError,
  type Kind, type ReadyCallback, type Waiter,
} from './waiter.js';

const EBADF = errno.EBADF;

/** The epoll bits the selector itself registers for EVENT_READ/WRITE. */
const plainKernel = (events: number): number =>
  ((events & EVENT_READ) !== 0 ? EPOLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? EPOLLOUT : 0);

/** The fd of a file object now, or -1 once its `fileno()` fails. */
function fdOf(fileobj: FileLike): number {
  try {
    return toFd(fileobj);
  } catch {
    return -1;
  }
}

/** The error of a wait whose fd was closed. */
function closedWhileWaited(fd: number): OSError {
  return OSError.fromErrno(EBADF, undefined, `fd ${fd} was closed while waited on`);
}

/** What the fd table tells the owner of the libuv watch on the selector's fd. */
export interface WatchControl {
  /** An interest was registered with the selector: its fd must be watched. */
  watch(): void;
  /** Whether any fd is wanted now (the watch keeps the process alive only then). */
  setWanted(wanted: boolean): void;
}

/** The per-fd table of one Reactor (not exported from the package). */
export class FdTable {
  /** The selector each state's interest is registered with; each key's `data` is the fd's state. */
  readonly #selector: EpollSelector<FdState>;
  /** The selector's epoll instance, for the kernel bits the selector cannot express (RDHUP, PRI). */
  readonly #ep: EpollFd;
  readonly #watch: WatchControl;
  readonly #states = new Map<number, FdState>();
  /** Number of fds somebody wants (keeps the process alive unless unref()'d). */
  #active = 0;
  /** Registrations made so far (numbers each fresh one). */
  #regs = 0;
  /** Unsubscribes from close notifications; set while any fd has a state. */
  #unsubscribe: (() => void) | null = null;
  /**
   * The state whose callbacks run now, set by the dispatch around its calls, else null:
   * a registration for this fd keeps its interest even through a bare number.
   */
  firing: FdState | null = null;
  readonly #onFdClosing = (fd: number): void => {
    const st = this.#states.get(fd);
    // The fd is still open: its registration can be removed from the epoll set.
    if (st !== undefined) this.#discard(st, true, () => closedWhileWaited(fd));
  };

  /**
   * @param selector the Reactor's selector.
   * @param ep       its epoll instance, seen directly (never closed here).
   * @param watch    told when the selector's fd must be watched and whether anyone waits.
   */
  constructor(selector: EpollSelector<FdState>, ep: EpollFd, watch: WatchControl) {
    this.#selector = selector;
    this.#ep = ep;
    this.#watch = watch;
  }

  /** The state of each fd by number (read by the dispatch; changed only here). */
  get states(): ReadonlyMap<number, FdState> {
    return this.#states;
  }

  // ---- the Reactor's requests ------------------------------------------------------

  /**
   * Sets the callback of `kind` for `fileobj`, registering interest as needed.
   * @throws what {@link toFd} throws; OSError when the kernel refuses the fd (nothing
   *   changes then).
   */
  addCallback(fileobj: FileLike, kind: Kind, cb: ReadyCallback, once: boolean): void {
    const st = this.#acquire(fileobj);
    const prev = st.callback(kind);
    const prevObj = st.objs[kind]!;
    const prevOnce = st.once[kind]!;
    st.setCallback(kind, cb, fileobj, once);
    try {
      this.#update(st);
    } catch (err) {
      st.setCallback(kind, prev, prevObj, prevOnce);
      this.#update(st);
      throw err;
    }
  }

  /** Removes the callback of `kind` for `fileobj`; whether there was one. */
  removeCallback(fileobj: FileLike, kind: Kind): boolean {
    const st = this.#find(fileobj);
    if (st === undefined || st.callback(kind) === null) return false;
    st.setCallback(kind, null, -1);
    if (kind === WRITE && (st.interest & ~st.wanted() & EVENT_WRITE) !== 0) {
      // A socket is nearly always writable: a lingering WRITE interest would cost a
      // wake-up for nothing right away, so drop it now (read interest may linger).
      this.shrink(st);
    } else {
      this.#update(st);
    }
    return true;
  }

  /**
   * The state `fileobj` is waited on through, before a wait starts (so that argument
   * errors come first). {@link FdTable.addWaiter} registers the wait.
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
   * Adds a waiter of `kind` on `st`, registering interest as needed.
   * @throws OSError when the kernel refuses the fd (the waiter is not added).
   */
  addWaiter(st: FdState, kind: Kind, w: Waiter): void {
    const list = st.waiters(kind);
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
   * Settles a waiter early (timeout, abort): takes it off its list and resolves it with
   * `events` (`rejects` false) or rejects it with `reason`. Nothing if it was settled
   * already.
   */
  settle(st: FdState, kind: Kind, w: Waiter, reason: unknown, rejects: boolean, events = 0): void {
    const list = st.waiters(kind);
    const i = list.indexOf(w);
    if (i < 0) return;
    list.splice(i, 1);
    w.cleanup();
    if (rejects) w.reject(reason);
    else w.resolve(events);
    if (!st.dead) this.#update(st);
  }

  /**
   * A waiter's timeout of `ms` ran out: it rejects with `TimeoutError`, unless the fd is
   * ready by now (Node runs timers before its poll phase, so a ready fd may not have
   * been dispatched yet): a ready fd wins over its timeout.
   */
  timeUp(st: FdState, kind: Kind, w: Waiter, ms: number): void {
    const events = st.dead ? 0 : readyNow(st.fd, kind);
    if (events !== 0) this.settle(st, kind, w, null, false, events);
    else this.settle(st, kind, w, timeoutError(kind, st.fd, ms), true);
  }

  // ---- after a dispatch ------------------------------------------------------------

  /** Brings the liveness count in line with whether anyone wants `st`. */
  live(st: FdState): void {
    const active = st.wanted() !== 0;
    if (active === st.active) return;
    st.active = active;
    this.#active += active ? 1 : -1;
    this.#watch.setWanted(this.#active > 0);
  }

  /**
   * Shrinks the interest of `st` to what is wanted now (dropping it when nothing is), so
   * a level-triggered fd nobody waits on does not wake the loop again.
   */
  shrink(st: FdState): void {
    this.live(st);
    const want = st.wanted();
    if (want === 0) {
      this.#forget(st);
      return;
    }
    try {
      this.#register(st, want);
    } catch {
      // EBADF/ENOENT: the fd was closed under us (e.g. removeWriter after a close that
      // bypassed iomux), so epoll has already forgotten it and the selector dropped its
      // key. What is still wanted is wanted of a closed file, as with callbacks left on
      // a closed fd; a later removal forgets the state. Never an uncaught error.
      st.interest = 0;
    }
  }

  /**
   * Ends every state: callbacks go, waiters reject with `makeError()`, each fd leaves the
   * table (and the selector if `unregister`) and the liveness count; close notifications
   * stop.
   */
  clear(unregister: boolean, makeError: () => unknown): void {
    for (const st of [...this.#states.values()]) this.#discard(st, unregister, makeError);
    this.#unsubscribeClosing();
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
      } else if (st.interest !== 0 && st !== this.firing) {
        // Seen through a bare number or another object: the old file may have been
        // closed behind the Reactor's back and its number reused, which epoll cannot
        // tell (the kernel dropped the closed file from the set by itself). Register
        // afresh; the fast path is for the same object awaited again, and for the fd
        // whose callback is running (the kernel has just reported it: a one-shot
        // callback adding itself again costs no syscall).
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
        if (st.fileobj === fileobj || st.objs.includes(fileobj)) return st;
      }
      if (typeof fileobj === 'object' && fileobj !== null && typeof fileobj.fileno === 'function') return undefined;
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
    this.live(st);
    this.#forget(st, unregister);
  }

  #unsubscribeClosing(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /**
   * Registers `want` (EVENT_READ/WRITE/PRIORITY bits) for `st`: the selector keeps the
   * READ/WRITE part (a priority-only interest is kept as READ there), then the epoll
   * entry gets the whole kernel mask (a read includes RDHUP; priority is EPOLLPRI).
   * @throws OSError when the kernel refuses the fd (the selector dropped it then).
   */
  #register(st: FdState, want: number): void {
    const sel = this.#selector;
    const selEvents = (want & (EVENT_READ | EVENT_WRITE)) || EVENT_READ;
    const had = st.interest === 0 ? 0 : (st.interest & (EVENT_READ | EVENT_WRITE)) || EVENT_READ;
    const kernel = kernelInterest(want);
    // The selector's own epoll_ctl carries the bits beyond IN/OUT (one system call).
    sel[EXTRA_KERNEL_BITS](st.fd, kernel & ~plainKernel(selEvents));
    try {
      if (had === 0) {
        sel.register(st.fd, selEvents, st);
        st.reg = ++this.#regs;
      } else if (had !== selEvents) {
        sel.modify(st.fd, selEvents, st);
      }
    } catch (err) {
      st.interest = 0; // the selector dropped it (CPython's rollback)
      throw err;
    }
    // What the kernel holds now: what the selector just wrote, or the previous mask.
    const holds = had !== selEvents ? kernel : kernelInterest(st.interest);
    if (kernel !== holds) {
      const r = this.#ep.ctl(EPOLL_CTL_MOD, st.fd, kernel);
      if (r < 0) {
        st.interest = 0;
        try {
          sel.unregister(st.fd);
        } catch {
          // nothing registered to undo
        }
        throw OSError.fromErrno(-r, 'epoll_ctl', `modify fd ${st.fd}`);
      }
    }
    st.interest = want;
  }

  /**
   * Brings the selector and the liveness count in line with what `st` wants. Interest
   * only grows here (with the syscall that needs); it shrinks in {@link FdTable.shrink}.
   * @throws OSError when the kernel refuses the fd (e.g. EPERM for a regular file).
   */
  #update(st: FdState): void {
    this.live(st);
    const want = st.wanted();
    if ((want & ~st.interest) === 0) {
      if (want === 0 && st.interest === 0) this.#forget(st);
      return;
    }
    this.#register(st, want | st.interest);
    this.#watch.watch();
  }
}
