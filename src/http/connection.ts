/**
 * One keep-alive HTTP/1.1 connection driven by readiness callbacks (a Reactor's for
 * `HttpClient`, a blocking selector loop's for `HttpBatch`): resolve, connect (trying each
 * address in turn), write requests, parse their responses in order, then go idle for the
 * next. With pipelining, several idempotent requests are written before their responses
 * arrive; a response body can be parsed into one buffer or handed on as it arrives.
 *
 * Its read interest stays registered for the connection's whole life (no epoll_ctl per
 * request); write interest is added only while a connect or a send is waiting. Every
 * socket call is the non-throwing kind: EAGAIN is a return value, not an exception.
 */
import { Readable } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { SocketStream } from '../stream/duplex.js';
import { OSError, ConnectionResetError, errno } from '../errors.js';
import type { Socket } from '../net/socket.js';
import { ResponseParser, type BodySink } from './parser.js';
import { OutQueue } from './outqueue.js';
import { RequestBody, type BodyHost } from './reqbody.js';
import { PipelineAbortedError, TlsError } from './errors.js';
import { HttpResponse, HttpStreamResponse } from './response.js';
import { openConnect, socketError, NEG_EAGAIN, NEG_EINPROGRESS } from './io.js';
import type { Exchange, Holder } from './exchange.js';
import type { Addresses, PoolPort } from './core.js';

const ECONNRESET = errno.ECONNRESET;
const EPIPE = errno.EPIPE;

/**
 * Full buffers read per readiness callback (with the client's 64 KiB buffer, 1 MiB)
 * before yielding to the event loop.
 */
const MAX_READS_PER_WAKEUP = 16;

const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;

const enum C { Resolving, Connecting, Handshake, Busy, Idle, Closed }

/** A streamed response body holds this much before the connection stops reading. */
const STREAM_HIGH_WATER = 64 * 1024;

/** A connection of one origin's pool, driven by the pool's `Driver`. */
export class Connection implements Holder, BodySink {
  readonly pool: PoolPort<Connection>;
  readonly parser = new ResponseParser();
  /** Responses completed on this connection: > 0 means it is a reused keep-alive one. */
  served = 0;
  /** `Date.now()` after which the server may close it while idle (its `Keep-Alive: timeout`). */
  expires = Infinity;
  #state = C.Resolving;
  #sock: Socket | null = null;
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
  /** HTTPS: the TLS socket over a Duplex over the connected socket; all I/O goes through it. */
  #tls: TLSSocket | null = null;
  #drainWait = false;
  #reading = false;
  #writing = false;
  #dropped = false;
  #addrs: Addresses = [];
  #addrIdx = 0;
  #lastError: Error | null = null;
  readonly #onReadable = (): void => this.#readable();
  readonly #onWritable = (): void => this.#writable();

  constructor(pool: PoolPort<Connection>) {
    this.pool = pool;
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
    const o = this.pool.origin;
    if (o.family !== 0) {
      this.#addrs = [[o.family, o.host]];
      this.#guardedNext();
      return;
    }
    // A name: resolved by the client's resolver, then each address is tried in order.
    this.pool.core.resolve(o, (err, addrs) => {
      if (this.#state === C.Closed) return;
      if (err !== null) this.#fail(err);
      else {
        this.#addrs = addrs!;
        this.#guardedNext();
      }
    });
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

  /** `#tryNext`, with anything unexpected (a closed Reactor) failing this exchange only. */
  #guardedNext(): void {
    try {
      this.#tryNext();
    } catch (e) {
      this.#fail(e as Error);
    }
  }

  #tryNext(): void {
    const port = this.pool.origin.port;
    while (this.#addrIdx < this.#addrs.length) {
      const [family, host] = this.#addrs[this.#addrIdx++]!;
      let sock: Socket;
      let r: number;
      try {
        [sock, r] = openConnect(family, host, port);
      } catch (e) {
        this.#lastError = e as Error; // EMFILE and the like: maybe another address works
        continue;
      }
      this.#sock = sock;
      if (r === 0) {
        this.#connected();
        return;
      }
      if (r === NEG_EINPROGRESS) {
        // The usual case: the outcome arrives as writability.
        this.#state = C.Connecting;
        this.#wantWrite(true);
        return;
      }
      this.#lastError = OSError.fromErrno(-r, 'connect', `${this.pool.origin.key} (${host})`);
      this.#closeSocket();
    }
    const o = this.pool.origin;
    this.#fail(this.#lastError ?? OSError.fromErrno(errno.EHOSTUNREACH, 'getaddrinfo', `${o.host} has no address`));
  }

  #connected(): void {
    if (this.pool.origin.tls) {
      this.#startTls();
      return;
    }
    this.#state = C.Busy;
    this.pool.core.driver.addReader(this.#sock!, this.#onReadable);
    this.#reading = true;
    this.#flush();
  }

