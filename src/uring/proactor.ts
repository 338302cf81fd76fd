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
import { errno as lastErrno, view, koffi, close as closeFdRaw } from '../sys/libc.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../sys/oserror.js';
import { fdClosing, onFdClosing } from '../sys/closing.js';
import { ClosedError } from '../errors.js';
import { toInteger, toFunction, toOptions, toBytes, toWritableBytes, describe } from '../validate.js';
import { FdWatcher } from '../sys/uvpoll.js';
import { uringSupport, mapAnon, mapRing, type Mapping } from './support.js';
import {
  toMs, timeoutOf, opError, settle,
  type AcceptCallback, type RecvCallback, type DoneCallback, type ProactorOptions, type OpOptions, type ProactorStats,
} from './types.js';

const ECANCELED = errno.ECANCELED;
const ENOBUFS = errno.ENOBUFS;
const EINTR = errno.EINTR;
const EBUSY = errno.EBUSY;
const EAGAIN = errno.EAGAIN;
const ETIME = errno.ETIME;
const EINVAL = errno.EINVAL;
const ETIMEDOUT = errno.ETIMEDOUT;

// Slot kinds.
const K_FREE = 0;
const K_ACCEPT = 1;
const K_RECV = 2;
const K_SEND = 3;
const K_CLOSE = 4;
const K_CANCEL = 5;
const K_TIMEOUT = 6;
const K_NOP = 7;
const K_RECV_INTO = 8;
// Slot flags.
const F_MULTI = 1;
const F_USER_CANCEL = 2;
const F_TIMEOUT = 4;
const F_STARVED = 8;
const F_ENDING = 16;
/** Operation ids are `generation * OP_SLOTS + slot`. */
const OP_SLOTS = 0x100000;
/** user_data low word of internal SQEs whose completions are ignored. */
const IGNORE = 0xffffffff;

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

  // Rings.
  readonly #sqEntries: number;
  readonly #sqMask: number;
  readonly #cqMask: number;
  readonly #maps: Mapping[] = [];
  readonly #sqRing: Uint32Array;
  readonly #sqHeadIdx: number;
  readonly #sqTailIdx: number;
  readonly #sqFlagsIdx: number;
  readonly #cqRing: Uint32Array;
  readonly #cqHeadIdx: number;
  readonly #cqTailIdx: number;
  readonly #cqes: Uint32Array;
  readonly #cqesI32: Int32Array;
  readonly #cqeBase: number;
  readonly #sqe8: Uint8Array;
  readonly #sqe16: Uint16Array;
  readonly #sqe32: Uint32Array;
  readonly #sqeI32: Int32Array;
  #sqTail = 0;
  #sqSubmitted = 0;
  #cqHead = 0;

  // Native scratch: timespecs (one per SQE index), the getevents argument.
  readonly #ts: Mapping;
  readonly #ts32: Uint32Array;
  readonly #waitArg: DataView;
  readonly #waitBytes: Uint8Array;

  // Provided buffers.
  readonly #bufRing: Mapping;
  readonly #br32: Uint32Array;
  readonly #br16: Uint16Array;
  readonly #bufMem: Mapping;
  readonly #bufViews: Uint8Array[];
  readonly #bufMask: number;
  #bufTail = 0;
  #bufDirty = false;
  readonly #bufOut: Uint8Array; // 1 while the buffer is out of the ring
  #starved: number[] = [];

  // Operation slots.
  #cap = 0;
  #kind: Uint8Array = new Uint8Array(0);
  #flags: Uint8Array = new Uint8Array(0);
  #gen: Uint32Array = new Uint32Array(0);
  #fdOf: Int32Array = new Int32Array(0);
  #cb: Array<((...a: never[]) => unknown) | null> = [];
  #ref: Array<Uint8Array | null> = [];
  #addr: Float64Array = new Float64Array(0);
  #len: Int32Array = new Int32Array(0);
  #done: Int32Array = new Int32Array(0);
  #bid: Int32Array = new Int32Array(0);
  #next: Int32Array = new Int32Array(0);
  #tmo: Float64Array = new Float64Array(0);
  #free: number[] = [];
  #inFlight = 0;
  // Per-fd send queues (one send in flight per fd keeps the byte order).
  #sendHead: Int32Array = new Int32Array(64).fill(-1);
  #sendTail: Int32Array = new Int32Array(64).fill(-1);

  readonly #multiRecv = { ok: true };
  readonly #multiAccept = { ok: true };

  readonly #watcher: FdWatcher | null = null;
  #turnScheduled = false;
  #inTurn = false;
  #running = false;
  #stopRequested = false;
  #closed = false;
  readonly #setupFlags: number;
  #disposing = false;
  #drainWaiting = 0;
  readonly #unsubscribe: () => void;
  readonly #stats = { enters: 0, submitted: 0, completed: 0, overflows: 0, sqFull: 0 };
  readonly #turn = (): void => this.#loopTurn();

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

    // Setup: single issuer with deferred task work (completions are posted only when this
    // thread enters the ring: fewer wake-ups), falling back for older kernels.
    const base = ring.IORING_SETUP_SUBMIT_ALL | ring.IORING_SETUP_CLAMP | (cqEntries ? ring.IORING_SETUP_CQSIZE : 0);
    // In Node's loop, libuv polls the ring fd, and a ring with deferred task work never
    // makes its fd readable by itself (completions are posted only when this thread
    // enters the ring): that mode takes cooperative task work instead.
    const attempts = mode === 'blocking'
      ? [base | ring.IORING_SETUP_SINGLE_ISSUER | ring.IORING_SETUP_DEFER_TASKRUN, base | ring.IORING_SETUP_COOP_TASKRUN, base]
      : [base | ring.IORING_SETUP_SINGLE_ISSUER | ring.IORING_SETUP_COOP_TASKRUN, base | ring.IORING_SETUP_COOP_TASKRUN, base];
    const params = new Uint8Array(ring.PARAMS_SIZE);
    const pv = new DataView(params.buffer);
    let fd = -1;
    let err = 0;
    let flagsUsed = 0;
    for (const flags of attempts) {
      params.fill(0);
      pv.setUint32(ring.P_FLAGS, flags, true);
      if (cqEntries) pv.setUint32(ring.P_CQ_ENTRIES, cqEntries, true);
      fd = Number(ring.setupCall(ring.SYS_io_uring_setup, entries, params));
      if (fd >= 0) {
        flagsUsed = flags;
        break;
      }
      err = lastErrno();
      if (err !== EINVAL) break;
    }
    if (fd < 0) throw OSError.fromErrno(err, 'io_uring_setup');
    this.fd = fd;
    this.#setupFlags = flagsUsed;
    try {
      const u32 = (off: number): number => pv.getUint32(off, true);
      const features = u32(ring.P_FEATURES);
      if ((features & ring.IORING_FEAT_NODROP) === 0 || (features & ring.IORING_FEAT_SINGLE_MMAP) === 0) {
        throw OSError.fromErrno(errno.EOPNOTSUPP, 'io_uring_setup', 'the kernel\'s io_uring lacks IORING_FEAT_NODROP or IORING_FEAT_SINGLE_MMAP (Linux 5.5+)');
      }
      this.#sqEntries = u32(ring.P_SQ_ENTRIES);
      const cqN = u32(ring.P_CQ_ENTRIES);
      const sqArray = u32(ring.P_SQ_ARRAY);
      const cqesOff = u32(ring.P_CQ_CQES);
      const ringLen = Math.max(sqArray + this.#sqEntries * 4, cqesOff + cqN * ring.CQE_SIZE);
      const rm = mapRing(fd, ringLen, ring.IORING_OFF_SQ_RING);
      this.#maps.push(rm);
      const sm = mapRing(fd, this.#sqEntries * ring.SQE_SIZE, ring.IORING_OFF_SQES);
      this.#maps.push(sm);
      const all = new Uint32Array(rm.buf);
      this.#sqRing = all;
      this.#cqRing = all;
      this.#sqHeadIdx = u32(ring.P_SQ_HEAD) >>> 2;
      this.#sqTailIdx = u32(ring.P_SQ_TAIL) >>> 2;
      this.#sqFlagsIdx = u32(ring.P_SQ_FLAGS) >>> 2;
      this.#sqMask = all[u32(ring.P_SQ_RING_MASK) >>> 2]!;
      this.#cqHeadIdx = u32(ring.P_CQ_HEAD) >>> 2;
      this.#cqTailIdx = u32(ring.P_CQ_TAIL) >>> 2;
      this.#cqMask = all[u32(ring.P_CQ_RING_MASK) >>> 2]!;
      this.#cqes = all;
      this.#cqesI32 = new Int32Array(rm.buf);
      this.#cqeBase = cqesOff >>> 2;
      // The SQ index array maps ring positions to SQEs: identity, written once.
      for (let i = 0; i < this.#sqEntries; i++) all[(sqArray >>> 2) + i] = i;
      this.#sqTail = this.#sqSubmitted = Atomics.load(all, this.#sqTailIdx);
      this.#cqHead = Atomics.load(all, this.#cqHeadIdx);
      this.#sqe8 = new Uint8Array(sm.buf);
      this.#sqe16 = new Uint16Array(sm.buf);
      this.#sqe32 = new Uint32Array(sm.buf);
      this.#sqeI32 = new Int32Array(sm.buf);

      this.#ts = mapAnon(this.#sqEntries * ring.TIMESPEC_SIZE + 64);
      this.#maps.push(this.#ts);
      this.#ts32 = new Uint32Array(this.#ts.buf);
      this.#waitArg = new DataView(this.#ts.buf, this.#sqEntries * ring.TIMESPEC_SIZE, 40);
      this.#waitBytes = new Uint8Array(this.#ts.buf, this.#sqEntries * ring.TIMESPEC_SIZE, 40);

      // Provided-buffer ring and its memory.
      this.#bufMask = bufCount - 1;
      this.#bufRing = mapAnon(Math.max(4096, bufCount * ring.BUF_SIZE));
      this.#maps.push(this.#bufRing);
      this.#br32 = new Uint32Array(this.#bufRing.buf);
      this.#br16 = new Uint16Array(this.#bufRing.buf);
      this.#bufMem = mapAnon(bufCount * bufSize);
      this.#maps.push(this.#bufMem);
      this.#bufOut = new Uint8Array(bufCount);
      this.#bufViews = new Array<Uint8Array>(bufCount);
      for (let b = 0; b < bufCount; b++) this.#bufViews[b] = new Uint8Array(this.#bufMem.buf, b * bufSize, bufSize);
      const reg = new Uint8Array(ring.BUF_REG_SIZE);
      const rv = new DataView(reg.buffer);
      rv.setBigUint64(0, BigInt(this.#bufRing.addr), true);
      rv.setUint32(8, bufCount, true);
      rv.setUint16(12, 0, true); // buffer group 0
      if (Number(ring.registerCall(ring.SYS_io_uring_register, fd, ring.IORING_REGISTER_PBUF_RING, reg, 1)) < 0) {
        throw OSError.fromErrno(lastErrno(), 'io_uring_register', 'registering the provided-buffer ring');
      }
      for (let b = 0; b < bufCount; b++) this.#pushBuffer(b);
      this.#publishBuffers();
      this.#grow(256);
      if (mode === 'loop') {
        const w = new FdWatcher(fd, this.#onRingReady);
        try {
          w.start();
        } catch (err) {
          w.close();
          throw err;
        }
        this.#watcher = w;
      }
    } catch (e) {
      for (const m of this.#maps) ring.munmap(m.ptr, m.len);
      closeFdRaw(fd);
      throw e;
    }
    this.#unsubscribe = onFdClosing((closing) => this.#onFdClosing(closing));
    ring.guardFd(fd);
  }

  /** Counters of the ring's use so far. */
  get stats(): ProactorStats {
    return { ...this.#stats, inFlight: this.#inFlight };
  }

  /** The `io_uring_setup` flags the ring was created with (what the kernel accepted). */
  get setupFlags(): number {
    return this.#setupFlags;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The view of provided buffer `bufferId` (its whole size). */
  buffer(bufferId: number): Uint8Array {
    const b = this.#bufViews[bufferId];
    if (b === undefined) throw new RangeError(`bufferId must be an integer in 0..${this.bufferCount - 1}, got ${describe(bufferId)}`);
    return b;
  }

  // ---- operations ----------------------------------------------------------------------

  /**
   * Accepts connections on listening socket `listenFd` until cancelled (multishot where the
   * kernel supports it, re-armed otherwise). Returns the operation id for {@link cancel}.
   */
  accept(listenFd: number, cb: AcceptCallback): number {
    this.#open();
    const fd = toInteger(listenFd, 'listenFd', 0, 0x7fffffff);
    const f = toFunction<AcceptCallback>(cb, 'cb');
    const s = this.#alloc(K_ACCEPT, fd, f as never);
    this.#flags[s] = F_MULTI;
    this.#armAccept(s);
    return this.#opId(s);
  }

  /**
   * Receives from `fd` into provided buffers until end of stream, an error or
   * {@link cancel} (multishot where the kernel supports it, re-armed otherwise).
   * Returns the operation id.
   */
  recv(fd: number, cb: RecvCallback): number {
    this.#open();
    const n = toInteger(fd, 'fd', 0, 0x7fffffff);
    const f = toFunction<RecvCallback>(cb, 'cb');
    const s = this.#alloc(K_RECV, n, f as never);
    this.#flags[s] = F_MULTI;
    this.#armRecv(s);
    return this.#opId(s);
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
    const s = this.#alloc(K_RECV_INTO, n, f as never);
    this.#ref[s] = bytes;
    this.#setTimeout(s, tmo);
    const i = this.#sqe(s);
    this.#sqe8[i] = ring.IORING_OP_RECV;
    this.#sqeI32[(i >> 2) + 1] = n;
    const addr = Number(koffi.address(bytes));
    this.#sqe32[(i + ring.SQE_ADDR) >> 2] = addr >>> 0;
    this.#sqe32[(i + ring.SQE_ADDR + 4) >> 2] = Math.floor(addr / 0x100000000);
    this.#sqe32[(i + ring.SQE_LEN) >> 2] = bytes.byteLength;
    if (tmo >= 0) this.#linkTimeout(s, i);
    return this.#opId(s);
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
    const s = this.#alloc(K_SEND, n, f as never);
    this.#ref[s] = bytes;
    this.#addr[s] = Number(koffi.address(bytes));
    this.#len[s] = bytes.byteLength;
    this.#bid[s] = -1;
    this.#setTimeout(s, tmo);
    this.#enqueueSend(s);
    return this.#opId(s);
  }

  /**
   * Sends `length` bytes of provided buffer `bufferId` from `offset` (kept by a recv
   * callback that returned `true`), then gives the buffer back to the ring: the zero-copy
   * echo. Returns the operation id.
   */
  sendBuffer(fd: number, bufferId: number, offset: number, length: number, cb?: DoneCallback): number {
    this.#open();
    const bid = this.#checkBid(bufferId);
    const off = toInteger(offset, 'offset', 0, this.bufferSize);
    const len = toInteger(length, 'length', 0, this.bufferSize - off);
    const s = this.#alloc(K_SEND, fd, (cb ?? NOT_A_FUNCTION) as never);
    this.#ref[s] = null;
    this.#addr[s] = this.#bufMem.addr + bid * this.bufferSize + off;
    this.#len[s] = len;
    this.#bid[s] = bid;
    this.#tmo[s] = 0;
    this.#enqueueSend(s);
    return this.#opId(s);
  }

  /** Gives provided buffer `bufferId` (kept by a recv callback) back to the ring. */
  releaseBuffer(bufferId: number): void {
    const bid = this.#checkBid(bufferId);
    if (this.#closed) return;
    this.#release(bid);
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
    this.#cancelFd(n, true); // receives and accepts end now; queued sends go out first
    const s = this.#alloc(K_CLOSE, n, f as never);
    this.#enqueueSend(s);
    return this.#opId(s);
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
    const id = toInteger(op, 'op', 0);
    const s = id % OP_SLOTS;
    if (s >= this.#cap || this.#kind[s] === K_FREE || this.#kind[s] === K_CANCEL
      || this.#gen[s] !== Math.floor(id / OP_SLOTS) % 0x100000000) return false;
    this.#flags[s]! |= F_USER_CANCEL;
    if ((this.#flags[s]! & F_STARVED) !== 0) {
      // Waiting for a buffer, not in the kernel: end it here.
      this.#flags[s]! &= ~F_STARVED;
      this.#starved = this.#starved.filter((x) => x !== s);
      this.#finish(s, -ECANCELED);
      cb?.(0, -1);
      return true;
    }
    const c = this.#alloc(K_CANCEL, -1, (cb ?? NOT_A_FUNCTION) as never);
    const i = this.#sqe(c);
    this.#sqe8[i] = ring.IORING_OP_ASYNC_CANCEL;
    this.#sqeI32[(i >> 2) + 1] = -1;
    this.#sqe32[(i + ring.SQE_ADDR) >> 2] = s;
    this.#sqe32[(i + ring.SQE_ADDR + 4) >> 2] = this.#gen[s]!;
    return true;
  }

  /** Calls `cb(0)` after `ms` milliseconds (an io_uring timeout). Returns the operation id. */
  timeout(ms: number, cb: DoneCallback): number {
    this.#open();
    const t = toMs(ms, 'ms');
    const f = toFunction<DoneCallback>(cb, 'cb');
    const s = this.#alloc(K_TIMEOUT, -1, f as never);
    const i = this.#sqe(s);
    this.#sqe8[i] = ring.IORING_OP_TIMEOUT;
    this.#sqeI32[(i >> 2) + 1] = -1;
    this.#writeTs(i, t);
    this.#sqe32[(i + ring.SQE_LEN) >> 2] = 1;
    return this.#opId(s);
  }

  /** Completes `cb(0)` at the next turn: a wake-up that costs one SQE. */
  nop(cb: DoneCallback): number {
    this.#open();
    const s = this.#alloc(K_NOP, -1, toFunction<DoneCallback>(cb, 'cb') as never);
    this.#sqe(s);
    return this.#opId(s);
  }

  // ---- promise forms -------------------------------------------------------------------

  /** Accepts one connection; resolves to its fd. */
  acceptAsync(listenFd: number, options?: OpOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#open();
      const fd = toInteger(listenFd, 'listenFd', 0, 0x7fffffff);
      const tmo = timeoutOf(options);
      const s = this.#alloc(K_ACCEPT, fd, ((r: number) => settle(r, resolve, reject, 'accept')) as never);
      this.#flags[s] = 0;
      this.#setTimeout(s, tmo);
      this.#armAccept(s);
    });
  }

  /** Receives one chunk (copied out of the provided buffer); an empty result is end of stream. */
  recvAsync(fd: number, options?: OpOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#open();
      const n = toInteger(fd, 'fd', 0, 0x7fffffff);
      const tmo = timeoutOf(options);
      const s = this.#alloc(K_RECV, n, ((r: number, buf: Uint8Array) => {
        if (r < 0) reject(opError(r, 'recv'));
        else resolve(Buffer.from(buf.subarray(0, r)));
      }) as never);
      this.#flags[s] = 0;
      this.#setTimeout(s, tmo);
      this.#armRecv(s);
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
    if (this.#running) throw new Error('run() is already running');
    const limit = timeoutMs === undefined ? -1 : toMs(timeoutMs, 'timeoutMs');
    const deadline = limit < 0 ? 0 : performance.now() + limit;
    this.#running = true;
    this.#stopRequested = false;
    const before = this.#stats.completed;
    try {
      while (!this.#stopRequested && !this.#closed) {
        this.#reap();
        if (this.#stopRequested || this.#closed) break;
        // Nothing that can complete: a starved receive needs a buffer back first.
        if (this.#inFlight <= this.#starved.length && this.#pending() === 0) break;
        if (limit >= 0) {
          const left = deadline - performance.now();
          if (left <= 0) {
            this.#enter(0, -1);
            this.#reap();
            break;
          }
          this.#enter(1, left);
        } else {
          this.#enter(1, -1);
        }
      }
    } finally {
      this.#running = false;
    }
    return this.#stats.completed - before;
  }

  /** Makes {@link run} return after the completions of the current turn. */
  stop(): void {
    this.#stopRequested = true;
  }

  /**
   * Closes the ring: cancels every operation in flight and waits (up to 1 s) for the
   * kernel to finish them, so no receive can still write into the buffers; every operation
   * not yet reported gets `-ECANCELED` (promises reject), even one that completed
   * meanwhile. Stops watching the ring fd, unmaps the rings and
   * buffers, and closes the ring fd. The sockets themselves stay open. Idempotent.
   */
  dispose(): void {
    if (this.#closed || this.#disposing) return;
    this.#disposing = true;
    this.#unsubscribe();
    // Cancel everything in the kernel and wait until the kernel is done with every
    // operation (so no receive can still write into the buffers), without dispatching:
    // every operation not yet reported is reported as cancelled below.
    let waiting = 0;
    for (let s = 0; s < this.#cap; s++) {
      const k = this.#kind[s];
      if (k === K_FREE || (this.#flags[s]! & F_STARVED) !== 0) continue;
      if ((k === K_SEND || k === K_CLOSE) && this.#sendHead[this.#fdOf[s]!] !== s) continue;
      waiting++;
    }
    this.#drainWaiting = waiting;
    if (waiting > 0) {
      const i = this.#sqeRaw();
      this.#sqe8[i] = ring.IORING_OP_ASYNC_CANCEL;
      this.#sqeI32[(i >> 2) + 1] = -1;
      this.#sqe32[(i + ring.SQE_OP_FLAGS) >> 2] = ring.IORING_ASYNC_CANCEL_ALL | (1 << 2) /* ANY */;
      this.#sqe32[(i + ring.SQE_USER_DATA) >> 2] = IGNORE;
      const until = performance.now() + 1000;
      while (this.#drainWaiting > 0) {
        const left = until - performance.now();
        if (left <= 0) break;
        this.#enter(1, Math.min(left, 100));
        this.#reap();
      }
    }
    this.#closed = true;
    // Whatever is left (starved receives, anything the kernel did not return in time).
    for (let s = 0; s < this.#cap; s++) {
      if (this.#kind[s] !== K_FREE) this.#finish(s, -ECANCELED);
    }
    this.#starved = [];
    this.#watcher?.close();
    ring.unguardFd(this.fd);
    closeFdRaw(this.fd);
    for (const m of this.#maps) ring.munmap(m.ptr, m.len);
    this.#maps.length = 0;
  }

  /** `using p = new Proactor()`: closes it at the end of the scope. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- internals: slots ------------------------------------------------------------------

  #open(): void {
    if (this.#closed || this.#disposing) throw new ClosedError('Proactor is closed');
  }

  #grow(cap: number): void {
    const old = this.#cap;
    const g8 = (a: Uint8Array): Uint8Array => { const n = new Uint8Array(cap); n.set(a); return n; };
    const gI = (a: Int32Array): Int32Array => { const n = new Int32Array(cap); n.set(a); return n; };
    this.#kind = g8(this.#kind);
    this.#flags = g8(this.#flags);
    const gen = new Uint32Array(cap);
    gen.set(this.#gen);
    this.#gen = gen;
    this.#fdOf = gI(this.#fdOf);
    this.#len = gI(this.#len);
    this.#done = gI(this.#done);
    this.#bid = gI(this.#bid);
    this.#next = gI(this.#next);
    const a = new Float64Array(cap);
    a.set(this.#addr);
    this.#addr = a;
    const t = new Float64Array(cap);
    t.set(this.#tmo);
    this.#tmo = t;
    for (let s = old; s < cap; s++) {
      this.#cb.push(null);
      this.#ref.push(null);
    }
    for (let s = cap - 1; s >= old; s--) this.#free.push(s);
    this.#cap = cap;
  }

  /** The id of the operation in slot `s`: slot and generation, so a stale id never matches. */
  #opId(s: number): number {
    return this.#gen[s]! * OP_SLOTS + s;
  }

  #alloc(kind: number, fd: number, cb: (...a: never[]) => unknown): number {
    if (this.#free.length === 0) {
      if (this.#cap >= OP_SLOTS) throw new RangeError(`more than ${OP_SLOTS} operations in flight`);
      this.#grow(this.#cap * 2);
    }
    const s = this.#free.pop()!;
    this.#kind[s] = kind;
    this.#flags[s] = 0;
    this.#gen[s] = (this.#gen[s]! + 1) >>> 0;
    this.#fdOf[s] = fd;
    this.#cb[s] = cb;
    this.#next[s] = -1;
    this.#done[s] = 0;
    this.#tmo[s] = 0;
    this.#inFlight++;
    return s;
  }

  #freeSlot(s: number): void {
    this.#kind[s] = K_FREE;
    this.#cb[s] = null;
    this.#ref[s] = null;
    this.#inFlight--;
    this.#free.push(s);
    this.#updateRef();
  }

  /** Ends slot `s`: calls its callback with `res` and frees it. */
  #finish(s: number, res: number): void {
    const kind = this.#kind[s]!;
    const cb = this.#cb[s]!;
    const fd = this.#fdOf[s]!;
    if (kind === K_SEND) {
      const bid = this.#bid[s]!;
      if (bid >= 0 && !this.#closed) this.#release(bid);
    }
    this.#freeSlot(s);
    if (kind === K_RECV) (cb as RecvCallback)(res, EMPTY, -1, fd);
    else (cb as DoneCallback)(res, fd);
  }

  #checkBid(bufferId: number): number {
    const bid = toInteger(bufferId, 'bufferId', 0, this.bufferCount - 1);
    if (this.#bufOut[bid] === 0) throw new RangeError(`provided buffer ${bid} is not held (it is in the ring)`);
    return bid;
  }

  #setTimeout(s: number, ms: number): void {
    if (ms >= 0) {
      this.#flags[s]! |= F_TIMEOUT;
      this.#tmo[s] = ms;
    }
  }

  // ---- internals: SQEs -------------------------------------------------------------------

  #pending(): number {
    return this.#sqTail - this.#sqSubmitted;
  }

  /** A zeroed SQE at the SQ tail (submitting early when the ring is full); returns its byte offset. */
  #sqeRaw(need = 1): number {
    // The kernel's head is read only when the last value read says the ring is full.
    if (this.#sqTail - this.#sqSubmitted > this.#sqEntries - need
      && this.#sqTail - Atomics.load(this.#sqRing, this.#sqHeadIdx) > this.#sqEntries - need) {
      this.#stats.sqFull++;
      this.#enter(0, -1);
      while (this.#sqTail - Atomics.load(this.#sqRing, this.#sqHeadIdx) > this.#sqEntries - need) {
        // The kernel took none (EBUSY: completions must be reaped first).
        this.#reap();
        this.#enter(0, -1);
      }
    }
    const idx = this.#sqTail & this.#sqMask;
    this.#sqTail = (this.#sqTail + 1) >>> 0;
    // Zero the 64-byte SQE with plain stores (TypedArray#fill is a runtime call).
    const q = this.#sqe32;
    const w = idx << 4;
    q[w] = 0; q[w + 1] = 0; q[w + 2] = 0; q[w + 3] = 0; q[w + 4] = 0; q[w + 5] = 0; q[w + 6] = 0; q[w + 7] = 0;
    q[w + 8] = 0; q[w + 9] = 0; q[w + 10] = 0; q[w + 11] = 0; q[w + 12] = 0; q[w + 13] = 0; q[w + 14] = 0; q[w + 15] = 0;
    this.#kick();
    return idx << 6;
  }

  /** An SQE for slot `s` (user_data set); with a linked timeout when the slot has one. */
  #sqe(s: number): number {
    // An SQE and its linked timeout must go to the kernel in the same submission.
    const i = this.#sqeRaw((this.#flags[s]! & F_TIMEOUT) !== 0 ? 2 : 1);
    this.#sqe32[(i + ring.SQE_USER_DATA) >> 2] = s;
    this.#sqe32[(i + ring.SQE_USER_DATA + 4) >> 2] = this.#gen[s]!;
    return i;
  }

  /** Appends the linked timeout SQE for slot `s` after its SQE at byte offset `i`. */
  #linkTimeout(s: number, i: number): void {
    this.#sqe8[i + ring.SQE_FLAGS]! |= ring.IOSQE_IO_LINK;
    const t = this.#sqeRaw();
    this.#sqe8[t] = ring.IORING_OP_LINK_TIMEOUT;
    this.#sqeI32[(t >> 2) + 1] = -1;
    this.#writeTs(t, this.#tmo[s]!);
    this.#sqe32[(t + ring.SQE_LEN) >> 2] = 1;
    this.#sqe32[(t + ring.SQE_USER_DATA) >> 2] = IGNORE;
  }

  /** Writes a timespec of `ms` for the SQE at byte offset `i` and points the SQE at it. */
  #writeTs(i: number, ms: number): void {
    const idx = i >> 6;
    const sec = Math.floor(ms / 1000);
    const nsec = Math.round((ms - sec * 1000) * 1e6);
    const w = idx << 2;
    this.#ts32[w] = sec >>> 0;
    this.#ts32[w + 1] = Math.floor(sec / 0x100000000);
    this.#ts32[w + 2] = nsec;
    this.#ts32[w + 3] = 0;
    const addr = this.#ts.addr + idx * ring.TIMESPEC_SIZE;
    this.#sqe32[(i + ring.SQE_ADDR) >> 2] = addr >>> 0;
    this.#sqe32[(i + ring.SQE_ADDR + 4) >> 2] = Math.floor(addr / 0x100000000);
  }

  #armAccept(s: number): void {
    const i = this.#sqe(s);
    this.#sqe8[i] = ring.IORING_OP_ACCEPT;
    this.#sqeI32[(i >> 2) + 1] = this.#fdOf[s]!;
    this.#sqe32[(i + ring.SQE_OP_FLAGS) >> 2] = 0o2000000; // SOCK_CLOEXEC
    if ((this.#flags[s]! & F_MULTI) !== 0 && this.#multiAccept.ok) this.#sqe16[(i + ring.SQE_IOPRIO) >> 1] = ring.IORING_ACCEPT_MULTISHOT;
    else if ((this.#flags[s]! & F_TIMEOUT) !== 0) this.#linkTimeout(s, i);
  }

  #armRecv(s: number): void {
    const i = this.#sqe(s);
    this.#sqe8[i] = ring.IORING_OP_RECV;
    this.#sqe8[i + ring.SQE_FLAGS] = ring.IOSQE_BUFFER_SELECT;
    this.#sqeI32[(i >> 2) + 1] = this.#fdOf[s]!;
    this.#sqe16[(i + ring.SQE_BUF_GROUP) >> 1] = 0;
    if ((this.#flags[s]! & F_MULTI) !== 0 && this.#multiRecv.ok) this.#sqe16[(i + ring.SQE_IOPRIO) >> 1] = ring.IORING_RECV_MULTISHOT;
    else if ((this.#flags[s]! & F_TIMEOUT) !== 0) this.#linkTimeout(s, i);
  }

  #enqueueSend(s: number): void {
    const fd = this.#fdOf[s]!;
    if (fd >= this.#sendHead.length) {
      let n = this.#sendHead.length;
      while (n <= fd) n *= 2;
      const h = new Int32Array(n).fill(-1);
      h.set(this.#sendHead);
      const t = new Int32Array(n).fill(-1);
      t.set(this.#sendTail);
      this.#sendHead = h;
      this.#sendTail = t;
    }
    const tail = this.#sendTail[fd]!;
    if (tail < 0) {
      this.#sendHead[fd] = s;
      this.#sendTail[fd] = s;
      this.#armQueued(s);
    } else {
      this.#next[tail] = s;
      this.#sendTail[fd] = s;
    }
  }

  /** Starts the head of an fd's queue: a send, or the close queued behind the sends. */
  #armQueued(s: number): void {
    if (this.#kind[s] === K_SEND) {
      this.#armSend(s);
      return;
    }
    const fd = this.#fdOf[s]!;
    fdClosing(fd);
    const i = this.#sqe(s);
    this.#sqe8[i] = ring.IORING_OP_CLOSE;
    this.#sqeI32[(i >> 2) + 1] = fd;
  }

  #armSend(s: number): void {
    const i = this.#sqe(s);
    this.#sqe8[i] = ring.IORING_OP_SEND;
    this.#sqeI32[(i >> 2) + 1] = this.#fdOf[s]!;
    const addr = this.#addr[s]! + this.#done[s]!;
    this.#sqe32[(i + ring.SQE_ADDR) >> 2] = addr >>> 0;
    this.#sqe32[(i + ring.SQE_ADDR + 4) >> 2] = Math.floor(addr / 0x100000000);
    this.#sqe32[(i + ring.SQE_LEN) >> 2] = this.#len[s]! - this.#done[s]!;
    this.#sqe32[(i + ring.SQE_OP_FLAGS) >> 2] = 0x4000; // MSG_NOSIGNAL
    if ((this.#flags[s]! & F_TIMEOUT) !== 0) this.#linkTimeout(s, i);
  }

  /** Pops finished send `s` off its fd's queue and starts the next one. */
  #sendDone(s: number): void {
    const fd = this.#fdOf[s]!;
    const next = this.#next[s]!;
    if (this.#sendHead[fd] !== s) return;
    let n = next;
    // Sends queued behind a cancelled one end with it (the fd is being closed).
    while (n >= 0 && (this.#flags[n]! & F_USER_CANCEL) !== 0 && this.#kind[n] === K_SEND) {
      const after = this.#next[n]!;
      this.#sendHead[fd] = after;
      this.#finish(n, -ECANCELED);
      n = after;
    }
    this.#sendHead[fd] = n;
    if (n < 0) this.#sendTail[fd] = -1;
    else this.#armQueued(n);
  }

  // ---- internals: buffers ----------------------------------------------------------------

  #pushBuffer(bid: number): void {
    const w = (this.#bufTail & this.#bufMask) << 2; // 16-byte entries = 4 words
    const addr = this.#bufMem.addr + bid * this.bufferSize;
    this.#br32[w] = addr >>> 0;
    this.#br32[w + 1] = Math.floor(addr / 0x100000000);
    this.#br32[w + 2] = this.bufferSize;
    this.#br16[(w << 1) + 6] = bid; // bid at byte 12; the ring's tail lives at byte 14 of entry 0
    this.#bufTail = (this.#bufTail + 1) & 0xffff;
    this.#bufOut[bid] = 0;
    this.#bufDirty = true;
  }

  #publishBuffers(): void {
    Atomics.store(this.#br16, 7, this.#bufTail);
    this.#bufDirty = false;
  }

  #release(bid: number): void {
    if (this.#bufOut[bid] === 0) return;
    this.#pushBuffer(bid);
    if (this.#starved.length > 0) {
      const starved = this.#starved;
      this.#starved = [];
      for (const s of starved) {
        this.#flags[s]! &= ~F_STARVED;
        this.#armRecv(s);
      }
    }
    this.#kick();
  }

  // ---- internals: the turn ---------------------------------------------------------------

  /**
   * One `io_uring_enter`: submits every queued SQE (publishing buffers first) and, with
   * `wait` = 1, waits for a completion (at most `waitMs` when >= 0). Returns the result
   * (submitted count or a negated errno).
   */
  #enter(wait: number, waitMs: number): number {
    if (this.#bufDirty) this.#publishBuffers();
    const toSubmit = this.#pending();
    Atomics.store(this.#sqRing, this.#sqTailIdx, this.#sqTail);
    // GETEVENTS always: it runs the ring's pending task work (posting completions) and
    // flushes completions held beyond a full CQ; with min_complete 0 it never waits.
    let flags = ring.IORING_ENTER_GETEVENTS;
    let arg: unknown = null;
    let argSize = 0;
    if (wait > 0 && waitMs >= 0) {
      const tsOff = this.#waitArg.byteOffset + 24;
      const sec = Math.floor(waitMs / 1000);
      this.#waitArg.setBigUint64(24, BigInt(sec), true);
      this.#waitArg.setBigUint64(32, BigInt(Math.round((waitMs - sec * 1000) * 1e6)), true);
      this.#waitArg.setBigUint64(0, 0n, true);
      this.#waitArg.setUint32(8, 0, true);
      this.#waitArg.setUint32(12, 0, true);
      this.#waitArg.setBigUint64(16, BigInt(this.#ts.addr + tsOff), true);
      flags |= ring.IORING_ENTER_EXT_ARG;
      arg = this.#waitBytes;
      argSize = ring.GETEVENTS_ARG_SIZE;
    }
    this.#stats.enters++;
    let r = Number(ring.enterCall(ring.SYS_io_uring_enter, this.fd, toSubmit, wait, flags, arg, argSize));
    if (r < 0) {
      r = -lastErrno();
      if (r !== -EINTR && r !== -EBUSY && r !== -EAGAIN && r !== -ETIME) {
        throw OSError.fromErrno(-r, 'io_uring_enter');
      }
      // EBUSY/EAGAIN: the kernel holds completions we have not reaped; the caller reaps
      // and enters again. EINTR/ETIME: the wait ended early; SQEs were taken anyway.
      this.#sqSubmitted = Atomics.load(this.#sqRing, this.#sqHeadIdx);
      return r;
    }
    this.#sqSubmitted = Atomics.load(this.#sqRing, this.#sqHeadIdx);
    this.#stats.submitted += r;
    return r;
  }

  /** Dispatches every CQE in the CQ ring, flushing kernel-held overflow as needed. */
  #reap(): void {
    for (;;) {
      const tail = Atomics.load(this.#cqRing, this.#cqTailIdx);
      let head = this.#cqHead;
      if (head === tail) {
        if ((Atomics.load(this.#sqRing, this.#sqFlagsIdx) & ring.IORING_SQ_CQ_OVERFLOW) !== 0) {
          this.#stats.overflows++;
          this.#enter(0, -1);
          if (Atomics.load(this.#cqRing, this.#cqTailIdx) !== head) continue;
        }
        return;
      }
      const base = this.#cqeBase;
      const mask = this.#cqMask;
      const cq = this.#cqes;
      const cqi = this.#cqesI32;
      while (head !== tail) {
        const w = base + ((head & mask) << 2);
        const slot = cq[w]!;
        const gen = cq[w + 1]!;
        const res = cqi[w + 2]!;
        const flags = cq[w + 3]!;
        head = (head + 1) >>> 0;
        this.#cqHead = head;
        this.#stats.completed++;
        if (this.#disposing) {
          // Closing: only note which operations the kernel has finished with.
          if (slot !== IGNORE && slot < this.#cap && this.#gen[slot] === gen && this.#kind[slot] !== K_FREE
            && (flags & ring.IORING_CQE_F_MORE) === 0 && (this.#flags[slot]! & F_ENDING) === 0) {
            this.#flags[slot]! |= F_ENDING;
            this.#drainWaiting--;
          }
        } else if (slot !== IGNORE && slot < this.#cap && this.#gen[slot] === gen && this.#kind[slot] !== K_FREE) {
          this.#dispatch(slot, res, flags);
          // A callback closed the Proactor: the ring memory is gone.
          if (this.#closed) return;
        } else if ((flags & ring.IORING_CQE_F_BUFFER) !== 0 && !this.#closed) {
          this.#release(flags >>> ring.IORING_CQE_BUFFER_SHIFT);
        }
      }
      Atomics.store(this.#cqRing, this.#cqHeadIdx, head);
      if (this.#closed) return;
    }
  }

  #dispatch(s: number, res: number, cflags: number): void {
    const kind = this.#kind[s]!;
    const more = (cflags & ring.IORING_CQE_F_MORE) !== 0;
    if (kind === K_RECV) {
      const fd = this.#fdOf[s]!;
      if ((cflags & ring.IORING_CQE_F_BUFFER) !== 0) {
        const bid = cflags >>> ring.IORING_CQE_BUFFER_SHIFT;
        this.#bufOut[bid] = 1;
        if (res <= 0) {
          this.#release(bid);
        } else {
          const cb = this.#cb[s] as RecvCallback;
          const multi = (this.#flags[s]! & F_MULTI) !== 0;
          if (!multi) this.#freeSlot(s);
          let keep: boolean | void = false;
          try {
            keep = cb(res, this.#bufViews[bid]!, bid, fd);
          } finally {
            if (keep !== true && !this.#closed) this.#release(bid);
          }
          if (!multi || more || this.#kind[s] !== K_RECV || this.#closed) return;
          // A multishot recv that ended on data (or a single-shot fallback): re-arm.
          if ((this.#flags[s]! & F_USER_CANCEL) === 0) this.#armRecv(s);
          else this.#finish(s, -ECANCELED);
          return;
        }
      }
      if (more) return;
      if (res === -ENOBUFS && (this.#flags[s]! & (F_MULTI | F_USER_CANCEL)) === F_MULTI) {
        // Every buffer is out: wait until one comes back, then re-arm.
        this.#flags[s]! |= F_STARVED;
        this.#starved.push(s);
        return;
      }
      if (res === -EINVAL && (this.#flags[s]! & F_MULTI) !== 0 && this.#multiRecv.ok) {
        this.#multiRecv.ok = false; // kernel without multishot recv: single shots from now on
        this.#armRecv(s);
        return;
      }
      this.#finish(s, this.#mapCancel(s, res));
      return;
    }
    if (kind === K_SEND) {
      if (res >= 0) {
        const done = this.#done[s]! + res;
        if (done < this.#len[s]! && res > 0) {
          this.#done[s] = done;
          this.#armSend(s);
          return;
        }
        this.#sendDone(s);
        this.#finish(s, done);
      } else {
        this.#sendDone(s);
        this.#finish(s, this.#mapCancel(s, res));
      }
      return;
    }
    if (kind === K_ACCEPT) {
      const multi = (this.#flags[s]! & F_MULTI) !== 0;
      const cb = this.#cb[s] as AcceptCallback;
      const fd = this.#fdOf[s]!;
      if (res >= 0) {
        if (!multi) {
          this.#freeSlot(s);
          cb(res, fd);
          return;
        }
        cb(res, fd);
        if (!more && this.#kind[s] === K_ACCEPT && !this.#closed) {
          if ((this.#flags[s]! & F_USER_CANCEL) === 0) this.#armAccept(s);
          else this.#finish(s, -ECANCELED);
        }
        return;
      }
      if (more) {
        cb(res, fd);
        return;
      }
      if (res === -EINVAL && multi && this.#multiAccept.ok) {
        this.#multiAccept.ok = false;
        this.#armAccept(s);
        return;
      }
      this.#finish(s, this.#mapCancel(s, res));
      return;
    }
    if (kind === K_RECV_INTO) {
      this.#finish(s, this.#mapCancel(s, res));
      return;
    }
    if (kind === K_TIMEOUT) {
      this.#finish(s, res === -ETIME ? 0 : res);
      return;
    }
    if (kind === K_CLOSE) this.#sendDone(s);
    // Close, cancel, nop.
    this.#finish(s, res);
  }

  /**
   * An operation cancelled by its linked timeout (not by the caller) reports ETIMEDOUT; one
   * the caller cancelled that ended for lack of buffers first reports ECANCELED.
   */
  #mapCancel(s: number, res: number): number {
    if (res === -ENOBUFS && (this.#flags[s]! & F_USER_CANCEL) !== 0) return -ECANCELED;
    if (res === -ECANCELED && (this.#flags[s]! & (F_TIMEOUT | F_USER_CANCEL)) === F_TIMEOUT) return -ETIMEDOUT;
    return res;
  }

  /** An fd closed through iomux: cancel every operation on it first. */
  #onFdClosing(fd: number): void {
    this.#cancelFd(fd, false);
  }

  /** Cancels the operations on `fd` (all of them, or all but its queued sends and close). */
  #cancelFd(fd: number, keepSends: boolean): void {
    if (this.#closed || this.#inFlight === 0) return;
    let any = false;
    for (let s = 0; s < this.#cap; s++) {
      const k = this.#kind[s];
      if (this.#fdOf[s] === fd && k !== K_FREE && k !== K_CLOSE && !(keepSends && k === K_SEND)) {
        this.#flags[s]! |= F_USER_CANCEL;
        if ((this.#flags[s]! & F_STARVED) !== 0) {
          this.#flags[s]! &= ~F_STARVED;
          this.#starved = this.#starved.filter((x) => x !== s);
          this.#finish(s, -ECANCELED);
          continue;
        }
        any = true;
      }
    }
    if (!any) return;
    for (let s = 0; s < this.#cap; s++) {
      const k = this.#kind[s];
      if (this.#fdOf[s] !== fd || k === K_FREE || k === K_CLOSE || k === K_CANCEL || (keepSends && k === K_SEND)) continue;
      if (k === K_SEND && this.#sendHead[fd] !== s) continue; // queued behind: ends with the head
      const i = this.#sqeRaw();
      this.#sqe8[i] = ring.IORING_OP_ASYNC_CANCEL;
      this.#sqe8[i + ring.SQE_FLAGS] = ring.IOSQE_CQE_SKIP_SUCCESS;
      this.#sqeI32[(i >> 2) + 1] = -1;
      this.#sqe32[(i + ring.SQE_ADDR) >> 2] = s;
      this.#sqe32[(i + ring.SQE_ADDR + 4) >> 2] = this.#gen[s]!;
      this.#sqe32[(i + ring.SQE_USER_DATA) >> 2] = IGNORE;
    }
    if (keepSends) return;
    // Submit now: the caller closes the fd right after, and an operation still holding
    // the socket would keep it open in the kernel.
    if (!this.#inTurn) this.#enter(0, -1);
  }

  // ---- internals: Node's loop ------------------------------------------------------------

  readonly #onRingReady = (): void => {
    if (!this.#turnScheduled) {
      this.#turnScheduled = true;
      setImmediate(this.#turn);
    }
  };

  /** Something was queued: make sure a turn will submit it. */
  #kick(): void {
    if (this.mode === 'loop' && !this.#turnScheduled && !this.#inTurn && !this.#closed) {
      this.#turnScheduled = true;
      setImmediate(this.#turn);
    }
    this.#updateRef();
  }

  #updateRef(): void {
    this.#watcher?.setRef(this.#inFlight > this.#starved.length || this.#pending() > 0);
  }

  #loopTurn(): void {
    this.#turnScheduled = false;
    if (this.#closed) return;
    this.#inTurn = true;
    try {
      // Reap, dispatch, then one enter submits what the callbacks queued and runs the
      // kernel's deferred work; what that completed is dispatched in the same turn.
      for (let round = 0; round < 4; round++) {
        this.#reap();
        if (this.#closed) return;
        if (this.#pending() === 0) {
          // Nothing to submit: buffers given back need no system call, only the store.
          if (this.#bufDirty) this.#publishBuffers();
          if (round > 0) break;
        }
        this.#enter(0, -1);
        if (this.#closed) return;
        if (Atomics.load(this.#cqRing, this.#cqTailIdx) === this.#cqHead && this.#pending() === 0) break;
      }
    } finally {
      this.#inTurn = false;
    }
    if (!this.#closed && (this.#pending() > 0 || Atomics.load(this.#cqRing, this.#cqTailIdx) !== this.#cqHead)) {
      this.#turnScheduled = true;
      setImmediate(this.#turn);
    }
    this.#updateRef();
  }
}

const EMPTY = new Uint8Array(0);
