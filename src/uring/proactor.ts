/**
 * `Proactor`: completion-based socket I/O over Linux io_uring (asyncio's name for the
 * model). Operations are queued as submission entries; one `io_uring_enter` per loop turn
 * submits everything queued and reaps everything completed, and each completion is
 * dispatched by its `user_data` (an operation slot index plus a generation) into
 * preallocated tables: no JavaScript object is created per completion on the hot path.
 *
 * Memory: the SQ ring, CQ ring and SQE array are the kernel's, mapped into the process;
 * heads and tails are read and written with `Atomics` (ordered loads and stores on x64 and
 * arm64). Received data lands in a provided-buffer ring (anonymous mapping, page aligned)
 * that the kernel picks from; a buffer goes back to the ring when its callback returns, or
 * when the send that echoes it completes.
 *
 * Two ways to run it: inside Node's event loop (the default: libuv watches the ring fd,
 * nothing blocks) or a blocking {@link Proactor.run} for workers and scripts.
 */
import * as ring from '../sys/uring.js';
import { koffi } from '../sys/libc.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../sys/oserror.js';
import { onFdClosing } from '../sys/closing.js';
import { ClosedError } from '../errors.js';
import { toInteger, toFunction, toOptions, toBytes, toWritableBytes, describe } from '../validate.js';
import { uringSupport } from './support.js';
import { Engine } from './engine.js';
import { SendMsg } from './sendmsg.js';
import { K_ACCEPT, K_RECV, K_SEND, K_CLOSE, K_CANCEL, K_TIMEOUT, K_NOP, K_RECV_INTO, F_MULTI, F_USER_CANCEL, F_STARVED, type SlotCallback } from './slots.js';
import {
  toMs, timeoutOf, opError, settle,
  type AcceptCallback, type RecvCallback, type DoneCallback, type ProactorOptions, type OpOptions, type ProactorStats,
  type SendmsgOptions,
} from './types.js';

const NOT_A_FUNCTION = (): void => {};

/**
 * A completion-based socket I/O engine over io_uring. Create one per thread (the ring
 * is single-issuer); fds are plain numbers (a `Socket`'s `fileno()`).
 */
export class Proactor {
  /** Whether io_uring can be used here ({@link uringSupport} tells why not). */
  static isSupported(): boolean {
    return uringSupport().supported;
  }

  /** The ring fd. */
  readonly fd: number;
  /** The mode chosen at construction. */
  readonly mode: 'loop' | 'blocking';
  /** Size in bytes of each provided receive buffer. */
  readonly bufferSize: number;
  /** Number of provided receive buffers. */
  readonly bufferCount: number;

  readonly #e: Engine;
  readonly #unsubscribe: () => void;

  /**
   * Sets up a ring, maps it, and registers the provided-buffer ring.
   * @throws OSError (ENOSYS, EPERM...) with {@link uringSupport}'s reason when io_uring
   *   is unavailable; RangeError/TypeError for bad options.
   */
  constructor(options?: ProactorOptions) {
    const o = toOptions<ProactorOptions>(options, 'options');
    const entries = o.entries === undefined ? 256 : toInteger(o.entries, 'options.entries', 1, 4096);
    const bufCount = o.buffers === undefined ? 512 : toInteger(o.buffers, 'options.buffers', 1, 32768);
    if ((bufCount & (bufCount - 1)) !== 0) throw new RangeError(`options.buffers must be a power of two, got ${bufCount}`);
    const bufSize = o.bufferSize === undefined ? 16384 : toInteger(o.bufferSize, 'options.bufferSize', 1, 1 << 24);
    const cqEntries = o.completionEntries === undefined ? 0 : toInteger(o.completionEntries, 'options.completionEntries', 1, 65536);
    const mode = o.mode ?? 'loop';
    if (mode !== 'loop' && mode !== 'blocking') throw new TypeError(`options.mode must be 'loop' or 'blocking', got ${describe(mode)}`);
    const sup = uringSupport();
    if (!sup.supported) throw OSError.fromErrno(sup.errno || errno.ENOSYS, 'io_uring_setup', sup.reason);
    this.mode = mode;
    this.bufferSize = bufSize;
    this.bufferCount = bufCount;
    this.#e = new Engine(entries, cqEntries, bufCount, bufSize, mode);
    this.fd = this.#e.ring.fd;
    // An fd closed through iomux: cancel every operation on it first.
    this.#unsubscribe = onFdClosing((closing) => this.#e.cancelFd(closing, false));
    ring.guardFd(this.fd);
  }

