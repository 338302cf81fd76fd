// Public exports of src/http/: the HTTP/1.1 client, its batch runner and their types.
export { HttpParseError } from './errors.js';
export { HttpResponse } from './response.js';
export { HttpClient, type HttpClientOptions, type RequestCallback } from './client.js';
export { HttpBatch, type HttpBatchOptions } from './batch.js';
export type { RequestOptions, HeadersInit, HeaderValue } from './request.js';
