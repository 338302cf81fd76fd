/**
 * The incremental HTTP/1.1 response parser (RFC 9112). Bytes arrive in any split; the
 * parser copies what it keeps (the caller's read buffer is reused), so `feed` can be
 * called straight on a shared receive buffer. One parser serves one connection and is
 * `reset` before each request.
 */
import { HttpParseError, ResponseTooLargeError } from './errors.js';
import { DEFAULT_LIMITS, checkHeadStart, findBlockEnd, parseHead, parseTrailers, type ParserLimits } from './head.js';
import { S, EXT_LINE_END, extStep, hexValue } from './chunked.js';

/** Bodies up to this size declared by Content-Length get one buffer up front. */
const PREALLOC_MAX = 16 * 1024 * 1024;
/** Smallest body buffer once a body needs a second piece. */
const MIN_GROWN = 16 * 1024;

/**
 * Receives a response as it is parsed, instead of the parser keeping the body: the final
 * head once it is complete, then the body's bytes as they arrive.
 */
export interface BodySink {
  /** The final (non-1xx) head is parsed; `status`, `headers`... are set. */
  onHead(): void;
  /** Body bytes `buf[start, end)`: the buffer is the caller's and is reused after the call. */
  onBody(buf: Buffer, start: number, end: number): void;
}

/** Parses one response at a time; see {@link ResponseParser.feed}. */
export class ResponseParser {
  /** Final status code (never 1xx once `done`). */
  status = 0;
  /** Reason phrase, possibly empty. */
  statusText = '';
  /** HTTP/1.x minor version of the response. */
  versionMinor = 1;
  /** Header fields: lower-case names, repeats joined by `', '`. */
  headers: Record<string, string> = {};
  /** Trailer fields of a chunked body, same shape as `headers`. */
  trailers: Record<string, string> = {};
  /** The connection may be reused after this response. */
  keepAlive = false;
  /** A complete response has been parsed. */
  done = false;
  /** Some byte of the response (interim ones included) has arrived since `reset`. */
  started = false;
  /** Where the body goes instead of the parser's buffer (a streamed response), if anywhere. */
  sink: BodySink | null = null;
  /** Most body bytes kept in the parser's buffer (not counting a sink's). */
  maxBody = Infinity;

  private readonly limits: ParserLimits;
  private state = S.Head;
  private noBody = false;
  /** Partial head or trailer block, when it spans reads. */
  private block: Buffer | null = null;
  private blockLen = 0;
  /** For a head spanning reads: where its first line not yet checked starts. */
  private headFrom = 0;
  /** Empty lines skipped before the status line (bounded like a head). */
  private skipped = 0;
  private remaining = 0;
  private sizeDigits = 0;
  private extBytes = 0;
  /**
   * The body so far: one buffer, sized up front for a declared length, otherwise grown by
   * doubling. Chunk data is copied into it, so a body of many small chunks costs its
   * bytes and no object per chunk.
   */
  private bodyBuf: Buffer | null = null;
  private bodyLen = 0;
  private result: Buffer | null = null;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /**
   * Prepares for the response to a new request; `method` HEAD means no body; `maxBody`
   * bounds a body the parser keeps.
   */
  reset(method: string, maxBody = Infinity): void {
    this.sink = null;
    this.maxBody = maxBody;
    this.status = 0;
    this.statusText = '';
    this.headers = {};
    this.trailers = {};
    this.keepAlive = false;
    this.done = false;
    this.started = false;
    this.state = S.Head;
    this.noBody = method === 'HEAD';
    this.blockLen = 0;
    this.headFrom = 0;
    this.skipped = 0;
    this.bodyBuf = null;
    this.bodyLen = 0;
    this.result = null;
  }

  /** The body once `done` (a fresh Buffer the caller owns). */
  get body(): Buffer {
    if (this.result === null) {
      const b = this.bodyBuf;
      const n = this.bodyLen;
      if (b === null) this.result = Buffer.alloc(0);
      else if (b.length - n <= n >>> 3) this.result = n === b.length ? b : b.subarray(0, n);
      else {
        // Much of a grown buffer unused: hand out an exact copy and let the big one go.
        this.result = Buffer.allocUnsafe(n);
        b.copy(this.result, 0, 0, n);
      }
      this.bodyBuf = null;
    }
    return this.result;
  }

  /**
   * Parses `buf[start, end)`. Returns how many bytes it used: fewer than given only when
   * the response completed (`done`) before the end, leaving bytes that belong to no
   * request. Throws {@link HttpParseError} on malformed input; the parser (and its
   * connection) must not be used again after that.
   */
  feed(buf: Buffer, start: number, end: number): number {
    if (end > start) this.started = true;
    let p = start;
    while (p < end) {
      switch (this.state) {
        case S.Head:
          p = this.feedHead(buf, p, end);
          break;
        case S.Length: {
          const n = Math.min(this.remaining, end - p);
          this.keep(buf, p, n);
          p += n;
          this.remaining -= n;
          if (this.remaining === 0) this.finish();
          break;
        }
        case S.Eof:
          this.keep(buf, p, end - p);
          p = end;
          break;
        case S.ChunkData: {
          const n = Math.min(this.remaining, end - p);
          this.keep(buf, p, n);
          p += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S.ChunkDataCr;
          break;
        }
        case S.Trailers:
          p = this.feedTrailers(buf, p, end);
          break;
        case S.Done:
          return p - start;
        default:
          this.feedByte(buf[p]!);
          p++;
      }
      if (this.done) return p - start;
    }
    return p - start;
  }

