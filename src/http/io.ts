/**
 * The socket set-up and name resolution the HTTP client needs. The I/O itself goes
 * through the `Socket`'s public non-throwing methods (`tryRecvInto`, `trySend`,
 * `connectEx`): a count or an errno, so EAGAIN costs no exception.
 */
import { AF_INET, AF_INET6, AF_UNSPEC, SOCK_STREAM, SOCK_NONBLOCK, IPPROTO_TCP, TCP_NODELAY, SOL_SOCKET, SO_ERROR } from '../sys/constants.js';
import { errno } from '../errors.js';
import { Socket } from '../net/socket.js';
import { getaddrinfo, getaddrinfoSync, type AddrInfo } from '../net/resolve.js';
import type { Addresses, ResolveDone } from './core.js';
import type { Origin } from './request.js';

export { NEG_EAGAIN } from '../net/index.js';

/** What {@link openConnect} returns while the connection is under way. */
export const NEG_EINPROGRESS = -errno.EINPROGRESS;

/** The socket's pending error (`SO_ERROR`): 0 for none, else a positive errno. */
export function socketError(sock: Socket): number {
  return sock.getsockopt(SOL_SOCKET, SO_ERROR);
}

/** A new non-blocking, close-on-exec TCP socket with Nagle off (requests go out whole). */
function tcpSocket(family: number): Socket {
  const s = new Socket(family, SOCK_STREAM | SOCK_NONBLOCK);
  try {
    s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  } catch (e) {
    s.close();
    throw e;
  }
  return s;
}

/**
 * A new {@link tcpSocket} with a connect to `[host, port]` (a numeric host) started:
 * `[socket, r]`, `r` being 0 (connected), `NEG_EINPROGRESS` (under way: wait for
 * writability, then read `socketError`) or `-errno` (failed: the caller closes the socket).
 * @throws what socket creation or the address check throws, with no socket left open.
 */
export function openConnect(family: number, host: string, port: number): [Socket, number] {
  const s = tcpSocket(family);
  try {
    // Non-blocking: EINPROGRESS (an interrupted connect included) while under way.
    const err = s.connectEx([host, port]);
    return [s, err === 0 ? 0 : -err];
  } catch (e) {
    s.close();
    throw e;
  }
}

/** The IPv4 and IPv6 addresses of a resolver answer, in its order. */
function addressesOf(list: AddrInfo[]): Addresses {
  const out: Addresses = [];
  for (const [fam, , , , addr] of list) {
    if ((fam === AF_INET || fam === AF_INET6) && Array.isArray(addr)) out.push([fam, addr[0]]);
  }
  return out;
}

/** Resolves `origin`'s host name on libuv's thread pool; `done` is called later. */
export function resolveAsync(origin: Origin, done: ResolveDone): void {
  getaddrinfo(origin.host, origin.port, AF_UNSPEC, SOCK_STREAM)
    .then((list) => done(null, addressesOf(list)), (err: Error) => done(err));
}

/** Resolves `origin`'s host name on this thread (it blocks); `done` is called at once. */
export function resolveBlocking(origin: Origin, done: ResolveDone): void {
  let addrs: Addresses;
  try {
    addrs = addressesOf(getaddrinfoSync(origin.host, origin.port, AF_UNSPEC, SOCK_STREAM));
  } catch (e) {
    done(e as Error);
    return;
  }
  done(null, addrs);
}
