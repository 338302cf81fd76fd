/**
 * Turning what a caller passes to `HttpClient#request` (a URL, or an options object)
 * into a checked, serialized request: the origin to connect to and the bytes to send.
 * Everything wrong with the input surfaces here, before any socket exists, as a
 * `TypeError`/`RangeError` naming the bad value.
 */
import { AF_INET, AF_INET6 } from '../sys/constants.js';
import { describe, toInteger, toSignal, toTimeoutMs } from '../validate.js';

/** Header values a request accepts: one value, or several for a repeated field. */
export type HeaderValue = string | number | readonly (string | number)[];
/** Request headers: a plain object, a `Headers`/`Map`, or `[name, value]` pairs. */
export type HeadersInit = Record<string, HeaderValue | undefined> | Iterable<readonly [string, HeaderValue]>;

/** A request body given piece by piece: sent chunked unless a Content-Length header is given. */
export type BodyStream = AsyncIterable<Uint8Array | string>;

/** The options form of a request. */
export interface RequestOptions {
  /** An `http://` or `https://` URL (host name, IPv4, or bracketed IPv6 literal). */
  url: string | URL;
  /** Request method; default `'GET'`. */
  method?: string;
  /** Extra request headers; `Host` and `Content-Length` are added when missing. */
  headers?: HeadersInit;
  /**
   * Request body. A Buffer, Uint8Array or string (UTF-8) is sent with its length as
   * `Content-Length`; an async iterable of them (a `Readable`, an async generator) is
   * read as it is sent, with `Transfer-Encoding: chunked` unless the headers give a
   * `Content-Length` (which it must then match). A request with an iterable body is
   * never sent twice (no retry, no redirect that would resend it).
   */
  body?: Buffer | Uint8Array | string | BodyStream;
  /**
   * Most bytes of body a buffered response may have (default: the client's
   * `maxResponseSize`); more fails the request with `ResponseTooLargeError` and closes the
   * connection. Streamed responses are not limited.
   */
  maxResponseSize?: number;
  /** Whole-request timeout in milliseconds (0 or `Infinity`: none); default the client's. */
  timeout?: number;
  /** Cancels the request; it then fails with `signal.reason`. */
  signal?: AbortSignal;
}

/** Where a request goes: one pool per distinct origin. */
export interface Origin {
  /** `host:port` with IPv6 literals bracketed (`https://host:port` for TLS); the pool key. */
  key: string;
  /** HTTPS: TLS over the connection. */
  tls: boolean;
  /** Host to resolve or connect to (no brackets). */
  host: string;
  port: number;
  /** `AF_INET`/`AF_INET6` for a numeric host, 0 for a name to resolve. */
  family: number;
}

/** A request ready to go on the wire. */
export interface PreparedRequest {
  method: string;
  url: string;
  origin: Origin;
  /** Head and body (when the body is small, in one buffer so one send suffices). */
  wire: Buffer[];
  /** ms, or 0 for none. */
  timeout: number;
  signal: AbortSignal | undefined;
  /** Safe to send again on a fresh connection when a stale one dropped it. */
  idempotent: boolean;
  /** The body source still to be read and sent after `wire`, if any. */
  bodyStream: BodyStream | null;
  /** The length a streamed body must have (its Content-Length), or -1: sent chunked. */
  streamLength: number;
  /** Most body bytes a buffered response may have. */
  maxResponseSize: number;
  /** What it was prepared from (for a redirect, which prepares the next request from it). */
  source: RequestOptions;
  /** The Authorization value the URL's user info gave (`Basic ...`), or ''. */
  urlAuth: string;
}

/** Defaults a request takes from its client. */
export interface RequestDefaults {
  timeout: number;
  maxResponseSize: number;
}

/** Checks a size limit option: an integer >= 0, or Infinity. */
export function sizeOption(v: unknown, what: string): number {
  return v === Infinity ? v : toInteger(v, what, 0);
}

