/**
 * The io_uring echo server (`iomux echo --mode uring` and `--mode uring-blocking`): a
 * `Proactor` with one multishot accept on the listener; per connection one multishot recv
 * into the ring's provided buffers; each chunk received is sent back straight from its
 * buffer (no copy), and the buffer returns to the ring when the send completes. One
 * `io_uring_enter` per turn submits every send and reaps every completion; no JavaScript
 * object is created per message.
 *
 * Two ways to drive it: inside Node's own event loop (libuv watches the ring fd), or
 * `Proactor#run()` on a worker thread (echo-uring-worker.ts), where each turn is a single
 * `io_uring_enter` that submits and waits, with no libuv wake-up and no `setImmediate` hop
 * around it. The blocking server stops when a byte arrives on the wake socket the main
 * thread writes on SIGINT/SIGTERM; its accept pauses are ring timeouts, so they need no
 * event loop either.
 */
import { Proactor, Socket, AF_INET, AF_INET6, SOCK_STREAM, errno, os } from '../index.js';
import {
  listen, prepareConnection, acceptFailure, AcceptPauses, ACCEPT_RETRY_DELAY_MS,
  type EchoStats, type ListenInfo,
} from './echo-common.js';

const ECANCELED = errno.ECANCELED;
/**
 * Echoes waiting to be sent on one connection before its receive pauses: a peer that
 * sends but does not read would otherwise hold every provided buffer and stall the others.
 */
const MAX_QUEUED = 4;

/** An echo server on a Proactor; stops with {@link UringEchoServer.close}. */
export class UringEchoServer {
  /** Where it listens. */
  readonly address: ListenInfo;
  /** Always `'io_uring'`. */
  readonly backend = 'io_uring';
  readonly #proactor: Proactor;
  readonly #listener: Socket;
  readonly #family: number;
  /** Open connections: raw fds, closed through the ring after their queued echoes. */
  readonly #conns = new Set<number>();
  readonly #stats: EchoStats = { connections: 0, open: 0, bytes: 0 };
  readonly #pauses = new AcceptPauses();
  readonly #log: (line: string) => void;
  #closed = false;

  readonly #onAccept = (fd: number): void => this.#accepted(fd);
  /** Per fd: echoes queued, whether the receive is paused, the receive's operation id. */
  #queued = new Int32Array(1024);
  #paused = new Uint8Array(1024);
  #recvOp = new Float64Array(1024);

  readonly #onRecv = (n: number, buf: Uint8Array, bid: number, fd: number): boolean => {
    if (n > 0) {
      this.#stats.bytes += n;
      if (this.#queued[fd]! < MAX_QUEUED) {
        this.#queued[fd]!++;
        this.#proactor.sendBuffer(fd, bid, 0, n, this.#onSent);
        return true; // the send gives the buffer back
      }
      // The peer is not reading its echoes. Stop receiving until they are out (TCP's flow
      // control then holds the peer back), and copy what the kernel had already received
      // out of the ring, so a stalled connection never holds more than MAX_QUEUED of the
      // buffers every connection shares.
      if (this.#paused[fd] === 0) {
        this.#paused[fd] = 1;
        this.#proactor.cancel(this.#recvOp[fd]!);
      }
      this.#queued[fd]!++;
      this.#proactor.send(fd, Buffer.from(buf.subarray(0, n)), this.#onSent);
      return false;
    }
    if (n !== -ECANCELED) this.#drop(fd); // 0: the client closed; < 0: reset or error
    return false;
  };
  readonly #onSent = (r: number, fd: number): void => {
    this.#queued[fd]!--;
    if (r < 0) {
      if (r !== -ECANCELED) this.#drop(fd);
      return;
    }
    if (this.#paused[fd] === 1 && this.#queued[fd] === 0 && this.#conns.has(fd)) {
      this.#paused[fd] = 0;
      this.#recvOp[fd] = this.#proactor.recv(fd, this.#onRecv);
    }
  };

  /**
   * Listens on `host:port`. In mode `'loop'` it serves at once, inside Node's event loop;
   * in mode `'blocking'` it serves when {@link serve} runs.
   * @throws OSError when io_uring is unavailable (see `uringSupport()`).
   */
  constructor(host: string, port: number, backlog: number, log: (line: string) => void = () => {}, mode: 'loop' | 'blocking' = 'loop') {
    this.#log = log;
    this.#proactor = new Proactor({ mode });
    let listening: ReturnType<typeof listen> | undefined;
    try {
      listening = listen(host, port, backlog);
      this.#proactor.accept(listening.sock.fileno(), this.#onAccept);
    } catch (e) {
      this.#proactor.close();
      listening?.sock.close();
      throw e;
    }
    this.#listener = listening.sock;
    this.address = listening.info;
    this.#family = listening.info.family === 'IPv6' ? AF_INET6 : AF_INET;
  }

  #accepted(fd: number): void {
    if (this.#closed) return;
    if (fd < 0) {
      // The multishot accept ended. Out of fds or memory: retry in a while; anything else
      // (a client that gave up): at once.
      if (fd === -ECANCELED) return;
      if (acceptFailure(fd) === 'pause') {
        const line = this.#pauses.pause(fd);
        if (line !== null) this.#log(line);
        // A ring timeout rather than a Node timer: the blocking server has no event loop.
        this.#proactor.timeout(ACCEPT_RETRY_DELAY_MS, (r) => {
          if (r === 0 && !this.#closed) this.#proactor.accept(this.#listener.fileno(), this.#onAccept);
        });
      } else {
        this.#proactor.accept(this.#listener.fileno(), this.#onAccept);
      }
      return;
    }
    this.#pauses.accepted();
    const sock = new Socket(this.#family, SOCK_STREAM, 0, fd);
    try {
      prepareConnection(sock);
    } catch {
      sock.close(); // the peer vanished between accept and set-up
      return;
    }
    sock.detach(); // from here on the fd is the Proactor's
    if (fd >= this.#queued.length) this.#growTables(fd);
    this.#queued[fd] = 0;
    this.#paused[fd] = 0;
    this.#conns.add(fd);
    this.#stats.connections++;
    this.#recvOp[fd] = this.#proactor.recv(fd, this.#onRecv);
  }

  #growTables(fd: number): void {
    let n = this.#queued.length;
    while (n <= fd) n *= 2;
    const q = new Int32Array(n);
    q.set(this.#queued);
    const p = new Uint8Array(n);
    p.set(this.#paused);
    const r = new Float64Array(n);
    r.set(this.#recvOp);
    this.#queued = q;
    this.#paused = p;
    this.#recvOp = r;
  }

  #drop(fd: number): void {
    // The receive ends now; the echoes already queued go out, then the fd closes.
    if (this.#conns.delete(fd)) this.#proactor.close(fd);
  }

  /**
   * Mode `'blocking'`: serves on this thread until a byte arrives on socket `wakeFd`
   * (one end of a socketpair whose other end another thread writes), then closes
   * everything and returns the counters.
   */
  serve(wakeFd: number): EchoStats {
    try {
      this.#proactor.recvInto(wakeFd, new Uint8Array(8), () => this.#proactor.stop());
      this.#proactor.run();
    } catch (e) {
      this.close();
      throw e;
    }
    return this.close();
  }

  /** Closes every connection, the listener and the Proactor (idempotent); returns the counters. */
  close(): EchoStats {
    if (!this.#closed) {
      this.#closed = true;
      this.#stats.open = this.#conns.size;
      this.#proactor.close();
      for (const fd of this.#conns) os.close(fd);
      this.#conns.clear();
      this.#listener.close();
    }
    return { ...this.#stats };
  }
}
