// Public exports of src/http/: the HTTP/1.1 client, its batch runner and their types.
export { HttpParseError, ResponseTooLargeError, PipelineAbortedError, TlsError } from './errors.js';
export { HttpResponse, HttpStreamResponse } from './response.js';
export { HttpClient, type HttpClientOptions, type ClientRequestOptions, type RequestCallback } from './client.js';
export { HttpBatch, type HttpBatchOptions } from './batch.js';
export type { RequestOptions, HeadersInit, HeaderValue, BodyStream } from './request.js';
