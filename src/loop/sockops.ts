/**
 * The Reactor's socket helpers, asyncio's `loop.sock_*`: each tries the operation first
 * with the non-throwing primitives of `net/nonblock.ts` and waits for readiness only on
 * EAGAIN, so the hot path makes no exception and no extra syscall. `timeout` (ms) covers
 * the whole operation and rejects with iomux's `TimeoutError`; `signal` aborts with its
 * reason. The Reactor's `sock*` methods delegate here.
 */
import { OSError, TimeoutError, errno as E } from '../errors.js';
import { AF_INET, AF_INET6 } from '../sys/constants.js';
import type { FileLike } from '../select/args.js';
import type { Socket } from '../net/socket.js';
import { show, isNumericHost, type AddressLike, type SocketAddress } from '../net/address.js';
import { resolveHostAsync } from '../net/resolve.js';
import { toBytes, toWritable } from '../net/scratch.js';
import {
  tryRecvInto, trySend, tryAccept, startConnect, socketError, NEG_EAGAIN, NEG_EINPROGRESS,
} from '../net/nonblock.js';

/** Options of every socket helper: `timeout` in milliseconds, `signal` to abort. */
export interface SockOpOptions {
  /** Milliseconds for the whole operation; `null`/`undefined`: no limit. */
  timeout?: number | null;
  /** Aborts the operation with the signal's reason. */
  signal?: AbortSignal | null;
}

