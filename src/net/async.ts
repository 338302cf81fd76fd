/**
 * asyncio's `loop.sock_*` operations on non-blocking sockets, and the public `Reactor`
 * that offers them as methods.
 *
 * Each operation first tries the socket's non-throwing fast path
 * ({@link Socket.tryRecvInto}, {@link Socket.trySend}, {@link Socket.tryAccept}) and
 * waits for readiness only when that returns `NEG_EAGAIN`, so the hot path makes no
 * exception and no extra system call. The waiting goes through {@link Readiness}, the
 * two promise methods of the event loop's `Reactor`: this is the only module of the
 * socket layer that depends on the event loop, and the event loop knows nothing of
 * sockets.
 *
 * Fairness: an operation that completes without waiting (data was already there, the
 * send buffer had room) costs no turn of Node's event loop, so a loop of `await
 * sockRecv()` against a peer that keeps the socket full would never let timers or I/O
 * callbacks run. Every operation therefore counts the work done without waiting since
 * the event loop last ran (as far as it can tell: see {@link loopRan}); past {@link YIELD_OPS} operations or {@link YIELD_BYTES}
 * bytes it yields one turn (`setImmediate`) before resolving (with its result: data
 * received is never dropped for a timeout). `sockSendall` of a large buffer to a fast
 * reader yields the same way between its sends, and checks its timeout and signal then.
 */
import { AF_INET, AF_INET6, SOL_SOCKET, SO_ERROR } from '../sys/constants.js';
import { errno } from '../sys/errno.js';
import { OSError, TimeoutError, ClosedError } from '../errors.js';
import {
  describe, toBytesOrUtf8, toOptions, toSignal, toSize, toTimeoutMs, toWritableBytes, type FileLike,
} from '../validate.js';
import { Reactor as LoopReactor } from '../loop/reactor.js';
import { adoptSocket, type SendData, type Socket } from './socket.js';
import { isNumericHost, type AddressLike } from './address.js';
import type { SocketAddress } from './sockaddr.js';
import { resolveHostAsync } from './resolve.js';
import { NEG_EAGAIN, tryAcceptFd, acceptedAddress } from './transfer.js';

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
const EINPROGRESS = errno.EINPROGRESS;
/** Receive scratch: results are copied out exactly, so one buffer serves every call. */
const SCRATCH = Buffer.allocUnsafeSlow(64 * 1024);

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
function loopRan(): void {
  streakOps = 0;
  streakBytes = 0;
}

/**
 * Counts an operation step that completed without waiting; true when the work done since
 * the event loop last ran is over budget, and the caller must yield before going on.
 */
function overBudget(bytes: number): boolean {
  streakBytes += bytes;
  return ++streakOps >= YIELD_OPS || streakBytes >= YIELD_BYTES;
}

/** One turn of Node's event loop (timers and I/O callbacks run first); the count restarts. */
async function yieldTurn(): Promise<void> {
  await new Promise<void>((resolve) => { setImmediate(resolve); });
  loopRan();
}

