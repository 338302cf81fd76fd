/**
 * The `Socket` class: Python's `socket.socket` over a raw, close-on-exec fd, so it works
 * with every selector and the Reactor. Blocking methods block the thread (as Python's
 * do); in non-blocking mode an operation that would block throws `BlockingIOError`.
 * Signals (EINTR) are retried (PEP 475). A closed socket has fd -1, so every operation on
 * it fails with `OSError` EBADF, as in Python. `settimeout(seconds)` gives Python's third
 * mode: a non-blocking fd whose operations wait up to that long, then throw TimeoutError.
 */
import * as libc from '../sys/libc.js';
import { check, raise, sysret } from '../sys/call.js';
import {
  AF_INET, AF_UNIX, SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC, SO_DOMAIN, SO_TYPE, SO_PROTOCOL,
  SO_ERROR, MSG_NOSIGNAL, F_GETFL, F_SETFL, O_NONBLOCK, SOMAXCONN, POLLIN, POLLOUT,
} from '../sys/constants.js';
import { OSError, TimeoutError, errno as E } from '../errors.js';
import { encodeAddress, decodeAddress, show, type AddressLike, type SocketAddress } from './address.js';
import { ADDR, ADDRLEN, RECV, int, toBytes, toWritable } from './scratch.js';
import { sendFds, recvFds, type WaitAgain } from './fdpass.js';
import { waitFd } from './wait.js';
import { setOption, getOption, sockoptInt } from './sockopt.js';

const EINTR = E.EINTR!;
const EAGAIN = E.EAGAIN!;
const ECONNRESET = E.ECONNRESET!;
const EINPROGRESS = E.EINPROGRESS!;
/** What `#connect` returns when a socket timeout expired. */
const TIMED_OUT = -1;
/** `type` may carry these creation flags; `Socket#type` never does (as Python 3.7+). */
const TYPE_FLAGS = SOCK_NONBLOCK | SOCK_CLOEXEC;

/**
 * A socket, as Python's `socket.socket`: `new Socket(family, type, proto, fileno?)` or
 * {@link socket}. With `fileno` it wraps that existing socket fd (family, type and proto
 * are then read from the kernel when not given).
 */
export class Socket {
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
  constructor(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null) {
    if (fileno !== undefined && fileno !== null) {
      const fd = int(fileno, 'fileno');
      if (fd < 0) throw new RangeError(`negative file descriptor ${fd}`);
      const fam = family ?? sockoptInt(fd, SO_DOMAIN, `fileno ${fd}`);
      const typ = type ?? sockoptInt(fd, SO_TYPE, `fileno ${fd}`);
      const pro = proto ?? sockoptInt(fd, SO_PROTOCOL, `fileno ${fd}`);
      this.#fd = fd;
      this.#family = int(fam, 'family');
      this.#type = int(typ, 'type') & ~TYPE_FLAGS;
      this.#proto = int(pro, 'proto');
      const fl = check(libc.fcntl(fd, F_GETFL, 'int', 0), 'fcntl', `fileno ${fd}`);
      this.#timeout = (fl & O_NONBLOCK) === 0 ? -1 : 0;
      return;
    }
    const fam = int(family ?? AF_INET, 'family');
    const typ = int(type ?? SOCK_STREAM, 'type');
    const pro = int(proto ?? 0, 'proto');
    this.#fd = check(libc.socket(fam, typ | SOCK_CLOEXEC, pro), 'socket', `family ${fam}, type ${typ}, proto ${pro}`);
    this.#family = fam;
    this.#type = typ & ~TYPE_FLAGS;
    this.#proto = pro;
    this.#timeout = (typ & SOCK_NONBLOCK) === 0 ? -1 : 0;
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
    return this.#fd < 0 ? 'socket is closed' : `fd ${this.#fd}`;
  }

  /** Closes the socket; idempotent. ECONNRESET from close is ignored, as in Python. */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    const r = sysret(libc.close(fd));
    // EINTR: Linux has released the fd already; ECONNRESET: the peer reset (Python ignores it).
    if (r < 0 && r !== -EINTR && r !== -ECONNRESET) raise(r, 'close', `fd ${fd}`);
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