  /**
   * Tells the parser the peer closed the connection. Returns true when that completes
   * the response (a body delimited by close); false when the response is cut short.
   */
  eof(): boolean {
    if (this.state === S.Eof) {
      this.finish();
      return true;
    }
    return this.state === S.Done;
  }

  private finish(): void {
    this.state = S.Done;
    this.done = true;
  }

  /** Copies body bytes out of the caller's buffer into the body buffer. */
  private keep(buf: Buffer, p: number, n: number): void {
    if (n === 0) return;
    if (this.sink !== null) {
      this.sink.onBody(buf, p, p + n);
      return;
    }
    const need = this.bodyLen + n;
    if (need > this.maxBody) throw new ResponseTooLargeError(this.maxBody, need);
    let b = this.bodyBuf;
    if (b === null) {
      // The first piece gets an exact buffer: often it is the whole body.
      b = this.bodyBuf = Buffer.allocUnsafe(n);
    } else if (b.length < need) {
      const grown = Buffer.allocUnsafe(Math.max(need, b.length * 2, MIN_GROWN));
      b.copy(grown, 0, 0, this.bodyLen);
      b = this.bodyBuf = grown;
    }
    buf.copy(b, this.bodyLen, p, p + n);
    this.bodyLen = need;
  }

  /** Appends to the pending block, up to the header limit; returns how many bytes fit. */
  private stash(buf: Buffer, p: number, end: number): number {
    const max = this.limits.maxHeaderBytes;
    const need = Math.min(max, this.blockLen + end - p);
    if (this.block === null || this.block.length < need) {
      const grown = Buffer.allocUnsafe(Math.min(max, Math.max(4096, need * 2)));
      if (this.block !== null) this.block.copy(grown, 0, 0, this.blockLen);
      this.block = grown;
    }
    const n = Math.min(end - p, this.block.length - this.blockLen);
    buf.copy(this.block, this.blockLen, p, p + n);
    this.blockLen += n;
    return n;
  }

  /**
   * Finds a complete field block starting at `buf[p]` (or continuing the pending one).
   * Returns `[text, next]` with the block's latin1 text and the index after it in `buf`,
   * or null when all of `buf[p, end)` was stashed and more is needed.
   */
  private takeBlock(buf: Buffer, p: number, end: number, what: string): [string, number] | null {
    const max = this.limits.maxHeaderBytes;
    if (this.blockLen === 0) {
      const e = findBlockEnd(buf, p, end);
      if (e >= 0) {
        if (e - p > max) throw new HttpParseError(`${what} larger than ${max} bytes`);
        return [buf.toString('latin1', p, e), e];
      }
      if (end - p > max) throw new HttpParseError(`${what} larger than ${max} bytes`);
      this.stash(buf, p, end);
      return null;
    }
    const before = this.blockLen;
    this.stash(buf, p, end);
    const e = findBlockEnd(this.block!, Math.max(0, before - 2), this.blockLen);
    if (e < 0) {
      if (this.blockLen >= max) throw new HttpParseError(`${what} larger than ${max} bytes`);
      return null;
    }
    const text = this.block!.toString('latin1', 0, e);
    this.blockLen = 0;
    return [text, p + (e - before)];
  }

