/**
 * Parsing of a complete response head (status line and header fields) or trailer
 * section, already cut at its terminating empty line, into the values the message
 * framing needs. Everything RFC 9112 tells a client to reject is rejected here with
 * {@link HttpParseError}; nothing is repaired silently.
 */
import { describe } from '../validate.js';
import { HttpParseError } from './errors.js';

/** Limits a response must stay within; the defaults are {@link DEFAULT_LIMITS}. */
export interface ParserLimits {
  /** Bytes of status line + header fields (+ the empty line), and likewise of trailers. */
  maxHeaderBytes: number;
  /** Header fields in one head (trailer fields counted separately). */
  maxHeaderCount: number;
  /** Hex digits in a chunk-size, leading zeros included. */
  maxChunkSizeDigits: number;
  /** Bytes of chunk extensions on one chunk-size line. */
  maxChunkExtBytes: number;
}

/** The parser's default limits. */
export const DEFAULT_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxHeaderBytes: 64 * 1024,
  maxHeaderCount: 256,
  maxChunkSizeDigits: 16,
  maxChunkExtBytes: 4096,
});

/** What the framing of a message needs from its head. */
export interface Head {
  versionMinor: number;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  /** Declared body length, or -1 when there is no Content-Length. */
  contentLength: number;
  /** Transfer-Encoding's final coding is `chunked`. */
  chunked: boolean;
  /** The connection may carry another request afterwards (version and Connection field). */
  keepAlive: boolean;
}

// A field name: one or more tchar (RFC 9110 5.6.2).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Controls other than HTAB, and DEL: never allowed in a field value or reason phrase.
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/s;
const DIGITS = /^\d+$/;

/** SP or HTAB: optional whitespace around a field value. */
function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

/** Sets a field on a plain object; `__proto__` and friends become own properties. */
function put(obj: Record<string, string>, name: string, value: string): void {
  const prev = Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined;
  const next = prev === undefined ? value : `${prev}, ${value}`;
  if (name === '__proto__') Object.defineProperty(obj, name, { value: next, enumerable: true, writable: true, configurable: true });
  else obj[name] = next;
}

/**
 * Splits `text` (latin1, ending with its empty line) into lines without terminators.
 * A CR is allowed only right before LF: a bare CR is rejected (RFC 9112 2.2).
 */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const lf = text.indexOf('\n', start);
    if (lf < 0) break;
    const end = lf > start && text.charCodeAt(lf - 1) === 13 ? lf - 1 : lf;
    const line = text.slice(start, end);
    if (line.includes('\r')) throw new HttpParseError(`bare CR in line ${describe(line)}`);
    lines.push(line);
    start = lf + 1;
  }
  // The last line is the empty line that ended the block.
  lines.pop();
  return lines;
}

/**
 * Parses field lines into `out` (lower-case names, repeats joined by `', '`); returns
 * the number of fields. Used for header fields and for trailer fields.
 */
function parseFields(lines: string[], from: number, out: Record<string, string>, limits: ParserLimits,
  what: string): number {
  const count = lines.length - from;
  if (count > limits.maxHeaderCount) {
    throw new HttpParseError(`too many ${what} fields: ${count} (at most ${limits.maxHeaderCount})`);
  }
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) throw new HttpParseError(`obsolete line folding in ${what} fields: ${describe(line)}`);
    // name ":" OWS value OWS, by hand: a regex with a lazy value costs several times more.
    const colon = line.indexOf(':');
    const name = line.slice(0, colon);
    if (colon <= 0 || !TOKEN.test(name)) throw new HttpParseError(`invalid ${what} field line ${describe(line)}`);
    let a = colon + 1;
    let b = line.length;
    while (a < b && isOws(line.charCodeAt(a))) a++;
    while (b > a && isOws(line.charCodeAt(b - 1))) b--;
    const value = line.slice(a, b);
    if (BAD_VALUE_CHAR.test(value)) throw new HttpParseError(`control character in ${what} field ${describe(line)}`);
    put(out, name.toLowerCase(), value);
  }
  return count;
}

/** Whether the comma-separated `list` holds `token` (lower case), ignoring case and OWS. */
function hasToken(list: string, token: string): boolean {
  let start = 0;
  for (;;) {
    const comma = list.indexOf(',', start);
    const end = comma < 0 ? list.length : comma;
    if (end - start >= token.length && list.slice(start, end).trim().toLowerCase() === token) return true;
    if (comma < 0) return false;
    start = comma + 1;
  }
}

/** Content-Length's value (a list of equal decimal numbers), or throws. */
function contentLengthOf(value: string): number {
  if (value.length <= 15 && DIGITS.test(value)) return Number(value); // the usual single value
  let n = -1;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!DIGITS.test(v)) throw new HttpParseError(`invalid Content-Length ${describe(value)}`);
    if (v.length > 15) throw new HttpParseError(`Content-Length too large: ${describe(v)}`);
    const k = Number(v);
    if (n >= 0 && k !== n) throw new HttpParseError(`conflicting Content-Length values ${describe(value)}`);
    n = k;
  }
  return n;
}

/** A checked status line (without its line terminator). */
interface StatusLine {
  versionMinor: number;
  status: number;
  reason: string;
}

/**
 * Checks a status line (without its terminator): `HTTP/1.x`, a 3-digit code >= 100, a
 * reason phrase without control characters.
 * @throws HttpParseError naming what is wrong.
 */
