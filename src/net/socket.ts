/**
 * The `Socket` class: Python's `socket.socket` over a raw, close-on-exec fd, so it works
 * with every selector and the Reactor. Blocking methods block the thread (as Python's
 * do); in non-blocking mode an operation that would block throws `BlockingIOError`.
 * Calls a signal interrupts are retried (PEP 475). A closed socket has fd -1, so every operation on
 * it fails with `OSError` EBADF, as in Python. `settimeout(seconds)` gives Python's third
 * mode: a non-blocking fd whose operations wait up to that long, then throw TimeoutError.
 */
import * as libc from '../sys/libc.js';
import { check, closeFd, raise, retry, sysretStarted } from '../sys/call.js';
import { fdClosing } from '../sys/closing.js';
import {
  AF_INET, AF_UNIX, SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC, SO_DOMAIN, SO_TYPE, SO_PROTOCOL,
  SO_ERROR, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, O_NONBLOCK, SOMAXCONN, POLLIN, POLLOUT,
} from '../sys/constants.js';
import { errno } from '../sys/errno.js';
import { OSError, TimeoutError } from '../errors.js';
import { describe, secondsToMs, toCInt } from '../validate.js';
import { encodeAddress, type AddressLike } from './address.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';
import { ADDR, ADDRLEN, where } from './scratch.js';
import { messageMethods, type MessageMethods } from './socket-msg.js';
import { infoMethods, type InfoMethods } from './socket-info.js';
import { defaultTimeoutField } from './defaults.js';
import { readyNow, waitFd } from './wait.js';
import { sockoptInt } from './sockopt.js';
import * as T from './transfer.js';

const EAGAIN = errno.EAGAIN;
const ECONNRESET = errno.ECONNRESET;
const EINPROGRESS = errno.EINPROGRESS;
/** What `#connect` returns when a socket timeout expired. */
const TIMED_OUT = -1;
/** `type` may carry these creation flags; `Socket#type` never does (as Python 3.7+). */
const TYPE_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;
/**
 * The constructor's hidden last argument, passed only by {@link adoptSocket}: the fd is
 * one the kernel has just made with known attributes, blocking or non-blocking.
 */
const ADOPT_BLOCKING: unique symbol = Symbol('adopt a blocking fd');
const ADOPT_NONBLOCKING: unique symbol = Symbol('adopt a non-blocking fd');
type Adopt = typeof ADOPT_BLOCKING | typeof ADOPT_NONBLOCKING;
/** The constructor as {@link adoptSocket} calls it. */
type AdoptingConstructor = new (family: number, type: number, proto: number, fileno: number, adopt: Adopt) => Socket;

/**
 * Bytes to send: a `Buffer`/`Uint8Array`, any other `ArrayBufferView` or an `ArrayBuffer`
 * (sent by its bytes: a `Uint16Array(3)` is 6 bytes, as CPython takes any buffer), or a
 * string (sent as UTF-8).
 */
export type SendData = ArrayBufferView | ArrayBuffer | string;

/**
 * A socket, as Python's `socket.socket`: `new Socket(family, type, proto, fileno?)` or
 * {@link socket}. With `fileno` it wraps that existing socket fd (family, type and proto
 * are then read from the kernel when not given).
 * @typeParam A the addresses it returns (`getsockname`, `accept`...): {@link socket}
 *   sets it from the family (`socket(AF_INET)` returns `[host, port]` pairs), so the
 *   address parts need no cast; otherwise any {@link SocketAddress}.
 */
export class Socket<A extends SocketAddress = SocketAddress> {
  #fd: number;
  #family: number;
  #type: number;
  #proto: number;
  /** Python's `sock_timeout` in seconds: -1 blocking, 0 non-blocking, > 0 a timeout. */
  #timeout: number;

