/**
 * The Proactor's state and everything that queues work for the kernel: arming each kind
 * of operation as SQEs (with linked timeouts), the per-fd send queues, giving provided
 * buffers back (re-arming receives that starved for one), ending operations, cancelling
 * an fd's operations, and scheduling a turn in Node's loop. Reaping and dispatching the
 * completions is the {@link Engine}'s part.
 */
import * as ring from '../sys/uring.js';
import { koffi } from '../sys/libc.js';
import { errno } from '../sys/errno.js';
import { fdClosing } from '../sys/closing.js';
import { FdWatcher } from '../sys/uvpoll.js';
import { Ring } from './ring.js';
import { BufferRing } from './buffers.js';
import { SendQueues } from './sendq.js';
import {
  OpTable, K_FREE, K_RECV, K_SEND, K_CLOSE, K_CANCEL,
  F_MULTI, F_USER_CANCEL, F_TIMEOUT, F_STARVED, F_MSG, IGNORE, type SlotCallback,
} from './slots.js';
import type { SendMsg } from './sendmsg.js';
import type { RecvCallback, DoneCallback } from './types.js';

const ECANCELED = errno.ECANCELED;
const EMPTY = new Uint8Array(0);

/** The Proactor's internals below reaping; fields are read directly on the hot path. */
export abstract class Core {
  /** The mode chosen at construction. */
  readonly mode: 'loop' | 'blocking';
  /** The ring. */
  readonly ring: Ring;
  /** The provided buffers. */
  readonly bufs: BufferRing;
  /** The operation table. */
  readonly ops: OpTable;
  /** Per-fd send queues. */
  readonly sendq = new SendQueues();
  /** Receives waiting for a provided buffer to come back. */
  starved: number[] = [];
  /** Whether the kernel takes multishot receives (cleared at the first EINVAL). */
  multiRecv = true;
  /** Whether the kernel takes multishot accepts (cleared at the first EINVAL). */
  multiAccept = true;
  /** libuv's watch of the ring fd (mode 'loop'). */
  readonly watcher: FdWatcher | null = null;
  /** A turn is scheduled with setImmediate. */
  turnScheduled = false;
  /** A turn is running. */
  inTurn = false;
  /** The ring is gone. */
  closed = false;
  /** Closing: completions are only counted, not dispatched. */
  disposing = false;
  /** Closing: operations the kernel has not finished with yet. */
  drainWaiting = 0;
  /** Libuv's callback: the ring fd is readable. */
  readonly onRingReady = (): void => {
    if (!this.turnScheduled) {
      this.turnScheduled = true;
      setImmediate(this.turn);
    }
  };
  /** One turn in Node's loop (created once). */
  readonly turn = (): void => this.loopTurn();

  /** Sets up the ring, the provided buffers, and in mode 'loop' libuv's watch of the ring fd. */
  constructor(entries: number, cqEntries: number, bufCount: number, bufSize: number, mode: 'loop' | 'blocking') {
    this.mode = mode;
    const r = new Ring(entries, cqEntries, mode);
    this.ring = r;
    try {
      this.bufs = new BufferRing(bufCount, bufSize, r.maps);
      this.bufs.register(r.fd);
      this.ops = new OpTable(256);
      if (mode === 'loop') {
        const w = new FdWatcher(r.fd, this.onRingReady);
        try {
          w.start();
        } catch (err) {
          w.close();
          throw err;
        }
        this.watcher = w;
      }
    } catch (e) {
      r.destroy();
      throw e;
    }
  }

  /** Dispatches every completion in the CQ ring. */
  abstract reap(): void;
  /** One turn in Node's loop: reap, dispatch, submit. */
  abstract loopTurn(): void;

  /** Publishes buffers given back, then one `io_uring_enter` (see {@link Ring.enter}). */
  enter(wait: number, waitMs: number): number {
    if (this.bufs.dirty) this.bufs.publish();
    return this.ring.enter(wait, waitMs);
  }