/** Tracks one operation's deadline and signal across its waits. */
class Op {
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

function fail(negErrno: number, syscall: string, sock: Socket): OSError {
  const fd = sock.fileno();
  return OSError.fromErrno(-negErrno, syscall, fd < 0 ? 'socket is closed' : `fd ${fd}`);
}

/** The first `r` bytes received into `big` (or the shared scratch) as a Buffer of their own. */
function received(big: Buffer | null, r: number, n: number): Buffer {
  if (big) return r * 2 >= n ? big.subarray(0, r) : Buffer.from(big.subarray(0, r));
  const out = Buffer.allocUnsafe(r);
  SCRATCH.copy(out, 0, 0, r);
  return out;
}

/**
 * Receives up to `n` bytes from a non-blocking socket: asyncio's `sock_recv`.
 * @returns the bytes received; an empty Buffer at EOF.
 * @throws (rejects) TypeError/RangeError for a bad size or options; the socket's OSError.
 */
export async function sockRecv(reactor: Readiness, sock: Socket, n: number, options?: SockOpOptions): Promise<Buffer> {
  toSize(n, 'sockRecv n');
  const op = new Op('sockRecv', options);
  if (n === 0) return Buffer.alloc(0); // as asyncio's sock_recv(sock, 0): sock.recv(0) at once
  const big = n > SCRATCH.length ? Buffer.allocUnsafe(n) : null;
  for (;;) {
    const r = sock.tryRecvInto(big ?? SCRATCH, 0, n);
    if (r >= 0) {
      const out = received(big, r, n);
      if (overBudget(r)) await yieldTurn();
      return out;
    }
    if (r !== NEG_EAGAIN) throw fail(r, 'recv', sock);
    await op.readable(reactor, sock);
    loopRan();
  }
}

/**
 * Receives into `buf` (no copy) from a non-blocking socket: asyncio's `sock_recv_into`.
 * `buf` is any `ArrayBufferView` (or an `ArrayBuffer`), filled by bytes.
 * @returns the count received in bytes, 0 at EOF.
 * @throws (rejects) TypeError naming `buf` for anything else (a string has no memory to fill).
 */
export async function sockRecvInto(reactor: Readiness, sock: Socket, buf: ArrayBufferView | ArrayBuffer,
  options?: SockOpOptions): Promise<number> {
  const b = toWritableBytes(buf, 'sockRecvInto buf');
  const op = new Op('sockRecvInto', options);
  if (b.length === 0) return 0; // nothing to receive into: at once, as sock.recv_into would
  for (;;) {
    const r = sock.tryRecvInto(b, 0, b.length);
    if (r >= 0) {
      if (overBudget(r)) await yieldTurn();
      return r;
    }
    if (r !== NEG_EAGAIN) throw fail(r, 'recv', sock);
    await op.readable(reactor, sock);
    loopRan();
  }
}

/**
 * Sends all of `data` on a non-blocking socket: asyncio's `sock_sendall`. `data` is any
 * `ArrayBufferView` (sent by bytes: a `Uint16Array(3)` is 6 bytes), an `ArrayBuffer`, or
 * a string (UTF-8). On a timeout or abort part of the data may have been sent.
 */
export async function sockSendall(reactor: Readiness, sock: Socket, data: SendData,
  options?: SockOpOptions): Promise<void> {
  const b = toBytesOrUtf8(data, 'sockSendall data');
  const op = new Op('sockSendall', options);
  let off = 0;
  do {
    const r = sock.trySend(b, off, b.length - off);
    if (r >= 0) {
      off += r;
      // Counted whether or not more is left; the yield only when more is left.
      if (overBudget(r) && off < b.length) await op.yieldAndCheck();
    } else if (r === NEG_EAGAIN) {
      await op.writable(reactor, sock);
      loopRan();
    } else {
      throw fail(r, 'send', sock);
    }
  } while (off < b.length);
}

/**
 * Accepts a connection on a listening socket: asyncio's `sock_accept`.
 * @returns `[socket, address]`; the new socket is non-blocking and close-on-exec.
 */
export async function sockAccept(reactor: Readiness, sock: Socket, options?: SockOpOptions): Promise<[Socket, SocketAddress]> {
  const op = new Op('sockAccept', options);
  for (;;) {
    const r = tryAcceptFd(sock.fileno());
    if (r >= 0) {
      const addr = acceptedAddress();
      const conn = adoptSocket(r, sock.family, sock.type, sock.proto, true);
      if (overBudget(0)) await yieldTurn();
      return [conn, addr];
    }
    if (r !== NEG_EAGAIN) throw fail(r, 'accept', sock);
    await op.readable(reactor, sock);
    loopRan();
  }
}

/**
 * Connects a non-blocking socket to `addr`: asyncio's `sock_connect`. Host names are
 * resolved on libuv's thread pool first, so the event loop never waits for the resolver.
 * @throws (rejects) ConnectionRefusedError and the other connect errors.
 */
export async function sockConnect(reactor: Readiness, sock: Socket, addr: AddressLike, options?: SockOpOptions): Promise<void> {
  const op = new Op('sockConnect', options);
  if (sock.getblocking()) {
    throw new TypeError(`sockConnect: the socket must be non-blocking (call setblocking(false)), ${sock}`);
  }
  let target: AddressLike = addr;
  const fam = sock.family;
  if ((fam === AF_INET || fam === AF_INET6) && Array.isArray(addr) && typeof addr[0] === 'string'
    && !addr[0].includes('\0') && !isNumericHost(fam, addr[0])) {
    const host = await op.race(resolveHostAsync(fam, addr[0]));
    const copy = addr.slice() as unknown[];
    copy[0] = host;
    target = copy as unknown as AddressLike;
  }
  // Non-blocking, connectEx never waits: 0, EINPROGRESS (also after a signal: the kernel goes on)
  // or the errno.
  const r = sock.connectEx(target);
  if (r === 0) return;
  if (r !== EINPROGRESS) throw connectError(r, addr, sock);
  await op.writable(reactor, sock);
  loopRan();
  const err = sock.getsockopt(SOL_SOCKET, SO_ERROR);
  if (err !== 0) throw connectError(err, addr, sock);
}

function connectError(errnum: number, addr: unknown, sock: Socket): OSError {
  const fd = sock.fileno();
  return OSError.fromErrno(errnum, 'connect', `${describe(addr)} (${fd < 0 ? 'socket is closed' : `fd ${fd}`})`);
}

function closedError(): ClosedError {
  return new ClosedError('reactor is closed');
}

/**
 * The event loop's `Reactor` (readiness callbacks and promises inside Node's event
 * loop) with asyncio's socket operations as methods. A closed reactor rejects each of
 * them with `ClosedError` before touching the socket; a socket closed while an operation
 * waits on it rejects that operation with EBADF.
 */
export class Reactor extends LoopReactor implements Readiness {
  /**
   * Receives up to `n` bytes from a non-blocking socket (an empty Buffer at EOF).
   * @param options `timeout` (ms) for the whole operation, `signal` to abort it.
   */
  sockRecv(sock: Socket, n: number, options?: SockOpOptions): Promise<Buffer> {
    if (this.closed) return Promise.reject(closedError());
    return sockRecv(this, sock, n, options);
  }

  /** Receives into `buf` (any byte view, filled by bytes); resolves with the count (0 at EOF). */
  sockRecvInto(sock: Socket, buf: ArrayBufferView | ArrayBuffer, options?: SockOpOptions): Promise<number> {
    if (this.closed) return Promise.reject(closedError());
    return sockRecvInto(this, sock, buf, options);
  }

  /** Sends all of `data` (any byte view by its bytes, or a string as UTF-8). */
  sockSendall(sock: Socket, data: SendData, options?: SockOpOptions): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return sockSendall(this, sock, data, options);
  }

  /** Accepts a connection: `[socket, address]`; the new socket is non-blocking. */
  sockAccept(sock: Socket, options?: SockOpOptions): Promise<[Socket, SocketAddress]> {
    if (this.closed) return Promise.reject(closedError());
    return sockAccept(this, sock, options);
  }

  /** Connects a non-blocking socket (host names resolve off the event loop). */
  sockConnect(sock: Socket, addr: AddressLike, options?: SockOpOptions): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return sockConnect(this, sock, addr, options);
  }
}
