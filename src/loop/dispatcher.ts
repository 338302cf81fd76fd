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
import { EpollFd } from '../sys/epoll.js';
import { pollOne } from '../sys/pollfd.js';
import { EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLLIN, EPOLLOUT, POLLIN, POLLERR, POLLNVAL } from '../sys/constants.js';
import { toFd, type FileLike } from '../validate.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import { EVENT_PRIORITY } from '../selectors/key.js';
import { EXTRA_KERNEL_BITS, type EpollSelector } from '../selectors/epoll.js';
import { FdWatcher } from '../sys/uvpoll.js';
import { reportUncaught } from './uncaught.js';
import {
  FdState, READ, WRITE, PRIORITY, eventMask, kernelInterest, readyNow, timeoutError, wakes,
  type Kind, type ReadyCallback, type Waiter,
} from './waiter.js';

const EBADF = errno.EBADF;
/** Negative statuses from libuv in a row (with no dispatch between) before the reactor gives up. */
const MAX_REARMS = 3;

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

/** Bookkeeping and dispatch of one Reactor (not exported from the package). */
export class Dispatcher {
  /** The selector whose fd libuv watches; each key's `data` is the fd's {@link FdState}. */
  readonly selector: EpollSelector<FdState>;
  /** Whether the selector was made for this reactor (and so is closed with it). */
  readonly ownsSelector: boolean;
  /**
   * The selector's epoll instance, seen directly: the kernel bits the selector cannot
   * express (RDHUP, PRI) are set through it, and the dispatch reads the raw events from
   * it (no result objects, and the detail the selector would fold into READ|WRITE).
   * Never closed here (the selector owns the fd).
   */
  readonly #ep: EpollFd;
  readonly #states = new Map<number, FdState>();
  #watcher: FdWatcher | null = null;
  /** Number of fds somebody wants (keeps the process alive unless unref()'d). */
  #active = 0;
  #userRef = true;
  #scheduled = false;
  #closed = false;
  /** Negative statuses from libuv since the last dispatch. */
  #rearms = 0;
  /** Whether the warning about fds registered directly on the selector was given. */
  #warnedForeign = false;
  /** The states of the events of one dispatch (reused; grown when needed). */
  #batch: Array<FdState | undefined> = [];
  /** The registration number of each state of the batch (see {@link FdState.reg}). */
  #batchReg: number[] = [];
  /** The state whose callbacks run now (in a dispatch), else null. */
  #firing: FdState | null = null;
  /** Registrations made so far (numbers each fresh one). */
  #regs = 0;
  /** Unsubscribes from close notifications; set while any fd has a state. */
  #unsubscribe: (() => void) | null = null;
  readonly #dispatchFn = (): void => this.#dispatch();
  readonly #onFdClosing = (fd: number): void => {
    const st = this.#states.get(fd);
    // The fd is still open: its registration can be removed from the epoll set.
    if (st !== undefined) this.#discard(st, true, () => closedWhileWaited(fd));
  };

  /** @param ownsSelector whether {@link Dispatcher.shutdown} closes `selector`. */
  constructor(selector: EpollSelector<FdState>, ownsSelector: boolean) {
    this.selector = selector;
    this.ownsSelector = ownsSelector;
    this.#ep = EpollFd.adopt(selector.fileno(), 64);
  }

  /** Set by {@link Dispatcher.shutdown}; a dispatch in progress stops at once. */
  get closed(): boolean {
    return this.#closed;
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
      } else if (st.interest !== 0 && st !== this.#firing) {
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
   * Registers `want` (EVENT_READ/WRITE/PRIORITY bits) for `st`: the selector keeps the
   * READ/WRITE part (a priority-only interest is kept as READ there), then the epoll
   * entry gets the whole kernel mask (a read includes RDHUP; priority is EPOLLPRI).
   * @throws OSError when the kernel refuses the fd (the selector dropped it then).
   */
  #register(st: FdState, want: number): void {
    const sel = this.selector;
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
    this.#register(st, want | st.interest);
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
      this.#register(st, want);
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
      w = new FdWatcher(this.selector.fileno(), (status) => this.#wake(status));
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

  /**
   * From libuv's poll phase: hop to the check phase of this same loop iteration. A
   * negative `status` means libuv saw POLLERR on the watched fd and stopped the handle.
   */
  #wake(status: number): void {
    if (this.#closed) return;
    if (status < 0) {
      this.#stopped(status);
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#dispatchFn);
  }

  /**
   * libuv stopped watching the selector's fd with a negative status. Still a working
   * epoll fd (a passing error): watch it again and dispatch. Reported as an error by the
   * fd itself, or again and again: every waiter rejects with the error, every callback
   * and registration goes, and the error is reported as uncaught, so the reactor never
   * falls silent. The reactor stays usable: a later registration watches afresh.
   */
  #stopped(status: number): void {
    const w = this.#watcher;
    const fd = w?.fd ?? this.#ep.fd;
    const revents = pollOne(fd, POLLIN, 0);
    const broken = revents < 0 || (revents & (POLLERR | POLLNVAL)) !== 0;
    if (!broken && ++this.#rearms <= MAX_REARMS && w !== null) {
      try {
        w.start();
        if (!this.#scheduled) {
          this.#scheduled = true;
          setImmediate(this.#dispatchFn);
        }
        return;
      } catch {
        // fall through: fail everything
      }
    }
    this.#rearms = 0;
    const err = OSError.fromErrno(-status, 'uv_poll',
      `the event loop stopped watching the reactor's selector (fd ${fd}): ${w?.strerror(status) ?? status}`);
    for (const st of [...this.#states.values()]) this.#discard(st, !this.selector.closed, () => err);
    this.#watcher?.close();
    this.#watcher = null;
    reportUncaught(err);
  }

  #dispatch(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    this.#rearms = 0;
    // A given selector closed before the Reactor: ClosedError, reported as uncaught (and
    // never an epoll_wait on an fd number that may belong to another file by now).
    if (this.selector.closed) this.selector.fileno();
    const ep = this.#ep;
    const n = ep.wait(this.#states.size > 1 ? this.#states.size : 1, 0);
    if (n < 0) {
      reportUncaught(OSError.fromErrno(-n, 'epoll_wait', `reactor selector fd ${ep.fd}`));
      return;
    }
    // The states first: a callback may close an fd and reuse its number, and that
    // number's event in this batch belongs to the old file, not to the new state.
    // A state registered afresh meanwhile (its number seen again through a bare number
    // after a close behind the Reactor's back) is skipped in the same way.
    const batch = this.#batch;
    const regs = this.#batchReg;
    const states = this.#states;
    for (let i = 0; i < n; i++) {
      const st = states.get(ep.eventFd(i));
      batch[i] = st;
      regs[i] = st === undefined ? 0 : st.reg;
    }
    for (let i = 0; i < n; i++) {
      const st = batch[i];
      batch[i] = undefined;
      if (st === undefined) {
        this.#foreign(ep.eventFd(i));
        continue;
      }
      if (st.dead || st.reg !== regs[i]) continue;
      const raw = ep.events(i);
      const before = st.wanted();
      const kinds = wakes(raw, st.interest);
      if (kinds !== 0) {
        const events = eventMask(raw);
        this.#firing = st;
        if ((kinds & EVENT_READ) !== 0) {
          st.fire(READ, events, reportUncaught);
          if (this.#closed) return this.#abandon(i + 1, n);
        }
        if ((kinds & EVENT_WRITE) !== 0 && !st.dead) {
          st.fire(WRITE, events, reportUncaught);
          if (this.#closed) return this.#abandon(i + 1, n);
        }
        if ((kinds & EVENT_PRIORITY) !== 0 && !st.dead) {
          st.fire(PRIORITY, events, reportUncaught);
          if (this.#closed) return this.#abandon(i + 1, n);
        }
        this.#firing = null;
      }
      if (st.dead) continue;
      if ((kinds & ~before) !== 0 || kinds === 0) {
        // An event nobody wanted: the interest was lingering. Shrink it to what is
        // wanted now, so a level-triggered fd does not wake the loop again.
        this.#shrink(st);
      } else {
        this.#live(st); // resolved waiters: lower the liveness count, keep the interest
      }
    }
    if (this.selector.getMap()?.size === 0) this.#watcher?.stop();
  }

  /** Ends a dispatch that a callback's close() cut short. */
  #abandon(from: number, to: number): void {
    this.#firing = null;
    clearFrom(this.#batch, from, to);
  }

  /**
   * An event for an fd the reactor did not register: registered directly on a given
   * selector. Nothing here can dispatch it and, level-triggered, it would wake the loop
   * again at once: as libuv does for fds it no longer watches, it is disarmed (taken out
   * of the kernel's interest set; the selector's key stays until unregistered). Said
   * once per reactor in a process warning.
   */
  #foreign(fd: number): void {
    this.#ep.ctl(EPOLL_CTL_DEL, fd, 0);
    if (this.#warnedForeign) return;
    this.#warnedForeign = true;
    process.emitWarning(`fd ${fd} was registered directly on the Reactor's selector (fd ${this.#ep.fd}); `
      + 'the Reactor dispatches only its own registrations, so the kernel no longer watches it',
    { code: 'IOMUX_FOREIGN_FD' });
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

/** Clears the rest of a dispatch batch (the reactor was closed by a callback). */
function clearFrom(batch: Array<FdState | undefined>, from: number, to: number): void {
  for (let i = from; i < to; i++) batch[i] = undefined;
}

/** The error of a wait whose fd was closed. */
function closedWhileWaited(fd: number): OSError {
  return OSError.fromErrno(EBADF, undefined, `fd ${fd} was closed while waited on`);
}