function isBodyStream(v: unknown): v is BodyStream {
  return v !== null && typeof v === 'object' && typeof (v as BodyStream)[Symbol.asyncIterator] === 'function';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: HTAB, visible ASCII, SP and obs-text (latin1 on the wire).
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const URL_WHITESPACE = /[\t\n\r]/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const KNOWN_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const NEEDS_LENGTH = new Set(['POST', 'PUT', 'PATCH']);
/** Bodies up to this size go out in the same buffer as the head. */
const COALESCE_MAX = 64 * 1024;

const originCache = new Map<string, Origin>();

/** A parsed, checked URL. */
interface Target {
  origin: Origin;
  path: string;
  hostHeader: string;
  auth: string;
}

/** Recently used URL strings: parsing with `new URL` costs more than the rest of a request. */
const targetCache = new Map<string, Target>();
const TARGET_CACHE_MAX = 512;

/** Parses and checks an `http://` or `https://` URL. */
function parseUrl(input: string | URL): Target {
  if (typeof input === 'string') {
    const hit = targetCache.get(input);
    if (hit !== undefined) return hit;
    const t = parseUrlUncached(input);
    if (targetCache.size >= TARGET_CACHE_MAX) targetCache.clear();
    targetCache.set(input, t);
    return t;
  }
  return parseUrlUncached(input);
}

function parseUrlUncached(input: string | URL): Target {
  let u: URL;
  if (input instanceof URL) u = input;
  else if (typeof input === 'string') {
    // The URL parser removes tab, CR and LF wherever they are: the request would go to
    // another URL than the one given.
    if (URL_WHITESPACE.test(input)) {
      throw new TypeError(`invalid URL ${describe(input)}: the URL contains a tab, CR or LF`);
    }
    try {
      u = new URL(input);
    } catch {
      throw new TypeError(`invalid URL ${describe(input)}`);
    }
  } else {
    throw new TypeError(`url must be a string or a URL, got ${input === null ? 'null' : typeof input}`);
  }
  const tls = u.protocol === 'https:';
  if (u.protocol !== 'http:' && !tls) {
    throw new TypeError(`unsupported URL scheme ${describe(u.protocol)} in ${describe(u.href)}: expected http: or https:`);
  }
  const port = u.port === '' ? (tls ? 443 : 80) : Number(u.port);
  let host = u.hostname;
  let family = 0;
  if (host.startsWith('[')) {
    host = host.slice(1, -1);
    family = AF_INET6;
  } else if (IPV4.test(host)) {
    family = AF_INET;
  }
  const key = tls ? `https://${u.hostname}:${port}` : `${u.hostname}:${port}`;
  let origin = originCache.get(key);
  if (origin === undefined) {
    origin = { key, host, port, family, tls };
    if (originCache.size < 1000) originCache.set(key, origin);
  }
  const auth = u.username !== '' || u.password !== ''
    ? Buffer.from(`${userInfo(u.username, 'user name', key)}:${userInfo(u.password, 'password', key)}`).toString('base64')
    : '';
  return { origin, path: `${u.pathname}${u.search}`, hostHeader: u.host, auth };
}

/** A percent-decoded URL user name or password (the password itself never in a message). */
function userInfo(raw: string, what: string, origin: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    const shown = what === 'password' ? '' : ` ${describe(raw)}`;
    throw new TypeError(`invalid percent-encoding in the URL's ${what}${shown} (for ${origin})`);
  }
}

/** The `[name, value]` pairs of a headers option. */
export function headerEntries(h: HeadersInit): Iterable<readonly [string, HeaderValue | undefined]> {
  if (h === null || typeof h !== 'object') throw new TypeError(`headers must be an object, got ${describe(h)}`);
  if (Symbol.iterator in h) return h as Iterable<readonly [string, HeaderValue]>;
  return Object.entries(h);
}

function checkValue(name: string, v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string') throw new TypeError(`header ${describe(name)} must be a string or number, got ${typeof v}`);
  if (BAD_VALUE.test(v)) throw new TypeError(`header ${describe(name)} has an invalid character in value ${describe(v)}`);
  return v.trim();
}

/**
 * A timeout option in milliseconds ({@link toTimeoutMs}'s rules); 0, `Infinity` or
 * `null` mean none and give 0.
 */
export function timeoutOption(t: unknown, what = 'timeout'): number {
  const ms = toTimeoutMs(t, what);
  return ms < 0 ? 0 : ms;
}

/** Checks a connection limit option: an integer >= 1, or Infinity. */
export function checkMaxConnections(max: unknown, what = 'maxConnectionsPerOrigin'): number {
  return max === Infinity ? max : toInteger(max, what, 1);
}

/**
 * Validates and serializes a request.
 * @param defaults the client's timeout and maxResponseSize, used when the request has none.
 */
