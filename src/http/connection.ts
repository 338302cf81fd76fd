/**
 * One keep-alive HTTP/1.1 connection driven by readiness callbacks (a Reactor's for
 * `HttpClient`, a blocking selector loop's for `HttpBatch`): write requests, parse their
 * responses in order, then go idle for the next. With pipelining, several idempotent
 * requests are written before their responses arrive; a response body can be parsed into
 * one buffer or handed on as it arrives. When the connection goes away, what it still held
 * is failed, or sent again on another connection when that is safe.
 *
 * The socket itself (resolving, connecting, TLS, sending, receiving, closing) is its
 * {@link Transport}'s, which reports back through {@link TransportHost}.
 */
import { Readable } from 'node:stream';
import { OSError, ConnectionResetError, errno } from '../errors.js';
import { ResponseParser, type BodySink } from './parser.js';
import { OutQueue } from './outqueue.js';
import { RequestBody, type BodyHost } from './reqbody.js';
import { PipelineAbortedError } from './errors.js';
import { HttpResponse, HttpStreamResponse } from './response.js';
import { Transport, type TransportHost } from './transport.js';
import type { Exchange, Holder } from './exchange.js';
import type { PoolPort } from './core.js';

const ECONNRESET = errno.ECONNRESET;
const EPIPE = errno.EPIPE;

const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;

/** Opening: resolving, connecting or in the TLS handshake (the transport knows which). */
const enum C { Opening, Busy, Idle, Closed }

/** A streamed response body holds this much before the connection stops reading. */
const STREAM_HIGH_WATER = 64 * 1024;

