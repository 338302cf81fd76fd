// iomux UDP echo servers for bench/udp, on a Reactor inside Node's event loop.
// Usage: node bench/udp/iomux-server.mjs PORT mmsg|single
//   mmsg:   a DatagramBatch of 64; each wake-up drains with tryRecvmmsgInto and echoes
//           every batch back with one trySendmmsgFrom (no allocation per datagram).
//   single: one datagram at a time with the Python-style recvfromInto/sendto on a
//           non-blocking socket (one BlockingIOError per wake-up ends the drain).
import {
  Reactor, socket, DatagramBatch, BlockingIOError, AF_INET, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET,
  SO_RCVBUF,
} from 'iomux';

const port = Number(process.argv[2]);
const mode = process.argv[3] ?? 'mmsg';
const sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
sock.setsockopt(SOL_SOCKET, SO_RCVBUF, 4 << 20);
sock.bind(['127.0.0.1', port]);
const reactor = new Reactor();

if (mode === 'mmsg') {
  const batch = new DatagramBatch(64, 2048);
  reactor.addReader(sock, () => {
    for (let turn = 0; turn < 16; turn++) { // bounded work per wake-up
      const n = sock.tryRecvmmsgInto(batch);
      if (n <= 0) return; // NEG_EAGAIN: drained (another error: the next wake-up reports it again)
      sock.trySendmmsgFrom(batch, n); // echoes each to its sender; a full send buffer drops, as UDP may
      // Not returning on a short batch: more may have arrived meanwhile, and a try that
      // finds nothing (EAGAIN) costs less than another wake-up.
    }
  });
} else {
  const buf = Buffer.allocUnsafe(2048);
  reactor.addReader(sock, () => {
    for (let i = 0; i < 1024; i++) {
      let n, from;
      try {
        [n, from] = sock.recvfromInto(buf);
      } catch (e) {
        if (e instanceof BlockingIOError) return;
        throw e;
      }
      try {
        sock.sendto(buf.subarray(0, n), from);
      } catch (e) {
        if (!(e instanceof BlockingIOError)) throw e;
      }
    }
  });
}
console.log('ready');
process.on('SIGTERM', () => { reactor.close(); sock.close(); process.exit(0); });
