/**
 * Non-throwing socket primitives for the Reactor and the HTTP client (internal: not
 * exported from the package root). Each returns a count or 0 on success and `-errno` on
 * failure, so the expected EAGAIN costs no exception on the hot path. Receives and sends
 * add MSG_DONTWAIT, so they never block the thread even on a blocking socket.
 */
import * as libc from '../sys/libc.js';
import { sysret } from '../sys/call.js';
import {
  MSG_DONTWAIT, MSG_NOSIGNAL, SOCK_CLOEXEC, SOCK_NONBLOCK, SOL_SOCKET, SO_ERROR,
} from '../sys/constants.js';
import { errno as E } from '../errors.js';
import { decodeAddress, encodeAddress, type AddressLike, type SocketAddress } from './address.js';
import { ADDR, ADDRLEN, OPT } from './scratch.js';
import { adoptSocket, type Socket } from './socket.js';

const EINTR = E.EINTR!;
/** `-EAGAIN`: what the primitives return when the operation would block. */
export const NEG_EAGAIN = -E.EAGAIN!;
/** `-EINPROGRESS`: what {@link startConnect} returns while a connection is under way. */
export const NEG_EINPROGRESS = -E.EINPROGRESS!;

/** The kernel reads or writes raw memory: never let a bad range reach it. */
function checkRange(buf: Uint8Array, off: number, len: number): void {
  if (!(off >= 0 && len >= 0 && off + len <= buf.length)) {
    throw new RangeError(`range [${off}, ${off}+${len}) is outside the buffer of ${buf.length} bytes`);
  }
}

/** Receives up to `len` bytes into `buf[off..]`: the count (0 at EOF) or `-errno`. */
export function tryRecvInto(sock: Socket, buf: Uint8Array, off: number, len: number): number {
  checkRange(buf, off, len);
  // At offset 0 the length argument alone bounds the kernel's write: no subarray needed.
  const b = off === 0 ? buf : buf.subarray(off, off + len);
  for (;;) {
    const r = sysret(libc.recv(sock.fileno(), b, len, MSG_DONTWAIT));
    if (r !== -EINTR) return r; // EINTR: retry (PEP 475).
  }
}

/** Sends `buf[off..off+len]`: the count sent or `-errno` (EPIPE, never SIGPIPE). */
export function trySend(sock: Socket, buf: Uint8Array, off: number, len: number): number {
  checkRange(buf, off, len);
  const b = off === 0 ? buf : buf.subarray(off, off + len);
  for (;;) {
    const r = sysret(libc.send(sock.fileno(), b, len, MSG_DONTWAIT | MSG_NOSIGNAL));
    if (r !== -EINTR) return r; // EINTR: retry (PEP 475).
  }
}

/**
 * Accepts one pending connection: `[socket, address]`, or `-errno` (`NEG_EAGAIN` when
 * none is pending). The new socket is close-on-exec and non-blocking.
 */
export function tryAccept(sock: Socket): [Socket, SocketAddress] | number {
  for (;;) {
    ADDRLEN.writeUInt32LE(ADDR.length, 0);
    const r = sysret(libc.accept4(sock.fileno(), ADDR, ADDRLEN, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (r === -EINTR) continue; // EINTR: retry (PEP 475).
    if (r < 0) return r;
    const addr = decodeAddress(ADDR, ADDRLEN.readUInt32LE(0)) ?? '';
    return [adoptSocket(r, sock.family, sock.type, sock.proto, true), addr];
  }
}

/**
 * Starts connecting to `addr` (numeric hosts only: resolve names first, or it resolves
 * synchronously): 0 when connected at once, `NEG_EINPROGRESS` while under way (then wait
 * for writability and read {@link socketError}), else `-errno`.
 * @throws TypeError/RangeError/OSError for a bad address, as `Socket#connect`.
 */
export function startConnect(sock: Socket, addr: AddressLike): number {
  const len = encodeAddress(sock.family, addr, ADDR);
  const r = sysret(libc.connect(sock.fileno(), ADDR, len));
  // EINTR: the connection carries on in the kernel, exactly like EINPROGRESS.
  return r === -EINTR ? NEG_EINPROGRESS : r;
}

/** The pending error (`SO_ERROR`, positive errno, 0 for none), or `-errno` if that fails. */
export function socketError(sock: Socket): number {
  OPT.writeInt32LE(0, 0);
  ADDRLEN.writeUInt32LE(4, 0);
  const r = sysret(libc.getsockopt(sock.fileno(), SOL_SOCKET, SO_ERROR, OPT, ADDRLEN));
  return r < 0 ? r : OPT.readInt32LE(0);
}
