/**
 * A streamed request body: read piece by piece from its async iterable, framed (chunked
 * encoding, or checked against its Content-Length) and queued on the connection's
 * {@link OutQueue}. The next piece is taken only once the previous one is written, so a
 * slow socket holds the source back.
 */
import type { Exchange } from './exchange.js';
import type { OutQueue } from './outqueue.js';

const CRLF = Buffer.from('\r\n', 'latin1');
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** What the body needs of its connection. */
export interface BodyHost {
  readonly out: OutQueue;
  /** Writes what is queued (and, once written, asks for the next piece). */
  flush(): void;
  /** Fails the connection. */
  fail(err: Error): void;
  /** Whether the connection is closed (a late piece is then ignored). */
  closed(): boolean;
  /** The body was read to its end (before its last piece is queued). */
  finished(body: RequestBody): void;
}

/** The body of `ex`'s request, read from `ex.req.bodyStream`. */
export class RequestBody {
  readonly ex: Exchange;
  readonly #host: BodyHost;
  #iter: AsyncIterator<Uint8Array | string> | null = null;
  #sent = 0;
  #pulling = false;

  constructor(ex: Exchange, host: BodyHost) {
    this.ex = ex;
    this.#host = host;
  }

  /** Whether a piece is being awaited from the source. */
  get pulling(): boolean {
    return this.#pulling;
  }

  /** Whether reading has started (and not ended or been cancelled). */
  get started(): boolean {
    return this.#iter !== null;
  }

  /** Takes the next piece: starts the iterable at the first call. */
  next(): void {
    if (this.#iter === null) this.#start();
    else this.#pull();
  }

  /** Stops reading and tells the source nobody reads it any more. */
  cancel(): void {
    const it = this.#iter;
    if (it === null) return;
    this.#iter = null;
    try {
      void Promise.resolve(it.return?.()).catch(() => {});
    } catch {
      // its return() threw: nothing more to do
    }
  }

  #start(): void {
    try {
      this.#iter = this.ex.req.bodyStream![Symbol.asyncIterator]();
    } catch (e) {
      this.#host.fail(e as Error);
      return;
    }
    this.#pull();
  }

  /** Takes the next piece of the body, frames it and writes it. */
  #pull(): void {
    const it = this.#iter!;
    const ex = this.ex;
    const host = this.#host;
    const stale = (): boolean => this.#iter !== it || host.closed();
    let next: Promise<IteratorResult<Uint8Array | string>>;
    try {
      next = it.next();
    } catch (e) {
      host.fail(e as Error);
      return;
    }
    this.#pulling = true;
    Promise.resolve(next).then((r) => {
      if (stale()) return;
      this.#pulling = false;
      const want = ex.req.streamLength;
      if (r.done === true) {
        this.#iter = null;
        host.finished(this);
        if (want >= 0 && this.#sent !== want) {
          host.fail(new RangeError(`request body had ${this.#sent} bytes but content-length is ${want}`));
          return;
        }
        if (want < 0) host.out.push(LAST_CHUNK, ex);
        else ex.sent = true;
        host.flush();
        return;
      }
      const v = r.value;
      let chunk: Buffer;
      if (typeof v === 'string') chunk = Buffer.from(v, 'utf8');
      else if (v instanceof Uint8Array) chunk = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      else {
        host.fail(new TypeError(`a request body piece must be a Buffer, Uint8Array or string, got ${typeof v}`));
        return;
      }
      this.#sent += chunk.length;
      if (want >= 0 && this.#sent > want) {
        host.fail(new RangeError(`request body has more than the ${want} bytes its content-length gives`));
        return;
      }
      if (chunk.length === 0) {
        host.flush();
        return;
      }
      if (want < 0) {
        host.out.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'), null);
        host.out.push(chunk, null);
        host.out.push(CRLF, null);
      } else host.out.push(chunk, null);
      // The next piece is taken once this one is written (the flush calls next()).
      host.flush();
    }, (err: unknown) => {
      if (stale()) return;
      this.#pulling = false;
      this.#iter = null;
      host.fail(err instanceof Error ? err : new Error(String(err)));
    });
  }
}
