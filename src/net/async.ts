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
import { OSError, ClosedError } from '../errors.js';
import { describe, toBytesOrUtf8, toSize, toWritableBytes } from '../validate.js';
import { Op, fail, loopRan, overBudget, yieldTurn, type Readiness, type SockOpOptions } from './asyncop.js';
import * as D from './asyncdgram.js';
import type { FileArg } from './sendfile.js';
import { Reactor as LoopReactor } from '../loop/reactor.js';
import { adoptSocket, type SendData, type Socket } from './socket.js';
import { isNumericHost, type AddressLike } from './address.js';
import type { SocketAddress } from './sockaddr.js';
import { resolveHostAsync } from './resolve.js';
import { NEG_EAGAIN, tryAcceptFd, acceptedAddress } from './transfer.js';

export { YIELD_OPS, YIELD_BYTES, type SockOpOptions, type ReadinessOptions, type Readiness } from './asyncop.js';

const EINPROGRESS = errno.EINPROGRESS;
/** Receive scratch: results are copied out exactly, so one buffer serves every call. */
const SCRATCH = Buffer.allocUnsafeSlow(64 * 1024);

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
    await op.again(reactor, sock, r, 'recv');
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
    await op.again(reactor, sock, r, 'recv');
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
export async function sockAccept<A extends SocketAddress>(reactor: Readiness, sock: Socket<A>, options?: SockOpOptions): Promise<[Socket<A>, A]> {
  const op = new Op('sockAccept', options);
  for (;;) {
    const r = tryAcceptFd(sock.fileno());
    if (r >= 0) {
      const addr = acceptedAddress();
      const conn = adoptSocket(r, sock.family, sock.type, sock.proto, true);
      if (overBudget(0)) await yieldTurn();
      return [conn as Socket<A>, addr as A];
    }
    await op.again(reactor, sock, r, 'accept');
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
  sockAccept<A extends SocketAddress>(sock: Socket<A>, options?: SockOpOptions): Promise<[Socket<A>, A]> {
    if (this.closed) return Promise.reject(closedError());
    return sockAccept(this, sock, options);
  }

  /** Receives a datagram of up to `n` bytes: `[data, address]` (asyncio's `sock_recvfrom`). */
  sockRecvfrom(sock: Socket, n: number, options?: SockOpOptions): Promise<[Buffer, SocketAddress | null]> {
    if (this.closed) return Promise.reject(closedError());
    return D.sockRecvfrom(this, sock, n, options);
  }

  /** Receives into `buf` (up to `nbytes`, 0: all of it): `[count, address]` (asyncio's `sock_recvfrom_into`). */
  sockRecvfromInto(sock: Socket, buf: ArrayBufferView | ArrayBuffer, nbytes = 0,
    options?: SockOpOptions): Promise<[number, SocketAddress | null]> {
    if (this.closed) return Promise.reject(closedError());
    return D.sockRecvfromInto(this, sock, buf, nbytes, options);
  }

  /** Sends one datagram to `address`; resolves with the bytes sent (asyncio's `sock_sendto`). */
  sockSendto(sock: Socket, data: SendData, address: AddressLike, options?: SockOpOptions): Promise<number> {
    if (this.closed) return Promise.reject(closedError());
    return D.sockSendto(this, sock, data, address, options);
  }

  /**
   * Sends `count` bytes (default: all) of `file` (an fd, a `fileno()` object or a
   * `FileHandle`) from `offset` with `sendfile(2)` (read-and-send for pipes); resolves with
   * the bytes sent (asyncio's `sock_sendfile`).
   */
  sockSendfile(sock: Socket, file: FileArg, offset = 0, count: number | null = null, options?: SockOpOptions): Promise<number> {
    if (this.closed) return Promise.reject(closedError());
    return D.sockSendfile(this, sock, file, offset, count, options);
  }

  /** Connects a non-blocking socket (host names resolve off the event loop). */
  sockConnect(sock: Socket, addr: AddressLike, options?: SockOpOptions): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    return sockConnect(this, sock, addr, options);
  }
}
