/** The Proactor's public callback, option and counter types, and its option checks. */
import { OSError } from '../sys/oserror.js';
import { toOptions, describe } from '../validate.js';


/**
 * Called for each connection a multishot accept takes: `fd` is the new socket (>= 0,
 * close-on-exec, blocking mode: io_uring does not need O_NONBLOCK), or a negated errno.
 * A negative result ends the operation (`-ECANCELED` after {@link Proactor.cancel}).
 */
export type AcceptCallback = (fd: number, listenFd: number) => void;
/**
 * Called for each chunk a multishot recv delivers: `n > 0` bytes are in
 * `buf[0..n)` (a view of provided buffer `bufferId`, valid until the callback returns);
 * `n === 0` is end of stream and `n < 0` a negated errno, both ending the operation.
 * Return `true` to keep the buffer past the callback (then hand it to
 * {@link Proactor.sendBuffer} or {@link Proactor.releaseBuffer}).
 */
export type RecvCallback = (n: number, buf: Uint8Array, bufferId: number, fd: number) => boolean | void;
/** Called once when a send, close, cancel or timeout completes: bytes sent, 0, or a negated errno. */
export type DoneCallback = (result: number, fd: number) => void;

/** Options of a {@link Proactor}. */
export interface ProactorOptions {
  /** Submission queue entries (power of two, 1..4096; default 256). More SQEs than this are submitted in batches. */
  entries?: number;
  /** Completion queue entries (default twice `entries`); completions beyond it wait in the kernel (never dropped). */
  completionEntries?: number;
  /** Provided receive buffers (power of two, 1..32768; default 512). */
  buffers?: number;
  /** Size of each receive buffer in bytes (default 16384). */
  bufferSize?: number;
  /**
   * `'loop'` (default): completions are handled inside Node's event loop (libuv watches
   * the ring fd); `'blocking'`: nothing happens until {@link Proactor.run} is called.
   */
  mode?: 'loop' | 'blocking';
}

/** Per-operation timeout option (a linked timeout SQE). */
export interface OpOptions {
  /** Fail the operation with ETIMEDOUT after this many milliseconds. */
  timeoutMs?: number;
}

/**
 * Options of {@link Proactor.sendmsg}: Python's `sendmsg(buffers, ancdata, flags, address)`
 * arguments after the buffers, and the per-operation timeout.
 */
export interface SendmsgOptions extends OpOptions {
  /**
   * Control messages sent with the data, as `[level, type, data]` items (Python's
   * `ancdata`), e.g. `[[SOL_SOCKET, SCM_RIGHTS, fdsAsInt32]]` to pass fds. They go with
   * the first part of the message only. Fds passed must stay open until the callback runs.
   */
  ancdata?: Iterable<readonly [level: number, type: number, data: ArrayBufferView | ArrayBuffer]> | null;
  /** `MSG_*` flags (MSG_NOSIGNAL is always added). */
  flags?: number;
  /**
   * Destination of a datagram on an unconnected socket: the bytes of a `struct sockaddr`
   * (`sockaddr_in`, `sockaddr_in6`, `sockaddr_un`...) as the kernel takes it, 1 to 128
   * bytes, copied at the call. `encodeSockaddr(family, address)` makes them from a
   * Python-style `[host, port]` pair or path.
   */
  address?: Uint8Array | null;
}

/** Counters, for tests and benchmarks. */
export interface ProactorStats {
  /** `io_uring_enter` calls made. */
  enters: number;
  /** SQEs handed to the kernel. */
  submitted: number;
  /** CQEs reaped. */
  completed: number;
  /** Times the kernel reported completions waiting beyond a full CQ ring (flushed by an enter). */
  overflows: number;
  /** Times the SQ ring was full and queued SQEs were submitted early to make room. */
  sqFull: number;
  /** Operations in flight. */
  inFlight: number;
}

/** A number of milliseconds >= 0, finite; `what` names it in errors. */
export function toMs(v: unknown, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${what} must be a number of milliseconds, got ${describe(v)}`);
  if (v < 0) throw new RangeError(`${what} must be >= 0, got ${v}`);
  if (!Number.isFinite(v)) throw new RangeError(`${what} must be finite, got ${v}`);
  return v;
}

/** `options.timeoutMs`, or -1 when there is none. */
export function timeoutOf(options: OpOptions | undefined): number {
  if (options === undefined) return -1;
  const o = toOptions<OpOptions>(options, 'options');
  return o.timeoutMs === undefined ? -1 : toMs(o.timeoutMs, 'options.timeoutMs');
}

/** The OSError of a negated errno result `res` of operation `what`. */
export function opError(res: number, what: string): OSError {
  return OSError.fromErrno(-res, what);
}

/** Resolves a promise with a result >= 0, rejects it with the OSError of a negated errno. */
export function settle(res: number, resolve: (v: number) => void, reject: (e: unknown) => void, what: string): void {
  if (res < 0) reject(opError(res, what));
  else resolve(res);
}
