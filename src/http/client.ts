/**
 * `HttpClient`: HTTP/1.1 over non-blocking sockets on a {@link Reactor}, inside Node's own
 * event loop. Keep-alive connections per origin (at most `maxConnectionsPerOrigin`, the
 * rest queue), a whole-request timeout, AbortSignal, promises or `(err, res)` callbacks.
 */
import { ClosedError, TimeoutError, errno } from '../errors.js';
import { describe, toFunction, toOptions } from '../validate.js';
import { Reactor } from '../loop/reactor.js';
import { Exchange, type Done } from './exchange.js';
import { Pool } from './pool.js';
import type { ClientCore } from './core.js';
import { resolveAsync } from './io.js';
import { prepare, timeoutOption, checkMaxConnections, type RequestOptions } from './request.js';
import type { HttpResponse } from './response.js';

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  /** The Reactor to run on; default: a new one, owned (and closed) by the client. */
  reactor?: Reactor;
  /** Open connections per origin (`host:port`); more requests wait in a queue. Default 6. */
  maxConnectionsPerOrigin?: number;
  /** Whole-request timeout in milliseconds (0 or `Infinity`: none). Default 30000. */
  timeout?: number;
}

/** `(err, res)`: the callback form of {@link HttpClient.request}. */
export type RequestCallback = (err: Error | null, res?: HttpResponse) => void;

const READ_BUFFER_SIZE = 64 * 1024;

/**
 * An HTTP/1.1 client for `http://` URLs (IPv4, bracketed IPv6 literals, host names
 * through the system resolver on libuv's thread pool).
 *
 * Errors fail only their own request: `ConnectionRefusedError`, `TimeoutError` (the
 * `timeout` elapsed), the signal's reason (aborted), `HttpParseError` (malformed
 * response), `ConnectionResetError` (closed mid-response), `ClosedError` (`close()`).
 * A connection that saw an error is never reused.
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
  #core: ClientCore | null = null;
  #closed = false;
  #active = 0;
  readonly #settledHook = (): void => this.#settled();

  /**
   * @param options `reactor` (default: its own, closed by `close()`),
   *   `maxConnectionsPerOrigin` (default 6), `timeout` in ms (default 30000).
   * @throws TypeError for an option of the wrong type; RangeError for a bad number.
   */
  constructor(options: HttpClientOptions = {}) {
    const o = toOptions<HttpClientOptions>(options, 'HttpClient options', '{ reactor, maxConnectionsPerOrigin, timeout }');
    this.#max = checkMaxConnections(o.maxConnectionsPerOrigin ?? 6);
    this.#timeout = timeoutOption(o.timeout ?? 30000);
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

  /**
   * Sends a request and resolves with the complete response (any status: a 404 is a
   * response, not an error).
   * @param input a URL, or `{ url, method, headers, body, timeout, signal }`.
   */
  request(input: string | URL | RequestOptions): Promise<HttpResponse>;
  /** Callback form: `callback(err, res)` is called once, asynchronously. */
  request(input: string | URL | RequestOptions, callback: RequestCallback): void;
  request(input: string | URL | RequestOptions, callback?: RequestCallback): Promise<HttpResponse> | void {
    if (callback !== undefined) {
      toFunction(callback, 'callback');
      // Called on its own tick: a throwing callback is an uncaught exception, as with any
      // Node callback, and cannot disturb the connection that delivered the response.
      this.#start(input, (err, res) => {
        if (err) process.nextTick(callback, err);
        else process.nextTick(callback, null, res);
      });
      return;
    }
    return new Promise((resolve, reject) => {
      this.#start(input, (err, res) => {
        if (err) reject(err);
        else resolve(res!);
      });
    });
  }

  /** Sends a GET request: shorthand for `request(url)`. */
  get(url: string | URL, options: Omit<RequestOptions, 'url' | 'method'> = {}): Promise<HttpResponse> {
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
        if (c.ex !== null) victims.push(c.ex);
        c.shutdown();
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

  #start(input: string | URL | RequestOptions, done: Done): void {
    if (this.#closed) {
      done(new ClosedError('HttpClient is closed'));
      return;
    }
    let req;
    try {
      req = prepare(input, this.#timeout);
    } catch (e) {
      done(e as Error);
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
    const ex = new Exchange(req, done, this.#settledHook);
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
