/**
 * The Reactor's wake-up: libuv's watch on the selector's fd (an {@link FdWatcher}), whether
 * that watch keeps the process alive, the one `setImmediate` hop from libuv's poll phase
 * to the check phase where the dispatch runs (see docs/design.md, "The microtask trap"),
 * and what happens when libuv stops watching with a negative status.
 *
 * It knows nothing of fds or states: the fd table (fdtable.ts) tells it through
 * {@link WatchControl} when to watch and whether anyone waits, and the dispatcher
 * (dispatcher.ts) gives it the dispatch to run and what ends every registration.
 */
import { OSError } from '../errors.js';
import { pollOne } from '../sys/pollfd.js';
import { POLLIN, POLLERR, POLLNVAL } from '../sys/constants.js';
import type { EpollSelector } from '../selectors/epoll.js';
import { FdWatcher } from '../sys/uvpoll.js';
import { reportUncaught } from './uncaught.js';
import type { WatchControl } from './fdtable.js';
import type { FdState } from './waiter.js';

/** Negative statuses from libuv in a row (with no dispatch between) before the reactor gives up. */
const MAX_REARMS = 3;

/** libuv's watch on one Reactor's selector fd, and the hop to its dispatch (not exported from the package). */
export class Wakeup implements WatchControl {
  readonly #selector: EpollSelector<FdState>;
  /** The selector's fd, as the dispatch's epoll instance sees it. */
  readonly #fd: number;
  /** Runs one dispatch (in the check phase). */
  readonly #run: () => void;
  /** Ends every registration with the error of a watch libuv gave up on. */
  readonly #fail: (err: OSError) => void;
  #watcher: FdWatcher | null = null;
  /** Whether registrations keep the process alive (`ref()`/`unref()`). */
  #userRef = true;
  /** Whether any fd is wanted (see {@link WatchControl.setWanted}). */
  #wanted = false;
  #scheduled = false;
  #closed = false;
  /** Negative statuses from libuv since the last dispatch. */
  #rearms = 0;
  /** The immediate of a wake-up: runs the dispatch unless closed meanwhile. */
  readonly #immediate = (): void => {
    this.#scheduled = false;
    if (this.#closed) return;
    this.#rearms = 0;
    this.#run();
  };

  /**
   * @param selector the selector whose fd libuv watches.
   * @param fd       that fd (named in errors when no watcher is left).
   * @param run      the dispatch, run once per wake-up in the check phase.
   * @param fail     ends every registration with `err` when libuv gives up on the fd.
   */
  constructor(selector: EpollSelector<FdState>, fd: number, run: () => void, fail: (err: OSError) => void) {
    this.#selector = selector;
    this.#fd = fd;
    this.#run = run;
    this.#fail = fail;
  }

  /** Creates and starts the libuv watcher on the selector's fd. */
  watch(): void {
    let w = this.#watcher;
    if (w === null) {
      w = new FdWatcher(this.#selector.fileno(), (status) => this.#wake(status));
      this.#watcher = w;
      this.#refresh();
    }
    if (!w.active) w.start();
  }

  /** Notes whether any fd is wanted: the libuv handle holds the process open only then. */
  setWanted(wanted: boolean): void {
    this.#wanted = wanted;
    this.#refresh();
  }

  /** Whether registrations keep the process alive (`ref()`/`unref()`). */
  setUserRef(on: boolean): void {
    this.#userRef = on;
    this.#refresh();
  }

  /** After a dispatch: stops watching when the selector has nothing registered any more. */
  idle(): void {
    if (this.#selector.getMap()?.size === 0) this.#watcher?.stop();
  }

  /** Closes the libuv handle for good; a pending dispatch does not run. */
  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
  }

  /** The libuv handle holds the process open iff somebody waits and ref() is on. */
  #refresh(): void {
    this.#watcher?.setRef(this.#userRef && this.#wanted);
  }

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
    setImmediate(this.#immediate);
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
    const fd = w?.fd ?? this.#fd;
    const revents = pollOne(fd, POLLIN, 0);
    const broken = revents < 0 || (revents & (POLLERR | POLLNVAL)) !== 0;
    if (!broken && ++this.#rearms <= MAX_REARMS && w !== null) {
      try {
        w.start();
        if (!this.#scheduled) {
          this.#scheduled = true;
          setImmediate(this.#immediate);
        }
        return;
      } catch {
        // fall through: fail everything
      }
    }
    this.#rearms = 0;
    const err = OSError.fromErrno(-status, 'uv_poll',
      `the event loop stopped watching the reactor's selector (fd ${fd}): ${w?.strerror(status) ?? status}`);
    this.#fail(err);
    this.#watcher?.close();
    this.#watcher = null;
    reportUncaught(err);
  }
}