/** A connection of one origin's pool, driven by the pool's `Driver`. */
export class Connection implements Holder, BodySink, TransportHost {
  readonly pool: PoolPort<Connection>;
  readonly parser = new ResponseParser();
  /** Responses completed on this connection: > 0 means it is a reused keep-alive one. */
  served = 0;
  /** `Date.now()` after which the server may close it while idle (its `Keep-Alive: timeout`). */
  expires = Infinity;
  #state = C.Opening;
  readonly #io: Transport;
  /** Exchanges whose requests are sent or being sent, in order; the first one's response is parsed. */
  readonly #inflight: Exchange[] = [];
  /** Buffers still to write, and for each the exchange whose request it ends (or null). */
  readonly #out = new OutQueue();
  /** A request body still being read from its async iterable. */
  #reqBody: RequestBody | null = null;
  readonly #bodyHost: BodyHost = {
    out: this.#out,
    flush: () => this.#flush(),
    fail: (err) => this.#fail(err),
    closed: () => this.#state === C.Closed,
    finished: (body) => { if (this.#reqBody === body) this.#reqBody = null; },
  };
  /** A streamed response body being fed, and whether reading waits for its consumer. */
  #body: Readable | null = null;
  #paused = false;
  #dropped = false;

  constructor(pool: PoolPort<Connection>) {
    this.pool = pool;
    this.#io = new Transport(pool.core, pool.origin, this);
  }

  /** Whether it waits, connected, for a request. */
  get idle(): boolean {
    return this.#state === C.Idle;
  }

  /** The exchange whose response is being read, if any. */
  get ex(): Exchange | null {
    return this.#inflight[0] ?? null;
  }

  /** Every exchange sent or being sent on it (for the client's close). */
  get exchanges(): readonly Exchange[] {
    return this.#inflight;
  }

  /**
   * Whether `ex` may be written behind the requests already in flight: pipelining allows
   * it, every request in flight and `ex` are idempotent without a streamed body, and no
   * response is streamed (its consumer's pace would hold up the others).
   */
  canPipeline(ex: Exchange): boolean {
    const n = this.#inflight.length;
    if (n === 0 || n >= this.pool.core.pipelining || this.#state === C.Closed || this.#body !== null) return false;
    if (!pipelinable(ex)) return false;
    for (let i = 0; i < n; i++) if (!pipelinable(this.#inflight[i]!)) return false;
    return true;
  }

  /** Opens the connection for `ex`, which it then sends. */
  start(ex: Exchange): void {
    this.#take(ex);
    this.#io.open();
  }

  /** Sends `ex` on this connection: idle, or busy with requests `ex` may follow ({@link canPipeline}). */
  assign(ex: Exchange): void {
    this.#take(ex);
    if (this.#state === C.Idle) this.#state = C.Busy;
    if (this.#state !== C.Busy) return; // still connecting: written once connected
    try {
      this.#flush();
    } catch (e) {
      this.#fail(e as Error); // a Reactor closed by its owner: this exchange fails, not the caller
    }
  }

  /** {@link Holder}: the exchange was cancelled; the connection cannot be trusted now. */
  abandon(ex: Exchange): void {
    const i = this.#inflight.indexOf(ex);
    if (i < 0) return;
    this.#inflight.splice(i, 1);
    // Its response may still come and would be taken for the next one's: start afresh.
    this.#reroute(this.#inflight.splice(0), null);
    this.#drop();
  }

  /** Closes an idle connection and leaves the pool, without refilling it from the queue. */
  discard(): void {
    this.#drop(false);
  }

  /** Closes the socket and leaves the pool without settling anything (the pool's close). */
  shutdown(err?: Error): void {
    this.#inflight.length = 0;
    this.#dropped = true;
    this.#state = C.Closed;
    this.#endBody(err ?? new Error('the connection was closed'));
    this.#closeSocket();
  }

  #take(ex: Exchange): void {
    ex.holder = this;
    ex.sent = false;
    this.#inflight.push(ex);
    if (this.#inflight.length === 1) this.#parseFor(ex);
    const wire = ex.req.wire;
    for (let i = 0; i < wire.length; i++) {
      this.#out.push(wire[i]!, i === wire.length - 1 && ex.req.bodyStream === null ? ex : null);
    }
    if (ex.req.bodyStream !== null) {
      this.#reqBody = new RequestBody(ex, this.#bodyHost);
    }
  }

  /** Readies the parser for `ex`'s response. */
  #parseFor(ex: Exchange): void {
    this.parser.reset(ex.req.method, ex.req.maxResponseSize);
    if (ex.streamed) this.parser.sink = this;
  }

  /** {@link TransportHost}: connected; what is queued is written. */
  onReady(): void {
    this.#state = C.Busy;
    this.#flush();
  }

  /** {@link TransportHost}: a send that waited may go on. */
  onWritable(): void {
    this.#flush();
  }

  /** {@link TransportHost}: connecting failed, or anything else unrecoverable. */
  onError(err: Error): void {
    this.#fail(err);
  }

  /**
   * Writes what is queued; the transport calls {@link onWritable} when it had to stop.
   * Once everything is out, a streamed request body is asked for its next piece.
   */
  #flush(): void {
    if (!this.#io.send(this.#out)) return;
    const body = this.#reqBody;
    if (body === null || body.pulling || this.#io.backlogged()) return;
    body.next();
  }

  /**
   * {@link TransportHost}: feeds received bytes to the parser, response after response
   * (pipelining); false when this connection is done reading now (closed, or a streamed
   * body's consumer is behind).
   */
  onData(buf: Buffer, n: number): boolean {
    let off = 0;
    while (off < n) {
      if (this.#inflight.length === 0) {
        // Bytes nobody asked for (or a late response to an abandoned request): unusable.
        this.#drop();
        return false;
      }
      try {
        off += this.parser.feed(buf, off, n);
      } catch (e) {
        this.#fail(e as Error);
        return false;
      }
      if (this.#state === C.Closed) return false;
      if (!this.parser.done) return !this.#paused;
      if (!this.#complete(off < n)) return false;
    }
    return !this.#paused;
  }

  /** {@link BodySink}: a streamed response's head: the exchange settles with it now. */
  onHead(): void {
    const ex = this.#inflight[0]!;
    const p = this.parser;
    const body = new Readable({
      highWaterMark: STREAM_HIGH_WATER,
      read: () => this.#resume(body),
      destroy: (err, cb) => {
        // The consumer let go before the end: the rest of the body cannot be skipped.
        if (this.#body === body) {
          this.#body = null;
          this.#inflight.shift();
          this.#reroute(this.#inflight.splice(0), null);
          this.#drop();
        }
        cb(err);
      },
    });
    this.#body = body;
    ex.settle(null, new HttpStreamResponse(p.status, p.statusText, p.headers, body, p.trailers, ex.req.url));
  }

  /** {@link BodySink}: body bytes of a streamed response; reading pauses when its consumer is behind. */
  onBody(buf: Buffer, start: number, end: number): void {
    const body = this.#body;
    if (body === null) return;
    const chunk = Buffer.allocUnsafe(end - start);
    buf.copy(chunk, 0, start, end);
    if (!body.push(chunk)) this.#pause();
  }

  #pause(): void {
    if (this.#paused || !this.#io.attached) return;
    this.#paused = true;
    this.#io.pause();
  }

  #resume(body: Readable | null): void {
    if (this.#body !== body || !this.#paused || !this.#io.attached || this.#state === C.Closed) return;
    this.#paused = false;
    try {
      this.#io.resume();
    } catch (e) {
      this.#fail(e as Error);
    }
  }

  /** Ends a streamed body with `err` (nothing when none is being fed). */
  #endBody(err: Error): void {
    const body = this.#body;
    if (body === null) return;
    this.#body = null;
    body.destroy(err);
  }

  /** {@link TransportHost}: the server closed the connection. */
  onEnd(): void {
    const ex = this.ex;
    if (ex === null) {
      this.#drop(); // an idle keep-alive connection the server closed
      return;
    }
    if (this.parser.eof()) {
      this.#complete(false);
      return;
    }
    if (this.#retryStale(ex)) return;
    const what = this.parser.started ? 'before the response was complete' : 'before sending a response';
    this.#fail(new ConnectionResetError(ECONNRESET, `${this.pool.origin.key} closed the connection ${what}`, 'recv'));
  }

  /** {@link TransportHost}: a send or receive failed; a stale keep-alive connection is retried. */
  onIoError(errnum: number, syscall: string): void {
    const ex = this.ex;
    if (ex !== null && (errnum === ECONNRESET || errnum === EPIPE) && this.#retryStale(ex)) return;
    this.#fail(OSError.fromErrno(errnum, syscall, this.pool.origin.key));
  }

  /**
   * A reused keep-alive connection that the server closed before any byte of the response
   * (it timed the connection out as we sent): idempotent requests go once more, on a
   * fresh connection.
   */
  #retryStale(ex: Exchange): boolean {
    if (this.served === 0 || this.parser.started || !ex.req.idempotent || ex.retried) return false;
    const all = this.#inflight.splice(0);
    this.#drop(false);
    this.#reroute(all, null);
    this.pool.pump();
    return true;
  }

  /**
   * Sends exchanges that were in flight here and got no response again through the pool
   * (once each: they are idempotent, pipelining takes no other); those already sent again
   * fail with {@link PipelineAbortedError} naming `cause`, if any.
   */
  #reroute(list: Exchange[], cause: Error | null): void {
    for (const ex of list) {
      ex.holder = null;
      if (ex.settled) continue;
      if (cause === null && !ex.retried && ex.req.idempotent) {
        ex.retried = true;
        this.pool.requeue(ex);
      } else {
        ex.settle(new PipelineAbortedError(this.pool.origin.key, ex.req, cause));
      }
    }
  }

  /**
   * The head-of-line response is complete; false when the connection is gone after it.
   * `leftover`: more bytes arrived after it, which only a pipelined request may claim.
   */
  #complete(leftover: boolean): boolean {
    const ex = this.#inflight.shift()!;
    const p = this.parser;
    this.served++;
    const ka = p.headers['keep-alive'];
    if (ka !== undefined) {
      // Leave a second of margin before the server's announced idle timeout.
      const m = KEEP_ALIVE_TIMEOUT.exec(ka);
      if (m !== null) this.expires = Date.now() + Number(m[1]) * 1000 - 1000;
    }
    let res: HttpResponse | null = null;
    const body = this.#body;
    if (body !== null) {
      this.#body = null;
      // The body is whole: reading goes on for the next response, whatever its consumer's pace.
      if (this.#paused) this.#resume(null);
    } else res = new HttpResponse(p.status, p.statusText, p.headers, p.body, p.trailers, ex.req.url);
    // Reusable only after a clean finish: whole request sent and the server keeps it open.
    if (p.keepAlive && ex.sent && !this.pool.core.closed && !(leftover && this.#inflight.length === 0)) {
      ex.holder = null;
      if (this.#inflight.length > 0) this.#parseFor(this.#inflight[0]!);
      else this.#state = C.Idle;
      this.pool.release(this);
    } else {
      // The server closes it: requests written behind this one were not answered.
      const rest = this.#inflight.splice(0);
      this.#drop(false);
      this.#reroute(rest, null);
      this.pool.pump(); // after the reroute: an empty pool would have left the client
    }
    if (body !== null) body.push(null);
    else ex.settle(null, res!);
    return this.#state !== C.Closed;
  }

  /** Fails the current exchange (and any pipelined behind it) and discards the connection. */
  #fail(err: Error): void {
    const ex = this.#inflight.shift();
    const rest = this.#inflight.splice(0);
    this.#drop();
    this.#endBody(err);
    ex?.settle(err);
    this.#reroute(rest, err);
  }

  /** Closes and leaves the pool, letting queued requests take the freed slot. */
  #drop(pump = true): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#state = C.Closed;
    this.#closeSocket();
    this.pool.detach(this);
    if (pump) this.pool.pump();
  }

  #closeSocket(): void {
    const body = this.#reqBody;
    if (body !== null && body.started) {
      this.#reqBody = null;
      body.cancel(); // tells the body's source nobody reads it any more
    }
    this.#io.close();
  }
}

/** Whether `ex` may share a connection with others in flight (pipelining). */
function pipelinable(ex: Exchange): boolean {
  return ex.req.idempotent && !ex.streamed && ex.req.bodyStream === null;
}