  /**
   * @param family  `AF_INET` (default), `AF_INET6` or `AF_UNIX`.
   * @param type    `SOCK_STREAM` (default), `SOCK_DGRAM` or `SOCK_SEQPACKET`, optionally
   *                or-ed with `SOCK_NONBLOCK` (the socket starts non-blocking).
   * @param proto   protocol number, usually 0.
   * @param fileno  an existing socket fd to wrap (the Socket then owns it).
   * @throws OSError from `socket(2)` (e.g. EAFNOSUPPORT), or ENOTSOCK when wrapping a non-socket.
   */
  constructor(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null);
  constructor(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null, adopt?: Adopt) {
    if (adopt === ADOPT_BLOCKING || adopt === ADOPT_NONBLOCKING) {
      // An fd the kernel just made with known attributes (accept, socketpair): no checks.
      this.#fd = fileno!;
      this.#family = family!;
      this.#type = type! & ~TYPE_FLAGS;
      this.#proto = proto!;
      this.#timeout = adopt === ADOPT_NONBLOCKING ? 0 : -1;
      return;
    }
    if (fileno !== undefined && fileno !== null) {
      const fd = toCInt(fileno, 'fileno');
      if (fd < 0) throw new RangeError(`negative file descriptor ${fd}`);
      // Always asked, as CPython validates the fd: not open is EBADF, not a socket ENOTSOCK.
      const kernelType = sockoptInt(fd, SO_TYPE, `fileno ${fd}`);
      const fam = family ?? sockoptInt(fd, SO_DOMAIN, `fileno ${fd}`);
      const typ = type ?? kernelType;
      const pro = proto ?? sockoptInt(fd, SO_PROTOCOL, `fileno ${fd}`);
      this.#fd = fd;
      this.#family = toCInt(fam, 'family');
      this.#type = toCInt(typ, 'type') & ~TYPE_FLAGS;
      this.#proto = toCInt(pro, 'proto');
      const fl = check(libc.fcntl(fd, F_GETFL, 'int', 0), 'fcntl', `fileno ${fd}`);
      this.#timeout = (fl & O_NONBLOCK) === 0 ? -1 : 0;
      if (defaultTimeoutField() >= 0) this.#setTimeout(defaultTimeoutField()); // as CPython's
      return;
    }
    const fam = toCInt(family ?? AF_INET, 'family');
    const typ = toCInt(type ?? SOCK_STREAM, 'type');
    const pro = toCInt(proto ?? 0, 'proto');
    this.#fd = check(libc.socket(fam, typ | SOCK_CLOEXEC, pro), 'socket', `family ${fam}, type ${typ}, proto ${pro}`);
    this.#family = fam;
    this.#type = typ & ~TYPE_FLAGS;
    this.#proto = pro;
    this.#timeout = (typ & SOCK_NONBLOCK) === 0 ? -1 : 0;
    // Python: a new socket takes the default timeout unless created SOCK_NONBLOCK.
    if (this.#timeout < 0 && defaultTimeoutField() >= 0) this.#setTimeout(defaultTimeoutField());
  }

  /** The address family, e.g. `AF_INET`. */
  get family(): number { return this.#family; }
  /** The socket type without creation flags, e.g. `SOCK_STREAM`. */
  get type(): number { return this.#type; }
  /** The protocol number. */
  get proto(): number { return this.#proto; }
  /** Whether `close()` (or `detach()`) was called. */
  get closed(): boolean { return this.#fd < 0; }

  /** The fd, or -1 once closed. */
  fileno(): number { return this.#fd; }

  #where(): string {
    return where(this.#fd);
  }

  /**
   * Closes the socket; idempotent. ECONNRESET from close is ignored, as in Python. Every
   * Reactor watching the fd is told first: its pending waits on the socket reject with
   * EBADF and its registrations for the fd go.
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    fdClosing(fd); // a Reactor waiting on the fd rejects those waits and forgets it
    const r = closeFd(fd);
    // ECONNRESET: the peer reset (Python ignores it).
    if (r < 0 && r !== -ECONNRESET) raise(r, 'close', `fd ${fd}`);
  }

  /** Gives up ownership: returns the fd and leaves this socket closed (fd -1). */
  detach(): number {
    const fd = this.#fd;
    this.#fd = -1;
    return fd;
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Sets blocking (`true`) or non-blocking (`false`) mode: `settimeout(null)` /
   * `settimeout(0)`. A number counts by its truth (as Python's int); anything else is a
   * TypeError.
   */
  setblocking(flag: boolean | number): void {
    if (typeof flag !== 'boolean' && typeof flag !== 'number') {
      throw new TypeError(`setblocking flag must be a boolean, got ${describe(flag)}`);
    }
    this.#setTimeout(flag ? -1 : 0);
  }

  /** `false` in non-blocking mode (timeout 0), else `true` (as Python's). */
  getblocking(): boolean {
    return this.#timeout !== 0;
  }

  /**
   * Python's `settimeout`: `null` blocks, `0` is non-blocking, a positive number of
   * **seconds** makes each operation wait at most that long, then throw `TimeoutError`.
   */
  settimeout(seconds: number | null): void {
    if (seconds === null || seconds === undefined) return this.#setTimeout(-1);
    secondsToMs(seconds, 'error', 'timeout'); // TypeError / RangeError (negative, NaN, too long)
    this.#setTimeout(seconds);
  }

  /** The timeout in seconds, `0` when non-blocking, `null` when blocking. */
  gettimeout(): number | null {
    return this.#timeout < 0 ? null : this.#timeout;
  }

  #setTimeout(t: number): void {
    const fd = this.#fd;
    const fl = check(libc.fcntl(fd, F_GETFL, 'int', 0), 'fcntl', this.#where());
    const next = t < 0 ? fl & ~O_NONBLOCK : fl | O_NONBLOCK;
    if (next !== fl) check(libc.fcntl(fd, F_SETFL, 'int', next), 'fcntl', this.#where());
    this.#timeout = t;
  }

  /** Binds to `addr` (see {@link AddressLike}). */
  bind(addr: AddressLike): void {
    const len = encodeAddress(this.#family, addr, ADDR);
    check(libc.bind(this.#fd, ADDR, len), 'bind', `${describe(addr)} (${this.#where()})`);
  }

  /** Starts listening; `backlog` defaults to min(SOMAXCONN, 128) as Python's; negative is 0. */
  listen(backlog?: number): void {
    const b = backlog === undefined ? Math.min(SOMAXCONN, 128) : Math.max(0, toCInt(backlog, 'backlog'));
    check(libc.listen(this.#fd, b), 'listen', this.#where());
  }

  /**
   * Accepts a connection: `[socket, address]`. The new socket is close-on-exec and
   * blocking (as Python's with no default timeout).
   * @throws BlockingIOError when non-blocking with no pending connection.
   */
  accept(): [Socket<A>, A] {
    let deadline = -1;
    for (;;) {
      ADDRLEN.writeUInt32LE(ADDR.length, 0);
      const r = retry(libc.accept4, this.#fd, ADDR, ADDRLEN, SOCK_CLOEXEC);
      if (r < 0) {
        deadline = T.again(this.#fd, this.#timeout, r, POLLIN, deadline, 'accept');
        continue;
      }
      const addr = decodeAddress(ADDR, ADDRLEN.readUInt32LE(0)) ?? '';
      const conn = adoptSocket(r, this.#family, this.#type, this.#proto, false) as Socket<A>;
      if (defaultTimeoutField() >= 0) conn.settimeout(defaultTimeoutField()); // as CPython's accept
      return [conn, addr as A];
    }
  }

  /**
   * Connects to `addr`. A non-blocking socket throws `BlockingIOError` (EINPROGRESS)
   * while the connection is under way: wait for writability, then read `SO_ERROR`.
   * @throws ConnectionRefusedError and the other connect errors.
   */
  connect(addr: AddressLike): void {
    const err = this.#connect(addr);
    if (err === TIMED_OUT) throw new TimeoutError(errno.ETIMEDOUT, `timed out (connect to ${describe(addr)})`);
    if (err !== 0) throw OSError.fromErrno(err, 'connect', `${describe(addr)} (${this.#where()})`);
  }

  /**
   * As `connect`, but returns the errno instead of throwing it (0 on success; EAGAIN
   * when a socket timeout expired, as Python's `connect_ex`). Address errors still throw.
   */
  connectEx(addr: AddressLike): number {
    const err = this.#connect(addr);
    return err === TIMED_OUT ? EAGAIN : err;
  }

  /** Connects; returns 0, a positive errno, or TIMED_OUT. */
  #connect(addr: AddressLike): number {
    const len = encodeAddress(this.#family, addr, ADDR);
    // A signal does not stop the connection (it comes back as EINPROGRESS). Non-blocking:
    // report it in progress; blocking or with a timeout: wait for the outcome (PEP 475).
    const r = sysretStarted(libc.connect(this.#fd, ADDR, len));
    if (r >= 0) return 0;
    if (r !== -EINPROGRESS || this.#timeout === 0) return -r;
    try {
      waitFd(this.#fd, POLLOUT, this.#timeout < 0 ? -1 : performance.now() + this.#timeout * 1000, 'connect');
    } catch (e) {
      if (e instanceof TimeoutError) return TIMED_OUT;
      throw e;
    }
    return sockoptInt(this.#fd, SO_ERROR, this.#where());
  }

  /**
   * Receives up to `bufsize` bytes: an empty Buffer at EOF.
   * @throws BlockingIOError when non-blocking with nothing to read.
   */
  recv(bufsize: number, flags = 0): Buffer {
    return T.recv(this.#fd, this.#timeout, bufsize, flags);
  }

  /**
   * Receives into `buf` (no copy): up to `nbytes` bytes (0 or omitted: the whole buffer).
   * `buf` is any `ArrayBufferView` or an `ArrayBuffer`, filled by bytes; a string is a
   * TypeError naming `buf` (it has no memory to fill).
   * @returns the count received in bytes, 0 at EOF.
   */
  recvInto(buf: ArrayBufferView | ArrayBuffer, nbytes = 0, flags = 0): number {
    return T.recvInto(this.#fd, this.#timeout, buf, nbytes, flags);
  }

  /**
   * Sends `data` (see {@link SendData}: byte views by their bytes, a string as UTF-8)
   * once: returns the count of bytes sent, which may be less than all of them. MSG_NOSIGNAL: a closed peer is BrokenPipeError, not SIGPIPE.
   */
  send(data: SendData, flags = 0): number {
    return T.send(this.#fd, this.#timeout, data, flags);
  }

  /**
   * Sends all of `data`. On a non-blocking socket it throws `BlockingIOError` when the
   * buffer fills, as Python's does (how much went out is then unknown to the caller).
   */
  sendall(data: SendData, flags = 0): void {
    T.sendall(this.#fd, this.#timeout, data, flags);
  }

  /**
   * Receives up to `bufsize` bytes and the sender's address: `''` for an unnamed AF_UNIX
   * peer, `null` when the kernel gives none (a stream socket of another family).
   */
  recvfrom(bufsize: number, flags = 0): [Buffer, A | null] {
    return T.recvfrom(this.#fd, this.#timeout, this.#family, bufsize, flags) as [Buffer, A | null];
  }

  /** Receives into `buf` (up to `nbytes`, 0: all of it): `[count, address]` as `recvfrom`. */
  recvfromInto(buf: ArrayBufferView | ArrayBuffer, nbytes = 0, flags = 0): [number, A | null] {
    return T.recvfromInto(this.#fd, this.#timeout, this.#family, buf, nbytes, flags) as [number, A | null];
  }

  /** Sends `data` to `addr` (`sendto(data, addr)` or `sendto(data, flags, addr)`); returns the count. */
  sendto(data: SendData, addr: AddressLike): number;
  sendto(data: SendData, flags: number, addr: AddressLike): number;
  sendto(data: SendData, a: unknown, b?: unknown): number {
    const three = arguments.length >= 3;
    return T.sendto(this.#fd, this.#timeout, this.#family, data, three ? a : 0, three ? b : a);
  }

  /** A new socket on a duplicate of this socket's fd (close-on-exec), as Python's `dup()`. */
  dup(): Socket {
    const fd = check(libc.fcntl(this.#fd, F_DUPFD_CLOEXEC, 'int', 0), 'dup', this.#where());
    const s = adoptSocket(fd, this.#family, this.#type, this.#proto, false);
    s.#timeout = this.#timeout; // the duplicate shares the file status flags (O_NONBLOCK)
    return s;
  }

  // ---- the non-throwing fast path (see docs/sockets.md) --------------------------------

  /**
   * Receives into `buf[offset, offset + length)` without blocking and without throwing
   * for the outcome: the fast path for event loops. Never blocks, whatever the socket's
   * mode (MSG_DONTWAIT).
   * @param buf     a `Uint8Array` (a `Buffer` is one); offset and length count bytes.
   * @param offset  where to start writing (default 0).
   * @param length  at most this many bytes (default: the rest of `buf`).
   * @returns the count received (> 0), 0 at EOF (or for a `length` of 0), or a negative
   *   errno: `NEG_EAGAIN` when nothing is there yet, `-errno.ECONNRESET`, and so on
   *   (a closed socket gives `-errno.EBADF`).
   * @throws TypeError for a `buf` that is not a `Uint8Array`; RangeError for a range
   *   outside it. Only argument mistakes throw.
   */
  tryRecvInto(buf: Uint8Array, offset = 0, length?: number): number {
    return T.tryRecvInto(this.#fd, buf, offset, length);
  }

  /**
   * Sends `buf[offset, offset + length)` without blocking and without throwing for the
   * outcome (MSG_DONTWAIT | MSG_NOSIGNAL: a closed peer is `-errno.EPIPE`, never SIGPIPE).
   * @returns the count sent (possibly fewer than asked), or a negative errno:
   *   `NEG_EAGAIN` when the send buffer is full.
   * @throws TypeError / RangeError for a bad buffer or range, as {@link Socket.tryRecvInto}.
   */
  trySend(buf: Uint8Array, offset = 0, length?: number): number {
    return T.trySend(this.#fd, buf, offset, length);
  }

  /**
   * Accepts one pending connection without throwing for the outcome. The new socket is
   * non-blocking and close-on-exec; its peer is `getpeername()`. Meant for a non-blocking
   * listener, where it never blocks; on a blocking one (or one with a timeout) it first
   * asks whether a connection is pending (a zero-timeout poll), so it blocks only if
   * another process takes that connection in between.
   * @returns the new Socket, or a negative errno: `NEG_EAGAIN` when no connection is
   *   pending, `-errno.EMFILE` at the fd limit, and so on.
   */
  tryAccept(): Socket<A> | number {
    if (this.#timeout !== 0 && this.#fd >= 0 && !readyNow(this.#fd, POLLIN)) return -EAGAIN;
    const r = T.tryAcceptFd(this.#fd);
    return r < 0 ? r : adoptSocket(r, this.#family, this.#type, this.#proto, true) as Socket<A>;
  }
}

// The message, batch and file methods (sendmsg, recvmsg, recvmsgInto, sendFds, recvFds,
// recvmmsg, sendmmsg, recvmmsgInto, sendmmsgFrom, their fast-path forms, sendfile) live in
// socket-msg.ts; the address, option and description methods (shutdown, getsockname,
// getpeername, setsockopt, getsockopt, toString, util.inspect) in socket-info.ts. Both
// are declared here as part of Socket and copied onto its prototype.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface Socket<A extends SocketAddress = SocketAddress> extends MessageMethods, InfoMethods<A> {}
Object.assign(Socket.prototype, messageMethods, infoMethods);

/**
 * Internal (not exported from the package root): wraps an fd the kernel has just created
 * with known attributes (accept4, socketpair) without the checks and syscalls of
 * `new Socket(..., fileno)`. `nonblocking` is whether the fd was made with SOCK_NONBLOCK.
 */
export function adoptSocket(fd: number, family: number, type: number, proto: number, nonblocking: boolean): Socket {
  return new (Socket as AdoptingConstructor)(family, type, proto, fd, nonblocking ? ADOPT_NONBLOCKING : ADOPT_BLOCKING);
}