  private feedHead(buf: Buffer, p: number, end: number): number {
    if (this.blockLen === 0) {
      // Empty lines before a status line are skipped (RFC 9112 2.2): some servers send
      // one after an interim response or at the start.
      const c = buf[p];
      if (c === 10 || c === 13) {
        if (++this.skipped > this.limits.maxHeaderBytes) {
          throw new HttpParseError(`more than ${this.limits.maxHeaderBytes} bytes of empty lines before the status line`);
        }
        if (c === 13) this.state = S.HeadLf;
        return p + 1;
      }
    }
    const got = this.takeBlock(buf, p, end, 'response head');
    if (got === null) {
      // Incomplete: check the lines there are now rather than when (if ever) the head is
      // complete.
      this.headFrom = checkHeadStart(this.block!, this.blockLen, this.headFrom);
      return end;
    }
    this.headFrom = 0; // the next head (after an interim response) starts unchecked
    this.skipped = 0;
    const [text, next] = got;
    const h = parseHead(text, this.limits);
    if (h.status < 200) {
      // 101 would switch protocols, which this client never asks for.
      if (h.status === 101) throw new HttpParseError('unexpected 101 Switching Protocols');
      return next; // an interim response: the final one follows
    }
    this.status = h.status;
    this.statusText = h.statusText;
    this.versionMinor = h.versionMinor;
    this.headers = h.headers;
    this.keepAlive = h.keepAlive;
    if (this.sink !== null) this.sink.onHead();
    else if (h.contentLength > this.maxBody && !this.noBody && h.status !== 204 && h.status !== 304) {
      throw new ResponseTooLargeError(this.maxBody, h.contentLength, true);
    }
    if (this.noBody || h.status === 204 || h.status === 304) {
      this.finish();
    } else if (h.chunked) {
      this.state = S.ChunkSize;
      this.remaining = 0;
      this.sizeDigits = 0;
    } else if (h.contentLength >= 0) {
      if (h.contentLength === 0) this.finish();
      else {
        this.state = S.Length;
        this.remaining = h.contentLength;
        if (h.contentLength <= PREALLOC_MAX && this.sink === null) this.bodyBuf = Buffer.allocUnsafe(h.contentLength);
      }
    } else {
      // No length: the body runs until the server closes (RFC 9112 6.3, rules 7 and 8).
      this.state = S.Eof;
      this.keepAlive = false;
    }
    return next;
  }

  private feedTrailers(buf: Buffer, p: number, end: number): number {
    const got = this.takeBlock(buf, p, end, 'trailer section');
    if (got === null) return end;
    parseTrailers(got[0], this.trailers, this.limits);
    this.finish();
    return got[1];
  }

  /** The byte-at-a-time states: chunk-size lines and the CRLF after chunk data. */
  private feedByte(c: number): void {
    switch (this.state) {
      case S.HeadLf:
        if (c !== 10) throw new HttpParseError(`bare CR before the status line (then byte 0x${c.toString(16)})`);
        this.skipped++;
        this.state = S.Head;
        return;
      case S.ChunkSize: {
        const v = hexValue(c);
        if (v >= 0) {
          if (++this.sizeDigits > this.limits.maxChunkSizeDigits) {
            throw new HttpParseError(`chunk size has more than ${this.limits.maxChunkSizeDigits} digits`);
          }
          if (this.remaining > 2 ** 48) throw new HttpParseError('chunk size too large');
          this.remaining = this.remaining * 16 + v;
          return;
        }
        if (this.sizeDigits === 0) throw new HttpParseError(`invalid chunk size: unexpected byte 0x${c.toString(16)}`);
        if (c === 13) this.state = S.ChunkSizeLf;
        else if (c === 10) this.endSizeLine();
        else if (c === 59) this.enterExt();
        else if (c === 32 || c === 9) this.state = S.ChunkSizeWs;
        else throw new HttpParseError(`invalid chunk size: unexpected byte 0x${c.toString(16)}`);
        return;
      }
      case S.ChunkSizeWs:
        if (c === 59) this.enterExt();
        else if (c !== 32 && c !== 9) throw new HttpParseError(`invalid chunk size line: byte 0x${c.toString(16)} after whitespace`);
        return;
      default:
        this.feedExt(c);
        return;
      case S.ChunkSizeLf:
        if (c !== 10) throw new HttpParseError('bare CR in chunk size line');
        this.endSizeLine();
        return;
      case S.ChunkDataCr:
        if (c === 13) this.state = S.ChunkDataLf;
        else if (c === 10) this.nextChunk();
        else throw new HttpParseError(`missing CRLF after chunk data (byte 0x${c.toString(16)})`);
        return;
      case S.ChunkDataLf:
        if (c !== 10) throw new HttpParseError('bare CR after chunk data');
        this.nextChunk();
        return;
      case S.TrailerStart:
        if (c === 13) this.state = S.TrailerStartLf;
        else if (c === 10) this.finish();
        else {
          // Trailer fields: let the block reader take this byte and the rest.
          this.state = S.Trailers;
          this.stash(Buffer.of(c), 0, 1);
        }
        return;
      case S.TrailerStartLf:
        if (c !== 10) throw new HttpParseError('bare CR at end of chunked body');
        this.finish();
        return;
    }
  }

  /** One byte of chunk extensions (see chunked.ts), within the length limit. */
  private feedExt(c: number): void {
    if (++this.extBytes > this.limits.maxChunkExtBytes) {
      throw new HttpParseError(`chunk extensions longer than ${this.limits.maxChunkExtBytes} bytes`);
    }
    const next = extStep(this.state, c);
    if (next === EXT_LINE_END) this.endSizeLine();
    else this.state = next;
  }

  private enterExt(): void {
    this.state = S.ExtPre;
    this.extBytes = 0;
  }

  private endSizeLine(): void {
    if (this.remaining === 0) this.state = S.TrailerStart;
    else this.state = S.ChunkData;
  }

  private nextChunk(): void {
    this.state = S.ChunkSize;
    this.remaining = 0;
    this.sizeDigits = 0;
  }
}
