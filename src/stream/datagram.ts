/**
 * `DatagramSocket`: an EventEmitter over an AF_UNIX `SOCK_DGRAM` or UDP (IPv4/IPv6)
 * socket, driven by a Reactor's readiness callbacks.
 *
 * Sending never blocks and never loses a datagram silently: when the kernel answers
 * EAGAIN or ENOBUFS (the receiver's queue or the send buffer is full) the datagram is
 * queued, `'congestion'` is emitted, and the queue is sent in order as soon as the
 * socket takes datagrams again; `'writable'` follows when it is empty. The queue is
 * bounded (messages and bytes): past the bound, a send fails with
 * `ERR_DATAGRAM_QUEUE_FULL`.
 *
 * Linux reports an unconnected AF_UNIX datagram socket writable even while the receiver
 * it sends to is full, so a retry that meets EAGAIN again right after a writability
 * report waits on a timer instead (1 ms, doubling up to 100 ms) rather than spinning.
 */
import { EventEmitter } from 'node:events';
import { AF_UNIX, AF_INET, AF_INET6, SOCK_DGRAM, SOCK_NONBLOCK } from '../sys/constants.js';
import { closeFd } from '../sys/call.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../errors.js';
import { describe, toBytesOrUtf8, toInteger, toOptions } from '../validate.js';
import { Socket } from '../net/socket.js';
import { encodeAddress, type AddressLike } from '../net/address.js';
import type { SocketAddress } from '../net/sockaddr.js';
import { NEG_EAGAIN } from '../net/transfer.js';
import type { ReadinessCallbacks } from './watch.js';
import { own, release } from './owner.js';
import { trySendTo, tryRecvFrom, tryRecvMsg, lastSender, type Received } from '../net/trymsg.js';
import { requireUnix, fdNumbers, type FdLike } from './fds.js';
import { datagramOptions, type DatagramOptions, type DatagramType } from './options.js';
import { DatagramQueueFullError, SendQueue, type SendCallback } from './sendqueue.js';

const NEG_ENOBUFS = -errno.ENOBUFS;
const SOCKADDR_MAX = 128;
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 100;

export { DatagramQueueFullError, type SendCallback, type DatagramOptions, type DatagramType };

/**
 * A datagram socket as an EventEmitter.
 *
 * Events: `'message'` (data: Buffer, address: SocketAddress: `''` for an unnamed AF_UNIX
 * sender), `'listening'` (after bind), `'connect'`, `'congestion'` (data: the datagram
 * that was queued), `'writable'` (the queue drained), `'fds'` (fds, address) with the
 * `fds` option, `'error'`, `'close'`.
 */
export class DatagramSocket extends EventEmitter {
  /** The socket under the face (closed by {@link DatagramSocket.close}). */
  readonly socket: Socket;
  readonly #reactor: ReadinessCallbacks;
  readonly #readSize: number;
  readonly #maxReads: number;
  readonly #maxFds: number;
  readonly #rbuf: Buffer;
  readonly #name = Buffer.allocUnsafeSlow(SOCKADDR_MAX);
  readonly #queue: SendQueue;
  #reading = false;
  #writing = false;
  #retryMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly #rx: Received = { fds: [], address: null, truncated: false };
  readonly #onReadable = (): void => { this.#receive(); };
  readonly #onWritable = (): void => { this.#drain(true); };
  readonly #onTimer = (): void => { this.#timer = null; this.#drain(false); };

