/**
 * The Reactor's per-fd record: who wants the fd (reader, writer and priority callbacks
 * and promise waiters) and what interest the selector holds for it. Interest is kept
 * registered while nobody waits ("lingering") so the next await costs no syscall; it is
 * dropped only after a dispatch finds nobody wanting an event (see dispatcher.ts).
 *
 * An `FdState` is changed by the fd table (fdtable.ts) and fired by the dispatch
 * (dispatcher.ts) only; the Reactor asks the table.
 */
import { TimeoutError } from '../errors.js';
import { errno } from '../sys/errno.js';
import { pollOne } from '../sys/pollfd.js';
import {
  POLLIN, POLLOUT, POLLPRI, POLLERR, POLLHUP, POLLRDHUP,
  EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLRDHUP,
} from '../sys/constants.js';
import type { FileLike } from '../validate.js';
import { EVENT_READ, EVENT_WRITE } from '../selectors/key.js';
import { EVENT_PRIORITY, EVENT_HANGUP, EVENT_ERROR } from '../selectors/key.js';

/** Options of `Reactor#readable` / `writable` / `priority`, in Node's style. */
export interface ReactorWaitOptions {
  /** Milliseconds before the promise rejects with iomux's `TimeoutError`; `null`/`undefined`/`Infinity`: none. */
  timeout?: number | null;
  /** Rejects the promise with `signal.reason` when aborted. */
  signal?: AbortSignal | null;
}

/**
 * A reader/writer/priority callback: called with the file object it was added with and
 * the mask of what happened (`EVENT_READ`, `EVENT_WRITE`, `EVENT_PRIORITY`,
 * `EVENT_HANGUP`, `EVENT_ERROR`, see docs/design.md "Event detail").
 */
export type ReadyCallback<F extends FileLike = FileLike> = (fileobj: F, events: number) => void;

/** Options of `Reactor#addReader` / `addWriter` / `addPriority`. */
export interface ReactorCallbackOptions {
  /** Run the callback at most once, then remove it (as if `remove*()` ran before the call). */
  once?: boolean;
}

/** A wait or a callback for reading (its EVENT_* bit is `1 << READ`, EVENT_READ). */
export const READ = 0;
/** A wait or a callback for writing (`1 << WRITE` is EVENT_WRITE). */
export const WRITE = 1;
/** A wait or a callback for priority data (`1 << PRIORITY` is EVENT_PRIORITY). */
export const PRIORITY = 2;
/** One of {@link READ}, {@link WRITE}, {@link PRIORITY}. */
export type Kind = 0 | 1 | 2;
const KIND_NAME = ['readable', 'writable', 'ready with priority data'] as const;

const ETIMEDOUT = errno.ETIMEDOUT;

/** One pending `readable()`/`writable()`/`priority()` promise. */
export class Waiter {
  readonly resolve: (events: number) => void;
  readonly reject: (err: unknown) => void;
  timer: NodeJS.Timeout | null = null;
  signal: AbortSignal | null = null;
  onAbort: (() => void) | null = null;

