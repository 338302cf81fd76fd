/**
 * One keep-alive HTTP/1.1 connection driven by readiness callbacks (a Reactor's for
 * `HttpClient`, a blocking selector loop's for `HttpBatch`): resolve, connect (trying each
 * address in turn), write a request, parse its response, then go idle for the next.
 *
 * Its read interest stays registered for the connection's whole life (no epoll_ctl per
 * request); write interest is added only while a connect or a send is waiting. Every
 * socket call is the non-throwing kind: EAGAIN is a return value, not an exception.
 */
import { OSError, ConnectionResetError, errno } from '../errors.js';
import type { Socket } from '../net/socket.js';
import { ResponseParser } from './parser.js';
import { HttpResponse } from './response.js';
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

const enum C { Resolving, Connecting, Busy, Idle, Closed }

/** A connection of one origin's pool, driven by the pool's `Driver`. */
export class Connection implements Holder {
  readonly pool: PoolPort<Connection>;
  readonly parser = new ResponseParser();
  /** The exchange whose response this connection is reading, if any. */
  ex: Exchange | null = null;
  /** Responses completed on this connection: > 0 means it is a reused keep-alive one. */
  served = 0;
  /** `Date.now()` after which the server may close it while idle (its `Keep-Alive: timeout`). */
  expires = Infinity;
  #state = C.Resolving;
  #sock: Socket | null = null;
  #wire: Buffer[] | null = null;
  #wireIdx = 0;
  #wireOff = 0;
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

  /** Sends `ex` on this idle connection. */
  assign(ex: Exchange): void {
    this.#take(ex);
    this.#state = C.Busy;
    try {
      this.#flush();
    } catch (e) {
      this.#fail(e as Error); // a Reactor closed by its owner: this exchange fails, not the caller
    }
  }

  /** {@link Holder}: the exchange was cancelled; the connection cannot be trusted now. */
  abandon(ex: Exchange): void {
    if (this.ex !== ex) return;
    this.ex = null;
    this.#drop();
  }

  /** Closes an idle connection and leaves the pool, without refilling it from the queue. */
  discard(): void {
    this.#drop(false);
  }

  /** Closes the socket and leaves the pool without settling anything (the pool's close). */
  shutdown(): void {
    this.ex = null;
    this.#dropped = true;
    this.#state = C.Closed;
    this.#closeSocket();
  }

  #take(ex: Exchange): void {
    this.ex = ex;
    ex.holder = this;
    this.parser.reset(ex.req.method);
    this.#wire = ex.req.wire;
    this.#wireIdx = 0;
    this.#wireOff = 0;
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

  /** Writes what is left of the request; waits for writability when the buffer is full. */
  #flush(): void {
    const wire = this.#wire;
    if (wire === null) return;
    while (this.#wireIdx < wire.length) {
      const b = wire[this.#wireIdx]!;
      const n = this.#sock!.trySend(b, this.#wireOff, b.length - this.#wireOff);
      if (n >= 0) {
        this.#wireOff += n;
        if (this.#wireOff === b.length) {
          this.#wireIdx++;
          this.#wireOff = 0;
        }
      } else if (n === NEG_EAGAIN) {
        this.#wantWrite(true); // socket buffer full: continue when writable
        return;
      } else {
        this.#ioFailure(-n, 'send');
        return;
      }
    }
    this.#wire = null;
    this.#wantWrite(false);
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

  /** Feeds received bytes to the parser; false when this connection is done reading now. */
  #consume(buf: Buffer, n: number): boolean {
    if (this.ex === null) {
      // Bytes nobody asked for (or a late response to an abandoned request): unusable.
      this.#drop();
      return false;
    }
    let used: number;
    try {
      used = this.parser.feed(buf, 0, n);
    } catch (e) {
      this.#fail(e as Error);
      return false;
    }
    if (!this.parser.done) return true;
    this.#complete(used < n);
    return false;
  }

  #eof(): void {
    const ex = this.ex;
    if (ex === null) {
      this.#drop(); // an idle keep-alive connection the server closed
      return;
    }
    if (this.parser.eof()) {
      this.#complete(true);
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
   * (it timed the connection out as we sent): an idempotent request goes once more, on a
   * fresh connection.
   */
  #retryStale(ex: Exchange): boolean {
    if (this.served === 0 || this.parser.started || !ex.req.idempotent || ex.retried) return false;
    ex.retried = true;
    this.ex = null;
    this.#drop(false);
    this.pool.open(ex);
    this.pool.pump();
    return true;
  }

  #complete(leftover: boolean): void {
    const ex = this.ex!;
    this.ex = null;
    const p = this.parser;
    const res = new HttpResponse(p.status, p.statusText, p.headers, p.body, p.trailers, ex.req.url);
    this.served++;
    const ka = p.headers['keep-alive'];
    if (ka !== undefined) {
      // Leave a second of margin before the server's announced idle timeout.
      const m = KEEP_ALIVE_TIMEOUT.exec(ka);
      if (m !== null) this.expires = Date.now() + Number(m[1]) * 1000 - 1000;
    }
    // Reusable only after a clean finish: whole request sent, nothing extra received.
    if (p.keepAlive && !leftover && this.#wire === null && !this.pool.core.closed) {
      this.#state = C.Idle;
      ex.holder = null;
      this.pool.release(this);
    } else {
      this.#drop();
    }
    ex.settle(null, res);
  }

  /** Fails the current exchange and discards the connection (it is never reused). */
  #fail(err: Error): void {
    const ex = this.ex;
    this.ex = null;
    this.#drop();
    ex?.settle(err);
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
    const sock = this.#sock;
    if (sock === null) return;
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
