// Public exports of src/http/: the HTTP/1.1 client.
export { HttpParseError } from './errors.js';
