/**
 * What the echo server's engines share: the backend names, the listening socket set-up
 * and the counters they report when they stop.
 */
import {
  socket, AF_INET, AF_INET6, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, IPPROTO_TCP, TCP_NODELAY, OSError, errno,
  type Socket,
} from '../index.js';
import { cannot } from './errors.js';

/**
 * The names `--backend` accepts: those of `IOMUX_SELECTOR`, which the blocking loop's
 * `DefaultSelector` reads (the selector class is chosen there, not here).
 */
export const BACKENDS = ['epoll', 'poll', 'select'] as const;
/** One of {@link BACKENDS}. */
export type Backend = (typeof BACKENDS)[number];

/** A selector's backend as `--backend` names it: `EpollSelector` → `'epoll'`. */
export function backendName(selector: object): string {
  return selector.constructor.name.replace(/Selector$/, '').toLowerCase();
}

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
 * selects AF_INET6). SO_REUSEADDR, so a restarted server can bind at once; with
 * `reusePort`, SO_REUSEPORT too, so several threads can each listen on the same port and
 * the kernel spreads the connections among them.
 */
export function listen(host: string, port: number, backlog: number, reusePort = false): { sock: Socket; info: ListenInfo } {
  const family = host.includes(':') ? AF_INET6 : AF_INET;
  const where = formatListen({ host, port, family: family === AF_INET6 ? 'IPv6' : 'IPv4' });
  let sock: Socket;
  try {
    sock = socket(family, SOCK_STREAM);
  } catch (e) {
    throw cannot(`listen on ${where}`, e);
  }
  try {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    sock.bind([host, port]);
    sock.listen(backlog);
    sock.setblocking(false);
    const addr = sock.getsockname();
    if (!Array.isArray(addr) || typeof addr[0] !== 'string') throw new TypeError(`not an IP address: ${String(addr)}`);
    return { sock, info: { host: addr[0], port: addr[1], family: family === AF_INET6 ? 'IPv6' : 'IPv4' } };
  } catch (e) {
    sock.close();
    throw cannot(`listen on ${where}`, e);
  }
}

/**
 * Prepares a connection from `Socket.tryAccept` (which made it non-blocking already): no
 * Nagle delay on small echoes.
 */
export function prepareConnection(conn: Socket): void {
  conn.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
}

/** Connections accepted per wake-up of the listening socket, at most. */
export const ACCEPT_BATCH = 64;

/**
 * How long the listener goes unwatched after `accept` ran out of fds or memory (asyncio
 * waits the same second). While fds are exhausted the listener stays readable and every
 * accept fails at once: watching it would spin a core for nothing. Connections already
 * open go on being served meanwhile, and closing one of them frees the fd the next
 * accept needs.
 */
export const ACCEPT_RETRY_DELAY_MS = 1000;

/** accept() errors that say "out of fds or memory": retrying at once fails again. */
const EXHAUSTED: ReadonlySet<number> = new Set([errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM]);

/**
 * What a failed accept means for the listener, from the `-errno` a non-throwing accept
 * returned: `'pause'` when the process or the system is out of fds or memory (stop
 * watching the listener for {@link ACCEPT_RETRY_DELAY_MS}), `'done'` otherwise (EAGAIN:
 * nothing pending; ECONNABORTED and the like: that one client gave up).
 */
export function acceptFailure(negErrno: number): 'pause' | 'done' {
  return EXHAUSTED.has(-negErrno) ? 'pause' : 'done';
}

/**
 * Tracks the pauses of one listener so that a run of failed accepts logs one line, not
 * one a second: {@link AcceptPauses.pause} returns the line to log at the first pause
 * since the last successful accept, and null after that.
 */
export class AcceptPauses {
  #exhausted = false;

  /** An accept succeeded: the next pause starts a new episode and is logged again. */
  accepted(): void {
    this.#exhausted = false;
  }

  /** An accept failed with `-errno` `negErrno` and the listener pauses: the line to log, or null. */
  pause(negErrno: number): string | null {
    if (this.#exhausted) return null;
    this.#exhausted = true;
    const err = OSError.fromErrno(-negErrno, 'accept');
    return `iomux echo: ${cannot('accept connections', err).message}; not accepting new connections for ${ACCEPT_RETRY_DELAY_MS / 1000} s at a time `
      + 'until one succeeds (open connections are still served)';
  }
}
