/**
 * `HttpClient`: HTTP/1.1 over non-blocking sockets on a {@link Reactor}, inside Node's own
 * event loop. Keep-alive connections per origin (at most `maxConnectionsPerOrigin`, the
 * rest queue), a whole-request timeout, AbortSignal, promises or `(err, res)` callbacks.
 */
import { ClosedError, TimeoutError, errno } from '../errors.js';
import { describe, toFunction, toInteger, toOptions } from '../validate.js';
import { Reactor } from '../loop/reactor.js';
import { Exchange, type Done } from './exchange.js';
import { Pool } from './pool.js';
import type { ClientCore, TlsConfig } from './core.js';
import { resolveAsync } from './io.js';
import { prepare, timeoutOption, checkMaxConnections, sizeOption, type RequestOptions, type PreparedRequest, type RequestDefaults } from './request.js';
import { redirectRequest } from './redirect.js';
import { HttpResponse, HttpStreamResponse } from './response.js';

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  /** The Reactor to run on; default: a new one, owned (and closed) by the client. */
  reactor?: Reactor;
  /** Open connections per origin (`host:port`); more requests wait in a queue. Default 6. */
  maxConnectionsPerOrigin?: number;
  /**
   * Timeout in milliseconds (0 or `Infinity`: none), default 30000: for the whole request,
   * or until the head has arrived for a streamed response ({@link HttpClient.stream}).
   */
  timeout?: number;
  /**
   * Most bytes of body a buffered response may have; more fails the request with
   * `ResponseTooLargeError` and closes its connection. Default `Infinity`; per request too.
   */
  maxResponseSize?: number;
  /**
   * Redirects (301, 302, 303, 307, 308 with a Location) followed per request; default 0:
   * the 3xx response is returned. When the limit is reached the last 3xx is returned.
   */
  maxRedirections?: number;
  /**
   * Requests written on one connection before their responses arrive; default 1 (no
   * pipelining). Only idempotent requests without a streamed body are pipelined; when a
   * pipelined connection fails, the requests behind the failed one fail with
   * `PipelineAbortedError`.
   */
  pipelining?: number;
  /**
   * HTTPS: certificate authorities to trust (PEM) instead of Node's default ones, e.g. a
   * private CA's certificate.
   */
  ca?: string | Buffer | Array<string | Buffer>;
  /** HTTPS: verify the server's certificate chain and name (default true). */
  rejectUnauthorized?: boolean;
  /**
   * HTTPS: the server name sent as SNI and checked against the certificate, instead of
   * the URL's host (useful when connecting by IP address). Applies to every https origin.
   */
  servername?: string;
}

/** Checks the HTTPS options. */
function tlsOptions(o: HttpClientOptions): Omit<TlsConfig, 'reactor'> {
  const ca = o.ca;
  const pem = (v: unknown): boolean => typeof v === 'string' || Buffer.isBuffer(v);
  if (ca !== undefined && !pem(ca) && !(Array.isArray(ca) && ca.every(pem))) {
    throw new TypeError(`ca must be a PEM string or Buffer, or an array of them, got ${describe(ca)}`);
  }
  if (o.rejectUnauthorized !== undefined && typeof o.rejectUnauthorized !== 'boolean') {
    throw new TypeError(`rejectUnauthorized must be a boolean, got ${describe(o.rejectUnauthorized)}`);
  }
  if (o.servername !== undefined && (typeof o.servername !== 'string' || o.servername === '')) {
    throw new TypeError(`servername must be a non-empty string, got ${describe(o.servername)}`);
  }
  return { ca, rejectUnauthorized: o.rejectUnauthorized ?? true, servername: o.servername };
}

/** Request options of {@link HttpClient}: a request's own `maxRedirections` too. */
export interface ClientRequestOptions extends RequestOptions {
  /** Redirects to follow for this request (default: the client's `maxRedirections`). */
  maxRedirections?: number;
}

/** `(err, res)`: the callback form of {@link HttpClient.request}. */
export type RequestCallback = (err: Error | null, res?: HttpResponse) => void;

const READ_BUFFER_SIZE = 64 * 1024;

/**
 * An HTTP/1.1 client for `http://` and `https://` URLs (IPv4, bracketed IPv6 literals,
 * host names through the system resolver on libuv's thread pool). HTTPS is node:tls over
 * a Duplex on the iomux socket: certificates verified by default (`ca`,
 * `rejectUnauthorized`, `servername` options), ALPN `http/1.1`; a failed handshake is a
 * `TlsError` naming the origin.
 *
 * Errors fail only their own request: `ConnectionRefusedError`, `TimeoutError` (the
 * `timeout` elapsed), the signal's reason (aborted), `HttpParseError` (malformed
 * response), `ConnectionResetError` (closed mid-response), `ResponseTooLargeError`
 * (`maxResponseSize`), `TlsError` (HTTPS handshake), `PipelineAbortedError` (behind a
 * failed request on a pipelined connection), `ClosedError` (`close()`). A connection that
 * saw an error is never reused. An idempotent request (GET, HEAD, OPTIONS, TRACE, PUT,
 * DELETE, without a streamed body) that a closing server left unanswered is sent once
 * more on a fresh connection; others are never sent twice.
 *
 * With its own Reactor (the default) the client keeps the process alive only while
 * requests are in flight; idle keep-alive connections do not.
 */