  /**
   * @param type     `'unix_dgram'`, `'udp4'`, `'udp6'`, or an existing `SOCK_DGRAM` Socket
   *                 (the face then owns it).
   * @param options  see {@link DatagramOptions}.
   * @throws TypeError for another type; OSError from socket(2).
   */
  constructor(type: DatagramType | Socket, options?: DatagramOptions) {
    super();
    const o = toOptions<DatagramOptions>(options, 'DatagramSocket options');
    let sock: Socket;
    if (type instanceof Socket) {
      if (type.type !== SOCK_DGRAM) throw new TypeError(`DatagramSocket needs a SOCK_DGRAM socket, got type ${type.type}`);
      sock = type;
    } else if (type === 'unix_dgram' || type === 'udp4' || type === 'udp6') {
      const family = type === 'unix_dgram' ? AF_UNIX : type === 'udp4' ? AF_INET : AF_INET6;
      sock = new Socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    } else {
      throw new TypeError(`type must be 'unix_dgram', 'udp4', 'udp6' or a SOCK_DGRAM Socket, got ${describe(type)}`);
    }
    this.socket = sock;
    try {
      const r = datagramOptions(o);
      this.#reactor = r.reactor;
      this.#queue = new SendQueue(r.maxQueue, r.maxQueueBytes);
      this.#readSize = r.readSize;
      this.#maxReads = r.maxReads;
      this.#maxFds = r.maxFds;
    } catch (err) {
      if (!(type instanceof Socket)) sock.close();
      throw err;
    }
    this.#rbuf = Buffer.allocUnsafeSlow(this.#readSize);
    own(sock.fileno(), this);
  }

  /**
   * @internal The socket was closed behind the face's back (not through close()): close
   * the face too, failing what is queued, rather than wait for readiness that cannot come.
   */
  closedUnder(): void {
    this.#reading = false;
    this.#writing = false;
    this.close();
  }

  /** Whether {@link DatagramSocket.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Datagrams waiting in the send queue. */
  get queueLength(): number {
    return this.#queue.length;
  }

  /** Bytes waiting in the send queue. */
  get queueBytes(): number {
    return this.#queue.bytes;
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw OSError.fromErrno(errno.EBADF, what, 'datagram socket is closed');
  }

  /**
   * Binds to `address` (an AF_UNIX path, `'\0'` + an abstract name, or `[host, port]`),
   * starts receiving, and emits `'listening'`. A failure is emitted as `'error'` (as
   * `unix-dgram`), or passed to `callback` when given.
   */
  bind(address: AddressLike, callback?: (err: Error | null) => void): this {
    return this.#attach('bind', address, 'listening', callback);
  }

  /**
   * Sets the default peer: `send(data)` then goes there, only its datagrams are
   * received, and congestion is reported by the kernel's writability (the best way to
   * send to a busy receiver such as a syslog socket). Emits `'connect'`; a failure is
   * `'error'` or goes to `callback`.
   */
  connect(address: AddressLike, callback?: (err: Error | null) => void): this {
    return this.#attach('connect', address, 'connect', callback);
  }

