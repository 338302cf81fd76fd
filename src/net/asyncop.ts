/**
 * The machinery the Reactor's socket operations share: the options and readiness
 * interfaces, the per-operation deadline and signal ({@link Op}), and the fairness
 * budget (see async.ts).
 */
import { errno } from '../sys/errno.js';
import { OSError, TimeoutError } from '../errors.js';
import { toOptions, toSignal, toTimeoutMs, type FileLike } from '../validate.js';
import type { Socket } from './socket.js';
import { NEG_EAGAIN } from './transfer.js';

/** Options of every socket operation: `timeout` in milliseconds, `signal` to abort. */
export interface SockOpOptions {
  /** Milliseconds for the whole operation; `null`/`undefined`/`Infinity`: no limit. */
  timeout?: number | null;
  /** Aborts the operation with the signal's reason. */
  signal?: AbortSignal | null;
}

/** Options the socket operations pass to {@link Readiness} waits. */
export interface ReadinessOptions {
  /** Milliseconds before the wait rejects with a `TimeoutError`. */
  timeout?: number;
  /** Rejects the wait with the signal's reason when aborted. */
  signal?: AbortSignal;
}

/**
 * What the socket operations need from an event loop: a promise that settles once a
 * file object is readable, or writable. The event loop's `Reactor` has exactly these
 * methods; any object with them can drive the operations.
 */
export interface Readiness {
  /** Resolves once `fileobj` is readable; rejects on timeout, abort or close. */
  readable(fileobj: FileLike, options?: ReadinessOptions): Promise<unknown>;
  /** Resolves once `fileobj` is writable; rejects on timeout, abort or close. */
  writable(fileobj: FileLike, options?: ReadinessOptions): Promise<unknown>;
}

const ETIMEDOUT = errno.ETIMEDOUT;

/** Operations completed without waiting after which the next one yields a loop turn. */
export const YIELD_OPS = 128;
/** Bytes moved without waiting after which the next operation yields a loop turn. */
export const YIELD_BYTES = 1024 * 1024;

/**
 * The work done by operations that completed without waiting since the event loop last
 * ran, as far as this module can tell: the count starts again whenever an operation
 * comes back from a readiness wait or a yield (either means a loop turn went by). It
 * costs nothing per turn; work spread over turns by other means (timers) is counted as
 * one streak, which at worst yields once more than needed.
 */
let streakOps = 0;
let streakBytes = 0;

/** After a readiness wait or a yield: the event loop has run. */
export function loopRan(): void {
  streakOps = 0;
  streakBytes = 0;
}

/**
 * Counts an operation step that completed without waiting; true when the work done since
 * the event loop last ran is over budget, and the caller must yield before going on.
 */
export function overBudget(bytes: number): boolean {
  streakBytes += bytes;
  return ++streakOps >= YIELD_OPS || streakBytes >= YIELD_BYTES;
}

/** One turn of Node's event loop (timers and I/O callbacks run first); the count restarts. */
export async function yieldTurn(): Promise<void> {
  await new Promise<void>((resolve) => { setImmediate(resolve); });
  loopRan();
}

/** Tracks one operation's deadline and signal across its waits. */
export class Op {
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;
  readonly #what: string;
  readonly #timeout: number;

  /**
   * @param what     the operation's name, for messages.
   * @param options  `{ timeout, signal }`, checked: anything but an object (a bare number
   *   of milliseconds included) is a TypeError naming the options.
   */
  constructor(what: string, options: unknown) {
    this.#what = what;
    const opts = toOptions<SockOpOptions>(options, `${what} options`, '{ timeout, signal }');
    this.#timeout = toTimeoutMs(opts.timeout, `${what} timeout`);
    this.#deadline = this.#timeout < 0 ? -1 : performance.now() + this.#timeout;
    const s = toSignal(opts.signal, `${what} signal`) ?? undefined;
    this.#signal = s;
    s?.throwIfAborted();
  }

  #options(): ReadinessOptions | undefined {
    if (this.#deadline < 0 && !this.#signal) return undefined; // nothing to allocate
    const o: ReadinessOptions = {};
    if (this.#signal) o.signal = this.#signal;
    if (this.#deadline >= 0) {
      const left = this.#deadline - performance.now();
      if (left <= 0) throw this.timedOut();
      o.timeout = Math.ceil(left); // whole ms: never shorter, and a readable message
    }
    return o;
  }

  /** The TimeoutError this operation rejects with. */
  timedOut(): OSError {
    return new TimeoutError(ETIMEDOUT, `${this.#what} timed out after ${this.#timeout} ms`);
  }

  /** Waits until `sock` is readable (the caller then calls {@link loopRan}). */
  readable(r: Readiness, sock: Socket): Promise<unknown> {
    return r.readable(sock, this.#options());
  }

  /** Waits until `sock` is writable (the caller then calls {@link loopRan}). */
  writable(r: Readiness, sock: Socket): Promise<unknown> {
    return r.writable(sock, this.#options());
  }

  /**
   * The step after a non-blocking try that did not complete: `negErrno` other than
   * EAGAIN rejects with the socket's OSError (`syscall` names the call); EAGAIN waits
   * until `sock` is readable (or, with `write`, writable), then counts a loop turn. The
   * caller then tries again.
   */
  async again(r: Readiness, sock: Socket, negErrno: number, syscall: string, write = false): Promise<void> {
    if (negErrno !== NEG_EAGAIN) throw fail(negErrno, syscall, sock);
    await (write ? r.writable(sock, this.#options()) : r.readable(sock, this.#options()));
    loopRan();
  }

  /**
   * Yields one loop turn in the middle of an operation, then checks that the deadline and
   * the signal still allow going on. (An operation that has its result yields with the
   * plain {@link yieldTurn} and returns it: the bytes or the connection are taken.)
   */
  async yieldAndCheck(): Promise<void> {
    await yieldTurn();
    this.#signal?.throwIfAborted();
    if (this.#deadline >= 0 && this.#deadline - performance.now() <= 0) throw this.timedOut();
  }

  /** Races `p` (which cannot itself be cancelled) against the deadline and the signal. */
  race<T>(p: Promise<T>): Promise<T> {
    const o = this.#options();
    if (o === undefined) return p;
    return new Promise<T>((resolve, reject) => {
      const sig = o.signal;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        sig?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        done();
        reject(sig!.reason);
      };
      const timer = o.timeout === undefined ? undefined : setTimeout(() => {
        done();
        reject(this.timedOut());
      }, Math.ceil(o.timeout));
      sig?.addEventListener('abort', onAbort, { once: true });
      p.then((v) => { done(); resolve(v); }, (e) => { done(); reject(e); });
    });
  }
}

export function fail(negErrno: number, syscall: string, sock: Socket): OSError {
  const fd = sock.fileno();
  return OSError.fromErrno(-negErrno, syscall, fd < 0 ? 'socket is closed' : `fd ${fd}`);
}

