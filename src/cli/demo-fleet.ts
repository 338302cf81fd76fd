/**
 * The demo's load: a fleet of TCP clients, each sending a message and waiting for it to
 * come back in full before sending it again (ping-pong), all driven by one selector loop
 * on this thread. Counts round trips over a fixed time. Each wake-up does at most one
 * `recv` and one `send` per ready client, so every client gets its turn.
 */
import { performance } from 'node:perf_hooks';
import {
  EpollSelector, EVENT_READ, EVENT_WRITE, socket, AF_INET, AF_INET6, SOCK_STREAM, IPPROTO_TCP, TCP_NODELAY,
  NEG_EAGAIN, type Socket,
} from '../index.js';

interface Client {
  sock: Socket;
  /** Bytes of the current echo received so far. */
  got: number;
  /** Bytes of the current message still to send (after a partial send). */
  unsent: number;
}

/** What a fleet run measured. */
export interface FleetResult {
  roundTrips: number;
  seconds: number;
}

/**
 * Connects `connections` clients to `host:port` and runs the ping-pong for `warmup` +
 * `seconds` seconds, counting round trips only after the warm-up.
 * @param onProgress called about every 100 ms with the round trips so far and elapsed time.
 */
export function runFleet(
  host: string, port: number, connections: number, size: number, warmup: number, seconds: number,
  onProgress: (roundTrips: number, elapsed: number) => void,
): FleetResult {
  const sel = new EpollSelector<Client>();
  const clients: Client[] = [];
  const msg = Buffer.alloc(size, 'iomux ');
  const buf = Buffer.allocUnsafe(Math.max(65536, size));
  const family = host.includes(':') ? AF_INET6 : AF_INET;

  const send = (c: Client): void => {
    const off = size - c.unsent;
    const w = c.sock.trySend(msg, off, c.unsent);
    if (w === NEG_EAGAIN) return; // EAGAIN: full; EVENT_WRITE below brings us back.
    if (w < 0) throw new Error(`send failed (errno ${-w}): the server went away`);
    c.unsent -= w;
  };

  try {
    for (let i = 0; i < connections; i++) {
      const sock = socket(family, SOCK_STREAM);
      const c: Client = { sock, got: 0, unsent: size };
      clients.push(c);
      sock.connect([host, port]); // blocking: immediate on loopback.
      sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      sock.setblocking(false);
      sel.register(sock, EVENT_READ, c);
    }
    for (const c of clients) {
      send(c);
      if (c.unsent > 0) sel.modify(c.sock, EVENT_READ | EVENT_WRITE, c);
    }

    const start = performance.now();
    const countFrom = start + warmup * 1000;
    const end = countFrom + seconds * 1000;
    let counted = 0;
    let nextReport = start + 100;
    let now = start;
    while (now < end) {
      const ready = sel.select(0.1);
      now = performance.now();
      const counting = now >= countFrom;
      for (let i = 0; i < ready.length; i++) {
        const [key, events] = ready[i]!;
        const c = key.data;
        if (events & EVENT_WRITE && c.unsent > 0) {
          send(c);
          if (c.unsent === 0) sel.modify(c.sock, EVENT_READ, c);
        }
        if (!(events & EVENT_READ)) continue;
        const n = c.sock.tryRecvInto(buf, 0, buf.length);
        if (n === NEG_EAGAIN) continue; // EAGAIN: spurious wake-up.
        if (n <= 0) throw new Error(n === 0 ? 'the server closed a connection' : `recv failed (errno ${-n})`);
        c.got += n;
        if (c.got < size) continue;
        // The whole message is back: one round trip; send the next one.
        c.got -= size;
        if (counting) counted++;
        c.unsent = size;
        send(c);
        if (c.unsent > 0) sel.modify(c.sock, EVENT_READ | EVENT_WRITE, c);
      }
      if (now >= nextReport) {
        nextReport = now + 100;
        onProgress(counted, Math.max(0, (now - countFrom) / 1000));
      }
    }
    const elapsed = (now - countFrom) / 1000;
    return { roundTrips: counted, seconds: elapsed };
  } finally {
    sel.close();
    for (const c of clients) c.sock.close();
  }
}
