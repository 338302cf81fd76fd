/**
 * `SocketStream`: a Node `Duplex` over a connected `SOCK_STREAM` or `SOCK_SEQPACKET`
 * socket, driven by a Reactor's readiness callbacks.
 *
 * Reading: while the consumer keeps up, a reader callback is registered; each wake-up
 * reads at most `maxReadsPerWake` times into a receive buffer, and stops at EAGAIN or a
 * short read. A large read is pushed as it is (no copy) and the next read takes a new
 * buffer; a small one is copied out and the buffer is read into again. When `push()`
 * answers false (the readable queue reached its highWaterMark) the callback is removed,
 * so the kernel's buffer fills and the peer's writes block; `_read()` registers it
 * again. The queue therefore never holds more than highWaterMark plus one read.
 *
 * Writing: `_write`/`_writev` send with the non-throwing fast path (a small single write
 * at the end of the tick, together with the writes that follow it); what the kernel does
 * not take waits for a writer callback, and the write's callback is called only when
 * every byte is in the kernel. Node's Writable holds later writes meanwhile, so `write()`
 * answers false past the writable highWaterMark and `'drain'` follows when the socket
 * took everything. Batched writes go out in one `sendmsg(2)`. The writer callback stays
 * registered between flushes until a wake-up finds nothing to send.
 *
 * SEQPACKET streams are in object mode: each chunk read is one message, each chunk
 * written one message.
 */
import { Duplex } from 'node:stream';
import { closeFd } from '../sys/call.js';
import { AF_UNIX, SOCK_STREAM, SOCK_SEQPACKET, SHUT_WR } from '../sys/constants.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../errors.js';
import { describe, toBytesOrUtf8, toOptions } from '../validate.js';
import { Socket } from '../net/socket.js';
import { NEG_EAGAIN } from '../net/transfer.js';
import type { SocketAddress } from '../net/sockaddr.js';
import type { ReadinessCallbacks } from './watch.js';
import { own, release } from './owner.js';
import { trySendv, trySendTo, tryRecvMsg, tryRecvTrunc, type Gather, type Received } from '../net/trymsg.js';
import { requireUnix, fdNumbers, type FdLike } from './fds.js';
import { streamOptions, type SocketStreamOptions } from './options.js';

export type { FdLike, SocketStreamOptions };

const ENOTCONN = errno.ENOTCONN;
/** A read of at most this many bytes is copied out of the receive buffer, which is then reused. */
const SMALL_READ = 8 * 1024;
/** A single write shorter than this waits for the end of the tick, to be sent with the writes that follow it. */
const SMALL_WRITE = 16 * 1024;

/**
 * A Duplex over a connected stream or SEQPACKET socket. The stream owns the socket:
 * `destroy()` (or the end of both sides) closes it, once. Close through the stream,
 * not through the socket.
 *
 * Events beyond `Duplex`'s: `'fds'` (fds: number[]) with the `fds` option.
 */
export class SocketStream extends Duplex {
  /** The socket under the stream (closed once the stream is destroyed). */
  readonly socket: Socket;
  readonly #reactor: ReadinessCallbacks;
  readonly #seq: boolean;
  readonly #readSize: number;
  readonly #maxReads: number;
  readonly #maxFds: number;
  #reading = false;
  #writing = false;
  /** The receive buffer, reused while reads are small (their bytes are copied out). */
  #buf: Buffer | null = null;
  /** The write in progress: its pieces, where sending stands, and its callback. */
  readonly #g: { bufs: Uint8Array[]; first: number; offset: number } = { bufs: [], first: 0, offset: 0 };
  #wcb: ((err?: Error | null) => void) | null = null;
  /** Chunks queued by {@link SocketStream.sendFds} and the fds each carries. */
  readonly #fdsOf = new WeakMap<Uint8Array, number[]>();
  #fdChunks = 0;
  readonly #rx: Received = { fds: [], address: null, truncated: false };
  readonly #onReadable = (): void => { this.#readSome(); };
  readonly #onWritable = (): void => {
    // Nothing to send: the writer callback stayed registered after the last flush (see
    // #done) and the socket is idle now: stop watching.
    if (this.#wcb === null) this.#stopWriting();
    else this.#flush();
  };
  readonly #flushLater = (): void => { if (this.#wcb !== null && !this.destroyed) this.#flush(); };

