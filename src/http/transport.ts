/**
 * The byte stream under one HTTP connection: resolving the origin's name, connecting to
 * each of its addresses in turn, the TLS handshake for HTTPS, then sending, receiving and
 * closing, on a plain non-blocking socket or on a TLS socket over a Duplex over it. What
 * the bytes mean (requests, responses, keep-alive) is the `Connection`'s business: this
 * reports to it through {@link TransportHost}.
 *
 * Read interest stays registered from connect to close, except while the connection
 * pauses reading for a streamed body's consumer; write interest is added only while a
 * connect or a send is waiting. Every socket call is the non-throwing kind: EAGAIN is a
 * return value, not an exception.
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { isIP } from 'node:net';
import { SocketStream } from '../stream/duplex.js';
import { OSError, errno } from '../errors.js';
import type { Socket } from '../net/socket.js';
import { TlsError } from './errors.js';
import { openConnect, socketError, NEG_EAGAIN, NEG_EINPROGRESS } from './io.js';
import type { OutQueue } from './outqueue.js';
import type { Addresses, ClientCore } from './core.js';
import type { Origin } from './request.js';

const ECONNRESET = errno.ECONNRESET;
const EPIPE = errno.EPIPE;

/**
 * Full buffers read per readiness callback (with the client's 64 KiB buffer, 1 MiB)
 * before yielding to the event loop.
 */
const MAX_READS_PER_WAKEUP = 16;

const enum T { Resolving, Connecting, Handshake, Open, Closed }

/** What a {@link Transport} reports to the connection above it. */
export interface TransportHost {
  /** Connected (HTTPS: handshake done): requests may be written. */
  onReady(): void;
  /**
   * Bytes received, `buf[0, n)` (the buffer is reused after the call); false when the
   * host wants no more now (it closed, or it is about to pause reading).
   */
  onData(buf: Buffer, n: number): boolean;
  /** The peer closed its side. */
  onEnd(): void;
  /** A send that had to wait may go on (the socket is writable, or TLS drained). */
  onWritable(): void;
  /** A send or receive failed with `errnum` (a positive errno). */
  onIoError(errnum: number, syscall: string): void;
  /** No address could be connected, the TLS handshake failed, or the driver refused. */
  onError(err: Error): void;
}

/** One connection's socket (and TLS socket), from name resolution to close. */
export class Transport {
  readonly #core: ClientCore;
  readonly #origin: Origin;
  readonly #host: TransportHost;
  #state = T.Resolving;
  #sock: Socket | null = null;
  /** HTTPS: the TLS socket over a Duplex over the connected socket; all I/O goes through it. */
  #tls: TLSSocket | null = null;
  #drainWait = false;
  #reading = false;
  #writing = false;
  #addrs: Addresses = [];
  #addrIdx = 0;
  #lastError: Error | null = null;
  readonly #onReadable = (): void => this.#readable();
  readonly #onWritable = (): void => this.#writable();

  constructor(core: ClientCore, origin: Origin, host: TransportHost) {
    this.#core = core;
    this.#origin = origin;
    this.#host = host;
  }

  /** Whether a socket is open (connecting, connected, or under TLS). */
  get attached(): boolean {
    return this.#sock !== null;
  }