export function parseStatusLine(line: string): StatusLine {
  const m = STATUS_LINE.exec(line);
  if (m === null) throw new HttpParseError(`invalid status line ${describe(line)}`);
  // HTTP/1.0 and 1.1, and 0.9 (read as 1.0) as llhttp accepts it; nothing else frames as RFC 9112.
  if (!(m[1] === '1' && (m[2] === '0' || m[2] === '1')) && !(m[1] === '0' && m[2] === '9')) {
    throw new HttpParseError(`unsupported HTTP version in status line ${describe(line)}`);
  }
  const reason = m[4] ?? '';
  if (BAD_VALUE_CHAR.test(reason)) throw new HttpParseError(`control character in status line ${describe(line)}`);
  const status = Number(m[3]);
  if (status < 100) throw new HttpParseError(`invalid status code ${m[3]}`);
  return { versionMinor: m[1] === '0' ? 0 : Number(m[2]), status, reason };
}

const HTTP_PREFIX = 'HTTP/';

/**
 * Checks one field line (without its terminator) as {@link parseHead} will, so that a
 * head that can never be valid fails as soon as the line has arrived.
 * @throws HttpParseError naming the line.
 */
function checkFieldLine(line: string, what: string): void {
  const c0 = line.charCodeAt(0);
  if (c0 === 32 || c0 === 9) throw new HttpParseError(`obsolete line folding in ${what} fields: ${describe(line)}`);
  const colon = line.indexOf(':');
  if (colon <= 0 || !TOKEN.test(line.slice(0, colon))) throw new HttpParseError(`invalid ${what} field line ${describe(line)}`);
  if (BAD_VALUE_CHAR.test(line.slice(colon + 1))) throw new HttpParseError(`control character in ${what} field ${describe(line)}`);
}

/**
 * Checks the start of a response head that is not complete yet, so that a peer that is
 * not an HTTP server, or a head that can never be valid, is found out without waiting
 * for the rest (which may never come): `buf[0, len)` holds the head's bytes so far and
 * `from` is where its first unchecked line starts (0 at first). Until the status line has
 * ended the bytes must begin like `HTTP/`; then the status line is checked in full
 * ({@link parseStatusLine}), and each field line as it ends.
 * Returns the new `from` (the start of the first line not yet complete).
 * @throws HttpParseError for a head that cannot be valid.
 */
export function checkHeadStart(buf: Buffer, len: number, from: number): number {
  for (;;) {
    const lf = buf.indexOf(10, from);
    if (lf < 0 || lf >= len) break;
    const end = lf > from && buf[lf - 1] === 13 ? lf - 1 : lf;
    const line = buf.toString('latin1', from, end);
    if (line.includes('\r')) throw new HttpParseError(`bare CR in line ${describe(line)}`);
    if (from === 0) {
      const s = parseStatusLine(line);
      // 101 would switch protocols, which this client never asks for.
      if (s.status === 101) throw new HttpParseError('unexpected 101 Switching Protocols');
    } else if (line !== '') {
      checkFieldLine(line, 'header');
    }
    from = lf + 1;
  }
  if (from > 0 && from < len && (buf[from] === 32 || buf[from] === 9)) {
    throw new HttpParseError(`obsolete line folding in header fields: ${describe(buf.toString('latin1', from, Math.min(len, from + 60)))}`);
  }
  if (from === 0) {
    for (let i = 0; i < len && i < HTTP_PREFIX.length; i++) {
      if (buf[i] !== HTTP_PREFIX.charCodeAt(i)) {
        throw new HttpParseError(`invalid status line ${describe(buf.toString('latin1', 0, Math.min(len, 60)))}`);
      }
    }
  }
  return from;
}

/** Parses a complete response head (text decoded as latin1, including the empty line). */
export function parseHead(text: string, limits: ParserLimits): Head {
  const lines = splitLines(text);
  const { versionMinor, status, reason } = parseStatusLine(lines[0] ?? '');

  const headers: Record<string, string> = {};
  parseFields(lines, 1, headers, limits, 'header');

  const te = headers['transfer-encoding'];
  const cl = headers['content-length'];
  let contentLength = -1;
  let chunked = false;
  const hasTransferEncoding = te !== undefined;
  if (hasTransferEncoding) {
    if (cl !== undefined) throw new HttpParseError('response has both Content-Length and Transfer-Encoding');
    // Chunked framing only when chunked is the final coding; otherwise the body runs until
    // the server closes (RFC 9112 6.3, rule 4, for a response).
    const codings = te.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
    chunked = codings.length > 0 && codings[codings.length - 1] === 'chunked';
  } else if (cl !== undefined) {
    contentLength = contentLengthOf(cl);
  }

  const conn = headers['connection'];
  let keepAlive = versionMinor >= 1
    ? conn === undefined || !hasToken(conn, 'close')
    : conn !== undefined && hasToken(conn, 'keep-alive');
  // A 1.0 message with Transfer-Encoding is faulty framing: finish it, then close (RFC 9112 6.1).
  if (hasTransferEncoding && (versionMinor === 0 || !chunked)) keepAlive = false;
  return { versionMinor, status, statusText: reason, headers, contentLength, chunked, keepAlive };
}

/** Parses a trailer section (decoded as latin1, including its empty line) into `out`. */
export function parseTrailers(text: string, out: Record<string, string>, limits: ParserLimits): void {
  parseFields(splitLines(text), 0, out, limits, 'trailer');
}

/**
 * Finds the end of a field block (head or trailers) in `buf[from, to)`: the index just
 * after the empty line that ends it (`\n\n` or `\n\r\n`), or -1. `from` may point into
 * the middle of the block; the caller restarts 2 bytes before where it stopped.
 */
export function findBlockEnd(buf: Uint8Array, from: number, to: number): number {
  let i = buf.indexOf(10, from);
  while (i >= 0 && i < to) {
    if (i + 1 < to) {
      const c = buf[i + 1];
      if (c === 10) return i + 2;
      if (c === 13 && i + 2 < to && buf[i + 2] === 10) return i + 3;
    }
    i = buf.indexOf(10, i + 1);
  }
  return -1;
}
