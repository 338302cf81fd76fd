/**
 * Completions: reaping the CQ ring and dispatching each CQE by its `user_data` (slot and
 * generation) into the operation table, re-arming multishot operations that ended on
 * data, continuing partial sends (and sendmsgs), the turn that runs inside Node's event
 * loop, and the blocking `run()` loop. Nothing is allocated per completion.
 */
import * as ring from '../sys/uring.js';
import { errno } from '../sys/errno.js';
import { Core } from './core.js';
import {
  K_FREE, K_ACCEPT, K_RECV, K_SEND, K_CLOSE, K_TIMEOUT, K_RECV_INTO,
  F_MULTI, F_USER_CANCEL, F_TIMEOUT, F_STARVED, F_ENDING, IGNORE,
} from './slots.js';
import type { AcceptCallback, RecvCallback } from './types.js';

const ECANCELED = errno.ECANCELED;
const ENOBUFS = errno.ENOBUFS;
const ETIME = errno.ETIME;
const EINVAL = errno.EINVAL;
const ETIMEDOUT = errno.ETIMEDOUT;

/** The Proactor's internals: {@link Core} plus reaping, dispatch and the loop turn. */
export class Engine extends Core {
  /** Blocking mode: {@link run} is running. */
  running = false;
  /** Blocking mode: {@link run} returns after the completions of the current turn. */
  stopRequested = false;

  /** Dispatches every CQE in the CQ ring, flushing kernel-held overflow as needed. */
  reap(): void {
    const r = this.ring;
    const o = this.ops;
    const words = r.words;
    for (;;) {
      const tail = Atomics.load(words, r.cqTailIdx);
      let head = r.cqHead;
      if (head === tail) {
        if ((Atomics.load(words, r.sqFlagsIdx) & ring.IORING_SQ_CQ_OVERFLOW) !== 0) {
          r.stats.overflows++;
          this.enter(0, -1);
          if (Atomics.load(words, r.cqTailIdx) !== head) continue;
        }
        return;
      }
      const base = r.cqeBase;
      const mask = r.cqMask;
      const cqi = r.wordsI32;
      while (head !== tail) {
        const w = base + ((head & mask) << 2);
        const slot = words[w]!;
        const gen = words[w + 1]!;
        const res = cqi[w + 2]!;
        const flags = words[w + 3]!;
        head = (head + 1) >>> 0;
        r.cqHead = head;
        r.stats.completed++;
        const live = slot !== IGNORE && slot < o.cap && o.gen[slot] === gen && o.kind[slot] !== K_FREE;
        if (this.disposing) {
          // Closing: only note which operations the kernel has finished with.
          if (live && (flags & ring.IORING_CQE_F_MORE) === 0 && (o.flags[slot]! & F_ENDING) === 0) {
            o.flags[slot]! |= F_ENDING;
            this.drainWaiting--;
          }
        } else if (live) {
          this.dispatch(slot, res, flags);
          // A callback closed the Proactor: the ring memory is gone.
          if (this.closed) return;
        } else if ((flags & ring.IORING_CQE_F_BUFFER) !== 0 && !this.closed) {
          this.release(flags >>> ring.IORING_CQE_BUFFER_SHIFT);
        }
      }
      Atomics.store(words, r.cqHeadIdx, head);
      if (this.closed) return;
    }
  }

  /** Handles completion `res` (CQE flags `cflags`) of the operation in slot `s`. */
  dispatch(s: number, res: number, cflags: number): void {
    const o = this.ops;
    const kind = o.kind[s]!;
    const more = (cflags & ring.IORING_CQE_F_MORE) !== 0;
    if (kind === K_RECV) {
      const fd = o.fdOf[s]!;
      if ((cflags & ring.IORING_CQE_F_BUFFER) !== 0) {
        const bid = cflags >>> ring.IORING_CQE_BUFFER_SHIFT;
        this.bufs.out[bid] = 1;
        if (res <= 0) {
          this.release(bid);
        } else {
          const cb = o.cb[s] as RecvCallback;
          const multi = (o.flags[s]! & F_MULTI) !== 0;
          if (!multi) this.freeSlot(s);
          let keep: boolean | void = false;
          try {
            keep = cb(res, this.bufs.views[bid]!, bid, fd);
          } finally {
            if (keep !== true && !this.closed) this.release(bid);
          }
          if (!multi || more || o.kind[s] !== K_RECV || this.closed) return;
          // A multishot recv that ended on data (or a single-shot fallback): re-arm.
          if ((o.flags[s]! & F_USER_CANCEL) === 0) this.armRecv(s);
          else this.finish(s, -ECANCELED);
          return;
        }
      }
      if (more) return;
      if (res === -ENOBUFS && (o.flags[s]! & (F_MULTI | F_USER_CANCEL)) === F_MULTI) {
        // Every buffer is out: wait until one comes back, then re-arm.
        o.flags[s]! |= F_STARVED;
        this.starved.push(s);
        return;
      }
      if (res === -EINVAL && (o.flags[s]! & F_MULTI) !== 0 && this.multiRecv) {
        this.multiRecv = false; // kernel without multishot recv: single shots from now on
        this.armRecv(s);
        return;
      }
      this.finish(s, this.mapCancel(s, res));
      return;
    }
    if (kind === K_SEND) {
      if (res >= 0) {
        const done = o.done[s]! + res;
        if (done < o.len[s]! && res > 0) {
          o.done[s] = done;
          this.armSend(s);
          return;
        }
        this.sendDone(s);
        this.finish(s, done);
      } else {
        this.sendDone(s);
        this.finish(s, this.mapCancel(s, res));
      }
      return;
    }
    if (kind === K_ACCEPT) {
      const multi = (o.flags[s]! & F_MULTI) !== 0;
      const cb = o.cb[s] as AcceptCallback;
      const fd = o.fdOf[s]!;
      if (res >= 0) {
        if (!multi) {
          this.freeSlot(s);
          cb(res, fd);
          return;
        }
        cb(res, fd);
        if (!more && o.kind[s] === K_ACCEPT && !this.closed) {
          if ((o.flags[s]! & F_USER_CANCEL) === 0) this.armAccept(s);
          else this.finish(s, -ECANCELED);
        }
        return;
      }
      if (more) {
        cb(res, fd);
        return;
      }
      if (res === -EINVAL && multi && this.multiAccept) {
        this.multiAccept = false;
        this.armAccept(s);
        return;
      }
      this.finish(s, this.mapCancel(s, res));
      return;
    }
    if (kind === K_RECV_INTO) {
      this.finish(s, this.mapCancel(s, res));
      return;
    }
    if (kind === K_TIMEOUT) {
      this.finish(s, res === -ETIME ? 0 : res);
      return;
    }
    if (kind === K_CLOSE) this.sendDone(s);
    // Close, cancel, nop.
    this.finish(s, res);
  }

