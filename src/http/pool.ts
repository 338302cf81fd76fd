/**
 * One origin's connections: at most `maxConnectionsPerOrigin` open at once, idle ones
 * reused most-recently-used first (the warmest, least likely to have been timed out by
 * the server), and a FIFO queue of requests waiting for a free connection.
 */
import { Connection } from './connection.js';
import type { ClientCore, PoolPort } from './core.js';
import type { Exchange } from './exchange.js';
import type { Origin } from './request.js';

/**
 * Connections and waiting requests of one origin. A queued request has no holder: when
 * it is cancelled it is settled where it waits, and skipped when its turn comes.
 */
export class Pool implements PoolPort<Connection> {
  readonly core: ClientCore;
  readonly origin: Origin;
  /** Every open (or opening) connection. */
  readonly conns = new Set<Connection>();
  readonly #idle: Connection[] = [];
  #queue: Exchange[] = [];
  #head = 0;

  constructor(core: ClientCore, origin: Origin) {
    this.core = core;
    this.origin = origin;
  }

  /** Sends `ex` on an idle connection, on a new one if there is room, or queues it. */
  dispatch(ex: Exchange): void {
    let idle: Connection | undefined;
    while ((idle = this.#idle.pop()) !== undefined) {
      // Past the server's Keep-Alive timeout: it may be closing it right now.
      if (idle.expires !== Infinity && Date.now() >= idle.expires) {
        idle.discard();
        continue;
      }
      idle.assign(ex);
      return;
    }
    if (this.conns.size < this.core.maxConnections) {
      this.open(ex);
      return;
    }
    this.#queue.push(ex);
  }

  /** Opens a new connection for `ex` (also past the limit: a stale-connection retry). */
  open(ex: Exchange): void {
    const c = new Connection(this);
    this.conns.add(c);
    c.start(ex);
  }

  /** A connection finished its exchange and may be reused: next queued request, or idle. */
  release(c: Connection): void {
    const next = this.#dequeue();
    if (next !== null) c.assign(next);
    else this.#idle.push(c);
  }

  /** A connection is gone. */
  detach(c: Connection): void {
    this.conns.delete(c);
    const i = this.#idle.indexOf(c);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  /** Opens connections for queued requests while there is room. */
  pump(): void {
    while (this.conns.size < this.core.maxConnections) {
      const next = this.#dequeue();
      if (next === null) break;
      this.open(next);
    }
    if (this.conns.size === 0 && this.#head >= this.#queue.length) this.core.poolEmpty(this);
  }

  /** Every queued request not yet settled (for the client's close), emptying the queue. */
  drainQueue(): Exchange[] {
    const out = this.#queue.slice(this.#head).filter((ex) => !ex.settled);
    this.#queue = [];
    this.#head = 0;
    return out;
  }

  #dequeue(): Exchange | null {
    const q = this.#queue;
    while (this.#head < q.length) {
      const ex = q[this.#head]!;
      q[this.#head++] = undefined as unknown as Exchange;
      if (!ex.settled) {
        if (this.#head === q.length) this.#reset();
        return ex;
      }
    }
    this.#reset();
    return null;
  }

  #reset(): void {
    this.#queue = [];
    this.#head = 0;
  }
}