  #wantWrite(on: boolean): void {
    if (on === this.#writing) return;
    this.#writing = on;
    const driver = this.pool.core.driver;
    if (on) driver.addWriter(this.#sock!, this.#onWritable);
    else driver.removeWriter(this.#sock!);
  }

  #writable(): void {
    if (this.#state === C.Connecting) {
      const err = socketError(this.#sock!);
      if (err === 0) {
        try {
          this.#connected();
        } catch (e) {
          this.#fail(e as Error);
        }
        return;
      }
      const [, host] = this.#addrs[this.#addrIdx - 1]!;
      this.#lastError = OSError.fromErrno(err, 'connect', `${this.pool.origin.key} (${host})`);
      this.#closeSocket();
      this.#guardedNext();
      return;
    }
    this.#flush();
  }

  /**
   * HTTPS: the connected socket becomes a Duplex (driven by the Reactor), node:tls runs
   * over it: verification on unless turned off, SNI with the host name (or `servername`),
   * ALPN `http/1.1`. Requests are written once the handshake is done.
   */
  #startTls(): void {
    const cfg = this.pool.core.tls;
    const o = this.pool.origin;
    if (cfg === null) throw new TypeError(`${o.key}: https: needs HttpClient (TLS runs on Node's event loop)`);
    this.#wantWrite(false);
    this.#state = C.Handshake;
    const sock = this.#sock!;
    const duplex = new SocketStream(sock, { reactor: cfg.reactor });
    const name = cfg.servername ?? o.host;
    const t = tlsConnect({
      socket: duplex, host: name, servername: isIP(name) === 0 ? name : undefined,
      ca: cfg.ca, rejectUnauthorized: cfg.rejectUnauthorized, ALPNProtocols: ['http/1.1'],
    });
    this.#tls = t;
    t.on('secureConnect', () => {
      if (this.#tls !== t) return;
      const alpn = t.alpnProtocol;
      if (alpn !== false && alpn !== null && alpn !== 'http/1.1') {
        this.#fail(new TlsError(o.key, new Error(`the server chose ALPN protocol ${JSON.stringify(alpn)}, not http/1.1`)));
        return;
      }
      this.#state = C.Busy;
      this.#flush();
    });
    t.on('data', (chunk: Buffer) => {
      if (this.#tls === t) this.#consume(chunk, chunk.length);
    });
    t.on('end', () => {
      if (this.#tls === t) this.#eof();
    });
    t.on('error', (err: Error & { errno?: number }) => {
      if (this.#tls !== t) return;
      if (this.#state === C.Handshake) this.#fail(new TlsError(o.key, err));
      else if (err.errno === ECONNRESET || err.errno === EPIPE) this.#ioFailure(err.errno, 'recv');
      else this.#fail(err);
    });
  }

  /** HTTPS: hands what is queued to the TLS socket (it buffers); a streamed body waits for 'drain'. */
  #flushTls(t: TLSSocket): void {
    this.#out.writeTo(t);
    const body = this.#reqBody;
    if (body === null || body.pulling) return;
    if (t.writableNeedDrain) {
      if (!this.#drainWait) {
        this.#drainWait = true;
        t.once('drain', () => {
          this.#drainWait = false;
          if (this.#tls === t) this.#flush();
        });
      }
      return;
    }
    body.next();
  }

  /** Writes what is queued; waits for writability when the buffer is full. */
  #flush(): void {
    if (this.#tls !== null) {
      this.#flushTls(this.#tls);
      return;
    }
    const n = this.#out.sendTo(this.#sock!);
    if (n === NEG_EAGAIN) {
      this.#wantWrite(true); // socket buffer full: continue when writable
      return;
    }
    if (n < 0) {
      this.#ioFailure(-n, 'send');
      return;
    }
    this.#wantWrite(false);
    const body = this.#reqBody;
    if (body !== null && !body.pulling) body.next();
  }

  /**
   * Reads while each read fills the buffer, but at most {@link MAX_READS_PER_WAKEUP}
   * times: a peer that keeps the socket full would otherwise hold the thread (timers,
   * other sockets) indefinitely. Readiness is level-triggered, so the rest is read at
   * the next wake-up, after the loop has run everything else that was due.
   */
  #readable(): void {
    const buf = this.pool.core.readBuf;
    const sock = this.#sock!;
    for (let reads = 0; reads < MAX_READS_PER_WAKEUP; reads++) {
      const n = sock.tryRecvInto(buf, 0, buf.length);
      if (n > 0) {
        if (!this.#consume(buf, n) || n < buf.length) return;
      } else if (n === 0) {
        this.#eof();
        return;
      } else if (n === NEG_EAGAIN) {
        return; // drained: wait for the next readiness
      } else {
        this.#ioFailure(-n, 'recv');
        return;
      }
    }
  }

  /**
   * Feeds received bytes to the parser, response after response (pipelining); false
   * when this connection is done reading now (closed, or a streamed body's consumer is behind).
   */
  #consume(buf: Buffer, n: number): boolean {
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
    if (this.#paused || this.#sock === null) return;
    this.#paused = true;
    if (this.#tls !== null) {
      this.#tls.pause();
      return;
    }
    if (this.#reading) {
      this.pool.core.driver.removeReader(this.#sock);
      this.#reading = false;
    }
  }

  #resume(body: Readable | null): void {
    if (this.#body !== body || !this.#paused || this.#sock === null || this.#state === C.Closed) return;
    this.#paused = false;
    if (this.#tls !== null) {
      this.#tls.resume();
      return;
    }
    try {
      this.pool.core.driver.addReader(this.#sock, this.#onReadable);
      this.#reading = true;
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

  #eof(): void {
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

  #ioFailure(errnum: number, syscall: string): void {
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
    const sock = this.#sock;
    if (sock === null) return;
    const t = this.#tls;
    if (t !== null) {
      // The TLS socket owns the Duplex, which owns the socket: destroying it closes the fd.
      this.#tls = null;
      this.#sock = null;
      t.destroy();
      return;
    }
    const driver = this.pool.core.driver;
    try {
      if (this.#reading) driver.removeReader(sock);
      if (this.#writing) driver.removeWriter(sock);
    } catch {
      // A driver (Reactor) its owner already closed has forgotten the socket anyway.
    }
    this.#reading = false;
    this.#writing = false;
    this.#sock = null;
    sock.close();
  }
}

/** Whether `ex` may share a connection with others in flight (pipelining). */
function pipelinable(ex: Exchange): boolean {
  return ex.req.idempotent && !ex.streamed && ex.req.bodyStream === null;
}
