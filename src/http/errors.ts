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
