/**
 * `HttpBatch`: seed 004's shape for scripts. Add requests with their callbacks, then
 * `run()` blocks the thread on a plain selector (`DefaultSelector`) until every request
 * has finished or timed out: non-blocking sockets plus I/O multiplexing, no event loop.
 * One connection per request (closed afterwards), each with its own timeout.
 */
import { ConnectionResetError, OSError, TimeoutError, errno as E } from '../errors.js';
import { AF_INET, AF_INET6, AF_UNSPEC, SOCK_STREAM } from '../sys/constants.js';
import { DefaultSelector, EVENT_READ, EVENT_WRITE } from '../selectors/index.js';
import type { BaseSelector } from '../selectors/index.js';
import { getaddrinfoSync } from '../net/resolve.js';
import type { Socket } from '../net/socket.js';
import { ResponseParser } from './parser.js';
import { HttpResponse } from './response.js';
import { prepare, checkTimeout, describe, type RequestOptions, type PreparedRequest } from './request.js';
import { openConnect, socketError, tryRecvInto, trySend, NEG_EAGAIN, NEG_EINPROGRESS } from './io.js';
import type { RequestCallback } from './client.js';

/** Options of {@link HttpBatch}. */
export interface HttpBatchOptions {
  /** Per-request timeout in ms (0 or `Infinity`: none), counted from `run()`. Default 30000. */
  timeout?: number;
}

/** One request of a batch. */
class Job {
  readonly req: PreparedRequest | null;
  readonly callback: RequestCallback | undefined;
  readonly parser = new ResponseParser();
  sock: Socket | null = null;
  deadline = Infinity;
  addrs: Array<[number, string]> = [];
  addrIdx = 0;
  connected = false;
  sent = 0;
  result: HttpResponse | Error | null;

  constructor(req: PreparedRequest | null, error: Error | null, callback: RequestCallback | undefined) {
    this.req = req;
    this.result = error;
    this.callback = callback;
  }
}

/**
 * A batch of requests run to completion by a blocking selector loop:
 * ```ts
 * const batch = new HttpBatch({ timeout: 5000 });
 * batch.add('http://127.0.0.1:8080/', (err, res) => console.log(err ?? res.status));
 * const results = batch.run(); // HttpResponse | Error per request, in order
 * ```
 * Do not run it on a thread that must also serve the requested server: it blocks.
 */
export class HttpBatch {
  readonly #jobs: Job[] = [];
  readonly #timeout: number;
  #ran = false;
  readonly #buf = Buffer.allocUnsafeSlow(64 * 1024);