  /** A zeroed SQE at the SQ tail (submitting early when the ring is full); returns its byte offset. */
  sqeRaw(need = 1): number {
    const r = this.ring;
    // The kernel's head is read only when the last value read says the ring is full.
    if (r.sqTail - r.sqSubmitted > r.sqEntries - need && r.stillFull(need)) {
      r.stats.sqFull++;
      this.enter(0, -1);
      while (r.stillFull(need)) {
        // The kernel took none (EBUSY: completions must be reaped first).
        this.reap();
        this.enter(0, -1);
      }
    }
    const i = r.take();
    this.kick();
    return i;
  }

  /** An SQE for slot `s` (user_data set); with room for a linked timeout when the slot has one. */
  sqe(s: number): number {
    // An SQE and its linked timeout must go to the kernel in the same submission.
    const i = this.sqeRaw((this.ops.flags[s]! & F_TIMEOUT) !== 0 ? 2 : 1);
    const q = this.ring.sqe32;
    q[(i + ring.SQE_USER_DATA) >> 2] = s;
    q[(i + ring.SQE_USER_DATA + 4) >> 2] = this.ops.gen[s]!;
    return i;
  }

  /** Appends the linked timeout SQE for slot `s` after its SQE at byte offset `i`. */
  linkTimeout(s: number, i: number): void {
    const r = this.ring;
    r.sqe8[i + ring.SQE_FLAGS]! |= ring.IOSQE_IO_LINK;
    const t = this.sqeRaw();
    r.sqe8[t] = ring.IORING_OP_LINK_TIMEOUT;
    r.sqeI32[(t >> 2) + 1] = -1;
    r.writeTs(t, this.ops.tmo[s]!);
    r.sqe32[(t + ring.SQE_LEN) >> 2] = 1;
    r.sqe32[(t + ring.SQE_USER_DATA) >> 2] = IGNORE;
  }

  /** Queues slot `s`'s accept (multishot when asked and supported). */
  armAccept(s: number): void {
    const r = this.ring;
    const i = this.sqe(s);
    r.sqe8[i] = ring.IORING_OP_ACCEPT;
    r.sqeI32[(i >> 2) + 1] = this.ops.fdOf[s]!;
    r.sqe32[(i + ring.SQE_OP_FLAGS) >> 2] = 0o2000000; // SOCK_CLOEXEC
    if ((this.ops.flags[s]! & F_MULTI) !== 0 && this.multiAccept) r.sqe16[(i + ring.SQE_IOPRIO) >> 1] = ring.IORING_ACCEPT_MULTISHOT;
    else if ((this.ops.flags[s]! & F_TIMEOUT) !== 0) this.linkTimeout(s, i);
  }

  /** Queues slot `s`'s receive into a provided buffer (multishot when asked and supported). */
  armRecv(s: number): void {
    const r = this.ring;
    const i = this.sqe(s);
    r.sqe8[i] = ring.IORING_OP_RECV;
    r.sqe8[i + ring.SQE_FLAGS] = ring.IOSQE_BUFFER_SELECT;
    r.sqeI32[(i >> 2) + 1] = this.ops.fdOf[s]!;
    r.sqe16[(i + ring.SQE_BUF_GROUP) >> 1] = 0;
    if ((this.ops.flags[s]! & F_MULTI) !== 0 && this.multiRecv) r.sqe16[(i + ring.SQE_IOPRIO) >> 1] = ring.IORING_RECV_MULTISHOT;
    else if ((this.ops.flags[s]! & F_TIMEOUT) !== 0) this.linkTimeout(s, i);
  }