  /** Sets blocking (`true`) or non-blocking (`false`) mode: `settimeout(null)` / `settimeout(0)`. */
  setblocking(flag: boolean): void {
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
    if (typeof seconds !== 'number') throw new TypeError(`timeout must be a number of seconds or null, got ${show(seconds)}`);
    if (!(seconds >= 0 && seconds < 2 ** 31 / 1000)) throw new RangeError(`timeout value out of range: ${seconds}`);
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

  /**
   * After a failed call (`r` = -errno): with a timeout and EAGAIN, waits for `events`
   * (throwing TimeoutError when the time is up) and returns the deadline to retry with;
   * otherwise throws the error.
   */
  #again(r: number, events: number, deadline: number, syscall: string, detail?: string): number {
    if (r !== -EAGAIN || this.#timeout <= 0) raise(r, syscall, detail ?? this.#where());
    const d = deadline < 0 ? performance.now() + this.#timeout * 1000 : deadline;
    waitFd(this.#fd, events, d, syscall);
    return d;
  }

  /** The EAGAIN hook for the fd-passing calls, when this socket has a timeout. */
  #againHook(): WaitAgain | undefined {
    if (this.#timeout <= 0) return undefined;
    let deadline = -1;
    return (events) => {
      deadline = this.#again(-EAGAIN, events, deadline, events === POLLIN ? 'recvmsg' : 'sendmsg');
    };
  }

  /** Binds to `addr` (see {@link AddressLike}). */
  bind(addr: AddressLike): void {
    const len = encodeAddress(this.#family, addr, ADDR);
    check(libc.bind(this.#fd, ADDR, len), 'bind', `${show(addr)} (${this.#where()})`);
  }

  /** Starts listening; `backlog` defaults to min(SOMAXCONN, 128) as Python's; negative is 0. */
  listen(backlog?: number): void {
    const b = backlog === undefined ? Math.min(SOMAXCONN, 128) : Math.max(0, int(backlog, 'backlog'));
    check(libc.listen(this.#fd, b), 'listen', this.#where());
  }

  /**
   * Accepts a connection: `[socket, address]`. The new socket is close-on-exec and
   * blocking (as Python's with no default timeout).
   * @throws BlockingIOError when non-blocking with no pending connection.
   */
  accept(): [Socket, SocketAddress] {
    let deadline = -1;
    for (;;) {
      ADDRLEN.writeUInt32LE(ADDR.length, 0);
      const r = sysret(libc.accept4(this.#fd, ADDR, ADDRLEN, SOCK_CLOEXEC));
      if (r === -EINTR) continue; // EINTR: retry (PEP 475).
      if (r < 0) {
        deadline = this.#again(r, POLLIN, deadline, 'accept');
        continue;
      }
      const addr = decodeAddress(ADDR, ADDRLEN.readUInt32LE(0)) ?? '';
      return [new Socket(this.#family, this.#type, this.#proto, r), addr];
    }
  }

  /**
   * Connects to `addr`. A non-blocking socket throws `BlockingIOError` (EINPROGRESS)
   * while the connection is under way: wait for writability, then read `SO_ERROR`.
   * @throws ConnectionRefusedError and the other connect errors.
   */
  connect(addr: AddressLike): void {
    const err = this.#connect(addr);
    if (err === TIMED_OUT) throw new TimeoutError(E.ETIMEDOUT!, `timed out (connect to ${show(addr)})`);
    if (err !== 0) throw OSError.fromErrno(err, 'connect', `${show(addr)} (${this.#where()})`);
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
    const r = sysret(libc.connect(this.#fd, ADDR, len));
    if (r >= 0) return 0;
    // EINTR: the connection carries on in the kernel, as with EINPROGRESS. Non-blocking:
    // report it in progress; blocking or with a timeout: wait for the outcome (PEP 475).
    if (r !== -EINTR && (r !== -EINPROGRESS || this.#timeout <= 0)) return -r;
    if (this.#timeout === 0) return EINPROGRESS;
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
    if (!Number.isInteger(bufsize) || bufsize < 0) badSize(bufsize, 'recv');
    if (bufsize > RECV.length) {
      const buf = Buffer.allocUnsafe(bufsize);
      const n = this.#recvInto(buf, bufsize, flags);
      return n * 2 >= bufsize ? buf.subarray(0, n) : Buffer.from(buf.subarray(0, n));
    }
    const n = this.#recvInto(RECV, bufsize, flags);
    const out = Buffer.allocUnsafe(n);
    RECV.copy(out, 0, 0, n);
    return out;
  }

  /**
   * Receives into `buf` (no copy): up to `nbytes` bytes (0 or omitted: the whole buffer).
   * @returns the count received, 0 at EOF.
   */
  recvInto(buf: ArrayBufferView, nbytes = 0, flags = 0): number {
    const b = toWritable(buf);
    const n = nbytes === 0 ? b.length : recvIntoSize(nbytes, b.length);
    return this.#recvInto(b, n, flags);
  }

  #recvInto(b: Uint8Array, n: number, flags: number): number {
    const fd = this.#fd;
    let deadline = -1;
    for (;;) {
      const r = sysret(libc.recv(fd, b, n, flags));
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#again(r, POLLIN, deadline, 'recv'); // EINTR: retry (PEP 475).
    }
  }

  /**
   * Sends `data` (a string is UTF-8) once: returns the count sent, which may be less
   * than `data.length`. MSG_NOSIGNAL: a closed peer is BrokenPipeError, not SIGPIPE.
   */
  send(data: Uint8Array | string, flags = 0): number {
    const b = toBytes(data);
    const fd = this.#fd;
    let deadline = -1;
    for (;;) {
      const r = sysret(libc.send(fd, b, b.length, flags | MSG_NOSIGNAL));
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#again(r, POLLOUT, deadline, 'send'); // EINTR: retry (PEP 475).
    }
  }

  /**
   * Sends all of `data`. On a non-blocking socket it throws `BlockingIOError` when the
   * buffer fills, as Python's does (how much went out is then unknown to the caller).
   */
  sendall(data: Uint8Array | string, flags = 0): void {
    const b = toBytes(data);
    const fd = this.#fd;
    // With a timeout, it bounds the whole call (Python 3.5+).
    let deadline = this.#timeout > 0 ? performance.now() + this.#timeout * 1000 : -1;
    let off = 0;
    while (off < b.length) {
      const chunk = off === 0 ? b : b.subarray(off);
      const r = sysret(libc.send(fd, chunk, chunk.length, flags | MSG_NOSIGNAL));
      if (r >= 0) off += r;
      else if (r !== -EINTR) deadline = this.#again(r, POLLOUT, deadline, 'sendall'); // EINTR: retry (PEP 475).
    }
    if (b.length === 0) {
      // Python's sendall(b'') still makes one send call (a closed socket is EBADF).
      const r = sysret(libc.send(fd, b, 0, flags | MSG_NOSIGNAL));
      if (r < 0 && r !== -EINTR) raise(r, 'sendall', this.#where());
    }
  }

  /** Receives up to `bufsize` bytes and the sender's address (`null` when none). */
  recvfrom(bufsize: number, flags = 0): [Buffer, SocketAddress | null] {
    if (!Number.isInteger(bufsize) || bufsize < 0) badSize(bufsize, 'recvfrom');
    const buf = bufsize > RECV.length ? Buffer.allocUnsafe(bufsize) : RECV;
    const n = this.#recvfrom(buf, bufsize, flags);
    const addr = decodeAddress(ADDR, ADDRLEN.readUInt32LE(0));
    if (buf !== RECV) return [n * 2 >= bufsize ? buf.subarray(0, n) : Buffer.from(buf.subarray(0, n)), addr];
    const out = Buffer.allocUnsafe(n);
    RECV.copy(out, 0, 0, n);
    return [out, addr];
  }

  /** Receives into `buf`: `[count, address]`. */
  recvfromInto(buf: ArrayBufferView, nbytes = 0, flags = 0): [number, SocketAddress | null] {
    const b = toWritable(buf);
    const n = nbytes === 0 ? b.length : recvIntoSize(nbytes, b.length);
    const r = this.#recvfrom(b, n, flags);
    return [r, decodeAddress(ADDR, ADDRLEN.readUInt32LE(0))];
  }

  #recvfrom(b: Uint8Array, n: number, flags: number): number {
    let deadline = -1;
    for (;;) {
      ADDRLEN.writeUInt32LE(ADDR.length, 0);
      const r = sysret(libc.recvfrom(this.#fd, b, n, flags, ADDR, ADDRLEN));
      if (r >= 0) return r;
      if (r !== -EINTR) deadline = this.#again(r, POLLIN, deadline, 'recvfrom'); // EINTR: retry (PEP 475).
    }
  }

  /** Sends `data` to `addr` (`sendto(data, addr)` or `sendto(data, flags, addr)`); returns the count. */
  sendto(data: Uint8Array | string, addr: AddressLike): number;
  sendto(data: Uint8Array | string, flags: number, addr: AddressLike): number;
  sendto(data: Uint8Array | string, a: unknown, b?: unknown): number {
    const flags = arguments.length >= 3 ? int(a, 'flags') : 0;
    const addr = arguments.length >= 3 ? b : a;
    const bytes = toBytes(data);
    const len = encodeAddress(this.#family, addr, ADDR);
    let deadline = -1;
    for (;;) {
      const r = sysret(libc.sendto(this.#fd, bytes, bytes.length, flags | MSG_NOSIGNAL, ADDR, len));
      if (r >= 0) return r;
      // EINTR: retry (PEP 475). A wait cannot touch ADDR, so the encoded address stays.
      if (r !== -EINTR) deadline = this.#again(r, POLLOUT, deadline, 'sendto', `${show(addr)} (${this.#where()})`);
    }
  }

  /** Sends `data` with the fds `fds` attached (SCM_RIGHTS); returns the byte count sent. */
  sendFds(data: Uint8Array | string, fds: readonly number[], flags = 0): number {
    return sendFds(this.#fd, data, fds, flags, this.#againHook());
  }

  /**
   * Receives up to `bufsize` bytes and up to `maxfds` fds (SCM_RIGHTS); the received fds
   * are close-on-exec and belong to the caller.
   */
  recvFds(bufsize: number, maxfds: number, flags = 0): [Buffer, number[]] {
    return recvFds(this.#fd, bufsize, maxfds, flags, this.#againHook());
  }

  /** Shuts down reading (`SHUT_RD`), writing (`SHUT_WR`) or both (`SHUT_RDWR`). */
  shutdown(how: number): void {
    check(libc.shutdown(this.#fd, int(how, 'how')), 'shutdown', this.#where());
  }

  /** The socket's own address. */
  getsockname(): SocketAddress {
    ADDRLEN.writeUInt32LE(ADDR.length, 0);
    check(libc.getsockname(this.#fd, ADDR, ADDRLEN), 'getsockname', this.#where());
    return decodeAddress(ADDR, ADDRLEN.readUInt32LE(0)) ?? '';
  }

  /** The connected peer's address. @throws OSError ENOTCONN when not connected. */
  getpeername(): SocketAddress {
    ADDRLEN.writeUInt32LE(ADDR.length, 0);
    check(libc.getpeername(this.#fd, ADDR, ADDRLEN), 'getpeername', this.#where());
    return decodeAddress(ADDR, ADDRLEN.readUInt32LE(0)) ?? '';
  }

  /** Sets an option: a number is a C `int`, a Buffer is passed as the raw option bytes. */
  setsockopt(level: number, opt: number, value: number | Uint8Array): void {
    setOption(this.#fd, level, opt, value, this.#where());
  }

  /** Reads an option: a C `int` without `buflen`, else up to `buflen` raw bytes. */
  getsockopt(level: number, opt: number, buflen?: number): number | Buffer {
    return getOption(this.#fd, level, opt, buflen, this.#where());
  }

  /**
   * A description like Python's repr:
   * `<Socket fd=5, family=2, type=1, proto=0, laddr=["127.0.0.1",8080], raddr=[...]>`.
   */
  toString(): string {
    let s = `<Socket${this.#fd < 0 ? ' [closed]' : ''} fd=${this.#fd}, family=${this.#family}, type=${this.#type}, proto=${this.#proto}`;
    if (this.#fd >= 0) {
      for (const [name, get] of [['laddr', () => this.getsockname()], ['raddr', () => this.getpeername()]] as const) {
        try {
          const a = get();
          if (a !== '') s += `, ${name}=${JSON.stringify(a)}`;
        } catch {
          // not bound / not connected: left out, as Python's repr does
        }
      }
    }
    return `${s}>`;
  }

  /** `util.inspect` shows the same description. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function badSize(n: unknown, what: string): never {
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new TypeError(`${what} buffer size must be an integer, got ${show(n)}`);
  throw new RangeError(`negative buffer size in ${what}: ${n}`);
}

function recvIntoSize(nbytes: unknown, have: number): number {
  const n = int(nbytes, 'nbytes');
  if (n < 0) throw new RangeError(`negative buffer size in recvInto: ${n}`);
  if (n > have) throw new RangeError(`buffer too small for requested bytes: ${n} > ${have}`);
  return n;
}

/**
 * Creates a close-on-exec socket, as Python's `socket.socket(family, type, proto, fileno)`.
 * With `fileno` it wraps that existing fd instead.
 */
export function socket(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null): Socket {
  // Wrapping: given arguments win; omitted ones are read from the kernel (as Python).
  if (fileno !== undefined && fileno !== null) return new Socket(family, type, proto, fileno);
  return new Socket(family ?? AF_INET, type ?? SOCK_STREAM, proto ?? 0);
}

/** A connected pair of close-on-exec sockets, as Python's `socket.socketpair`. */
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto = 0): [Socket, Socket] {
  const fam = int(family, 'family');
  const typ = int(type, 'type');
  const pro = int(proto, 'proto');
  const sv = new Int32Array(2);
  check(libc.socketpair(fam, typ | SOCK_CLOEXEC, pro, sv), 'socketpair', `family ${fam}, type ${typ}`);
  return [new Socket(fam, typ, pro, sv[0]!), new Socket(fam, typ, pro, sv[1]!)];
}
