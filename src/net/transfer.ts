/**
 * The data-transfer loops behind `Socket`'s `recv`/`send` family, as functions of the fd
 * and the socket's Python-style timeout (seconds: -1 blocking, 0 non-blocking, > 0 a
 * timeout), so `socket.ts` keeps setup and options and these keep the I/O. Each call
 * is retried after a signal (PEP 475, by the platform core's `retry`); on EAGAIN a socket with a timeout waits for readiness (see
 * {@link again}) and any other socket throws `BlockingIOError`, as Python's does.
 * Nothing here allocates per call beyond the result: small receives go through the
 * shared `RECV` scratch and are copied out exactly.
 */
import * as libc from '../sys/libc.js';
import { raise, retry, sysret } from '../sys/call.js';
import { AF_UNIX, MSG_DONTWAIT, MSG_NOSIGNAL, POLLIN, POLLOUT, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../sys/constants.js';
import { errno } from '../sys/errno.js';
import { describe, toBytesOrUtf8, toCInt, toSize, toWritableBytes } from '../validate.js';
import { encodeAddress } from './address.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';
import { ADDR, ADDRLEN, RECV, where } from './scratch.js';
import { waitFd } from './wait.js';

const EAGAIN = errno.EAGAIN;

/**
 * After a failed call (`r` = -errno): with a timeout (`timeout` > 0) and EAGAIN, waits
 * for `events` on `fd` (throwing TimeoutError when the time is up) and returns the
 * deadline to retry with (`deadline` < 0: the first wait, which starts the clock);
 * otherwise throws the error.
 */
export function again(fd: number, timeout: number, r: number, events: number, deadline: number,
  syscall: string, detail?: string): number {
  if (r !== -EAGAIN || timeout <= 0) raise(r, syscall, detail ?? where(fd));
  const d = deadline < 0 ? performance.now() + timeout * 1000 : deadline;
  waitFd(fd, events, d, syscall);
  return d;
}

/** `nbytes` of `recvInto`/`recvfromInto` against a buffer of `have` bytes (0: all of it). */
function intoSize(nbytes: unknown, have: number, what: string): number {
  const n = toSize(nbytes, 'nbytes');
  if (n > have) throw new RangeError(`buffer too small for requested bytes: ${n} > ${have}`);
  return n === 0 ? have : n;
}

/** The first `n` bytes of `buf` as a Buffer of its own (a view when it keeps most of `buf`). */
function result(buf: Buffer, n: number, bufsize: number): Buffer {
  if (buf !== RECV) return n * 2 >= bufsize ? buf.subarray(0, n) : Buffer.from(buf.subarray(0, n));
  const out = Buffer.allocUnsafe(n);
  RECV.copy(out, 0, 0, n);
  return out;
}

/** `recv(2)` of up to `n` bytes into `b`: the count, 0 at EOF. */
function recvLoop(fd: number, timeout: number, b: Uint8Array, n: number, flags: number): number {
  let deadline = -1;
  for (;;) {
    const r = retry(libc.recv, fd, b, n, flags);
    if (r >= 0) return r;
    deadline = again(fd, timeout, r, POLLIN, deadline, 'recv');
  }
}

/** `recvfrom(2)` of up to `n` bytes into `b`, the sender's address left in `ADDR`/`ADDRLEN`. */
function recvfromLoop(fd: number, timeout: number, b: Uint8Array, n: number, flags: number): number {
  let deadline = -1;
  for (;;) {
    ADDRLEN.writeUInt32LE(ADDR.length, 0);
    const r = retry(libc.recvfrom, fd, b, n, flags, ADDR, ADDRLEN);
    if (r >= 0) return r;
    deadline = again(fd, timeout, r, POLLIN, deadline, 'recvfrom');
  }
}

/**
 * The sender's address of the last `recvfrom`: `''` for an unnamed AF_UNIX peer (the
 * kernel gives no address), `null` where a family has none (e.g. a TCP stream).
 */
function sender(family: number): SocketAddress | null {
  const addr = decodeAddress(ADDR, ADDRLEN.readUInt32LE(0));
  return addr === null && family === AF_UNIX ? '' : addr;
}

/**
 * `Socket#recv`: up to `bufsize` bytes, an empty Buffer at EOF. `recv(0)` returns an
 * empty Buffer without a syscall, as CPython's (it neither blocks nor drops a datagram).
 */
export function recv(fd: number, timeout: number, bufsize: unknown, flags: unknown): Buffer {
  const size = toSize(bufsize, 'bufsize');
  const f = toCInt(flags, 'flags');
  if (size === 0) return Buffer.alloc(0);
  const buf = size > RECV.length ? Buffer.allocUnsafe(size) : RECV;
  return result(buf, recvLoop(fd, timeout, buf, size, f), size);
}

/**
 * `Socket#recvInto`: into `buf` (no copy), up to `nbytes` (0: the whole buffer); the
 * count. Nothing to receive into (an empty buffer) returns 0 without a syscall, as CPython.
 */
export function recvInto(fd: number, timeout: number, buf: unknown, nbytes: unknown, flags: unknown): number {
  const b = toWritableBytes(buf, 'buf');
  const n = intoSize(nbytes, b.length, 'recvInto');
  const f = toCInt(flags, 'flags');
  return n === 0 ? 0 : recvLoop(fd, timeout, b, n, f);
}

/** `Socket#recvfrom`: `[bytes, sender]`. */
export function recvfrom(fd: number, timeout: number, family: number, bufsize: unknown, flags: unknown): [Buffer, SocketAddress | null] {
  const size = toSize(bufsize, 'bufsize');
  const f = toCInt(flags, 'flags');
  const buf = size > RECV.length ? Buffer.allocUnsafe(size) : RECV;
  const n = recvfromLoop(fd, timeout, buf, size, f);
  const addr = sender(family);
  return [result(buf, n, size), addr];
}

/** `Socket#recvfromInto`: `[count, sender]`. */
export function recvfromInto(fd: number, timeout: number, family: number, buf: unknown, nbytes: unknown,
  flags: unknown): [number, SocketAddress | null] {
  const b = toWritableBytes(buf, 'buf');
  const n = intoSize(nbytes, b.length, 'recvfromInto');
  const r = recvfromLoop(fd, timeout, b, n, toCInt(flags, 'flags'));
  return [r, sender(family)];
}

/** `Socket#send`: one `send(2)` (MSG_NOSIGNAL: a closed peer is EPIPE); the count sent. */
export function send(fd: number, timeout: number, data: unknown, flags: unknown): number {
  const b = toBytesOrUtf8(data, 'data');
  const f = toCInt(flags, 'flags') | MSG_NOSIGNAL;
  let deadline = -1;
  for (;;) {
    const r = retry(libc.send, fd, b, b.length, f);
    if (r >= 0) return r;
    deadline = again(fd, timeout, r, POLLOUT, deadline, 'send');
  }
}

/**
 * `Socket#sendall`: sends until all of `data` is gone. With a timeout the whole call is
 * bounded (Python 3.5+); non-blocking, a full buffer throws `BlockingIOError`.
 */
export function sendall(fd: number, timeout: number, data: unknown, flags: unknown): void {
  const b = toBytesOrUtf8(data, 'data');
  const f = toCInt(flags, 'flags') | MSG_NOSIGNAL;
  let deadline = timeout > 0 ? performance.now() + timeout * 1000 : -1;
  let off = 0;
  while (off < b.length) {
    const chunk = off === 0 ? b : b.subarray(off);
    const r = retry(libc.send, fd, chunk, chunk.length, f);
    if (r >= 0) off += r;
    else deadline = again(fd, timeout, r, POLLOUT, deadline, 'sendall');
  }
  if (b.length === 0) {
    // Python's sendall(b'') still makes one send call (a closed socket is EBADF).
    const r = retry(libc.send, fd, b, 0, f);
    if (r < 0) raise(r, 'sendall', where(fd));
  }
}

/** `Socket#sendto`: one datagram (or stream write) to `addr` of `family`; the count sent. */
export function sendto(fd: number, timeout: number, family: number, data: unknown, flags: unknown, addr: unknown): number {
  const f = toCInt(flags, 'flags') | MSG_NOSIGNAL;
  const bytes = toBytesOrUtf8(data, 'data');
  const len = encodeAddress(family, addr, ADDR);
  let deadline = -1;
  for (;;) {
    const r = retry(libc.sendto, fd, bytes, bytes.length, f, ADDR, len);
    if (r >= 0) return r;
    // A wait cannot touch ADDR, so the encoded address stays for the next try.
    deadline = again(fd, timeout, r, POLLOUT, deadline, 'sendto', `${describe(addr)} (${where(fd)})`);
  }
}

// ---- the non-throwing fast path ---------------------------------------------------------

/** `-EAGAIN`: what the fast-path calls return when the operation would block. */
export const NEG_EAGAIN = -EAGAIN;

/**
 * Checks a fast-path byte range: `buf` a `Uint8Array` (a Buffer is one), `offset` and
 * `length` whole numbers inside it. The kernel reads or writes raw memory, so a bad range
 * must never reach it. Returns the length (`buf.length - offset` when omitted).
 */
function fastRange(buf: unknown, offset: number, length: number | undefined, what: string): number {
  if (!(buf instanceof Uint8Array)) {
    throw new TypeError(`${what}: buf must be a Uint8Array or a Buffer, got ${describe(buf)}`);
  }
  if (typeof offset !== 'number' || (length !== undefined && typeof length !== 'number')) {
    throw new TypeError(`${what}: offset and length must be numbers, got ${describe(offset)} and ${describe(length)}`);
  }
  const len = length === undefined ? buf.length - offset : length;
  if (!(Number.isInteger(offset) && Number.isInteger(len) && offset >= 0 && len >= 0 && offset + len <= buf.length)) {
    throw new RangeError(`${what}: range [${offset}, ${offset}+${len}) is not a whole range inside the buffer of ${buf.length} bytes`);
  }
  return len;
}

/** `recv(2)` into `buf[offset..offset+length)` with MSG_DONTWAIT: the count, 0 at EOF, or -errno. */
export function tryRecvInto(fd: number, buf: Uint8Array, offset: number, length: number | undefined): number {
  const len = fastRange(buf, offset, length, 'tryRecvInto');
  // At offset 0 the length argument alone bounds the kernel's write: no subarray needed.
  // With MSG_DONTWAIT the call never sleeps, so no signal can interrupt it: one call.
  return sysret(libc.recv(fd, offset === 0 ? buf : buf.subarray(offset, offset + len), len, MSG_DONTWAIT));
}

/** `send(2)` of `buf[offset..offset+length)` with MSG_DONTWAIT | MSG_NOSIGNAL: the count or -errno. */
export function trySend(fd: number, buf: Uint8Array, offset: number, length: number | undefined): number {
  const len = fastRange(buf, offset, length, 'trySend');
  // MSG_DONTWAIT: never sleeps (one call, as tryRecvInto); MSG_NOSIGNAL: EPIPE, not SIGPIPE.
  return sysret(libc.send(fd, offset === 0 ? buf : buf.subarray(offset, offset + len), len, MSG_DONTWAIT | MSG_NOSIGNAL));
}

/**
 * `accept4(2)` of one pending connection, non-blocking and close-on-exec: the new fd or
 * -errno. The peer's address is left in `ADDR`/`ADDRLEN` (see {@link acceptedAddress}).
 */
export function tryAcceptFd(fd: number): number {
  ADDRLEN.writeUInt32LE(ADDR.length, 0);
  return retry(libc.accept4, fd, ADDR, ADDRLEN, SOCK_CLOEXEC | SOCK_NONBLOCK);
}

/** The peer address of the last successful {@link tryAcceptFd} (read it before any other call). */
export function acceptedAddress(): SocketAddress {
  return decodeAddress(ADDR, ADDRLEN.readUInt32LE(0)) ?? '';
}
