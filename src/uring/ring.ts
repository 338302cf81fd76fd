/**
 * The ring itself: `io_uring_setup` (trying the best flags the kernel accepts), the SQ and
 * CQ rings and the SQE array mapped from the ring fd, SQE encoding helpers, the per-SQE
 * timespecs, and `io_uring_enter`.
 *
 * Memory: the SQ ring, CQ ring and SQE array are the kernel's, mapped into the process;
 * heads and tails are read and written with `Atomics` (ordered loads and stores on x64 and
 * arm64).
 */
import * as ring from '../sys/uring.js';
import { errno as lastErrno, close as closeFdRaw } from '../sys/libc.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../sys/oserror.js';
import { mapAnon, mapRing, type Mapping } from './support.js';

const EINVAL = errno.EINVAL;

/** The ring's counters (the Proactor adds the operations in flight). */
export interface RingStats {
  /** `io_uring_enter` calls made. */
  enters: number;
  /** SQEs handed to the kernel. */
  submitted: number;
  /** CQEs reaped. */
  completed: number;
  /** Times the kernel reported completions waiting beyond a full CQ ring. */
  overflows: number;
  /** Times the SQ ring was full and queued SQEs were submitted early. */
  sqFull: number;
}

/** A mapped io_uring instance; its fields are the views the hot path reads directly. */
export class Ring {
  /** The ring fd. */
  readonly fd: number;
  /** The `io_uring_setup` flags the kernel accepted. */
  readonly setupFlags: number;
  /** Every mapping to unmap at the end (the owner may add its own). */
  readonly maps: Mapping[] = [];
  /** SQ entries. */
  readonly sqEntries: number;
  readonly #sqMask: number;
  /** CQ ring mask. */
  readonly cqMask: number;
  /** The SQ and CQ rings (one mapping) as 32-bit words; CQEs are in it too. */
  readonly words: Uint32Array;
  /** The same, signed (CQE results). */
  readonly wordsI32: Int32Array;
  /** Word index of the SQ head. */
  readonly sqHeadIdx: number;
  /** Word index of the SQ tail. */
  readonly sqTailIdx: number;
  /** Word index of the SQ flags. */
  readonly sqFlagsIdx: number;
  /** Word index of the CQ head. */
  readonly cqHeadIdx: number;
  /** Word index of the CQ tail. */
  readonly cqTailIdx: number;
  /** Word index of the first CQE. */
  readonly cqeBase: number;
  /** The SQE array, by bytes. */
  readonly sqe8: Uint8Array;
  /** The SQE array, by 16-bit words. */
  readonly sqe16: Uint16Array;
  /** The SQE array, by 32-bit words. */
  readonly sqe32: Uint32Array;
  /** The SQE array, by signed 32-bit words. */
  readonly sqeI32: Int32Array;
  /** Local SQ tail (stored to the kernel's at each enter). */
  sqTail = 0;
  /** The SQ head as last read: SQEs before it are the kernel's. */
  sqSubmitted = 0;
  /** Local CQ head (stored to the kernel's after each reap). */
  cqHead = 0;
  /** Counters. */
  readonly stats: RingStats = { enters: 0, submitted: 0, completed: 0, overflows: 0, sqFull: 0 };
  // Native scratch: timespecs (one per SQE index), the getevents argument.
  readonly #ts: Mapping;
  readonly #ts32: Uint32Array;
  readonly #waitArg: DataView;
  readonly #waitBytes: Uint8Array;

