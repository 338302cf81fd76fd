/**
 * `HttpBatch`: the HTTP client for scripts that block. Add requests with their callbacks,
 * then `run()` blocks the thread on a plain selector until every request has finished or
 * timed out: non-blocking sockets plus I/O multiplexing, no event loop. The connections
 * are `HttpClient`'s own (the same pools and connection state machine), driven by a
 * {@link SelectorLoop} instead of a Reactor: keep-alive reuse within the run, at most
 * `maxConnectionsPerOrigin` connections per origin, a stale keep-alive connection retried
 * once for idempotent requests.
 */
import { TimeoutError, errno } from '../errors.js';
import { toFunction, toOptions } from '../validate.js';
import { Exchange } from './exchange.js';
import { Pool } from './pool.js';
import type { ClientCore, ResolveDone, Addresses } from './core.js';
import { SelectorLoop } from './selectorloop.js';
import { resolveBlocking } from './io.js';
import { prepare, timeoutOption, checkMaxConnections, sizeOption, type RequestOptions, type Origin, type PreparedRequest } from './request.js';
import type { HttpResponse } from './response.js';
import type { RequestCallback } from './client.js';

/** Options of {@link HttpBatch}. */
export interface HttpBatchOptions {
  /** Per-request timeout in ms (0 or `Infinity`: none), counted from `run()`. Default 30000. */
  timeout?: number;
  /** Open connections per origin (`host:port`); more requests wait their turn. Default 6. */
  maxConnectionsPerOrigin?: number;
  /** Most bytes of body a response may have (`ResponseTooLargeError` past it). Default Infinity. */
  maxResponseSize?: number;
}

const READ_BUFFER_SIZE = 64 * 1024;

/** One request of a batch. */
interface Job {
  readonly req: PreparedRequest | null;
  readonly callback: RequestCallback | undefined;
  result: HttpResponse | Error | null;
  ex: Exchange | null;
  deadline: number;
}

/**
 * A batch of requests run to completion by a blocking selector loop:
 * ```ts
 * const batch = new HttpBatch({ timeout: 5000 });
 * batch.add('http://127.0.0.1:8080/', (err, res) => console.log(err ?? res.status));
 * const results = batch.run(); // HttpResponse | Error per request, in order
 * ```
 * Requests to one origin share keep-alive connections, at most `maxConnectionsPerOrigin`
 * at once; every connection is closed when `run()` returns. Do not run it on a thread
 * that must also serve the requested server: it blocks.
 */
export class HttpBatch {
  readonly #jobs: Job[] = [];
  readonly #timeout: number;
  readonly #max: number;
  readonly #maxResponseSize: number;
  #ran = false;

  /**
   * @param options `timeout`: per-request ms, counted from `run()` (default 30000; 0 or
   *   `Infinity`: none); `maxConnectionsPerOrigin` (default 6).
   * @throws TypeError for an option of the wrong type; RangeError for a bad number.
   */
  constructor(options: HttpBatchOptions = {}) {
    const o = toOptions<HttpBatchOptions>(options, 'HttpBatch options', '{ timeout, maxConnectionsPerOrigin, maxResponseSize }');
    this.#timeout = timeoutOption(o.timeout ?? 30000);
    this.#maxResponseSize = sizeOption(o.maxResponseSize ?? Infinity, 'maxResponseSize');
    this.#max = checkMaxConnections(o.maxConnectionsPerOrigin ?? 6);
  }

  /** Number of requests added. */
  get size(): number {
    return this.#jobs.length;
  }

