/**
 * Preallocated native-memory scratch for the socket hot paths, and small argument
 * checks shared by the socket files. JS runs one call at a time, and every use of a
 * scratch buffer ends before the function that filled it returns, so one set serves
 * every socket.
 */
import { show } from './address.js';

/** `struct sockaddr_storage` scratch for addresses going in or coming out. */
export const ADDR = Buffer.allocUnsafeSlow(128);
/** `socklen_t` in/out scratch for address and option lengths. */
export const ADDRLEN = Buffer.allocUnsafeSlow(8);
/** Receive scratch for `recv(n)` with n up to its size: the result is copied out exactly. */
export const RECV = Buffer.allocUnsafeSlow(64 * 1024);
/** 4-byte int scratch for `getsockopt`/`setsockopt`. */
export const OPT = Buffer.allocUnsafeSlow(8);

/** Returns `v` when it is an integer, else throws a TypeError naming `what`. */
export function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer, got ${show(v)}`);
  return v;
}

/**
 * Returns `v` when it is an integer that fits a C `int`: a TypeError for a non-integer, a
 * RangeError (Python's OverflowError) outside -2^31..2^31-1, which koffi would otherwise
 * truncate silently (a `shutdown(2 ** 40)` would become `shutdown(SHUT_RD)`).
 */
export function cint(v: unknown, what: string): number {
  const n = int(v, what);
  if (n < -0x80000000 || n > 0x7fffffff) throw new RangeError(`${what} must fit a C int (-2147483648 to 2147483647), got ${n}`);
  return n;
}

/** How error messages name a socket's fd. */
export function where(fd: number): string {
  return fd < 0 ? 'socket is closed' : `fd ${fd}`;
}

/**
 * Bytes to send, counted in bytes as CPython counts any buffer: a `Uint8Array` as is,
 * another `ArrayBufferView` (a `Uint16Array(3)` is 6 bytes, a `DataView`) by its bytes,
 * an `ArrayBuffer` or `SharedArrayBuffer` whole, a string as UTF-8.
 * @throws TypeError naming `what` for anything else.
 */
export function toBytes(data: unknown, what: string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${what} must be a string, a Buffer or another ArrayBufferView, or an ArrayBuffer, got ${show(data)}`);
}

/**
 * A writable byte view of a receive buffer: any `ArrayBufferView` by its bytes, or an
 * `ArrayBuffer`/`SharedArrayBuffer` whole. A string has no memory to receive into.
 * @throws TypeError naming `what` for anything else.
 */
export function toWritable(buf: unknown, what: string): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) return new Uint8Array(buf);
  throw new TypeError(`${what} must be a Buffer or another ArrayBufferView, or an ArrayBuffer, got ${show(buf)}`);
}
