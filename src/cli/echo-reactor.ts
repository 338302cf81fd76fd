/**
 * The Reactor echo server (`iomux echo --mode reactor`): the same echo as the blocking
 * loop, but as `addReader` callbacks on a `Reactor`, inside Node's own event loop (libuv
 * watches the epoll fd; nothing blocks the thread, and signals, timers and other I/O go
 * on as usual).
 *
 * Per readable connection: one `recv` into a buffer shared by every connection, one
 * `send` of the same bytes, both through the sockets' non-throwing fast path. A partial
 * send keeps the unsent tail, pauses reading and waits for writability instead. One
 * callback does one `recv` (at most BUFSIZE bytes) and returns, and the Reactor runs each
 * ready fd's callback once per wake-up, so a peer that keeps its socket full gets its
 * turn like the others and Node's timers and signals run between wake-ups.
 */
import { Reactor, NEG_EAGAIN, type Socket } from '../index.js';
import {
  listen, prepareConnection, acceptFailure, backendName, AcceptPauses, ACCEPT_BATCH, ACCEPT_RETRY_DELAY_MS,
  type EchoStats, type ListenInfo,
} from './echo-common.js';

/** Shared receive buffer size: enough for a burst of pipelined messages in one call. */
const BUFSIZE = 256 * 1024;

/** An echo server on a Reactor; stops with {@link ReactorEchoServer.close}. */
export class ReactorEchoServer {
  /** Where it listens. */
  readonly address: ListenInfo;
  /** The Reactor's selector backend (`'epoll'`). */
  readonly backend: string;
  readonly #reactor = new Reactor();
  readonly #listener: Socket;
  readonly #conns = new Set<Socket>();
  readonly #buf = Buffer.allocUnsafe(BUFSIZE);
  readonly #stats: EchoStats = { connections: 0, open: 0, bytes: 0 };
  readonly #pauses = new AcceptPauses();
  readonly #log: (line: string) => void;
  /** The timer that watches the listener again after a pause (out of fds), if one runs. */
  #resume: NodeJS.Timeout | undefined;
  #closed = false;
  // One callback for every connection (the Reactor passes the socket back).
  readonly #onReadable = (sock: Socket): void => this.#echo(sock);
  readonly #onAcceptable = (): void => this.#accept();

  /**
   * Listens on `host:port` and serves at once.
   * @param log called with a line for stderr (accept pausing for lack of fds).
   * @param reusePort listen with SO_REUSEPORT (one of several threads on one port).
   */
  constructor(host: string, port: number, backlog: number, log: (line: string) => void = () => {}, reusePort = false) {
    this.#log = log;
    let listening: ReturnType<typeof listen> | undefined;
    try {
      listening = listen(host, port, backlog, reusePort);
      this.#reactor.addReader(listening.sock, this.#onAcceptable);
    } catch (e) {
      this.#reactor.close();
      listening?.sock.close();
      throw e;
    }
    this.#listener = listening.sock;
    this.address = listening.info;
    this.backend = backendName(this.#reactor.selector);
  }

  #accept(): void {
    for (let i = 0; i < ACCEPT_BATCH; i++) {
      const r = this.#listener.tryAccept();
      if (typeof r === 'number') {
        // -EAGAIN: none left; ECONNABORTED and the like: that client gave up. Out of fds
        // or memory: the listener stays readable and every accept fails at once, so
        // stop watching it for a while instead of spinning.
        if (acceptFailure(r) === 'pause') this.#pause(r);
        return;
      }
      this.#pauses.accepted();
      const sock = r;
      try {
        prepareConnection(sock);
        this.#reactor.addReader(sock, this.#onReadable);
        this.#conns.add(sock);
        this.#stats.connections++;
      } catch {
        sock.close(); // the peer vanished between accept and set-up.
      }
    }
  }

  /** Stops watching the listener for {@link ACCEPT_RETRY_DELAY_MS}; logs the first pause of a run. */
  #pause(negErrno: number): void {
    this.#reactor.removeReader(this.#listener);
    this.#resume = setTimeout(() => {
      this.#resume = undefined;
      if (!this.#closed) this.#reactor.addReader(this.#listener, this.#onAcceptable);
    }, ACCEPT_RETRY_DELAY_MS);
    const line = this.#pauses.pause(negErrno);
    if (line !== null) this.#log(line);
  }

  #drop(sock: Socket): void {
    this.#reactor.removeReader(sock);
    this.#reactor.removeWriter(sock);
    this.#conns.delete(sock);
    sock.close();
  }

  #echo(sock: Socket): void {
    const buf = this.#buf;
    const n = sock.tryRecvInto(buf, 0, BUFSIZE);
    if (n > 0) {
      const w = sock.trySend(buf, 0, n);
      if (w === n) {
        this.#stats.bytes += n;
        return;
      }
      if (w < 0 && w !== NEG_EAGAIN) return this.#drop(sock);
      const sent = w > 0 ? w : 0;
      this.#stats.bytes += sent;
      this.#waitWritable(sock, Buffer.from(buf.subarray(sent, n)));
      return;
    }
    if (n === NEG_EAGAIN) return; // EAGAIN: a spurious wake-up.
    this.#drop(sock); // 0: the client closed; < 0: reset or another error.
  }

  /** Partial send: stop reading, send `pending` as the socket drains, then read again. */
  #waitWritable(sock: Socket, pending: Buffer): void {
    this.#reactor.removeReader(sock);
    this.#reactor.addWriter(sock, () => {
      const w = sock.trySend(pending, 0, pending.length);
      if (w === NEG_EAGAIN) return; // EAGAIN: still full.
      if (w < 0) return this.#drop(sock);
      this.#stats.bytes += w;
      pending = pending.subarray(w);
      if (pending.length > 0) return;
      this.#reactor.removeWriter(sock);
      this.#reactor.addReader(sock, this.#onReadable);
    });
  }

  /** Closes every connection, the listener and the Reactor (idempotent); returns the counters. */
  close(): EchoStats {
    if (!this.#closed) {
      this.#closed = true;
      clearTimeout(this.#resume);
      this.#stats.open = this.#conns.size;
      // The Reactor first: it unregisters every fd while the fds are still open.
      this.#reactor.close();
      for (const sock of this.#conns) sock.close();
      this.#conns.clear();
      this.#listener.close();
    }
    return { ...this.#stats };
  }
}
