/**
 * The socket set-up the HTTP client needs; the I/O itself goes through the non-throwing
 * primitives of `net/nonblock.ts` (a count or `-errno`, so EAGAIN costs no exception).
 */
import { SOCK_STREAM, SOCK_NONBLOCK, IPPROTO_TCP, TCP_NODELAY } from '../sys/constants.js';
import { Socket } from '../net/socket.js';

export { tryRecvInto, trySend, startConnect, socketError, NEG_EAGAIN, NEG_EINPROGRESS } from '../net/nonblock.js';

/** A new non-blocking, close-on-exec TCP socket with Nagle off (requests go out whole). */
export function tcpSocket(family: number): Socket {
  const s = new Socket(family, SOCK_STREAM | SOCK_NONBLOCK);
  try {
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  } catch (e) {
    s.close();
    throw e;
  }
  return s;
}
