/**
 * One origin's connections: at most `maxConnectionsPerOrigin` open at once, idle ones
 * reused most-recently-used first (the warmest, least likely to have been timed out by
 * the server), with pipelining idempotent requests written behind others on a busy
 * connection, and a FIFO queue of requests waiting for a free connection.
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

  /**
   * Sends `ex` on an idle connection, on a new one if there is room, pipelined behind
   * others on the least busy connection that allows it, or queues it.
   */
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
    if (this.core.pipelining > 1) {
      let best: Connection | null = null;
      for (const c of this.conns) {
        if (c.canPipeline(ex) && (best === null || c.exchanges.length < best.exchanges.length)) best = c;
      }
      if (best !== null) {
        best.assign(ex);
        return;
      }
    }
    this.#queue.push(ex);
  }

  /** Sends again an exchange that got no response on a connection now gone (ahead of the queue). */
  requeue(ex: Exchange): void {
    if (this.#idle.length > 0 || this.conns.size < this.core.maxConnections) this.dispatch(ex);
    else if (this.#head > 0) this.#queue[--this.#head] = ex;
    else this.#queue.unshift(ex);
  }

  /** Opens a new connection for `ex`. */
  open(ex: Exchange): void {
    const c = new Connection(this);
    this.conns.add(c);
    c.start(ex);
  }

  /**
   * A connection finished an exchange and may be reused: it takes the next queued request
   * (more while pipelining allows), or goes idle when it has nothing in flight.
   */
  release(c: Connection): void {
    if (c.idle) {
      const next = this.#dequeue();
      if (next === null) {
        this.#idle.push(c);
        return;
      }
      c.assign(next);
    }
    for (let next = this.#peek(); next !== null && c.canPipeline(next); next = this.#peek()) c.assign(this.#dequeue()!);
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

  /** The next unsettled queued exchange, left in the queue. */
  #peek(): Exchange | null {
    const q = this.#queue;
    while (this.#head < q.length) {
      const ex = q[this.#head]!;
      if (!ex.settled) return ex;
      q[this.#head++] = undefined as unknown as Exchange;
    }
    return null;
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