  /**
   * An operation cancelled by its linked timeout (not by the caller) reports ETIMEDOUT; one
   * the caller cancelled that ended for lack of buffers first reports ECANCELED.
   */
  mapCancel(s: number, res: number): number {
    const f = this.ops.flags[s]!;
    if (res === -ENOBUFS && (f & F_USER_CANCEL) !== 0) return -ECANCELED;
    if (res === -ECANCELED && (f & (F_TIMEOUT | F_USER_CANCEL)) === F_TIMEOUT) return -ETIMEDOUT;
    return res;
  }

  /**
   * Blocking mode's loop (see `Proactor.run`): reaps, dispatches and enters until nothing
   * can complete, {@link stopRequested} is set, or `limitMs` passes (-1: no limit).
   * Returns the number of completions dispatched.
   */
  run(limitMs: number): number {
    const deadline = limitMs < 0 ? 0 : performance.now() + limitMs;
    this.running = true;
    this.stopRequested = false;
    const stats = this.ring.stats;
    const before = stats.completed;
    try {
      while (!this.stopRequested && !this.closed) {
        this.reap();
        if (this.stopRequested || this.closed) break;
        // Nothing that can complete: a starved receive needs a buffer back first.
        if (this.ops.inFlight <= this.starved.length && this.ring.pending() === 0) break;
        if (limitMs >= 0) {
          const left = deadline - performance.now();
          if (left <= 0) {
            this.enter(0, -1);
            this.reap();
            break;
          }
          this.enter(1, left);
        } else {
          this.enter(1, -1);
        }
      }
    } finally {
      this.running = false;
    }
    return stats.completed - before;
  }

  /** One turn in Node's loop. */
  loopTurn(): void {
    this.turnScheduled = false;
    if (this.closed) return;
    const r = this.ring;
    this.inTurn = true;
    try {
      // Reap, dispatch, then one enter submits what the callbacks queued and runs the
      // kernel's deferred work; what that completed is dispatched in the same turn.
      for (let round = 0; round < 4; round++) {
        this.reap();
        if (this.closed) return;
        if (r.pending() === 0) {
          // Nothing to submit: buffers given back need no system call, only the store.
          if (this.bufs.dirty) this.bufs.publish();
          if (round > 0) break;
        }
        this.enter(0, -1);
        if (this.closed) return;
        if (Atomics.load(r.words, r.cqTailIdx) === r.cqHead && r.pending() === 0) break;
      }
    } finally {
      this.inTurn = false;
    }
    if (!this.closed && (r.pending() > 0 || Atomics.load(r.words, r.cqTailIdx) !== r.cqHead)) {
      this.turnScheduled = true;
      setImmediate(this.turn);
    }
    this.updateRef();
  }

  /**
   * Closing: cancels everything in the kernel and waits (up to 1 s) until the kernel is
   * done with every operation, so no receive can still write into the buffers, without
   * dispatching. Then ends every operation left with `-ECANCELED`.
   */
  drain(): void {
    const o = this.ops;
    let waiting = 0;
    for (let s = 0; s < o.cap; s++) {
      const k = o.kind[s];
      if (k === K_FREE || (o.flags[s]! & F_STARVED) !== 0) continue;
      if ((k === K_SEND || k === K_CLOSE) && this.sendq.head[o.fdOf[s]!] !== s) continue;
      waiting++;
    }
    this.drainWaiting = waiting;
    if (waiting > 0) {
      const i = this.sqeRaw();
      const r = this.ring;
      r.sqe8[i] = ring.IORING_OP_ASYNC_CANCEL;
      r.sqeI32[(i >> 2) + 1] = -1;
      r.sqe32[(i + ring.SQE_OP_FLAGS) >> 2] = ring.IORING_ASYNC_CANCEL_ALL | (1 << 2) /* ANY */;
      r.sqe32[(i + ring.SQE_USER_DATA) >> 2] = IGNORE;
      const until = performance.now() + 1000;
      while (this.drainWaiting > 0) {
        const left = until - performance.now();
        if (left <= 0) break;
        this.enter(1, Math.min(left, 100));
        this.reap();
      }
    }
    this.closed = true;
    // Whatever is left (starved receives, anything the kernel did not return in time).
    for (let s = 0; s < o.cap; s++) {
      if (o.kind[s] !== K_FREE) this.finish(s, -ECANCELED);
    }
    this.starved = [];
  }
}
