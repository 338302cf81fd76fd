/**
 * The Reactor's engine: the dispatch that runs when libuv reports the selector's fd
 * readable, and the lifetime of the parts it joins. libuv watches the selector's fd; on
 * readiness one `setImmediate` hop runs `epoll_wait(0)` and calls the callbacks and
 * resolves the waiters, so user code runs as an ordinary Node callback (promise reactions
 * and nextTicks it queues run before Node's next phase; its exceptions reach
 * `uncaughtException`). No thread blocks in epoll_wait.
 *
 * The parts: the per-fd table, every fd's state, interest and liveness (fdtable.ts);
 * the libuv watch and the hop to the check phase (wakeup.ts); the dispatch itself and
 * shutdown (here). The public API (`Reactor`) lives in reactor.ts; the order of work in
 * one wake-up is described in docs/design.md.
 */
import { OSError } from '../errors.js';
import { EpollFd } from '../sys/epoll.js';
import { EPOLL_CTL_DEL } from '../sys/constants.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import { EVENT_PRIORITY } from '../selectors/key.js';
import type { EpollSelector } from '../selectors/epoll.js';
import { reportUncaught } from './uncaught.js';
import { FdTable } from './fdtable.js';
import { Wakeup } from './wakeup.js';
import { READ, WRITE, PRIORITY, eventMask, wakes, type FdState } from './waiter.js';

/** Dispatch and lifetime of one Reactor (not exported from the package). */
export class Dispatcher {
  /** The selector whose fd libuv watches; each key's `data` is the fd's {@link FdState}. */
  readonly selector: EpollSelector<FdState>;
  /** Whether the selector was made for this reactor (and so is closed with it). */
  readonly ownsSelector: boolean;
  /** The per-fd table: the Reactor's requests go there directly. */
  readonly fds: FdTable;
  /**
   * The selector's epoll instance, seen directly: the dispatch reads the raw events from
   * it (no result objects, and the detail the selector would fold into READ|WRITE).
   * Never closed here (the selector owns the fd).
   */
  readonly #ep: EpollFd;
  readonly #wakeup: Wakeup;
  #closed = false;
  /** Whether the warning about fds registered directly on the selector was given. */
  #warnedForeign = false;
  /** The states of the events of one dispatch (reused; grown when needed). */
  #batch: Array<FdState | undefined> = [];
  /** The registration number of each state of the batch (see {@link FdState.reg}). */
  #batchReg: number[] = [];

  /** @param ownsSelector whether {@link Dispatcher.shutdown} closes `selector`. */
  constructor(selector: EpollSelector<FdState>, ownsSelector: boolean) {
    this.selector = selector;
    this.ownsSelector = ownsSelector;
    const ep = EpollFd.adopt(selector.fileno(), 64);
    this.#ep = ep;
    this.#wakeup = new Wakeup(selector, ep.fd, () => this.#dispatch(),
      (err) => this.fds.clear(!selector.closed, () => err));
    this.fds = new FdTable(selector, ep, this.#wakeup);
  }

  /** Set by {@link Dispatcher.shutdown}; a dispatch in progress stops at once. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether registrations keep the process alive (`ref()`/`unref()`). */
  setUserRef(on: boolean): void {
    this.#wakeup.setUserRef(on);
  }

  // ---- dispatch --------------------------------------------------------------------

  /** One wake-up's work, from the check phase (never after shutdown). */
  #dispatch(): void {
    // A given selector closed before the Reactor: ClosedError, reported as uncaught (and
    // never an epoll_wait on an fd number that may belong to another file by now).
    if (this.selector.closed) this.selector.fileno();
    const ep = this.#ep;
    const fds = this.fds;
    const states = fds.states;
    const n = ep.wait(states.size > 1 ? states.size : 1, 0);
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
        fds.firing = st;
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
        fds.firing = null;
      }
      if (st.dead) continue;
      if ((kinds & ~before) !== 0 || kinds === 0) {
        // An event nobody wanted: the interest was lingering. Shrink it to what is
        // wanted now, so a level-triggered fd does not wake the loop again.
        fds.shrink(st);
      } else {
        fds.live(st); // resolved waiters: lower the liveness count, keep the interest
      }
    }
    this.#wakeup.idle();
  }

  /** Ends a dispatch that a callback's close() cut short. */
  #abandon(from: number, to: number): void {
    this.fds.firing = null;
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
    this.fds.clear(unregister, () => err);
    this.#wakeup.close();
    if (this.ownsSelector) this.selector.close();
  }
}

/** Clears the rest of a dispatch batch (the reactor was closed by a callback). */
function clearFrom(batch: Array<FdState | undefined>, from: number, to: number): void {
  for (let i = from; i < to; i++) batch[i] = undefined;
}