export class HttpClient {
  readonly #pools = new Map<string, Pool>();
  readonly #given: Reactor | undefined;
  #own: Reactor | null = null;
  readonly #max: number;
  readonly #timeout: number;
  readonly #defaults: RequestDefaults;
  readonly #maxRedirections: number;
  readonly #pipelining: number;
  readonly #tlsOptions: Omit<TlsConfig, 'reactor'>;
  #core: ClientCore | null = null;
  #closed = false;
  #active = 0;
  readonly #settledHook = (): void => this.#settled();

  /**
   * @param options `reactor` (default: its own, closed by `close()`),
   *   `maxConnectionsPerOrigin` (default 6), `timeout` in ms (default 30000),
   *   `maxResponseSize` (default Infinity), `maxRedirections` (default 0), `pipelining` (default 1).
   * @throws TypeError for an option of the wrong type; RangeError for a bad number.
   */
  constructor(options: HttpClientOptions = {}) {
    const o = toOptions<HttpClientOptions>(options, 'HttpClient options',
      '{ reactor, maxConnectionsPerOrigin, timeout, maxResponseSize, maxRedirections, pipelining, ca, rejectUnauthorized, servername }');
    this.#max = checkMaxConnections(o.maxConnectionsPerOrigin ?? 6);
    this.#timeout = timeoutOption(o.timeout ?? 30000);
    this.#defaults = { timeout: this.#timeout, maxResponseSize: sizeOption(o.maxResponseSize ?? Infinity, 'maxResponseSize') };
    this.#maxRedirections = toInteger(o.maxRedirections ?? 0, 'maxRedirections', 0);
    this.#pipelining = toInteger(o.pipelining ?? 1, 'pipelining', 1);
    this.#tlsOptions = tlsOptions(o);
    if (o.reactor !== undefined && !(o.reactor instanceof Reactor)) {
      throw new TypeError(`reactor must be an iomux Reactor, got ${describe(o.reactor)}`);
    }
    this.#given = o.reactor;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Most connections open at once to one origin (default 6). */
  get maxConnectionsPerOrigin(): number {
    return this.#max;
  }

  /** The default whole-request timeout in milliseconds (default 30000; 0: none). */
  get timeout(): number {
    return this.#timeout;
  }

  /** Most bytes of body a buffered response may have (default Infinity). */
  get maxResponseSize(): number {
    return this.#defaults.maxResponseSize;
  }

  /** Redirects followed per request (default 0). */
  get maxRedirections(): number {
    return this.#maxRedirections;
  }

  /** Requests written on one connection before their responses arrive (default 1). */
  get pipelining(): number {
    return this.#pipelining;
  }

  /**
   * Sends a request and resolves with the complete response (any status: a 404 is a
   * response, not an error).
   * @param input a URL, or `{ url, method, headers, body, timeout, signal, maxResponseSize, maxRedirections }`.
   */
  request(input: string | URL | ClientRequestOptions): Promise<HttpResponse>;
  /** Callback form: `callback(err, res)` is called once, asynchronously. */
  request(input: string | URL | ClientRequestOptions, callback: RequestCallback): void;
  request(input: string | URL | ClientRequestOptions, callback?: RequestCallback): Promise<HttpResponse> | void {
    if (callback !== undefined) {
      toFunction(callback, 'callback');
      // Called on its own tick: a throwing callback is an uncaught exception, as with any
      // Node callback, and cannot disturb the connection that delivered the response.
      this.#start(input, false, (err, res) => {
        if (err) process.nextTick(callback, err);
        else process.nextTick(callback, null, res as HttpResponse);
      });
      return;
    }
    return new Promise((resolve, reject) => {
      this.#start(input, false, (err, res) => {
        if (err) reject(err);
        else resolve(res as HttpResponse);
      });
    });
  }

  /**
   * Sends a request and resolves as soon as the response head has arrived, with the body
   * to be read as it arrives (`res.body`, a `Readable` with backpressure: the connection
   * stops reading while the consumer is behind). The `timeout` covers the wait for the
   * head, the `signal` the body too (aborted, the body fails with its reason);
   * `maxResponseSize` does not apply. Read the body to its end (or destroy it, which
   * closes the connection) so that the connection can serve other requests.
   */
  stream(input: string | URL | ClientRequestOptions): Promise<HttpStreamResponse> {
    return new Promise((resolve, reject) => {
      this.#start(input, true, (err, res) => {
        if (err) reject(err);
        else resolve(res as HttpStreamResponse);
      });
    });
  }

  /** Sends a GET request: shorthand for `request(url)`. */
  get(url: string | URL, options: Omit<ClientRequestOptions, 'url' | 'method'> = {}): Promise<HttpResponse> {
    return this.request({ ...options, url, method: 'GET' });
  }

  /**
   * Closes every connection, rejects in-flight and queued requests with `ClosedError`,
   * and closes the client's own Reactor (not one it was given). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#core !== null) this.#core.closed = true;
    const victims: Exchange[] = [];
    for (const pool of this.#pools.values()) {
      victims.push(...pool.drainQueue());
      for (const c of pool.conns) {
        victims.push(...c.exchanges);
        c.shutdown(new ClosedError('HttpClient was closed'));
      }
      pool.conns.clear();
    }
    this.#pools.clear();
    for (const ex of victims) ex.settle(new ClosedError('HttpClient was closed'));
    if (this.#own !== null) {
      this.#own.close();
      this.#own = null;
    }
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #getCore(): ClientCore {
    if (this.#core !== null) return this.#core;
    let reactor: Reactor;
    if (this.#given !== undefined) reactor = this.#given;
    else {
      reactor = new Reactor();
      reactor.unref();
      this.#own = reactor;
    }
    const pools = this.#pools;
    this.#core = {
      driver: reactor,
      readBuf: Buffer.allocUnsafeSlow(READ_BUFFER_SIZE),
      maxConnections: this.#max,
      pipelining: this.#pipelining,
      tls: { reactor, ...this.#tlsOptions },
      closed: false,
      resolve: resolveAsync,
      poolEmpty(pool): void {
        if (pools.get(pool.origin.key) === pool) pools.delete(pool.origin.key);
      },
    };
    return this.#core;
  }

  #settled(): void {
    if (--this.#active === 0 && this.#own !== null) this.#own.unref();
  }

  #start(input: string | URL | ClientRequestOptions, streamed: boolean, done: Done): void {
    if (this.#closed) {
      done(new ClosedError('HttpClient is closed'));
      return;
    }
    let req: PreparedRequest;
    let redirects: number;
    try {
      req = prepare(input, this.#defaults);
      const own = typeof input === 'object' && !(input instanceof URL) ? input.maxRedirections : undefined;
      redirects = own === undefined ? this.#maxRedirections : toInteger(own, 'maxRedirections', 0);
    } catch (e) {
      done(e as Error);
      return;
    }
    this.#send(req, streamed, redirects, done);
  }

  /** Sends a prepared request; follows up to `redirects` redirects before calling `done`. */
  #send(req: PreparedRequest, streamed: boolean, redirects: number, done: Done): void {
    if (this.#closed) {
      done(new ClosedError('HttpClient is closed'));
      return;
    }
    const signal = req.signal;
    if (signal?.aborted) {
      done(signal.reason as Error);
      return;
    }
    let core: ClientCore;
    try {
      core = this.#getCore();
    } catch (e) {
      done(e as Error);
      return;
    }
    const settle: Done = !streamed && redirects === 0 ? done : (err, res) => {
      if (err !== null) {
        done(err);
        return;
      }
      if (res instanceof HttpStreamResponse) {
        // In flight (keeping an own Reactor referenced) until its body has been read or dropped.
        if (this.#active++ === 0 && this.#own !== null) this.#own.ref();
        const body = res.body;
        body.once('close', this.#settledHook);
        // The signal goes on covering the body: aborted, the body fails with its reason.
        if (signal !== undefined) {
          const onAbort = (): void => { body.destroy(signal.reason as Error); };
          signal.addEventListener('abort', onAbort, { once: true });
          body.once('close', () => signal.removeEventListener('abort', onAbort));
        }
      }
      if (redirects === 0) {
        done(null, res);
        return;
      }
      let next: PreparedRequest | null;
      try {
        next = redirectRequest(req, res!.status, res!.headers['location'], this.#defaults);
      } catch {
        next = null; // a Location that makes no valid request: the 3xx is the answer
      }
      if (next === null) {
        done(null, res);
        return;
      }
      // The 3xx's own body is read and dropped, so its connection can serve the next one.
      if (res instanceof HttpStreamResponse) res.body.resume();
      this.#send(next, streamed, redirects - 1, done);
    };
    const ex = new Exchange(req, settle, this.#settledHook);
    ex.streamed = streamed;
    if (signal !== undefined) {
      ex.abortHandler = () => ex.cancel(signal.reason as Error);
      signal.addEventListener('abort', ex.abortHandler, { once: true });
    }
    // From here on nothing throws: the exchange is counted and settles exactly once.
    if (this.#active++ === 0 && this.#own !== null) this.#own.ref();
    // Fractions round up (the option is checked to be at most TIMER_MAX).
    if (req.timeout > 0) {
      const ms = req.timeout;
      ex.timer = setTimeout(() => {
        ex.cancel(new TimeoutError(errno.ETIMEDOUT, `${req.method} ${req.url} timed out after ${ms} ms`));
      }, Math.ceil(ms));
    }
    let pool = this.#pools.get(req.origin.key);
    if (pool === undefined) {
      pool = new Pool(core, req.origin);
      this.#pools.set(req.origin.key, pool);
    }
    pool.dispatch(ex);
  }
}
