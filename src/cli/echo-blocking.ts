/**
 * The blocking echo loop (`iomux echo --mode blocking`): the classic shape, a
 * `while (true)` around `selector.select()`, on any backend. It runs on a worker thread
 * (see echo.ts for why) and stops when `wakeFd` (an eventfd the main thread writes on
 * SIGINT/SIGTERM) becomes readable.
 *
 * Hot path, per readable connection: one `recv` into a buffer shared by all connections
 * and one `send` of the same bytes, both through the sockets' non-throwing fast path (a
 * would-block is a return value, not a 10 µs exception). Nothing is allocated per
 * message; only a partial send copies its unsent tail, and the connection then waits for
 * EVENT_WRITE with reading paused (so a client that does not read cannot make the server
 * buffer without bound).
 *
 * Fairness: each wake-up does at most one `recv` (at most {@link BUFSIZE} bytes) or one
 * `send` per ready connection and at most {@link ACCEPT_BATCH} accepts, then waits again,
 * so a peer that keeps its socket full cannot hold up the others.
 */
import { performance } from 'node:perf_hooks';
import {
  EVENT_READ, EVENT_WRITE, NEG_EAGAIN, os, type BaseSelector, type SelectorClass, type Socket,
} from '../index.js';
import {
  listen, prepareConnection, acceptFailure, backendName, AcceptPauses, ACCEPT_BATCH, ACCEPT_RETRY_DELAY_MS,
  type EchoStats, type ListenInfo,
} from './echo-common.js';

/** Shared receive buffer size: enough for a burst of pipelined messages in one call. */
const BUFSIZE = 256 * 1024;

/** Per-connection state, kept in the selector key's `data`. */
interface Conn {
  sock: Socket;
  /** Bytes received but not yet sent back (after a partial send), else null. */
  pending: Buffer | null;
}

const LISTENER = Symbol('listener');
const WAKE = Symbol('wake');
type KeyData = Conn | typeof LISTENER | typeof WAKE;

/**
 * Serves until `wakeFd` is readable; returns the counters.
 * @param Selector the selector class (the CLI passes `DefaultSelector`, which honours
 *   `IOMUX_SELECTOR`).
 * @param onListening called once the socket listens (before the first wait), with the
 *   backend's name (`'epoll'`).
 * @param log called with a line for stderr (accept pausing for lack of fds).
 */
export function serveBlocking(
  host: string, port: number, backlog: number, Selector: SelectorClass, wakeFd: number,
  onListening: (info: ListenInfo, backend: string) => void, log: (line: string) => void = () => {},
): EchoStats {
  const { sock: listener, info } = listen(host, port, backlog);
  let sel: BaseSelector<KeyData>;
  try {
    sel = new Selector<KeyData>();
  } catch (e) {
    listener.close();
    throw e;
  }
  const conns = new Set<Conn>();
  const stats: EchoStats = { connections: 0, open: 0, bytes: 0 };
  const buf = Buffer.allocUnsafe(BUFSIZE);

  const drop = (conn: Conn): void => {
    sel.unregister(conn.sock);
    conn.sock.close();
    conns.delete(conn);
  };

  const pauses = new AcceptPauses();
  /** When a paused listener is watched again (performance.now() ms); 0 while it is watched. */
  let resumeAt = 0;

  const accept = (): void => {
    for (let i = 0; i < ACCEPT_BATCH; i++) {
      const r = listener.tryAccept();
      if (typeof r === 'number') {
        // -EAGAIN: none left; ECONNABORTED and the like: that client gave up. Out of fds
        // or memory: the listener stays readable and every accept fails at once, so
        // stop watching it for a while instead of spinning.
        if (acceptFailure(r) === 'pause') {
          sel.unregister(listener);
          resumeAt = performance.now() + ACCEPT_RETRY_DELAY_MS;
          const line = pauses.pause(r);
          if (line !== null) log(line);
        }
        return;
      }
      pauses.accepted();
      const sock = r;
      try {
        prepareConnection(sock);
        const conn: Conn = { sock, pending: null };
        sel.register(sock, EVENT_READ, conn);
        conns.add(conn);
        stats.connections++;
      } catch {
        // select() cannot watch fds >= FD_SETSIZE (RangeError), or the peer is gone
        // already: refuse this one connection, keep serving the others.
        sock.close();
      }
    }
  };

  const echo = (conn: Conn): void => {
    const n = conn.sock.tryRecvInto(buf, 0, BUFSIZE);
    if (n > 0) {
      const w = conn.sock.trySend(buf, 0, n);
      if (w === n) {
        stats.bytes += n;
        return;
      }
      if (w < 0 && w !== NEG_EAGAIN) return drop(conn); // EPIPE, ECONNRESET: the peer is gone.
      const sent = w > 0 ? w : 0;
      stats.bytes += sent;
      conn.pending = Buffer.from(buf.subarray(sent, n));
      sel.modify(conn.sock, EVENT_WRITE, conn);
      return;
    }
    if (n === NEG_EAGAIN) return; // EAGAIN: nothing after all (another reader raced us; harmless).
    drop(conn); // 0: the client closed; < 0: reset or another error.
  };

  const flush = (conn: Conn): void => {
    const p = conn.pending!;
    const w = conn.sock.trySend(p, 0, p.length);
    if (w === NEG_EAGAIN) return; // EAGAIN: still full, keep waiting for EVENT_WRITE.
    if (w < 0) return drop(conn);
    stats.bytes += w;
    if (w < p.length) {
      conn.pending = p.subarray(w);
      return;
    }
    conn.pending = null;
    sel.modify(conn.sock, EVENT_READ, conn);
  };

  try {
    sel.register(listener, EVENT_READ, LISTENER);
    sel.register(wakeFd, EVENT_READ, WAKE);
    onListening(info, backendName(sel));
    for (;;) {
      let timeout: number | null = null;
      if (resumeAt !== 0) {
        const left = resumeAt - performance.now();
        if (left > 0) {
          timeout = left / 1000;
        } else {
          sel.register(listener, EVENT_READ, LISTENER);
          resumeAt = 0;
        }
      }
      const ready = sel.select(timeout);
      for (let i = 0; i < ready.length; i++) {
        const [key, events] = ready[i]!;
        const data = key.data;
        if (data === LISTENER) accept();
        else if (data === WAKE) {
          stats.open = conns.size;
          return stats;
        } else if (data.pending !== null) {
          if (events & EVENT_WRITE) flush(data);
        } else if (events & EVENT_READ) {
          echo(data);
        }
      }
    }
  } finally {
    for (const conn of conns) conn.sock.close();
    conns.clear();
    sel.close();
    listener.close();
    // Drain the wake-up count (the main thread closes the eventfd itself).
    try { os.read(wakeFd, 8); } catch { /* EAGAIN: never written (stopped by an error). */ }
  }
}