  /**
   * @param options `timeout`: per-request ms, counted from `run()` (default 30000; 0 or
   *   `Infinity`: none).
   * @throws TypeError/RangeError for a timeout that is not a number >= 0.
   */
  constructor(options: HttpBatchOptions = {}) {
    this.#timeout = checkTimeout(options.timeout ?? 30000);
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
    if (callback !== undefined && typeof callback !== 'function') throw new TypeError(`callback must be a function, got ${describe(callback)}`);
    let req: PreparedRequest | null = null;
    let error: Error | null = null;
    try {
      req = prepare(input, this.#timeout);
    } catch (e) {
      error = e as Error;
    }
    this.#jobs.push(new Job(req, error, callback));
    return this;
  }

  /**
   * Runs every request at once on one selector until all are done or timed out, calling
   * each callback as its request finishes. Returns each outcome in the order added. If a
   * callback throws, the rest still run and the first such exception is rethrown at the end.
   */
  run(): Array<HttpResponse | Error> {
    if (this.#ran) throw new Error('HttpBatch has already run');
    this.#ran = true;
    const sel: BaseSelector<Job> = new DefaultSelector<Job>();
    let thrown: { e: unknown } | null = null;
    const finish = (job: Job, outcome: HttpResponse | Error): void => {
      if (job.sock !== null) {
        try {
          sel.unregister(job.sock);
        } catch { /* never registered (failed before connecting) */ }
        job.sock.close();
        job.sock = null;
      }
      job.result = outcome;
      live--;
      if (job.callback === undefined) return;
      try {
        if (outcome instanceof Error) job.callback(outcome);
        else job.callback(null, outcome);
      } catch (e) {
        thrown ??= { e };
      }
    };
    let live = this.#jobs.length;
    try {
      const now = performance.now();
      for (const job of this.#jobs) {
        if (job.result !== null) {
          finish(job, job.result as Error);
          continue;
        }
        if (job.req!.timeout > 0) job.deadline = now + job.req!.timeout;
        try {
          job.addrs = addressesOf(job.req!);
          this.#connect(job, sel, finish);
        } catch (e) {
          finish(job, e as Error);
        }
      }
      while (live > 0) {
        let next = Infinity;
        for (const job of this.#jobs) if (job.result === null && job.deadline < next) next = job.deadline;
        const wait = next === Infinity ? null : Math.max(0, (next - performance.now()) / 1000);
        for (const [key, events] of sel.select(wait)) {
          const job = key.data!;
          if (job.result !== null) continue;
          if (!job.connected) this.#onConnect(job, sel, finish);
          else if (events & EVENT_WRITE && job.sent < totalBytes(job.req!)) this.#send(job, sel, finish);
          else if (events & EVENT_READ) this.#receive(job, finish);
        }
        const t = performance.now();
        for (const job of this.#jobs) {
          if (job.result === null && job.deadline <= t) {
            finish(job, new TimeoutError(E.ETIMEDOUT, `${job.req!.method} ${job.req!.url} timed out after ${job.req!.timeout} ms`));
          }
        }
      }
    } finally {
      for (const job of this.#jobs) job.sock?.close();
      sel.close();
    }
    if (thrown !== null) throw (thrown as { e: unknown }).e;
    return this.#jobs.map((j) => j.result as HttpResponse | Error);
  }

  #connect(job: Job, sel: BaseSelector<Job>, finish: (j: Job, o: HttpResponse | Error) => void): void {
    let last: Error | null = null;
    while (job.addrIdx < job.addrs.length) {
      const [family, host] = job.addrs[job.addrIdx++]!;
      let sock: Socket;
      let r: number;
      try {
        [sock, r] = openConnect(family, host, job.req!.origin.port);
      } catch (e) {
        last = e as Error; // EMFILE and the like: maybe another address works
        continue;
      }
      if (r === 0 || r === NEG_EINPROGRESS) {
        job.sock = sock;
        // Connected or under way: writability says which (and sends the request).
        sel.register(sock, EVENT_WRITE, job);
        return;
      }
      sock.close();
      last = OSError.fromErrno(-r, 'connect', `${job.req!.origin.key} (${host})`);
    }
    finish(job, last ?? new OSError(E.EHOSTUNREACH!, `${job.req!.origin.host} has no address`, 'getaddrinfo'));
  }

  #onConnect(job: Job, sel: BaseSelector<Job>, finish: (j: Job, o: HttpResponse | Error) => void): void {
    const err = Math.abs(socketError(job.sock!));
    if (err !== 0) {
      const [, host] = job.addrs[job.addrIdx - 1]!;
      sel.unregister(job.sock!);
      job.sock!.close();
      job.sock = null;
      const e = OSError.fromErrno(err, 'connect', `${job.req!.origin.key} (${host})`);
      if (job.addrIdx >= job.addrs.length) finish(job, e);
      else {
        try {
          this.#connect(job, sel, finish);
        } catch (e2) {
          finish(job, e2 as Error);
        }
      }
      return;
    }
    job.connected = true;
    job.parser.reset(job.req!.method);
    sel.modify(job.sock!, EVENT_READ | EVENT_WRITE, job);
    this.#send(job, sel, finish);
  }

  #send(job: Job, sel: BaseSelector<Job>, finish: (j: Job, o: HttpResponse | Error) => void): void {
    let skip = job.sent;
    for (const b of job.req!.wire) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      const n = trySend(job.sock!, b, skip, b.length - skip);
      if (n === NEG_EAGAIN) return; // buffer full: stay registered for writing
      if (n < 0) {
        finish(job, OSError.fromErrno(-n, 'send', job.req!.origin.key));
        return;
      }
      job.sent += n;
      if (skip + n < b.length) return;
      skip = 0;
    }
    sel.modify(job.sock!, EVENT_READ, job);
  }

  #receive(job: Job, finish: (j: Job, o: HttpResponse | Error) => void): void {
    const buf = this.#buf;
    const n = tryRecvInto(job.sock!, buf, 0, buf.length);
    if (n === NEG_EAGAIN) return;
    if (n < 0) {
      finish(job, OSError.fromErrno(-n, 'recv', job.req!.origin.key));
      return;
    }
    const p = job.parser;
    if (n === 0) {
      if (p.eof()) finish(job, responseOf(job));
      else {
        const what = p.started ? 'before the response was complete' : 'before sending a response';
        finish(job, new ConnectionResetError(E.ECONNRESET, `${job.req!.origin.key} closed the connection ${what}`, 'recv'));
      }
      return;
    }
    try {
      p.feed(buf, 0, n);
    } catch (e) {
      finish(job, e as Error);
      return;
    }
    if (p.done) finish(job, responseOf(job));
  }
}

function totalBytes(req: PreparedRequest): number {
  let n = 0;
  for (const b of req.wire) n += b.length;
  return n;
}

function responseOf(job: Job): HttpResponse {
  const p = job.parser;
  return new HttpResponse(p.status, p.statusText, p.headers, p.body, p.trailers, job.req!.url);
}

/** The addresses to try, resolving a host name synchronously (this is the blocking API). */
function addressesOf(req: PreparedRequest): Array<[number, string]> {
  const o = req.origin;
  if (o.family !== 0) return [[o.family, o.host]];
  const out: Array<[number, string]> = [];
  for (const [fam, , , , addr] of getaddrinfoSync(o.host, o.port, AF_UNSPEC, SOCK_STREAM)) {
    if ((fam === AF_INET || fam === AF_INET6) && Array.isArray(addr)) out.push([fam, addr[0]]);
  }
  return out;
}
