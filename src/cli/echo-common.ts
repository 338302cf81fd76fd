/**
 * What the echo server's engines share: the backend names, the listening socket set-up
 * and the counters they report when they stop.
 */
import {
  socket, AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, IPPROTO_TCP, TCP_NODELAY, type Socket,
} from '../net/index.js';

/** The selector backends the echo server can run on. */
export const BACKENDS = ['epoll', 'poll', 'select'] as const;
/** One of {@link BACKENDS}. */
export type Backend = (typeof BACKENDS)[number];

/** Where a server listens. */
export interface ListenInfo {
  host: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** Counters a server reports when it stops. */
export interface EchoStats {
  /** Connections accepted in all. */
  connections: number;
  /** Connections still open at the stop, closed by it. */
  open: number;
  /** Bytes echoed back. */
  bytes: number;
}

/** `127.0.0.1:7000`, `[::1]:7000`. */
export function formatListen(info: ListenInfo): string {
  return info.family === 'IPv6' ? `[${info.host}]:${info.port}` : `${info.host}:${info.port}`;
}

/**
 * Creates a non-blocking listening TCP socket on `host:port` (a literal IPv6 address
 * selects AF_INET6). SO_REUSEADDR, so a restarted server can bind at once.
 */
export function listen(host: string, port: number, backlog: number): { sock: Socket; info: ListenInfo } {
  const family = host.includes(':') ? AF_INET6 : AF_INET;
  const sock = socket(family, SOCK_STREAM);
  try {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    sock.bind([host, port]);
    sock.listen(backlog);
    sock.setblocking(false);
    const addr = sock.getsockname() as [string, number];
    return { sock, info: { host: addr[0], port: addr[1], family: family === AF_INET6 ? 'IPv6' : 'IPv4' } };
  } catch (e) {
    sock.close();
    throw e;
  }
}

/**
 * Prepares a connection from `tryAccept` (which made it non-blocking already): no Nagle
 * delay on small echoes.
 */
export function prepareConnection(conn: Socket): void {
  conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
}