  /** Starts connecting: {@link TransportHost.onReady} or `onError` follows. */
  open(): void {
    const o = this.#origin;
    if (o.family !== 0) {
      this.#addrs = [[o.family, o.host]];
      this.#guardedNext();
      return;
    }
    // A name: resolved by the client's resolver, then each address is tried in order.
    this.#core.resolve(o, (err, addrs) => {
      if (this.#state === T.Closed) return;
      if (err !== null) this.#host.onError(err);
      else {
        this.#addrs = addrs!;
        this.#guardedNext();
      }
    });
  }

  /**
   * Sends what `out` holds (HTTPS: hands it all to the TLS socket, which buffers). False
   * when the socket buffer filled (`onWritable` follows once it is writable) or the send
   * failed (`onIoError` was called); true when everything went out.
   */
  send(out: OutQueue): boolean {
    const t = this.#tls;
    if (t !== null) {
      out.writeTo(t);
      return true;
    }
    const n = out.sendTo(this.#sock!);
    if (n === NEG_EAGAIN) {
      this.#wantWrite(true); // socket buffer full: continue when writable
      return false;
    }
    if (n < 0) {
      this.#host.onIoError(-n, 'send');
      return false;
    }
    this.#wantWrite(false);
    return true;
  }

  /**
   * Whether what was handed on still waits to go out: a TLS socket past its high-water
   * mark, after which `onWritable` follows at its 'drain'. Always false for a plain socket,
   * whose {@link send} already waited.
   */
  backlogged(): boolean {
    const t = this.#tls;
    if (t === null || !t.writableNeedDrain) return false;
    if (!this.#drainWait) {
      this.#drainWait = true;
      t.once('drain', () => {
        this.#drainWait = false;
        if (this.#tls === t) this.#host.onWritable();
      });
    }
    return true;
  }

  /** Stops reading until {@link resume}. */
  pause(): void {
    if (this.#tls !== null) {
      this.#tls.pause();
      return;
    }
    if (this.#reading) {
      this.#core.driver.removeReader(this.#sock!);
      this.#reading = false;
    }
  }

  /** Reads again after {@link pause}. @throws what the driver throws (a closed Reactor). */
  resume(): void {
    if (this.#tls !== null) {
      this.#tls.resume();
      return;
    }
    this.#core.driver.addReader(this.#sock!, this.#onReadable);
    this.#reading = true;
  }

  /** Closes the socket for good; a resolution still under way is then ignored. */
  close(): void {
    this.#state = T.Closed;
    this.#closeSocket();
  }

  /** `#tryNext`, with anything unexpected (a closed Reactor) reported as `onError`. */
  #guardedNext(): void {
    try {
      this.#tryNext();
    } catch (e) {
      this.#host.onError(e as Error);
    }
  }

  #tryNext(): void {
    const port = this.#origin.port;
    while (this.#addrIdx < this.#addrs.length) {
      const [family, host] = this.#addrs[this.#addrIdx++]!;
      let sock: Socket;
      let r: number;
      try {
        [sock, r] = openConnect(family, host, port);
      } catch (e) {
        this.#lastError = e as Error; // EMFILE and the like: maybe another address works
        continue;
      }
      this.#sock = sock;
      if (r === 0) {
        this.#connected();
        return;
      }
      if (r === NEG_EINPROGRESS) {
        // The usual case: the outcome arrives as writability.
        this.#state = T.Connecting;
        this.#wantWrite(true);
        return;
      }
      this.#lastError = OSError.fromErrno(-r, 'connect', `${this.#origin.key} (${host})`);
      this.#closeSocket();
    }
    const o = this.#origin;
    this.#host.onError(this.#lastError ?? OSError.fromErrno(errno.EHOSTUNREACH, 'getaddrinfo', `${o.host} has no address`));
  }

  #connected(): void {
    if (this.#origin.tls) {
      this.#startTls();
      return;
    }
    this.#state = T.Open;
    this.#core.driver.addReader(this.#sock!, this.#onReadable);
    this.#reading = true;
    this.#host.onReady();
  }

  #wantWrite(on: boolean): void {
    if (on === this.#writing) return;
    this.#writing = on;
    const driver = this.#core.driver;
    if (on) driver.addWriter(this.#sock!, this.#onWritable);
    else driver.removeWriter(this.#sock!);
  }

  #writable(): void {
    if (this.#state === T.Connecting) {
      const err = socketError(this.#sock!);
      if (err === 0) {
        try {
          this.#connected();
        } catch (e) {
          this.#host.onError(e as Error);
        }
        return;
      }
      const [, host] = this.#addrs[this.#addrIdx - 1]!;
      this.#lastError = OSError.fromErrno(err, 'connect', `${this.#origin.key} (${host})`);
      this.#closeSocket();
      this.#guardedNext();
      return;
    }
    this.#host.onWritable();
  }

  /**
   * HTTPS: the connected socket becomes a Duplex (driven by the Reactor), node:tls runs
   * over it: verification on unless turned off, SNI with the host name (or `servername`),
   * ALPN `http/1.1`. The host hears `onReady` once the handshake is done.
   */
  #startTls(): void {
    const cfg = this.#core.tls;
    const o = this.#origin;
    if (cfg === null) throw new TypeError(`${o.key}: https: needs HttpClient (TLS runs on Node's event loop)`);
    this.#wantWrite(false);
    this.#state = T.Handshake;
    const sock = this.#sock!;
    const duplex = new SocketStream(sock, { reactor: cfg.reactor });
    const name = cfg.servername ?? o.host;
    const t = tlsConnect({
      socket: duplex, host: name, servername: isIP(name) === 0 ? name : undefined,
      ca: cfg.ca, rejectUnauthorized: cfg.rejectUnauthorized, ALPNProtocols: ['http/1.1'],
    });
    this.#tls = t;
    const host = this.#host;
    t.on('secureConnect', () => {
      if (this.#tls !== t) return;
      const alpn = t.alpnProtocol;
      if (alpn !== false && alpn !== null && alpn !== 'http/1.1') {
        host.onError(new TlsError(o.key, new Error(`the server chose ALPN protocol ${JSON.stringify(alpn)}, not http/1.1`)));
        return;
      }
      this.#state = T.Open;
      host.onReady();
    });
    t.on('data', (chunk: Buffer) => {
      if (this.#tls === t) host.onData(chunk, chunk.length);
    });
    t.on('end', () => {
      if (this.#tls === t) host.onEnd();
    });
    t.on('error', (err: Error & { errno?: number }) => {
      if (this.#tls !== t) return;
      if (this.#state === T.Handshake) host.onError(new TlsError(o.key, err));
      else if (err.errno === ECONNRESET || err.errno === EPIPE) host.onIoError(err.errno, 'recv');
      else host.onError(err);
    });
  }

  /**
   * Reads while each read fills the buffer, but at most {@link MAX_READS_PER_WAKEUP}
   * times: a peer that keeps the socket full would otherwise hold the thread (timers,
   * other sockets) indefinitely. Readiness is level-triggered, so the rest is read at
   * the next wake-up, after the loop has run everything else that was due.
   */
  #readable(): void {
    const buf = this.#core.readBuf;
    const sock = this.#sock!;
    const host = this.#host;
    for (let reads = 0; reads < MAX_READS_PER_WAKEUP; reads++) {
      const n = sock.tryRecvInto(buf, 0, buf.length);
      if (n > 0) {
        if (!host.onData(buf, n) || n < buf.length) return;
      } else if (n === 0) {
        host.onEnd();
        return;
      } else if (n === NEG_EAGAIN) {
        return; // drained: wait for the next readiness
      } else {
        host.onIoError(-n, 'recv');
        return;
      }
    }
  }

  #closeSocket(): void {
    const sock = this.#sock;
    if (sock === null) return;
    const t = this.#tls;
    if (t !== null) {
      // The TLS socket owns the Duplex, which owns the socket: destroying it closes the fd.
      this.#tls = null;
      this.#sock = null;
      t.destroy();
      return;
    }
    const driver = this.#core.driver;
    try {
      if (this.#reading) driver.removeReader(sock);
      if (this.#writing) driver.removeWriter(sock);
    } catch {
      // A driver (Reactor) its owner already closed has forgotten the socket anyway.
    }
    this.#reading = false;
    this.#writing = false;
    this.#sock = null;
    sock.close();
  }
}