/** What the helpers need from a reactor: readiness promises (helper A's `Reactor`). */
export interface Readiness {
  readable(fileobj: FileLike, opts?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
  writable(fileobj: FileLike, opts?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
}

const ETIMEDOUT = E.ETIMEDOUT!;
/** Longest timer Node accepts (ms). */
const TIMER_MAX = 0x7fffffff;
/** Receive scratch: results are copied out exactly, so one buffer serves every call. */
const SCRATCH = Buffer.allocUnsafeSlow(64 * 1024);

/** Tracks one operation's deadline and signal across its waits. */
class Op {
  readonly #deadline: number;
  readonly #signal: AbortSignal | undefined;
  readonly #what: string;
  readonly #timeout: number;

  constructor(what: string, opts: SockOpOptions | undefined) {
    this.#what = what;
    const t = opts?.timeout;
    if (t === null || t === undefined || t === Infinity) {
      this.#timeout = -1;
    } else {
      if (typeof t !== 'number') throw new TypeError(`${what}: timeout must be a number of milliseconds or null, got ${show(t)}`);
      if (!(t >= 0 && t <= TIMER_MAX)) {
        throw new RangeError(`${what}: timeout must be from 0 to ${TIMER_MAX} milliseconds (or null for none), got ${t}`);
      }
      this.#timeout = t;
    }
    this.#deadline = this.#timeout < 0 ? -1 : performance.now() + this.#timeout;
    const s = opts?.signal ?? undefined;
    if (s !== undefined && (typeof s !== 'object' || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function')) {
      throw new TypeError(`${what}: signal must be an AbortSignal, got ${show(s)}`);
    }
    this.#signal = s;
    s?.throwIfAborted();
  }

  #options(): { timeout?: number; signal?: AbortSignal } | undefined {
    if (this.#deadline < 0 && !this.#signal) return undefined; // nothing to allocate
    const o: { timeout?: number; signal?: AbortSignal } = {};
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

  readable(r: Readiness, sock: Socket): Promise<void> {
    return r.readable(sock, this.#options());
  }

  writable(r: Readiness, sock: Socket): Promise<void> {
    return r.writable(sock, this.#options());
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

/**
 * Receives up to `n` bytes from a non-blocking socket: asyncio's `sock_recv`.
 * @returns the bytes received; an empty Buffer at EOF.
 */
export async function sockRecv(reactor: Readiness, sock: Socket, n: number, opts?: SockOpOptions): Promise<Buffer> {
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`sockRecv: size must be an integer, got ${show(n)}`);
  if (n < 0) throw new RangeError(`sockRecv: negative buffer size ${n}`);
  const op = new Op('sockRecv', opts);
  if (n === 0) return Buffer.alloc(0); // as asyncio's sock_recv(sock, 0): sock.recv(0) at once
  const big = n > SCRATCH.length ? Buffer.allocUnsafe(n) : null;
  for (;;) {
    const r = tryRecvInto(sock, big ?? SCRATCH, 0, n);
    if (r >= 0) {
      if (big) return r * 2 >= n ? big.subarray(0, r) : Buffer.from(big.subarray(0, r));
      const out = Buffer.allocUnsafe(r);
      SCRATCH.copy(out, 0, 0, r);
      return out;
    }
    if (r !== NEG_EAGAIN) throw fail(r, 'recv', sock);
    await op.readable(reactor, sock);
  }
}

/**
 * Receives into `buf` (no copy) from a non-blocking socket: asyncio's `sock_recv_into`.
 * @returns the count received, 0 at EOF.
 */
export async function sockRecvInto(reactor: Readiness, sock: Socket, buf: ArrayBufferView, opts?: SockOpOptions): Promise<number> {
  const b = toWritable(buf);
  const op = new Op('sockRecvInto', opts);
  if (b.length === 0) return 0; // nothing to receive into: at once, as sock.recv_into would
  for (;;) {
    const r = tryRecvInto(sock, b, 0, b.length);
    if (r >= 0) return r;
    if (r !== NEG_EAGAIN) throw fail(r, 'recv', sock);
    await op.readable(reactor, sock);
  }
}

/**
 * Sends all of `data` (a string is UTF-8) on a non-blocking socket: asyncio's
 * `sock_sendall`. On a timeout or abort part of the data may have been sent.
 */
export async function sockSendall(reactor: Readiness, sock: Socket, data: Uint8Array | string, opts?: SockOpOptions): Promise<void> {
  const b = toBytes(data);
  const op = new Op('sockSendall', opts);
  let off = 0;
  do {
    const r = trySend(sock, b, off, b.length - off);
    if (r >= 0) off += r;
    else if (r === NEG_EAGAIN) await op.writable(reactor, sock);
    else throw fail(r, 'send', sock);
  } while (off < b.length);
}

/**
 * Accepts a connection on a listening socket: asyncio's `sock_accept`.
 * @returns `[socket, address]`; the new socket is non-blocking and close-on-exec.
 */
export async function sockAccept(reactor: Readiness, sock: Socket, opts?: SockOpOptions): Promise<[Socket, SocketAddress]> {
  const op = new Op('sockAccept', opts);
  for (;;) {
    const r = tryAccept(sock);
    if (typeof r !== 'number') return r;
    if (r !== NEG_EAGAIN) throw fail(r, 'accept', sock);
    await op.readable(reactor, sock);
  }
}

/**
 * Connects a non-blocking socket to `addr`: asyncio's `sock_connect`. Host names are
 * resolved on libuv's thread pool first, so the event loop never waits for the resolver.
 * @throws ConnectionRefusedError and the other connect errors (as rejections).
 */
export async function sockConnect(reactor: Readiness, sock: Socket, addr: AddressLike, opts?: SockOpOptions): Promise<void> {
  const op = new Op('sockConnect', opts);
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
  const r = startConnect(sock, target);
  if (r === 0) return;
  if (r !== NEG_EINPROGRESS) throw connectError(-r, addr, sock);
  await op.writable(reactor, sock);
  const err = socketError(sock);
  if (err < 0) throw fail(err, 'getsockopt', sock);
  if (err !== 0) throw connectError(err, addr, sock);
}

function connectError(errnum: number, addr: unknown, sock: Socket): OSError {
  const fd = sock.fileno();
  return OSError.fromErrno(errnum, 'connect', `${show(addr)} (${fd < 0 ? 'socket is closed' : `fd ${fd}`})`);
}