  /** Counters of the ring's use so far. */
  get stats(): ProactorStats {
    return { ...this.#e.ring.stats, inFlight: this.#e.ops.inFlight };
  }

  /** The `io_uring_setup` flags the ring was created with (what the kernel accepted). */
  get setupFlags(): number {
    return this.#e.ring.setupFlags;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#e.closed;
  }

  /** The view of provided buffer `bufferId` (its whole size). */
  buffer(bufferId: number): Uint8Array {
    const b = this.#e.bufs.views[bufferId];
    if (b === undefined) throw new RangeError(`bufferId must be an integer in 0..${this.bufferCount - 1}, got ${describe(bufferId)}`);
    return b;
  }

  // ---- operations ----------------------------------------------------------------------

  /**
   * Accepts connections on listening socket `listenFd` until cancelled (multishot where the
   * kernel supports it, re-armed otherwise). Returns the operation id for {@link cancel}.
   */
  accept(listenFd: number, cb: AcceptCallback): number {
    return this.#start(K_ACCEPT, listenFd, 'listenFd', true, cb);
  }

  /**
   * Receives from `fd` into provided buffers until end of stream, an error or
   * {@link cancel} (multishot where the kernel supports it, re-armed otherwise).
   * Returns the operation id.
   */
  recv(fd: number, cb: RecvCallback): number {
    return this.#start(K_RECV, fd, 'fd', true, cb);
  }

  /**
   * Starts an accept or a provided-buffer receive on the fd named `what`: until cancelled
   * when `multi`, else once (with the linked timeout `options` asks for).
   */
  #start(kind: number, fd: number, what: string, multi: boolean, cb: unknown, options?: OpOptions): number {
    this.#open();
    const n = toInteger(fd, what, 0, 0x7fffffff);
    const f = toFunction<SlotCallback>(cb, 'cb');
    const tmo = timeoutOf(options);
    const e = this.#e;
    const s = e.ops.alloc(kind, n, f);
    if (multi) e.ops.flags[s] = F_MULTI;
    e.ops.setTimeout(s, tmo);
    if (kind === K_ACCEPT) e.armAccept(s);
    else e.armRecv(s);
    return e.ops.id(s);
  }

  /**
   * Receives once into the caller's `buf` (no provided buffer): `cb(n, fd)` with the byte
   * count, 0 at end of stream, or a negated errno. `buf` must stay untouched until `cb`
   * runs. Returns the operation id.
   */
  recvInto(fd: number, buf: Uint8Array, cb: DoneCallback, options?: OpOptions): number {
    this.#open();
    const n = toInteger(fd, 'fd', 0, 0x7fffffff);
    const bytes = toWritableBytes(buf, 'buf');
    const f = toFunction<DoneCallback>(cb, 'cb');
    const tmo = timeoutOf(options);
    void bytes.buffer; // an on-heap typed array moves off the heap here, so its address stays
    const e = this.#e;
    const s = e.ops.alloc(K_RECV_INTO, n, f as never);
    e.ops.ref[s] = bytes;
    e.ops.setTimeout(s, tmo);
    e.armRecvInto(s, bytes);
    return e.ops.id(s);
  }

  /**
   * Sends all of `data` on `fd` (partial sends are continued; sends on one fd go out in
   * call order). `data` must not change until `cb` runs. Returns the operation id.
   */
  send(fd: number, data: Uint8Array, cb?: DoneCallback, options?: OpOptions): number {
    this.#open();
    const n = toInteger(fd, 'fd', 0, 0x7fffffff);
    const bytes = toBytes(data, 'data');
    const f = cb === undefined ? NOT_A_FUNCTION : toFunction<DoneCallback>(cb, 'cb');
    const tmo = timeoutOf(options);
    void bytes.buffer; // an on-heap typed array moves off the heap here, so its address stays
    const e = this.#e;
    const o = e.ops;
    const s = o.alloc(K_SEND, n, f as never);
    o.ref[s] = bytes;
    o.addr[s] = Number(koffi.address(bytes));
    o.len[s] = bytes.byteLength;
    o.bid[s] = -1;
    o.setTimeout(s, tmo);
    e.enqueueSend(s);
    return o.id(s);
  }

