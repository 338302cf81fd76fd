// Bulk transfers with nothing lost: the SHA-256 of several MB through blocking sockets
// (peer in a worker thread), and through non-blocking sockets driven by a selector with
// small buffers, where sends are partial and BlockingIOError is routine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  socket, socketpair, DefaultSelector, EVENT_READ, EVENT_WRITE, BlockingIOError,
  AF_INET, AF_INET6, AF_UNIX, SOCK_SEQPACKET, SOL_SOCKET, SO_SNDBUF, IPPROTO_TCP, TCP_NODELAY,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const MB = 1024 * 1024;
const SO_RCVTIMEO = 20;
const timeval = (sec) => {
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(BigInt(sec), 0);
  return tv;
};
const sha = (b) => createHash('sha256').update(b).digest('hex');
const payload = randomFillSync(Buffer.allocUnsafe(6 * MB));
const digest = sha(payload);

/** Runs `sender(fd)` code in a worker: it wraps `fd` (a connected socket) and sends the payload. */
function workerSend(fd, data, mode) {
  const w = new Worker(`
    import { socket, SHUT_WR } from 'iomux';
    import { workerData } from 'node:worker_threads';
    const s = socket(undefined, undefined, undefined, workerData.fd);
    const data = Buffer.from(workerData.data);
    if (workerData.mode === 'sendall') s.sendall(data);
    else for (let off = 0; off < data.length;) off += s.send(data.subarray(off, off + 100000));
    s.shutdown(SHUT_WR);
    s.close();
  `, { eval: true, workerData: { fd, data, mode } });
  w.on('error', (e) => console.error('sender worker failed:', e));
  return new Promise((resolve) => w.on('exit', resolve));
}

/** Receives until EOF (blocking), hashing as it goes; returns [hex digest, byte count]. */
function recvAll(s, chunk = 65536) {
  const h = createHash('sha256');
  let n = 0;
  for (;;) {
    const d = s.recv(chunk);
    if (d.length === 0) return [h.digest('hex'), n];
    h.update(d);
    n += d.length;
  }
}

/** A connected blocking [a, b] stream pair for `family`. */
function connected(family) {
  if (family === AF_UNIX) return socketpair();
  const l = socket(family);
  try {
    l.bind([family === AF_INET ? '127.0.0.1' : '::1', 0]);
    l.listen();
    const c = socket(family);
    c.connect(l.getsockname());
    const [s] = l.accept();
    return [c, s];
  } finally {
    l.close();
  }
}

for (const [name, family] of [['AF_INET', AF_INET], ['AF_INET6', AF_INET6], ['AF_UNIX', AF_UNIX]]) {
  for (const mode of ['sendall', 'send']) {
    test(`blocking ${name} ${mode}: 6 MB arrive intact (SHA-256)`, async (t) => {
      const [a, b] = connected(family);
      t.after(() => { a.close(); b.close(); });
      // A receive timeout (SO_RCVTIMEO) keeps the fd blocking but turns a hang into a
      // failure should the worker die before sending.
      b.setsockopt(SOL_SOCKET, SO_RCVTIMEO, timeval(30));
      const done = workerSend(a.detach(), payload, mode);
      const [got, n] = mode === 'send' ? recvAll(b, 7777) : (() => {
        // recvInto a reused buffer: no copy on our side.
        const h = createHash('sha256');
        const buf = Buffer.allocUnsafe(50000);
        let total = 0;
        for (let r; (r = b.recvInto(buf)) > 0; total += r) h.update(buf.subarray(0, r));
        return [h.digest('hex'), total];
      })();
      assert.equal(await done, 0);
      assert.equal(n, payload.length);
      assert.equal(got, digest);
    });
  }
}

test('non-blocking + selector with small buffers: partial sends, BlockingIOError, nothing lost', (t) => {
  const [a, b] = connected(AF_INET);
  t.after(() => { a.close(); b.close(); });
  // A send buffer smaller than each send makes partial sends routine. (Tiny TCP buffers
  // stall on small windows and delayed ACKs: 32 KB took seconds here.)
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 131072);
  a.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  a.setblocking(false);
  b.setblocking(false);
  const sel = new DefaultSelector();
  t.after(() => sel.close());
  sel.register(a, EVENT_WRITE, 'writer');
  sel.register(b, EVENT_READ, 'reader');
  const h = createHash('sha256');
  let sent = 0;
  let received = 0;
  let partial = 0;
  let blocked = 0;
  const chunk = 256 * 1024;
  while (received < payload.length) {
    for (const [key] of sel.select(5)) {
      if (key.data === 'writer') {
        try {
          const n = a.send(payload.subarray(sent, Math.min(sent + chunk, payload.length)));
          if (n < Math.min(chunk, payload.length - sent)) partial++;
          sent += n;
          if (sent === payload.length) sel.unregister(a);
        } catch (e) {
          if (!(e instanceof BlockingIOError)) throw e;
          blocked++;
        }
      } else {
        for (;;) {
          let d;
          try {
            d = b.recv(32768);
          } catch (e) {
            if (!(e instanceof BlockingIOError)) throw e;
            blocked++;
            break;
          }
          assert.ok(d.length > 0, 'no early EOF');
          h.update(d);
          received += d.length;
        }
      }
    }
  }
  assert.equal(sent, payload.length);
  assert.equal(h.digest('hex'), digest);
  assert.ok(partial > 0, `some sends were partial (${partial})`);
  // Try once more on a full buffer: BlockingIOError is what a would-block send throws.
  const fill = Buffer.alloc(MB);
  let threw = false;
  for (let i = 0; i < 64 && !threw; i++) {
    try {
      a.send(fill);
    } catch (e) {
      assert.ok(e instanceof BlockingIOError);
      assert.equal(e.errno, 11);
      threw = true;
    }
  }
  assert.ok(threw, 'a full send buffer throws BlockingIOError');
  assert.ok(blocked > 0, "the reader drained until BlockingIOError");
});

test('non-blocking seqpacket through a selector: every record, in order', (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_SEQPACKET);
  t.after(() => { a.close(); b.close(); });
  a.setblocking(false);
  b.setblocking(false);
  const sel = new DefaultSelector();
  t.after(() => sel.close());
  sel.register(a, EVENT_WRITE);
  sel.register(b, EVENT_READ);
  const records = 2000;
  let next = 0;
  let got = 0;
  while (got < records) {
    for (const [key, ev] of sel.select(5)) {
      if (key.fileobj === a && ev & EVENT_WRITE) {
        try {
          for (; next < records; next++) a.send(Buffer.alloc(1000 + (next % 7), next & 0xff));
          sel.unregister(a);
        } catch (e) {
          if (!(e instanceof BlockingIOError)) throw e;
        }
      } else if (key.fileobj === b) {
        for (;;) {
          let d;
          try {
            d = b.recv(4096);
          } catch (e) {
            if (!(e instanceof BlockingIOError)) throw e;
            break;
          }
          assert.equal(d.length, 1000 + (got % 7));
          assert.equal(d[0], got & 0xff);
          got++;
        }
      }
    }
  }
  assert.equal(got, records);
});