  /**
   * Adds a request; `callback(err, res)` is called from `run()` when it finishes.
   * A request that is invalid (bad URL, `https:`) fails through its callback too.
   */
  add(input: string | URL | RequestOptions, callback?: RequestCallback): this {
    if (this.#ran) throw new Error('HttpBatch has already run: create a new one');
    if (callback !== undefined) toFunction(callback, 'callback');
    let req: PreparedRequest | null = null;
    let error: Error | null = null;
    try {
      const r = prepare(input, { timeout: this.#timeout, maxResponseSize: this.#maxResponseSize });
      if (r.origin.tls) {
        throw new TypeError(`https: is not supported by HttpBatch (TLS runs on Node's event loop, which run() blocks): use HttpClient for ${r.url}`);
      }
      if (r.bodyStream !== null) {
        throw new TypeError('HttpBatch takes no async iterable body (it would need the event loop run() blocks)');
      }
      req = r;
    } catch (e) {
      error = e as Error;
    }
    this.#jobs.push({ req, callback, result: error, ex: null, deadline: Infinity });
    return this;
  }

  /**
   * Runs every request on one selector until all are done or timed out, calling each
   * callback as its request finishes. Returns each outcome in the order added. If a
   * callback throws, the rest still run and the first such exception is rethrown at the end.
   */
  run(): Array<HttpResponse | Error> {
    if (this.#ran) throw new Error('HttpBatch has already run');
    this.#ran = true;
    const loop = new SelectorLoop();
    const pools = new Map<string, Pool>();
    const resolved = new Map<string, [Error | null, Addresses | undefined]>();
    const core: ClientCore = {
      driver: loop,
      readBuf: Buffer.allocUnsafeSlow(READ_BUFFER_SIZE),
      maxConnections: this.#max,
      pipelining: 1,
      tls: null,
      closed: false,
      // One blocking lookup per host name and run.
      resolve(origin: Origin, done: ResolveDone): void {
        let r = resolved.get(origin.key);
        if (r === undefined) {
          resolveBlocking(origin, (err, addrs) => { r = [err, addrs]; });
          resolved.set(origin.key, r!);
        }
        done(r![0], r![1]?.slice());
      },
      poolEmpty(pool): void {
        if (pools.get(pool.origin.key) === pool) pools.delete(pool.origin.key);
      },
    };
    let thrown: { e: unknown } | null = null;
    let live = 0;
    const deliver = (job: Job, err: Error | null, res?: HttpResponse): void => {
      job.result = err ?? res!;
      if (job.callback === undefined) return;
      try {
        if (err !== null) job.callback(err);
        else job.callback(null, res);
      } catch (e) {
        thrown ??= { e };
      }
    };
    const onSettled = (): void => {
      live--;
    };
    try {
      const now = performance.now();
      // Deadlines in the order they fall due, for the loop's next wait.
      const timed: Job[] = [];
      for (const job of this.#jobs) {
        const req = job.req;
        if (req === null) continue;
        live++;
        job.ex = new Exchange(req, (err, res) => deliver(job, err, res as HttpResponse | undefined), onSettled);
        if (req.timeout > 0) {
          job.deadline = now + req.timeout;
          timed.push(job);
        }
      }
      timed.sort((a, b) => a.deadline - b.deadline);
      for (const job of this.#jobs) {
        if (job.req === null) {
          deliver(job, job.result as Error);
          continue;
        }
        let pool = pools.get(job.req.origin.key);
        if (pool === undefined) {
          pool = new Pool(core, job.req.origin);
          pools.set(job.req.origin.key, pool);
        }
        pool.dispatch(job.ex!);
      }
      let due = 0;
      while (live > 0) {
        while (due < timed.length && timed[due]!.ex!.settled) due++;
        const next = due < timed.length ? timed[due]!.deadline : Infinity;
        loop.runOnce(next === Infinity ? null : Math.max(0, (next - performance.now()) / 1000));
        const t = performance.now();
        for (; due < timed.length && timed[due]!.deadline <= t; due++) {
          const { ex, req } = timed[due]!;
          ex!.cancel(new TimeoutError(errno.ETIMEDOUT, `${req!.method} ${req!.url} timed out after ${req!.timeout} ms`));
        }
      }
    } finally {
      core.closed = true;
      for (const pool of pools.values()) {
        for (const c of pool.conns) c.shutdown();
        pool.conns.clear();
      }
      loop.close();
    }
    if (thrown !== null) throw (thrown as { e: unknown }).e;
    return this.#jobs.map((j) => j.result as HttpResponse | Error);
  }
}