  /** Queues slot `s`'s single receive into the caller's `bytes`. */
  armRecvInto(s: number, bytes: Uint8Array): void {
    const r = this.ring;
    const i = this.sqe(s);
    r.sqe8[i] = ring.IORING_OP_RECV;
    r.sqeI32[(i >> 2) + 1] = this.ops.fdOf[s]!;
    r.setAddr(i, Number(koffi.address(bytes)));
    r.sqe32[(i + ring.SQE_LEN) >> 2] = bytes.byteLength;
    if ((this.ops.flags[s]! & F_TIMEOUT) !== 0) this.linkTimeout(s, i);
  }

  /** Queues slot `s` (a send or a close) behind the sends already queued on its fd. */
  enqueueSend(s: number): void {
    if (this.sendq.append(this.ops.fdOf[s]!, s, this.ops.next)) this.armQueued(s);
  }

  /** Starts the head of an fd's queue: a send, or the close queued behind the sends. */
  armQueued(s: number): void {
    if (this.ops.kind[s] === K_SEND) {
      this.armSend(s);
      return;
    }
    const fd = this.ops.fdOf[s]!;
    fdClosing(fd);
    const i = this.sqe(s);
    this.ring.sqe8[i] = ring.IORING_OP_CLOSE;
    this.ring.sqeI32[(i >> 2) + 1] = fd;
  }

  /** Queues slot `s`'s send (or sendmsg) of the bytes not sent yet. */
  armSend(s: number): void {
    const r = this.ring;
    const o = this.ops;
    if ((o.flags[s]! & F_MSG) !== 0) {
      this.armSendmsg(s);
      return;
    }
    const i = this.sqe(s);
    r.sqe8[i] = ring.IORING_OP_SEND;
    r.sqeI32[(i >> 2) + 1] = o.fdOf[s]!;
    r.setAddr(i, o.addr[s]! + o.done[s]!);
    r.sqe32[(i + ring.SQE_LEN) >> 2] = o.len[s]! - o.done[s]!;
    r.sqe32[(i + ring.SQE_OP_FLAGS) >> 2] = 0x4000; // MSG_NOSIGNAL
    if ((o.flags[s]! & F_TIMEOUT) !== 0) this.linkTimeout(s, i);
  }

  /** Queues slot `s`'s sendmsg, pointed past the bytes already sent. */
  armSendmsg(s: number): void {
    const r = this.ring;
    const o = this.ops;
    const m = o.ref[s] as SendMsg;
    if (o.done[s]! > 0) m.advance(o.done[s]!);
    const i = this.sqe(s);
    r.sqe8[i] = ring.IORING_OP_SENDMSG;
    r.sqeI32[(i >> 2) + 1] = o.fdOf[s]!;
    r.setAddr(i, m.addr);
    r.sqe32[(i + ring.SQE_LEN) >> 2] = 1;
    r.sqe32[(i + ring.SQE_OP_FLAGS) >> 2] = m.flags;
    if ((o.flags[s]! & F_TIMEOUT) !== 0) this.linkTimeout(s, i);
  }

  /** Queues sendmsg `m` on `fd` behind the fd's sends; returns the operation id. */
  queueSendmsg(fd: number, cb: DoneCallback, m: SendMsg, timeoutMs: number): number {
    const o = this.ops;
    const s = o.alloc(K_SEND, fd, cb as never);
    o.flags[s] = F_MSG;
    o.ref[s] = m;
    o.addr[s] = m.addr;
    o.len[s] = m.total;
    o.bid[s] = -1;
    o.setTimeout(s, timeoutMs);
    this.enqueueSend(s);
    return o.id(s);
  }

  /** Pops finished send `s` off its fd's queue and starts the next one. */
  sendDone(s: number): void {
    const o = this.ops;
    const q = this.sendq;
    const fd = o.fdOf[s]!;
    if (q.head[fd] !== s) return;
    let n = o.next[s]!;
    // Sends queued behind a cancelled one end with it (the fd is being closed).
    while (n >= 0 && (o.flags[n]! & F_USER_CANCEL) !== 0 && o.kind[n] === K_SEND) {
      const after = o.next[n]!;
      q.head[fd] = after;
      this.finish(n, -ECANCELED);
      n = after;
    }
    q.head[fd] = n;
    if (n < 0) q.tail[fd] = -1;
    else this.armQueued(n);
  }

