/**
 * HTTP responses as `HttpClient` delivers them: complete (`HttpResponse`, the body fully
 * read) or streamed (`HttpStreamResponse`, the body read as it arrives).
 */
import type { Readable } from 'node:stream';

/**
 * What both kinds of response share: the status line, the header and trailer fields, the
 * URL, and `ok`.
 */
export abstract class ResponseHead {
  /** Status code, e.g. 200 (never an interim 1xx). */
  readonly status: number;
  /** Reason phrase as the server sent it (may be empty). */
  readonly statusText: string;
  /** Header fields: a plain object, lower-case names, repeated fields joined by `', '`. */
  readonly headers: Record<string, string>;
  /**
   * Trailer fields of a chunked body (same shape as `headers`; usually empty). For a
   * streamed response they are filled in when the body has ended.
   */
  readonly trailers: Record<string, string>;
  /** The URL that was requested. */
  readonly url: string;

  /** @param headers lower-case names, repeated fields already joined by `', '`. */
  constructor(status: number, statusText: string, headers: Record<string, string>,
    trailers: Record<string, string>, url: string) {
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    this.trailers = trailers;
    this.url = url;
  }

  /** True for a 2xx status. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
}

/** A response: status, headers (lower-case names, repeats joined by `', '`) and body. */
export class HttpResponse extends ResponseHead {
  /** The whole body (empty for HEAD, 204 and 304). */
  readonly body: Buffer;

  /**
   * Made by the client for each completed response; constructible for tests and mocks.
   * @param headers lower-case names, repeated fields already joined by `', '`.
   */
  constructor(status: number, statusText: string, headers: Record<string, string>, body: Buffer,
    trailers: Record<string, string> = {}, url = '') {
    super(status, statusText, headers, trailers, url);
    this.body = body;
  }

  /** The body decoded as UTF-8. */
  text(): string {
    return this.body.toString('utf8');
  }

  /**
   * The body parsed as JSON.
   * @throws SyntaxError when the body is not valid JSON.
   */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/**
 * A response whose body is read as it arrives: `body` is a `Readable` (also an async
 * iterable of Buffers) with backpressure: while the consumer is behind, the connection
 * stops reading from the socket. The connection goes back to its pool once the body has
 * been read to its end; destroying `body` early closes the connection.
 */
export class HttpStreamResponse extends ResponseHead {
  /** The body as it arrives. */
  readonly body: Readable;

  /** Made by the client when a streamed response's head has arrived. */
  constructor(status: number, statusText: string, headers: Record<string, string>, body: Readable,
    trailers: Record<string, string> = {}, url = '') {
    super(status, statusText, headers, trailers, url);
    this.body = body;
  }

  /** Reads the rest of the body into one Buffer. */
  async buffer(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.body) parts.push(chunk as Buffer);
    return Buffer.concat(parts);
  }

  /** Reads the rest of the body, decoded as UTF-8. */
  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }
}