  /** bind() or connect(): the call, reading started, then `event` and the callback next tick. */
  #attach(op: 'bind' | 'connect', address: AddressLike, event: string,
    callback: ((err: Error | null) => void) | undefined): this {
    this.#checkOpen(op);
    try {
      this.socket[op](address);
      this.#startReading();
    } catch (err) {
      this.#fail(err as Error, callback);
      return this;
    }
    process.nextTick(() => {
      if (this.#closed) return;
      this.emit(event);
      callback?.(null);
    });
    return this;
  }

  /** The bound address (`socket.getsockname()`). */
  address(): SocketAddress {
    this.#checkOpen('getsockname');
    return this.socket.getsockname();
  }

  #fail(err: Error, callback?: (err: Error | null) => void): void {
    if (callback !== undefined) process.nextTick(callback, err);
    else process.nextTick(() => { if (!this.#closed) this.emit('error', err); });
  }

  // ---- sending ---------------------------------------------------------------------

  /**
   * Sends one datagram, to `address` or (without one) to the connected peer. Never
   * blocks: when the kernel is full the datagram is queued (and `'congestion'` emitted).
   * Also accepts the `unix-dgram` form `send(buf, offset, length, path?, callback?)`.
   * @returns true when the datagram went to the kernel at once (or failed at once),
   *   false when it is queued or the queue is full: wait for `'writable'`.
   * @throws TypeError for data that is not bytes or a string, or an address of the wrong
   *   form; OSError EBADF after close().
   */
  send(data: Uint8Array | string, address?: AddressLike | null, callback?: SendCallback): boolean;
  send(data: Uint8Array, offset: number, length: number, address?: AddressLike | null, callback?: SendCallback): boolean;
  send(data: Uint8Array | string, a?: unknown, b?: unknown, c?: unknown, d?: unknown): boolean {
    if (typeof a === 'number') {
      const buf = toBytesOrUtf8(data, 'data');
      const off = toInteger(a, 'offset', 0, buf.length);
      const len = toInteger(b, 'length', 0, buf.length - off);
      return this.#send(buf.subarray(off, off + len), c as AddressLike | null | undefined, null, d);
    }
    if (typeof a === 'function') return this.#send(data, null, null, a);
    return this.#send(data, a as AddressLike | null | undefined, null, b);
  }

  /**
   * Sends one datagram with file descriptors attached (SCM_RIGHTS, AF_UNIX), to
   * `address` or the connected peer. The fds stay the caller's; they are read when the
   * datagram is sent (later, if it is queued): keep them open until `callback` ran.
   * @throws TypeError for a socket that is not AF_UNIX or bad fds; RangeError for more
   *   than 253 fds.
   */
  sendFds(data: Uint8Array | string, fds: readonly FdLike[], address?: AddressLike | null, callback?: SendCallback): boolean {
    requireUnix(this.socket.family);
    const nums = fdNumbers(fds, 'datagram');
    return this.#send(data, address, nums, callback);
  }

  #send(data: unknown, address: AddressLike | null | undefined, fds: number[] | null, callback: unknown): boolean {
    this.#checkOpen('send');
    const bytes = toBytesOrUtf8(data, 'data');
    if (callback !== undefined && callback !== null && typeof callback !== 'function') {
      throw new TypeError(`callback must be a function, got ${describe(callback)}`);
    }
    const cb = (callback ?? undefined) as SendCallback | undefined;
    const namelen = address === undefined || address === null ? 0 : encodeAddress(this.socket.family, address, this.#name);
    if (this.queueLength === 0) {
      const r = trySendTo(this.socket.fileno(), bytes, namelen > 0 ? this.#name : null, namelen, fds);
      if (r >= 0) {
        if (!this.#reading && namelen > 0 && this.socket.family !== AF_UNIX) this.#startReadingQuietly();
        if (cb !== undefined) process.nextTick(cb, null, r);
        return true;
      }
      if (r !== NEG_EAGAIN && r !== NEG_ENOBUFS) {
        this.#report(OSError.fromErrno(-r, 'send', address === undefined || address === null ? undefined : describe(address)), cb);
        return true;
      }
    }
    // Queue it: the kernel is full, or earlier datagrams are still waiting (order is kept).
    const full = this.#queue.refusal(bytes.length);
    if (full !== null) {
      this.#report(full, cb);
      return false;
    }
    const copy = Buffer.from(bytes);
    let name: Buffer | null = null;
    if (namelen > 0) {
      name = Buffer.allocUnsafe(namelen);
      this.#name.copy(name, 0, 0, namelen);
    }
    const wasIdle = this.queueLength === 0;
    this.#queue.push({ data: copy, name, namelen, fds, cb });
    if (wasIdle) this.#waitWritable();
    this.emit('congestion', copy);
    return false;
  }

  /** A send's failure: to its callback when it has one, else `'error'`. */
  #report(err: Error, cb: SendCallback | undefined): void {
    if (cb !== undefined) process.nextTick(cb, err);
    else process.nextTick(() => { if (!this.#closed) this.emit('error', err); });
  }

  #waitWritable(): void {
    if (this.#writing || this.#timer !== null) return;
    try {
      this.#reactor.addWriter(this.socket, this.#onWritable);
      this.#writing = true;
    } catch (err) {
      this.#report(err as Error, undefined);
    }
  }

  #stopWriting(): void {
    if (!this.#writing) return;
    this.#writing = false;
    if (!this.#reactor.closed && !this.socket.closed) this.#reactor.removeWriter(this.socket);
  }

  /** Sends queued datagrams in order until the kernel is full again or the queue is empty. */
  #drain(fromWritable: boolean): void {
    if (this.#closed) return;
    const fd = this.socket.fileno();
    const q = this.#queue;
    let sent = 0;
    for (let p = q.peek(); p !== undefined; p = q.peek()) {
      const r = trySendTo(fd, p.data, p.name, p.namelen, p.fds);
      if (r === NEG_EAGAIN || r === NEG_ENOBUFS) {
        if (sent === 0 && fromWritable) {
          // Reported writable, yet still full: wait on a timer rather than spin.
          this.#stopWriting();
          this.#retryMs = this.#retryMs === 0 ? RETRY_MIN_MS : Math.min(this.#retryMs * 2, RETRY_MAX_MS);
          this.#timer = setTimeout(this.#onTimer, this.#retryMs);
        } else {
          if (sent > 0) this.#retryMs = 0;
          this.#waitWritable();
        }
        q.compact();
        return;
      }
      q.shift();
      sent++;
      if (r >= 0) {
        if (p.cb !== undefined) p.cb(null, r);
      } else {
        this.#report(OSError.fromErrno(-r, 'send'), p.cb);
      }
      if (this.#closed) return;
    }
    q.clear();
    this.#retryMs = 0;
    this.#stopWriting();
    this.emit('writable');
  }

  // ---- receiving -------------------------------------------------------------------

  #startReading(): void {
    if (this.#reading) return;
    this.#reactor.addReader(this.socket, this.#onReadable);
    this.#reading = true;
  }

  /** After the first send of an unbound UDP socket (the kernel bound it): replies can come. */
  #startReadingQuietly(): void {
    try {
      this.#startReading();
    } catch (err) {
      this.#report(err as Error, undefined);
    }
  }

  #receive(): void {
    const fd = this.socket.fileno();
    const buf = this.#rbuf;
    const size = this.#readSize;
    for (let i = 0; i < this.#maxReads && !this.#closed; i++) {
      let n: number;
      let address: SocketAddress;
      let fds: number[] | null = null;
      if (this.#maxFds > 0) {
        n = tryRecvMsg(fd, buf, 0, size, this.#maxFds, true, this.#rx);
        if (n >= 0 && this.#rx.truncated) n = size + 1;
        address = this.#rx.address ?? '';
        if (this.#rx.fds.length > 0) fds = this.#rx.fds;
      } else {
        n = tryRecvFrom(fd, buf, 0, size);
        address = n >= 0 ? lastSender() : '';
      }
      if (fds !== null) {
        if (this.listenerCount('fds') === 0) for (const f of fds) closeFd(f);
        else this.emit('fds', fds, address);
      }
      if (n === NEG_EAGAIN) return;
      if (n < 0) {
        // An ICMP error on UDP (ECONNREFUSED from a closed port) and the like: report it, go on.
        this.emit('error', OSError.fromErrno(-n, 'recv'));
        continue;
      }
      if (n > size) {
        this.emit('error', OSError.fromErrno(errno.EMSGSIZE, 'recv',
          `a datagram of ${n} bytes was cut to readSize (${size}); raise readSize`));
        continue;
      }
      const data = Buffer.allocUnsafe(n);
      buf.copy(data, 0, 0, n);
      this.emit('message', data, address);
    }
  }

  // ---- closing ---------------------------------------------------------------------

  /**
   * Stops receiving, fails the datagrams still queued (their callbacks get an EBADF
   * error; without callbacks they are dropped), closes the socket and emits `'close'`.
   * Idempotent.
   */
  close(callback?: () => void): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reading) {
      this.#reading = false;
      if (!this.#reactor.closed && !this.socket.closed) this.#reactor.removeReader(this.socket);
    }
    this.#stopWriting();
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const q = this.#queue.clear();
    if (!this.socket.closed) release(this.socket.fileno(), this);
    this.socket.close();
    for (const p of q) {
      if (p.cb !== undefined) process.nextTick(p.cb, OSError.fromErrno(errno.EBADF, 'send', 'socket closed before the datagram was sent'));
    }
    process.nextTick(() => {
      this.emit('close');
      callback?.();
    });
  }

  /** Same as {@link DatagramSocket.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Creates a {@link DatagramSocket}, as `unix-dgram`'s `createSocket(type, listener)` and
 * `dgram.createSocket`: `listener`, when given, listens for `'message'`.
 */
export function createDatagramSocket(type: DatagramType, listener?: ((data: Buffer, address: SocketAddress) => void) | DatagramOptions,
  options?: DatagramOptions): DatagramSocket {
  const opts = typeof listener === 'function' ? options : listener ?? options;
  const s = new DatagramSocket(type, opts);
  if (typeof listener === 'function') s.on('message', listener);
  return s;
}