  /**
   * @param sock     a connected `SOCK_STREAM` or `SOCK_SEQPACKET` socket (any family).
   * @param options  see {@link SocketStreamOptions}.
   * @throws TypeError for something other than a Socket or another socket type;
   *   RangeError for bad sizes; OSError ENOTCONN for a socket that is not connected.
   */
  constructor(sock: Socket, options?: SocketStreamOptions) {
    if (!(sock instanceof Socket)) throw new TypeError(`SocketStream needs a Socket, got ${describe(sock)}`);
    const o = toOptions<SocketStreamOptions>(options, 'SocketStream options');
    if (sock.closed) throw OSError.fromErrno(errno.EBADF, 'SocketStream', 'socket is closed');
    const type = sock.type;
    if (type !== SOCK_STREAM && type !== SOCK_SEQPACKET) {
      throw new TypeError(`SocketStream needs a SOCK_STREAM or SOCK_SEQPACKET socket, got type ${type} (use DatagramSocket for datagrams)`);
    }
    sock.getpeername(); // OSError ENOTCONN when not connected
    const seq = type === SOCK_SEQPACKET;
    const r = streamOptions(o, seq);
    super(r.duplex);
    this.socket = sock;
    this.#reactor = r.reactor;
    this.#seq = seq;
    this.#readSize = r.readSize;
    this.#maxReads = r.maxReads;
    this.#maxFds = r.maxFds;
    own(sock.fileno(), this);
    // Start reading at once, as net.Socket: up to highWaterMark is taken before anyone
    // listens, and the peer's end (EOF) is seen even by a stream nobody reads.
    this.read(0);
  }

  /** The peer's address (`socket.getpeername()`), `undefined` once closed. */
  get remoteAddress(): SocketAddress | undefined {
    return this.socket.closed ? undefined : this.socket.getpeername();
  }

  /** This side's address (`socket.getsockname()`), `undefined` once closed. */
  get localAddress(): SocketAddress | undefined {
    return this.socket.closed ? undefined : this.socket.getsockname();
  }

  // ---- reading ---------------------------------------------------------------------