  /**
   * Python's `sendmsg` through the ring: gathers `buffers` into one message on `fd`, with
   * `options.ancdata` (`[level, type, data]` control messages, e.g. SCM_RIGHTS),
   * `options.flags` and, for a datagram on an unconnected socket, `options.address` (the
   * bytes of a `struct sockaddr`). `cb(n, fd)` gets the bytes sent or a negated errno. On
   * a stream socket a short send is continued until every byte is sent (the control
   * messages go with the first part); a datagram goes in one piece. It joins `fd`'s send
   * queue: sends and sendmsgs on one fd go out in call order, and a `close(fd)` after it
   * runs after it. The control data and address are copied at the call, but not the bytes
   * of `buffers`: they must not change until `cb` runs, and fds passed must stay open
   * until then. Returns the operation id.
   * @throws TypeError / RangeError naming the argument at fault.
   */
  sendmsg(fd: number, buffers: Iterable<ArrayBufferView | ArrayBuffer>, cb?: DoneCallback, options?: SendmsgOptions): number {
    this.#open();
    const n = toInteger(fd, 'fd', 0, 0x7fffffff);
    const f = cb === undefined ? NOT_A_FUNCTION : toFunction<DoneCallback>(cb, 'cb');
    const m = new SendMsg(buffers, options);
    return this.#e.queueSendmsg(n, f, m, timeoutOf(options));
  }

  /**
   * Sends `length` bytes of provided buffer `bufferId` from `offset` (kept by a recv
   * callback that returned `true`), then gives the buffer back to the ring: the zero-copy
   * echo. Returns the operation id.
   */
  sendBuffer(fd: number, bufferId: number, offset: number, length: number, cb?: DoneCallback): number {
    this.#open();
    const e = this.#e;
    const n = toInteger(fd, 'fd', 0, 0x7fffffff);
    const bid = e.bufs.checkHeld(bufferId);
    const off = toInteger(offset, 'offset', 0, this.bufferSize);
    const len = toInteger(length, 'length', 0, this.bufferSize - off);
    const f = cb === undefined ? NOT_A_FUNCTION : toFunction<DoneCallback>(cb, 'cb');
    const o = e.ops;
    const s = o.alloc(K_SEND, n, f as never);
    o.ref[s] = null;
    o.addr[s] = e.bufs.mem.addr + bid * this.bufferSize + off;
    o.len[s] = len;
    o.bid[s] = bid;
    o.tmo[s] = 0;
    e.enqueueSend(s);
    return o.id(s);
  }