  /** Gives provided buffer `bid` back to the ring and re-arms the receives that starved. */
  release(bid: number): void {
    if (this.bufs.out[bid] === 0) return;
    this.bufs.push(bid);
    if (this.starved.length > 0) {
      const starved = this.starved;
      this.starved = [];
      for (const s of starved) {
        this.ops.flags[s]! &= ~F_STARVED;
        this.armRecv(s);
      }
    }
    this.kick();
  }

  /** Frees slot `s` and updates whether the ring keeps Node's loop alive. */
  freeSlot(s: number): void {
    this.ops.release(s);
    this.updateRef();
  }

  /** Ends slot `s`: calls its callback with `res` and frees it. */
  finish(s: number, res: number): void {
    const o = this.ops;
    const kind = o.kind[s]!;
    const cb = o.cb[s]! as SlotCallback;
    const fd = o.fdOf[s]!;
    if (kind === K_SEND) {
      const bid = o.bid[s]!;
      if (bid >= 0 && !this.closed) this.release(bid);
    }
    this.freeSlot(s);
    if (kind === K_RECV) (cb as RecvCallback)(res, EMPTY, -1, fd);
    else (cb as DoneCallback)(res, fd);
  }

  /** Ends receive `s`, waiting for a buffer (not in the kernel), with `-ECANCELED`. */
  endStarved(s: number): void {
    this.ops.flags[s]! &= ~F_STARVED;
    this.starved = this.starved.filter((x) => x !== s);
    this.finish(s, -ECANCELED);
  }

  /** Cancels the operations on `fd` (all of them, or all but its queued sends and close). */
  cancelFd(fd: number, keepSends: boolean): void {
    const o = this.ops;
    if (this.closed || o.inFlight === 0) return;
    let any = false;
    for (let s = 0; s < o.cap; s++) {
      const k = o.kind[s];
      if (o.fdOf[s] === fd && k !== K_FREE && k !== K_CLOSE && !(keepSends && k === K_SEND)) {
        o.flags[s]! |= F_USER_CANCEL;
        if ((o.flags[s]! & F_STARVED) !== 0) {
          this.endStarved(s);
          continue;
        }
        any = true;
      }
    }
    if (!any) return;
    for (let s = 0; s < o.cap; s++) {
      const k = o.kind[s];
      if (o.fdOf[s] !== fd || k === K_FREE || k === K_CLOSE || k === K_CANCEL || (keepSends && k === K_SEND)) continue;
      if (k === K_SEND && this.sendq.head[fd] !== s) continue; // queued behind: ends with the head
      const i = this.sqeRaw();
      this.ring.cancelOf(i, s, o.gen[s]!);
      this.ring.sqe8[i + ring.SQE_FLAGS] = ring.IOSQE_CQE_SKIP_SUCCESS;
      this.ring.sqe32[(i + ring.SQE_USER_DATA) >> 2] = IGNORE;
    }
    if (keepSends) return;
    // Submit now: the caller closes the fd right after, and an operation still holding
    // the socket would keep it open in the kernel.
    if (!this.inTurn) this.enter(0, -1);
  }

  /** Something was queued: make sure a turn will submit it. */
  kick(): void {
    if (this.mode === 'loop' && !this.turnScheduled && !this.inTurn && !this.closed) {
      this.turnScheduled = true;
      setImmediate(this.turn);
    }
    this.updateRef();
  }

  /** Keeps Node's loop alive while something can complete. */
  updateRef(): void {
    this.watcher?.setRef(this.ops.inFlight > this.starved.length || this.ring.sqTail - this.ring.sqSubmitted > 0);
  }
}