export function prepare(input: string | URL | RequestOptions, defaults: RequestDefaults): PreparedRequest {
  const opts: RequestOptions = typeof input === 'string' || input instanceof URL ? { url: input } : input;
  if (opts === null || typeof opts !== 'object') {
    throw new TypeError(`request() takes a URL or an options object, got ${opts === null ? 'null' : typeof opts}`);
  }
  const { origin, path, hostHeader, auth } = parseUrl(opts.url);

  let method = opts.method ?? 'GET';
  if (typeof method !== 'string' || !TOKEN.test(method)) throw new TypeError(`invalid method ${describe(method)}`);
  const upper = method.toUpperCase();
  if (KNOWN_METHODS.has(upper)) method = upper;

  let body: Buffer | null = null;
  let bodyStream: BodyStream | null = null;
  let streamLength = -1;
  if (opts.body !== undefined && opts.body !== null) {
    if (typeof opts.body === 'string') body = Buffer.from(opts.body, 'utf8');
    else if (opts.body instanceof Uint8Array) body = Buffer.from(opts.body.buffer, opts.body.byteOffset, opts.body.byteLength);
    else if (isBodyStream(opts.body)) bodyStream = opts.body;
    else throw new TypeError(`body must be a Buffer, Uint8Array, string or async iterable, got ${describe(opts.body)}`);
  }

  let fields = '';
  let hasHost = false;
  let hasAuth = false;
  if (opts.headers !== undefined) {
    for (const [rawName, v] of headerEntries(opts.headers)) {
      if (v === undefined) continue;
      const name = String(rawName);
      if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${describe(name)}`);
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'transfer-encoding') {
        // The client frames the body itself: a caller's framing could only disagree with it.
        if (lower === 'transfer-encoding') {
          throw new TypeError('header "transfer-encoding" is not supported: an async iterable body is sent chunked');
        }
        if (bodyStream !== null) {
          const v1 = checkValue(name, v);
          if (!/^\d{1,15}$/.test(v1)) throw new TypeError(`header "content-length" must be a length, got ${describe(v)}`);
          streamLength = Number(v1);
          continue;
        }
        const want = String(body?.length ?? 0);
        if (checkValue(name, v) !== want) {
          throw new TypeError(`header "content-length" is ${describe(v)} but the body has ${want} bytes`);
        }
        continue;
      }
      if (lower === 'host') hasHost = true;
      if (lower === 'authorization') hasAuth = true;
      if (Array.isArray(v)) for (const one of v) fields += `${name}: ${checkValue(name, one)}\r\n`;
      else fields += `${name}: ${checkValue(name, v)}\r\n`;
    }
  }
  let head = hasHost ? `${method} ${path} HTTP/1.1\r\n${fields}` : `${method} ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\n${fields}`;
  if (auth !== '' && !hasAuth) head += `Authorization: Basic ${auth}\r\n`;
  if (bodyStream !== null) head += streamLength >= 0 ? `Content-Length: ${streamLength}\r\n` : 'Transfer-Encoding: chunked\r\n';
  else if (body !== null || NEEDS_LENGTH.has(method)) head += `Content-Length: ${body?.length ?? 0}\r\n`;
  head += '\r\n';

  let wire: Buffer[];
  if (body === null || body.length === 0) wire = [Buffer.from(head, 'latin1')];
  else if (body.length <= COALESCE_MAX) {
    const hl = Buffer.byteLength(head, 'latin1');
    const all = Buffer.allocUnsafe(hl + body.length);
    all.write(head, 0, 'latin1');
    body.copy(all, hl);
    wire = [all];
  } else wire = [Buffer.from(head, 'latin1'), body];

  const timeout = timeoutOption(opts.timeout ?? defaults.timeout);
  const signal = toSignal(opts.signal) ?? undefined;
  const maxResponseSize = opts.maxResponseSize === undefined ? defaults.maxResponseSize : sizeOption(opts.maxResponseSize, 'maxResponseSize');
  return {
    method, url: String(opts.url), origin, wire, timeout, signal, idempotent: IDEMPOTENT.has(method) && bodyStream === null,
    bodyStream, streamLength, maxResponseSize, source: opts, urlAuth: auth !== '' && !hasAuth ? `Basic ${auth}` : '',
  };
}
