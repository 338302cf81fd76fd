import type { PreparedRequest } from './request.js';

/**
 * The HTTP client's own error: a response that breaks HTTP/1.1's message syntax
 * (RFC 9112) or one of the parser's limits.
 */

/** A malformed HTTP response; `code` is always `'ERR_HTTP_PARSE'`. */
export class HttpParseError extends Error {
  /** Always `'ERR_HTTP_PARSE'`. */
  readonly code = 'ERR_HTTP_PARSE' as const;
  /** @param message what was wrong with the response, quoting the offending bytes. */
  constructor(message: string) {
    super(message);
  }
}
Object.defineProperty(HttpParseError.prototype, 'name', { value: 'HttpParseError', writable: true, configurable: true });

/**
 * A response body larger than the `maxResponseSize` allowed for a buffered response; the
 * connection it arrived on is closed. `code` is always `'ERR_HTTP_RESPONSE_TOO_LARGE'`.
 */
export class ResponseTooLargeError extends Error {
  /** Always `'ERR_HTTP_RESPONSE_TOO_LARGE'`. */
  readonly code = 'ERR_HTTP_RESPONSE_TOO_LARGE' as const;
  /** The limit in bytes. */
  readonly limit: number;
  /**
   * @param limit    the `maxResponseSize` in bytes.
   * @param size     the body size seen so far, or the one declared.
   * @param declared whether `size` is the response's Content-Length.
   */
  constructor(limit: number, size: number, declared = false) {
    super(declared
      ? `response body of ${size} bytes (Content-Length) exceeds maxResponseSize ${limit}`
      : `response body exceeds maxResponseSize ${limit} (at least ${size} bytes arrived)`);
    this.limit = limit;
  }
}
Object.defineProperty(ResponseTooLargeError.prototype, 'name', { value: 'ResponseTooLargeError', writable: true, configurable: true });

/**
 * A request pipelined behind another on one connection, failed because the connection
 * failed before its response came (`cause`: that failure) or because it had already been
 * sent again once. `code` is always `'ERR_HTTP_PIPELINE_ABORTED'`.
 */
export class PipelineAbortedError extends Error {
  /** Always `'ERR_HTTP_PIPELINE_ABORTED'`. */
  readonly code = 'ERR_HTTP_PIPELINE_ABORTED' as const;
  /**
   * @param origin `host:port` of the connection.
   * @param req    the request that got no response.
   * @param cause  what failed the connection, if anything.
   */
  constructor(origin: string, req: Pick<PreparedRequest, 'method' | 'url'>, cause: Error | null) {
    super(cause !== null
      ? `${req.method} ${req.url} was pipelined on a connection to ${origin} that failed before its response: ${cause.message}`
      : `${req.method} ${req.url} got no response on a connection to ${origin}, twice`, cause !== null ? { cause } : undefined);
  }
}
Object.defineProperty(PipelineAbortedError.prototype, 'name', { value: 'PipelineAbortedError', writable: true, configurable: true });

/**
 * A TLS handshake that failed (certificate not trusted, name mismatch, protocol error),
 * naming the origin. `code` is the underlying error's code (for example
 * `'UNABLE_TO_VERIFY_LEAF_SIGNATURE'`, `'ERR_TLS_CERT_ALTNAME_INVALID'`), `cause` the error.
 */
export class TlsError extends Error {
  /** The underlying error's code, or `'ERR_TLS'`. */
  readonly code: string;
  /**
   * @param origin `https://host:port` of the connection.
   * @param cause  what node:tls reported.
   */
  constructor(origin: string, cause: Error & { code?: unknown }) {
    super(`TLS connection to ${origin} failed: ${cause.message}`, { cause });
    this.code = typeof cause.code === 'string' ? cause.code : 'ERR_TLS';
  }
}
Object.defineProperty(TlsError.prototype, 'name', { value: 'TlsError', writable: true, configurable: true });
