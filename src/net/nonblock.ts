/**
 * The socket fast path in its earlier, function form, for code not yet moved to the
 * `Socket` methods (`tryRecvInto`, `trySend`, `tryAccept`, `connectEx`). Each function
 * returns a count or 0 on success and `-errno` on failure. Not exported from the package.
 */
import * as libc from '../sys/libc.js';
import { sysret, sysretStarted } from '../sys/call.js';
import { SOL_SOCKET, SO_ERROR } from '../sys/constants.js';
import { errno } from '../sys/errno.js';
import { encodeAddress, type AddressLike, type SocketAddress } from './address.js';
import { ADDR, ADDRLEN, OPT } from './scratch.js';
import { adoptSocket, type Socket } from './socket.js';
import { NEG_EAGAIN, tryAcceptFd, acceptedAddress } from './transfer.js';

export { NEG_EAGAIN };
/** `-EINPROGRESS`: what {@link startConnect} returns while a connection is under way. */
export const NEG_EINPROGRESS = -errno.EINPROGRESS;

/** `sock.tryRecvInto(buf, off, len)`. */
export function tryRecvInto(sock: Socket, buf: Uint8Array, off: number, len: number): number {
  return sock.tryRecvInto(buf, off, len);
}

/** `sock.trySend(buf, off, len)`. */
export function trySend(sock: Socket, buf: Uint8Array, off: number, len: number): number {
  return sock.trySend(buf, off, len);
}

/** As `sock.tryAccept()`, with the peer's address: `[socket, address]` or `-errno`. */
export function tryAccept(sock: Socket): [Socket, SocketAddress] | number {
  const r = tryAcceptFd(sock.fileno());
  if (r < 0) return r;
  const addr = acceptedAddress();
  return [adoptSocket(r, sock.family, sock.type, sock.proto, true), addr];
}

/**
 * Starts connecting to `addr` (numeric hosts only: resolve names first, or it resolves
 * synchronously): 0 when connected at once, `NEG_EINPROGRESS` while under way (then wait
 * for writability and read {@link socketError}), else `-errno`. `sock.connectEx(addr)`
 * does the same on a non-blocking socket, with positive errnos.
 */
export function startConnect(sock: Socket, addr: AddressLike): number {
  const len = encodeAddress(sock.family, addr, ADDR);
  // A signal does not stop the connection: it comes back as EINPROGRESS.
  return sysretStarted(libc.connect(sock.fileno(), ADDR, len));
}

/** The pending error (`SO_ERROR`, positive errno, 0 for none), or `-errno` if that fails. */
export function socketError(sock: Socket): number {
  OPT.writeInt32LE(0, 0);
  ADDRLEN.writeUInt32LE(4, 0);
  const r = sysret(libc.getsockopt(sock.fileno(), SOL_SOCKET, SO_ERROR, OPT, ADDRLEN));
  return r < 0 ? r : OPT.readInt32LE(0);
}
