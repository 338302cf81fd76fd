/**
 * The operation table: every operation in flight lives in a preallocated slot (parallel
 * typed arrays indexed by slot number), so submitting and completing an operation creates
 * no object. A completion's `user_data` carries the slot and its generation: a slot reused
 * by a later operation has a new generation, so a stale completion or id never matches.
 */
import type { SendMsg } from './sendmsg.js';

// Slot kinds.
/** A free slot. */
export const K_FREE = 0;
/** An accept (multishot or single). */
export const K_ACCEPT = 1;
/** A receive into provided buffers (multishot or single). */
export const K_RECV = 2;
/** A send or, with `F_MSG`, a sendmsg (continued until every byte is sent). */
export const K_SEND = 3;
/** A close queued behind the fd's sends. */
export const K_CLOSE = 4;
/** A cancel of another operation. */
export const K_CANCEL = 5;
/** A timeout. */
export const K_TIMEOUT = 6;
/** A no-op. */
export const K_NOP = 7;
/** A single receive into the caller's buffer. */
export const K_RECV_INTO = 8;
// Slot flags.
/** The operation is multishot (or re-armed as if it were). */
export const F_MULTI = 1;
/** The caller cancelled it (or the fd is being closed). */
export const F_USER_CANCEL = 2;
/** It has a linked timeout (`tmo`). */
export const F_TIMEOUT = 4;
/** A receive waiting for a provided buffer to come back, not in the kernel. */
export const F_STARVED = 8;
/** While closing: the kernel is done with it. */
export const F_ENDING = 16;
/** A send that is a sendmsg: its `ref` is the {@link SendMsg} holding the msghdr. */
export const F_MSG = 32;
/** Operation ids are `generation * OP_SLOTS + slot`. */
export const OP_SLOTS = 0x100000;
/** user_data low word of internal SQEs whose completions are ignored. */
export const IGNORE = 0xffffffff;

/** An operation's callback, stored untyped: its kind tells how it is called. */
export type SlotCallback = (...a: never[]) => unknown;

/** The slots' parallel arrays, grown by doubling; fields are read directly on the hot path. */
export class OpTable {
  /** Number of slots. */
  cap = 0;
  /** Kind per slot (`K_*`). */
  kind: Uint8Array = new Uint8Array(0);
  /** Flags per slot (`F_*`). */
  flags: Uint8Array = new Uint8Array(0);
  /** Generation per slot, bumped at each allocation. */
  gen: Uint32Array = new Uint32Array(0);
  /** The fd the operation works on (-1 for none). */
  fdOf: Int32Array = new Int32Array(0);
  /** The callback per slot. */
  cb: Array<SlotCallback | null> = [];
  /**
   * What the kernel reads or writes for the operation, kept alive while it is in flight:
   * the caller's bytes of a send or receive, or a sendmsg's {@link SendMsg}.
   */
  ref: Array<Uint8Array | SendMsg | null> = [];
  /** Address of a send's first byte (a sendmsg's: of its msghdr). */
  addr: Float64Array = new Float64Array(0);
  /** Length of a send (a sendmsg's: of all its buffers). */
  len: Int32Array = new Int32Array(0);
  /** Bytes of a send sent so far. */
  done: Int32Array = new Int32Array(0);
  /** The provided buffer a send gives back when it ends (-1 for none). */
  bid: Int32Array = new Int32Array(0);
  /** The next operation in the fd's send queue (-1 for none). */
  next: Int32Array = new Int32Array(0);
  /** Linked timeout in milliseconds (with `F_TIMEOUT`). */
  tmo: Float64Array = new Float64Array(0);
  /** Free slots, the lowest on top. */
  free: number[] = [];
  /** Slots in use. */
  inFlight = 0;

  /** A table of `cap` free slots. */
  constructor(cap: number) {
    this.grow(cap);
  }

  /** Grows the table to `cap` slots, keeping what is in use. */
  grow(cap: number): void {
    const old = this.cap;
    const g8 = (a: Uint8Array): Uint8Array => { const n = new Uint8Array(cap); n.set(a); return n; };
    const gI = (a: Int32Array): Int32Array => { const n = new Int32Array(cap); n.set(a); return n; };
    const gF = (a: Float64Array): Float64Array => { const n = new Float64Array(cap); n.set(a); return n; };
    this.kind = g8(this.kind);
    this.flags = g8(this.flags);
    const gen = new Uint32Array(cap);
    gen.set(this.gen);
    this.gen = gen;
    this.fdOf = gI(this.fdOf);
    this.len = gI(this.len);
    this.done = gI(this.done);
    this.bid = gI(this.bid);
    this.next = gI(this.next);
    this.addr = gF(this.addr);
    this.tmo = gF(this.tmo);
    for (let s = old; s < cap; s++) {
      this.cb.push(null);
      this.ref.push(null);
    }
    for (let s = cap - 1; s >= old; s--) this.free.push(s);
    this.cap = cap;
  }

  /** The id of the operation in slot `s`: slot and generation, so a stale id never matches. */
  id(s: number): number {
    return this.gen[s]! * OP_SLOTS + s;
  }

  /** The slot of operation `id` when it is in flight (cancels excepted), else -1. */
  slotOf(id: number): number {
    const s = id % OP_SLOTS;
    if (s >= this.cap || this.kind[s] === K_FREE || this.kind[s] === K_CANCEL
      || this.gen[s] !== Math.floor(id / OP_SLOTS) % 0x100000000) return -1;
    return s;
  }

  /** Takes a free slot (growing the table when none is left) for an operation of `kind`. */
  alloc(kind: number, fd: number, cb: SlotCallback): number {
    if (this.free.length === 0) {
      if (this.cap >= OP_SLOTS) throw new RangeError(`more than ${OP_SLOTS} operations in flight`);
      this.grow(this.cap * 2);
    }
    const s = this.free.pop()!;
    this.kind[s] = kind;
    this.flags[s] = 0;
    this.gen[s] = (this.gen[s]! + 1) >>> 0;
    this.fdOf[s] = fd;
    this.cb[s] = cb;
    this.next[s] = -1;
    this.done[s] = 0;
    this.tmo[s] = 0;
    this.inFlight++;
    return s;
  }

  /** Frees slot `s`. */
  release(s: number): void {
    this.kind[s] = K_FREE;
    this.cb[s] = null;
    this.ref[s] = null;
    this.inFlight--;
    this.free.push(s);
  }

  /** Gives slot `s` a linked timeout of `ms` (none when `ms` < 0). */
  setTimeout(s: number, ms: number): void {
    if (ms >= 0) {
      this.flags[s]! |= F_TIMEOUT;
      this.tmo[s] = ms;
    }
  }
}
