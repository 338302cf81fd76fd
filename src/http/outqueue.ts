/**
 * What a connection still has to write: request heads and body pieces in order, each
 * marked with the exchange whose request it ends (that exchange counts as sent once the
 * piece is out). Sent with the non-throwing `trySend`, or handed to a TLS socket.
 */
import type { Writable } from 'node:stream';
import type { Socket } from '../net/socket.js';
import type { Exchange } from './exchange.js';

/** The write queue of one connection. */
export class OutQueue {
  readonly #bufs: Buffer[] = [];
  readonly #ends: Array<Exchange | null> = [];
  /** The first buffer not yet fully sent, and how much of it went. */
  #idx = 0;
  #off = 0;

  /** Queues `b`; `ends` is the exchange whose request it completes, or null. */
  push(b: Buffer, ends: Exchange | null): void {
    this.#bufs.push(b);
    this.#ends.push(ends);
  }

  /**
   * Sends what is queued on the non-blocking `sock`, marking the exchanges whose
   * requests went out. Returns 0 once everything is sent (the queue is then empty), or
   * the `-errno` of the send that stopped (`NEG_EAGAIN`: the socket buffer is full).
   */
  sendTo(sock: Socket): number {
    const bufs = this.#bufs;
    while (this.#idx < bufs.length) {
      const b = bufs[this.#idx]!;
      const n = sock.trySend(b, this.#off, b.length - this.#off);
      if (n < 0) return n;
      this.#off += n;
      if (this.#off === b.length) {
        this.#sent(this.#idx);
        this.#idx++;
        this.#off = 0;
      }
    }
    this.#clear();
    return 0;
  }

  /** Hands everything queued to `w` (a TLS socket, which buffers), marking the exchanges sent. */
  writeTo(w: Writable): void {
    const bufs = this.#bufs;
    for (let i = this.#idx; i < bufs.length; i++) {
      w.write(bufs[i]!);
      this.#sent(i);
    }
    this.#clear();
  }

  #sent(i: number): void {
    const done = this.#ends[i];
    if (done !== null && done !== undefined) done.sent = true;
  }

  #clear(): void {
    this.#bufs.length = 0;
    this.#ends.length = 0;
    this.#idx = 0;
  }
}