  constructor(resolve: (events: number) => void, reject: (err: unknown) => void) {
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

/**
 * The EVENT_* mask of kernel poll/epoll bits (the two share their values): what
 * happened, not what was asked: EPOLLIN → READ, EPOLLOUT → WRITE, EPOLLPRI → PRIORITY,
 * EPOLLRDHUP or EPOLLHUP → HANGUP, EPOLLERR → ERROR.
 */
export function eventMask(kernel: number): number {
  return ((kernel & EPOLLIN) !== 0 ? EVENT_READ : 0)
    | ((kernel & EPOLLOUT) !== 0 ? EVENT_WRITE : 0)
    | ((kernel & EPOLLPRI) !== 0 ? EVENT_PRIORITY : 0)
    | ((kernel & (EPOLLRDHUP | EPOLLHUP)) !== 0 ? EVENT_HANGUP : 0)
    | ((kernel & EPOLLERR) !== 0 ? EVENT_ERROR : 0);
}

/**
 * The kinds (as EVENT_READ/WRITE/PRIORITY bits) that kernel bits wake, out of `interest`:
 * IN or RDHUP wake readers, OUT writers, PRI priority; HUP and ERR wake every kind
 * registered (as libuv does), so nobody misses an error or a hang-up.
 */
export function wakes(kernel: number, interest: number): number {
  if ((kernel & (EPOLLHUP | EPOLLERR)) !== 0) return interest;
  return (((kernel & (EPOLLIN | EPOLLRDHUP)) !== 0 ? EVENT_READ : 0)
    | ((kernel & EPOLLOUT) !== 0 ? EVENT_WRITE : 0)
    | ((kernel & EPOLLPRI) !== 0 ? EVENT_PRIORITY : 0)) & interest;
}

/** The epoll bits registered for EVENT_READ/WRITE/PRIORITY bits (a read includes RDHUP). */
export function kernelInterest(kinds: number): number {
  return ((kinds & EVENT_READ) !== 0 ? EPOLLIN | EPOLLRDHUP : 0)
    | ((kinds & EVENT_WRITE) !== 0 ? EPOLLOUT : 0)
    | ((kinds & EVENT_PRIORITY) !== 0 ? EPOLLPRI : 0);
}

const POLL_OF_KIND = [POLLIN | POLLRDHUP, POLLOUT, POLLPRI] as const;

/**
 * What `fd` is ready for right now (a zero-timeout `poll()`), as an EVENT_* mask, 0 when
 * it would not wake a `kind` wait: asked when a wait's timer fires. Node's timers run
 * before its poll phase in each loop iteration and measure from a cached loop time, so a
 * timer can fire while the fd is already ready but not yet dispatched. A ready fd wins
 * over its timeout. Errors and hang-ups count as ready; a closed fd (POLLNVAL) or a
 * failed call does not.
 */
export function readyNow(fd: number, kind: Kind): number {
  const revents = pollOne(fd, POLL_OF_KIND[kind], 0);
  if (revents <= 0) return 0;
  return wakes(revents & (POLL_OF_KIND[kind] | POLLERR | POLLHUP), 1 << kind) !== 0 ? eventMask(revents) : 0;
}

/** The error a timed-out wait rejects with. */
export function timeoutError(kind: Kind, fd: number, ms: number): Error {
  return new TimeoutError(ETIMEDOUT, `fd ${fd} was not ${KIND_NAME[kind]} within ${ms} ms`);
}

/** Everything the Reactor knows about one fd. */
export class FdState {
  readonly fd: number;
  /** The file object of the last registration (a bare number is re-checked on reuse). */
  fileobj: FileLike;
  /** The reader, writer and priority callbacks, by {@link Kind}. */
  readonly callbacks: Array<ReadyCallback | null> = [null, null, null];
  /** The file object each callback was added with (-1: none). */
  readonly objs: FileLike[] = [-1, -1, -1];
  /** Whether each callback is a one-shot (`once`). */
  readonly once: boolean[] = [false, false, false];
  /** The waiters of each kind. */
  readonly lists: Waiter[][] = [[], [], []];
  /** EVENT_READ/WRITE/PRIORITY bits registered with the selector (0: not registered). */
  interest = 0;
  /** Which registration with the kernel this is (a fresh one after a drop gets a new number). */
  reg = 0;
  /** Whether anyone wants the fd (counted in the Reactor's active total). */
  active = false;
  /** Set when the state is forgotten; a dispatch still holding it skips it. */
  dead = false;

  constructor(fd: number, fileobj: FileLike) {
    this.fd = fd;
    this.fileobj = fileobj;
  }

  /** The callback of a kind. */
  callback(kind: Kind): ReadyCallback | null {
    return this.callbacks[kind]!;
  }

  /** Sets (or, with `null` and -1, clears) a callback, its object and whether it is a one-shot. */
  setCallback(kind: Kind, cb: ReadyCallback | null, obj: FileLike, once = false): void {
    this.callbacks[kind] = cb;
    this.objs[kind] = obj;
    this.once[kind] = once;
  }

  /** The waiters of a kind. */
  waiters(kind: Kind): Waiter[] {
    return this.lists[kind]!;
  }

  /** The EVENT_READ/WRITE/PRIORITY bits somebody wants now. */
  wanted(): number {
    const c = this.callbacks;
    const l = this.lists;
    return (c[0] !== null || l[0]!.length !== 0 ? EVENT_READ : 0)
      | (c[1] !== null || l[1]!.length !== 0 ? EVENT_WRITE : 0)
      | (c[2] !== null || l[2]!.length !== 0 ? EVENT_PRIORITY : 0);
  }

  /**
   * Calls the callback of `kind` with its object and `events`, then resolves every waiter
   * of that kind with `events`. A one-shot callback is removed before it runs (so it may
   * add itself or another again). A callback's exception goes to `onError`; the waiters
   * still resolve.
   */
  fire(kind: Kind, events: number, onError: (err: unknown) => void): void {
    const cb = this.callbacks[kind]!;
    if (cb !== null) {
      const obj = this.objs[kind]!;
      if (this.once[kind]) this.setCallback(kind, null, -1);
      try {
        cb(obj, events);
      } catch (err) {
        onError(err);
      }
    }
    const list = this.lists[kind]!;
    const n = list.length;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      const w = list[i]!;
      if (w.timer !== null || w.onAbort !== null) w.cleanup();
      w.resolve(events);
    }
    // Waiters added by the resolutions above cannot exist yet (they run as microtasks);
    // the callback may have added some before, and they are served by this event too.
    list.length = 0;
  }

  /**
   * Forgets everything the fd was wanted for: the callbacks go and every waiter rejects
   * with `makeError()` (called only if there is a waiter).
   */
  drop(makeError: () => unknown): void {
    for (let k = 0; k < 3; k++) this.setCallback(k as Kind, null, -1);
    const l = this.lists;
    if (l[0]!.length === 0 && l[1]!.length === 0 && l[2]!.length === 0) return;
    const err = makeError();
    for (const list of l) {
      for (const w of list.splice(0)) {
        w.cleanup();
        w.reject(err);
      }
    }
  }
}
