/**
 * The seams between the HTTP client's parts, as interfaces only, so that connections,
 * pools and the two front ends (`HttpClient` on a Reactor, `HttpBatch` on a blocking
 * selector loop) depend on this file and never on each other in a circle.
 */
import type { FileLike } from '../validate.js';
import type { ReadinessCallbacks } from '../stream/watch.js';
import type { Exchange } from './exchange.js';
import type { Origin } from './request.js';

/**
 * What drives the connections: readiness callbacks per socket, level-triggered. The
 * Reactor implements it inside Node's event loop; {@link SelectorLoop} on a blocking
 * selector.
 */
export interface Driver {
  /** Calls `callback` whenever `fileobj` is readable, until removed. */
  addReader(fileobj: FileLike, callback: (fileobj: FileLike) => void): void;
  /** Calls `callback` whenever `fileobj` is writable, until removed. */
  addWriter(fileobj: FileLike, callback: (fileobj: FileLike) => void): void;
  /** Stops reading `fileobj`; false if it had no reader. */
  removeReader(fileobj: FileLike): boolean;
  /** Stops writing `fileobj`; false if it had no writer. */
  removeWriter(fileobj: FileLike): boolean;
}

/** Addresses to try for an origin, in order: `[family, numeric host]`. */
export type Addresses = Array<[family: number, host: string]>;

/** Receives the addresses of a host name, or why there are none. */
export type ResolveDone = (err: Error | null, addrs?: Addresses) => void;

/** How HTTPS connections are made: the TLS options and the Reactor their streams run on. */
export interface TlsConfig {
  /** Drives the Duplex under each TLS socket. */
  readonly reactor: ReadinessCallbacks;
  /** Certificate authorities to trust instead of Node's default ones. */
  readonly ca: string | Buffer | Array<string | Buffer> | undefined;
  /** Verify the server's certificate (default true). */
  readonly rejectUnauthorized: boolean;
  /** The name sent as SNI and verified, instead of the URL's host. */
  readonly servername: string | undefined;
}

/** What every pool of one client (or one batch run) shares. */
export interface ClientCore {
  /** Runs the connections' readiness callbacks. */
  readonly driver: Driver;
  /** One receive buffer for all connections: the parser copies out what it keeps. */
  readonly readBuf: Buffer;
  readonly maxConnections: number;
  /** Requests one connection may have in flight at once (1: no pipelining). */
  readonly pipelining: number;
  /** How to make HTTPS connections; null where there is no event loop for TLS (HttpBatch). */
  readonly tls: TlsConfig | null;
  /** Set when the client closes (or the batch ends): no connection goes idle after that. */
  closed: boolean;
  /**
   * Resolves a host name (an origin whose `family` is 0) to addresses; `done` may be
   * called at once (a blocking resolver) or later (one on libuv's thread pool).
   */
  resolve(origin: Origin, done: ResolveDone): void;
  /** Called when a pool has nothing left (no connection, no queued request). */
  poolEmpty(pool: { readonly origin: Origin }): void;
}

/** What a connection needs from the pool it belongs to. */
export interface PoolPort<C> {
  readonly core: ClientCore;
  readonly origin: Origin;
  /** A connection finished its exchange and may be reused. */
  release(c: C): void;
  /** A connection is gone. */
  detach(c: C): void;
  /** Opens connections for queued requests while there is room. */
  pump(): void;
  /** Sends again an exchange that got no response on a connection now gone. */
  requeue(ex: Exchange): void;
}