  /**
   * Sets up a ring of `entries` SQEs (`cqEntries` CQEs when > 0) and maps it. Blocking
   * mode takes single-issuer deferred task work (completions are posted only when this
   * thread enters the ring: fewer wake-ups); in Node's loop libuv polls the ring fd, and a
   * ring with deferred task work never makes its fd readable by itself, so that mode takes
   * cooperative task work instead. Falls back for older kernels.
   */
  constructor(entries: number, cqEntries: number, mode: 'loop' | 'blocking') {
    const base = ring.IORING_SETUP_SUBMIT_ALL | ring.IORING_SETUP_CLAMP | (cqEntries ? ring.IORING_SETUP_CQSIZE : 0);
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
    this.setupFlags = flagsUsed;
    try {
      const u32 = (off: number): number => pv.getUint32(off, true);
      const features = u32(ring.P_FEATURES);
      if ((features & ring.IORING_FEAT_NODROP) === 0 || (features & ring.IORING_FEAT_SINGLE_MMAP) === 0) {
        throw OSError.fromErrno(errno.EOPNOTSUPP, 'io_uring_setup', 'the kernel\'s io_uring lacks IORING_FEAT_NODROP or IORING_FEAT_SINGLE_MMAP (Linux 5.5+)');
      }
      this.sqEntries = u32(ring.P_SQ_ENTRIES);
      const cqN = u32(ring.P_CQ_ENTRIES);
      const sqArray = u32(ring.P_SQ_ARRAY);
      const cqesOff = u32(ring.P_CQ_CQES);
      const ringLen = Math.max(sqArray + this.sqEntries * 4, cqesOff + cqN * ring.CQE_SIZE);
      const rm = mapRing(fd, ringLen, ring.IORING_OFF_SQ_RING);
      this.maps.push(rm);
      const sm = mapRing(fd, this.sqEntries * ring.SQE_SIZE, ring.IORING_OFF_SQES);
      this.maps.push(sm);
      const all = new Uint32Array(rm.buf);
      this.words = all;
      this.wordsI32 = new Int32Array(rm.buf);
      this.sqHeadIdx = u32(ring.P_SQ_HEAD) >>> 2;
      this.sqTailIdx = u32(ring.P_SQ_TAIL) >>> 2;
      this.sqFlagsIdx = u32(ring.P_SQ_FLAGS) >>> 2;
      this.#sqMask = all[u32(ring.P_SQ_RING_MASK) >>> 2]!;
      this.cqHeadIdx = u32(ring.P_CQ_HEAD) >>> 2;
      this.cqTailIdx = u32(ring.P_CQ_TAIL) >>> 2;
      this.cqMask = all[u32(ring.P_CQ_RING_MASK) >>> 2]!;
      this.cqeBase = cqesOff >>> 2;
      // The SQ index array maps ring positions to SQEs: identity, written once.
      for (let i = 0; i < this.sqEntries; i++) all[(sqArray >>> 2) + i] = i;
      this.sqTail = this.sqSubmitted = Atomics.load(all, this.sqTailIdx);
      this.cqHead = Atomics.load(all, this.cqHeadIdx);
      this.sqe8 = new Uint8Array(sm.buf);
      this.sqe16 = new Uint16Array(sm.buf);
      this.sqe32 = new Uint32Array(sm.buf);
      this.sqeI32 = new Int32Array(sm.buf);
      this.#ts = mapAnon(this.sqEntries * ring.TIMESPEC_SIZE + 64);
      this.maps.push(this.#ts);
      this.#ts32 = new Uint32Array(this.#ts.buf);
      this.#waitArg = new DataView(this.#ts.buf, this.sqEntries * ring.TIMESPEC_SIZE, 40);
      this.#waitBytes = new Uint8Array(this.#ts.buf, this.sqEntries * ring.TIMESPEC_SIZE, 40);
    } catch (e) {
      this.destroy();
      throw e;
    }
  }

  /** Unmaps every mapping and closes the ring fd. */
  destroy(): void {
    closeFdRaw(this.fd);
    for (const m of this.maps) ring.munmap(m.ptr, m.len);
    this.maps.length = 0;
  }

  /** SQEs queued and not yet handed to the kernel. */
  pending(): number {
    return this.sqTail - this.sqSubmitted;
  }

  /** Whether fewer than `need` SQEs are free by the kernel's head. */
  stillFull(need: number): boolean {
    return this.sqTail - Atomics.load(this.words, this.sqHeadIdx) > this.sqEntries - need;
  }

  /** A zeroed SQE at the SQ tail (the caller made room); returns its byte offset. */
  take(): number {
    const idx = this.sqTail & this.#sqMask;
    this.sqTail = (this.sqTail + 1) >>> 0;
    // Zero the 64-byte SQE with plain stores (TypedArray#fill is a runtime call).
    const q = this.sqe32;
    const w = idx << 4;
    q[w] = 0; q[w + 1] = 0; q[w + 2] = 0; q[w + 3] = 0; q[w + 4] = 0; q[w + 5] = 0; q[w + 6] = 0; q[w + 7] = 0;
    q[w + 8] = 0; q[w + 9] = 0; q[w + 10] = 0; q[w + 11] = 0; q[w + 12] = 0; q[w + 13] = 0; q[w + 14] = 0; q[w + 15] = 0;
    return idx << 6;
  }

  /** Sets the 64-bit address field of the SQE at byte offset `i`. */
  setAddr(i: number, addr: number): void {
    this.sqe32[(i + ring.SQE_ADDR) >> 2] = addr >>> 0;
    this.sqe32[(i + ring.SQE_ADDR + 4) >> 2] = Math.floor(addr / 0x100000000);
  }

  /** Makes the SQE at byte offset `i` an async cancel of the operation with user_data (`slot`, `gen`). */
  cancelOf(i: number, slot: number, gen: number): void {
    this.sqe8[i] = ring.IORING_OP_ASYNC_CANCEL;
    this.sqeI32[(i >> 2) + 1] = -1;
    this.sqe32[(i + ring.SQE_ADDR) >> 2] = slot;
    this.sqe32[(i + ring.SQE_ADDR + 4) >> 2] = gen;
  }

  /** Writes a timespec of `ms` for the SQE at byte offset `i` and points the SQE at it. */
  writeTs(i: number, ms: number): void {
    const idx = i >> 6;
    const sec = Math.floor(ms / 1000);
    const nsec = Math.round((ms - sec * 1000) * 1e6);
    const w = idx << 2;
    this.#ts32[w] = sec >>> 0;
    this.#ts32[w + 1] = Math.floor(sec / 0x100000000);
    this.#ts32[w + 2] = nsec;
    this.#ts32[w + 3] = 0;
    this.setAddr(i, this.#ts.addr + idx * ring.TIMESPEC_SIZE);
  }

  /**
   * One `io_uring_enter`: submits every queued SQE and, with `wait` = 1, waits for a
   * completion (at most `waitMs` when >= 0). Returns the result (submitted count or a
   * negated errno).
   */
  enter(wait: number, waitMs: number): number {
    const toSubmit = this.sqTail - this.sqSubmitted;
    Atomics.store(this.words, this.sqTailIdx, this.sqTail);
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
    this.stats.enters++;
    // A negative result: the wait ended early or completions wait beyond a full CQ ring
    // (sys/uring.ts `enter`); the caller reaps and enters again. SQEs were taken anyway.
    const r = ring.enter(this.fd, toSubmit, wait, flags, arg, argSize);
    this.sqSubmitted = Atomics.load(this.words, this.sqHeadIdx);
    if (r > 0) this.stats.submitted += r;
    return r;
  }
}