  /** Gives provided buffer `bufferId` (kept by a recv callback) back to the ring. */
  releaseBuffer(bufferId: number): void {
    const bid = this.#e.bufs.checkHeld(bufferId);
    if (this.#e.closed) return;
    this.#e.release(bid);
  }

  /**
   * Closes `fd` through the ring: its receives and accepts are cancelled at once (their
   * callbacks get `-ECANCELED`), the sends already queued on it go out first, then the
   * close runs. The fd must not be owned by a `Socket` (detach it first). `cb` gets 0 or
   * a negated errno. Returns the operation id.
   */
  close(fd: number, cb?: DoneCallback): number;
  /** Closes the Proactor itself (see {@link dispose}). */
  close(): void;
  close(fd?: number, cb?: DoneCallback): number | void {
    if (fd === undefined) return this.dispose();
    this.#open();
    const n = toInteger(fd, 'fd', 0, 0x7fffffff);
    const f = cb === undefined ? NOT_A_FUNCTION : toFunction<DoneCallback>(cb, 'cb');
    const e = this.#e;
    e.cancelFd(n, true); // receives and accepts end now; queued sends go out first
    const s = e.ops.alloc(K_CLOSE, n, f as never);
    e.enqueueSend(s);
    return e.ops.id(s);
  }

  /**
   * Cancels operation `op` (the id an operation returned; an id of an operation that has
   * ended never matches a later one). The operation completes with
   * `-ECANCELED` (or its result, if it had finished). `cb` gets the cancel's own result
   * (0, `-ENOENT` when nothing was found, `-EALREADY`). Returns false when `op` is not in
   * flight.
   */
  cancel(op: number, cb?: DoneCallback): boolean {
    this.#open();
    const e = this.#e;
    const id = toInteger(op, 'op', 0);
    const f = cb === undefined ? NOT_A_FUNCTION : toFunction<DoneCallback>(cb, 'cb');
    const s = e.ops.slotOf(id);
    if (s < 0) return false;
    e.ops.flags[s]! |= F_USER_CANCEL;
    if ((e.ops.flags[s]! & F_STARVED) !== 0) {
      // Waiting for a buffer, not in the kernel: end it here.
      e.endStarved(s);
      f(0, -1);
      return true;
    }
    const c = e.ops.alloc(K_CANCEL, -1, f as never);
    e.ring.cancelOf(e.sqe(c), s, e.ops.gen[s]!);
    return true;
  }

  /** Calls `cb(0)` after `ms` milliseconds (an io_uring timeout). Returns the operation id. */
  timeout(ms: number, cb: DoneCallback): number {
    this.#open();
    const t = toMs(ms, 'ms');
    const f = toFunction<DoneCallback>(cb, 'cb');
    const e = this.#e;
    const r = e.ring;
    const s = e.ops.alloc(K_TIMEOUT, -1, f as never);
    const i = e.sqe(s);
    r.sqe8[i] = ring.IORING_OP_TIMEOUT;
    r.sqeI32[(i >> 2) + 1] = -1;
    r.writeTs(i, t);
    r.sqe32[(i + ring.SQE_LEN) >> 2] = 1;
    return e.ops.id(s);
  }

  /** Completes `cb(0)` at the next turn: a wake-up that costs one SQE. */
  nop(cb: DoneCallback): number {
    this.#open();
    const e = this.#e;
    const s = e.ops.alloc(K_NOP, -1, toFunction<DoneCallback>(cb, 'cb') as never);
    e.sqe(s);
    return e.ops.id(s);
  }

  // ---- promise forms -------------------------------------------------------------------

  /** Accepts one connection; resolves to its fd. */
  acceptAsync(listenFd: number, options?: OpOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#start(K_ACCEPT, listenFd, 'listenFd', false, (r: number) => settle(r, resolve, reject, 'accept'), options);
    });
  }

  /** Receives one chunk (copied out of the provided buffer); an empty result is end of stream. */
  recvAsync(fd: number, options?: OpOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#start(K_RECV, fd, 'fd', false, (r: number, buf: Uint8Array) => {
        if (r < 0) reject(opError(r, 'recv'));
        else resolve(Buffer.from(buf.subarray(0, r)));
      }, options);
    });
  }

  /** Receives once into `buf`; resolves to the byte count (0 at end of stream). */
  recvIntoAsync(fd: number, buf: Uint8Array, options?: OpOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      this.recvInto(fd, buf, (r) => settle(r, resolve, reject, 'recv'), options);
    });
  }

  /** Sends all of `data`; resolves to the byte count. */
  sendAsync(fd: number, data: Uint8Array, options?: OpOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      this.send(fd, data, (r) => settle(r, resolve, reject, 'send'), options);
    });
  }

  /** {@link sendmsg} as a promise: resolves to the bytes sent. */
  sendmsgAsync(fd: number, buffers: Iterable<ArrayBufferView | ArrayBuffer>, options?: SendmsgOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      this.sendmsg(fd, buffers, (r) => settle(r, resolve, reject, 'sendmsg'), options);
    });
  }

  /** Closes `fd` through the ring (cancelling its operations first). */
  closeAsync(fd: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.close(fd, (r) => (r < 0 ? reject(opError(r, 'close')) : resolve()));
    });
  }

  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.timeout(ms, (r) => (r < 0 ? reject(opError(r, 'timeout')) : resolve()));
    });
  }

  // ---- running -------------------------------------------------------------------------

  /**
   * Blocking mode: submits, waits and dispatches until nothing is in flight,
   * {@link stop} is called from a callback, or `timeoutMs` passes (default: no limit).
   * One `io_uring_enter` per turn submits the queue and waits for at least one completion.
   * Returns the number of completions dispatched.
   */
  run(timeoutMs?: number): number {
    this.#open();
    if (this.mode !== 'blocking') throw new Error('run() is for a Proactor created with mode \'blocking\'; in mode \'loop\' Node\'s event loop drives it');
    if (this.#e.running) throw new Error('run() is already running');
    return this.#e.run(timeoutMs === undefined ? -1 : toMs(timeoutMs, 'timeoutMs'));
  }

  /** Makes {@link run} return after the completions of the current turn. */
  stop(): void {
    this.#e.stopRequested = true;
  }

  /**
   * Closes the ring: cancels every operation in flight and waits (up to 1 s) for the
   * kernel to finish them, so no receive can still write into the buffers; every operation
   * not yet reported gets `-ECANCELED` (promises reject), even one that completed
   * meanwhile. Stops watching the ring fd, unmaps the rings and
   * buffers, and closes the ring fd. The sockets themselves stay open. Idempotent.
   */
  dispose(): void {
    const e = this.#e;
    if (e.closed || e.disposing) return;
    e.disposing = true;
    this.#unsubscribe();
    e.drain();
    e.watcher?.close();
    ring.unguardFd(this.fd);
    e.ring.destroy();
  }

  /** `using p = new Proactor()`: closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #open(): void {
    if (this.#e.closed || this.#e.disposing) throw new ClosedError('Proactor is closed');
  }
}