  /** @internal Node calls this when the consumer wants more: watch for readability. */
  override _read(): void {
    if (this.#reading || this.socket.closed) return;
    try {
      this.#reactor.addReader(this.socket, this.#onReadable);
      this.#reading = true;
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  #stopReading(): void {
    if (!this.#reading) return;
    this.#reading = false;
    // A socket closed under the stream: the Reactor forgot the fd already.
    if (!this.#reactor.closed && !this.socket.closed) this.#reactor.removeReader(this.socket);
  }

  /** One wake-up's worth of reads: until EAGAIN, EOF, a full queue, or the per-wake bound. */
  #readSome(): void {
    const sock = this.socket;
    const size = this.#readSize;
    for (let i = 0; i < this.#maxReads; i++) {
      if (!this.#reading || this.destroyed) return;
      const buf = this.#buf ?? (this.#buf = Buffer.allocUnsafeSlow(size));
      let n: number;
      let fds: number[] | null = null;
      if (this.#maxFds > 0) {
        n = tryRecvMsg(sock.fileno(), buf, 0, size, this.#maxFds, false, this.#rx);
        if (this.#rx.fds.length > 0) fds = this.#rx.fds;
        if (n > size || (this.#seq && this.#rx.truncated)) n = size + 1;
      } else if (this.#seq) {
        n = tryRecvTrunc(sock.fileno(), buf, 0, size);
      } else {
        n = sock.tryRecvInto(buf, 0, size);
      }
      if (fds !== null) this.#deliverFds(fds);
      if (n === NEG_EAGAIN) return;
      if (n < 0) {
        this.#stopReading();
        this.destroy(OSError.fromErrno(-n, 'recv', `fd ${sock.fileno()}`));
        return;
      }
      if (n === 0) {
        // EOF (on SEQPACKET an empty message reads the same: recv(2) cannot tell them apart).
        this.#stopReading();
        this.push(null);
        return;
      }
      if (n > size) {
        this.#stopReading();
        this.destroy(OSError.fromErrno(errno.EMSGSIZE, 'recv',
          `a message longer than readSize (${size} bytes) arrived on fd ${sock.fileno()}; raise readSize`));
        return;
      }
      let chunk: Buffer;
      if (n <= SMALL_READ) {
        // A small read is copied out (from Node's pool below 4 KiB), so a queue of small
        // chunks does not hold a whole receive buffer each; the buffer is read into again.
        chunk = Buffer.allocUnsafe(n);
        buf.copy(chunk, 0, 0, n);
      } else {
        // A large one is handed over as it is (no copy); the next read takes a new buffer.
        chunk = n === buf.length ? buf : buf.subarray(0, n);
        this.#buf = null;
      }
      if (!this.push(chunk)) {
        this.#stopReading();
        return;
      }
      // A byte stream that gave less than asked is drained for now (as libuv reads): the
      // next recv would only say EAGAIN; readiness calls again when more arrives.
      if (n < size && !this.#seq) return;
    }
  }

  #deliverFds(fds: number[]): void {
    if (this.listenerCount('fds') === 0) {
      for (const fd of fds) closeFd(fd);
      return;
    }
    this.emit('fds', fds);
  }

  // ---- writing ---------------------------------------------------------------------

  /** @internal One chunk: send what the kernel takes now, the rest when writable. */
  override _write(chunk: unknown, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#start(chunk, null, cb);
  }

  /** @internal Several chunks Node held while a write was under way: one gathered send. */
  override _writev(chunks: { chunk: unknown; encoding: BufferEncoding }[], cb: (err?: Error | null) => void): void {
    this.#start(null, chunks, cb);
  }

  #start(one: unknown, many: { chunk: unknown }[] | null, cb: (err?: Error | null) => void): void {
    const g = this.#g;
    g.bufs.length = 0;
    g.first = 0;
    g.offset = 0;
    try {
      if (many === null) g.bufs.push(this.#bytes(one));
      else for (let i = 0; i < many.length; i++) g.bufs.push(this.#bytes(many[i]!.chunk));
    } catch (err) {
      cb(err as Error);
      return;
    }
    this.#wcb = cb;
    const g0 = g.bufs[0]!;
    if (many === null && !this.#seq && g0.length < SMALL_WRITE && this.#fdChunks === 0) {
      // A small write waits for the end of this tick: writes made meanwhile are held by
      // Node's Writable and come next as one _writev, so a run of small writes costs two
      // system calls instead of one each.
      process.nextTick(this.#flushLater);
      return;
    }
    this.#flush();
  }

  #bytes(chunk: unknown): Uint8Array {
    const b = toBytesOrUtf8(chunk, 'chunk');
    if (this.#seq && b.length === 0) {
      throw new RangeError('an empty SEQPACKET message cannot be written: the peer would read it as the end of the stream');
    }
    return b;
  }

  /** Sends until the write is done or the kernel is full (then waits for writability). */
  #flush(): void {
    const g = this.#g;
    const sock = this.socket;
    const fd = sock.fileno();
    while (g.first < g.bufs.length) {
      const b = g.bufs[g.first]!;
      const fds = this.#fdChunks > 0 && g.offset === 0 ? this.#fdsOf.get(b) : undefined;
      let r: number;
      if (fds !== undefined) {
        r = trySendTo(fd, b, null, 0, fds);
        if (r >= 0) {
          this.#fdsOf.delete(b);
          this.#fdChunks--;
        }
      } else if (this.#seq) {
        r = sock.trySend(b, 0, b.length); // one message, all or nothing
      } else if (g.first === g.bufs.length - 1 || this.#fdChunks > 0) {
        r = sock.trySend(b, g.offset, b.length - g.offset);
      } else {
        r = trySendv(fd, g as Gather);
      }
      if (r >= 0) {
        this.#advance(r);
        continue;
      }
      if (r === NEG_EAGAIN) {
        if (!this.#writing) {
          try {
            this.#reactor.addWriter(sock, this.#onWritable);
            this.#writing = true;
          } catch (err) {
            this.#done(err as Error);
          }
        }
        return;
      }
      this.#done(OSError.fromErrno(-r, 'send', `fd ${fd}`));
      return;
    }
    this.#done(null);
  }

  /** Moves the send position `n` bytes on (a SEQPACKET message counts whole). */
  #advance(n: number): void {
    const g = this.#g;
    if (this.#seq) {
      g.first++;
      return;
    }
    let left = n;
    while (g.first < g.bufs.length) {
      const rest = g.bufs[g.first]!.length - g.offset;
      if (left < rest) {
        g.offset += left;
        return;
      }
      left -= rest;
      g.first++;
      g.offset = 0;
    }
  }

  #stopWriting(): void {
    if (!this.#writing) return;
    this.#writing = false;
    if (!this.#reactor.closed && !this.socket.closed) this.#reactor.removeWriter(this.socket);
  }

  #done(err: Error | null): void {
    // On success the writer callback stays registered: a busy stream meets EAGAIN again
    // soon, and keeping it saves two epoll_ctl calls each time; an idle one drops it at
    // the next wake-up (#onWritable).
    if (err !== null) this.#stopWriting();
    const cb = this.#wcb;
    this.#wcb = null;
    this.#g.bufs.length = 0;
    if (cb !== null) cb(err);
  }

  /**
   * Writes `data` with file descriptors attached (SCM_RIGHTS, AF_UNIX only), in order
   * with the other writes: the fds travel with the first byte of `data`. The fds stay
   * the caller's (the receiver gets duplicates): close them once the callback ran, if
   * they are no longer needed.
   * @param data  at least one byte (a SEQPACKET message: the whole message).
   * @param fds   numbers or objects with `fileno()` (a `Socket`), at most 253.
   * @returns `write()`'s answer: false when the caller should wait for `'drain'`.
   * @throws TypeError for a socket that is not AF_UNIX, bad data or fds; RangeError for
   *   empty data or more than 253 fds.
   */
  sendFds(data: Uint8Array | string, fds: readonly FdLike[], cb?: (err?: Error | null) => void): boolean {
    requireUnix(this.socket.family);
    const bytes = toBytesOrUtf8(data, 'data');
    if (bytes.length === 0) throw new RangeError('sendFds needs at least one byte of data to carry the fds');
    const nums = fdNumbers(fds, 'message');
    const copy = Buffer.from(bytes); // its own identity, so the fds stay with this chunk
    this.#fdsOf.set(copy, nums);
    this.#fdChunks++;
    return cb === undefined ? this.write(copy) : this.write(copy, cb);
  }

  /**
   * @internal The socket was closed behind the stream's back (not through destroy()):
   * end the stream with EBADF rather than wait for readiness that cannot come.
   */
  closedUnder(): void {
    this.#reading = false;
    this.#writing = false;
    process.nextTick(() => this.destroy(OSError.fromErrno(errno.EBADF, 'SocketStream', 'the socket was closed under the stream; close it with destroy()')));
  }

  // ---- ending ----------------------------------------------------------------------

  /** @internal Every write is in the kernel: shut down the sending side (the peer reads EOF). */
  override _final(cb: (err?: Error | null) => void): void {
    try {
      this.socket.shutdown(SHUT_WR);
    } catch (err) {
      // The peer already went away: nothing is left to tell it.
      if (!(err instanceof OSError && err.errno === ENOTCONN)) {
        cb(err as Error);
        return;
      }
    }
    cb();
  }

  /** @internal Stops watching and closes the socket, once. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#stopReading();
    this.#stopWriting();
    this.#wcb = null;
    let closeErr: Error | null = null;
    try {
      if (!this.socket.closed) release(this.socket.fileno(), this);
      this.socket.close();
    } catch (e) {
      closeErr = e as Error;
    }
    cb(err ?? closeErr);
  }
}

/**
 * Wraps a connected `SOCK_STREAM` or `SOCK_SEQPACKET` socket in a {@link SocketStream}
 * (a Node `Duplex`) driven by `options.reactor` (default: one Reactor per thread).
 */
export function toDuplex(sock: Socket, options?: SocketStreamOptions): SocketStream {
  return new SocketStream(sock, options);
}
