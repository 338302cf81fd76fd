// Moving bytes: each receive and send method's contract (recv, recvInto, send, sendall,
// recvfrom, sendto; byte views counted in bytes), the non-throwing fast path (tryRecvInto,
// trySend, tryAccept), and bulk transfers with nothing lost: the SHA-256 of several MB
// through blocking sockets (peer in a worker thread), and through non-blocking sockets
// driven by a selector with small buffers, where sends are partial and BlockingIOError is
// routine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import {
  socket, socketpair, DefaultSelector, EVENT_READ, EVENT_WRITE, BlockingIOError, AF_INET, AF_INET6, AF_UNIX,
  SOCK_SEQPACKET, SOL_SOCKET, SO_SNDBUF, IPPROTO_TCP, TCP_NODELAY, BrokenPipeError, SOCK_DGRAM, SHUT_WR,
  MSG_PEEK, Socket, os, errno, NEG_EAGAIN, SOCK_STREAM,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, listener, isErrno, unixPath, abstractName } from './helpers/net.mjs';

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

test('recv(bufsize, flags?) → Buffer, an empty Buffer at EOF; recv(0) is empty', (t) => {
  const [a, b] = closer(t, ...socketpair());
  a.sendall('hello world');
  const got = b.recv(5);
  assert.ok(Buffer.isBuffer(got));
  assert.equal(got.toString(), 'hello');
  assert.equal(b.recv(3, MSG_PEEK).toString(), ' wo');
  assert.equal(b.recv(100).toString(), ' world');
  const zero = b.recv(0); // nothing buffered: CPython returns b'' at once, no syscall
  assert.ok(Buffer.isBuffer(zero) && zero.length === 0);
  assert.equal(b.recvInto(Buffer.alloc(0)), 0);
  const [g, h] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  g.send('keep');
  assert.equal(h.recv(0).length, 0, 'recv(0) leaves the datagram');
  assert.equal(h.recv(10).toString(), 'keep');
  a.shutdown(SHUT_WR);
  const eof = b.recv(100);
  assert.ok(Buffer.isBuffer(eof) && eof.length === 0, 'EOF');
  assert.equal(b.recv(100).length, 0, 'EOF again');
  // Two results never share memory with each other (no scratch leaks out).
  const [c, d] = closer(t, ...socketpair());
  c.sendall('aaaa');
  const x = d.recv(2);
  const y = d.recv(2);
  x[0] = 0x7a;
  assert.equal(y.toString(), 'aa');
  c.setblocking(false);
  const total = 300000;
  let sent = 0;
  let n = 0;
  while (n < total) {
    try {
      if (sent < total) sent += c.send(Buffer.alloc(Math.min(65536, total - sent), 1));
    } catch (e) {
      if (!(e instanceof BlockingIOError)) throw e;
    }
    const got = d.recv(200000); // larger than the receive scratch
    assert.ok(got.every((v) => v === 1));
    n += got.length;
  }
  assert.equal(n, total);
  assert.throws(() => d.recv(-1), RangeError);
  assert.throws(() => d.recv(1.5), RangeError);
  assert.throws(() => d.recv('10'), TypeError);
});

test('recvInto(buf, nbytes?, flags?) → count: into the caller\'s buffer, 0 at EOF', (t) => {
  const [a, b] = closer(t, ...socketpair());
  a.sendall('0123456789');
  const buf = Buffer.alloc(4);
  assert.equal(b.recvInto(buf), 4);
  assert.equal(buf.toString(), '0123');
  const big = Buffer.alloc(8, 0x2e);
  assert.equal(b.recvInto(big, 2), 2, 'nbytes limits the read');
  assert.equal(big.toString(), '45......');
  assert.equal(b.recvInto(big, 0, MSG_PEEK), 4, 'nbytes 0 is the whole buffer');
  const u16 = new Uint16Array(1);
  assert.equal(b.recvInto(u16), 2, 'any ArrayBufferView, counted in bytes');
  assert.equal(Buffer.from(u16.buffer).toString(), '67');
  assert.equal(b.recvInto(new Uint8Array(10)), 2);
  assert.throws(() => b.recvInto(Buffer.alloc(2), 3), RangeError, 'nbytes beyond the buffer');
  assert.throws(() => b.recvInto(Buffer.alloc(2), -1), RangeError);
  assert.throws(() => b.recvInto('nope'), TypeError);
  a.close();
  assert.equal(b.recvInto(Buffer.alloc(4)), 0, 'EOF');
});

test('send(data, flags?) → count; sendall(data) → undefined, every byte delivered', async (t) => {
  const [a, b] = closer(t, ...socketpair());
  assert.equal(a.send(Buffer.from('abc')), 3);
  assert.equal(a.send('héllo'), 6, 'a string is sent as UTF-8');
  assert.equal(a.send(new Uint8Array([1, 2])), 2);
  assert.equal(a.send(Buffer.alloc(0)), 0);
  assert.equal(b.recv(100).length, 11);
  assert.equal(a.sendall('x'), undefined);
  assert.equal(b.recv(1).toString(), 'x');
  // sendall past the socket buffer: a worker thread reads while this thread is blocked.
  const size = 4 * 1024 * 1024;
  const w = new Worker(`
    import { socket } from 'iomux';
    import { workerData, parentPort } from 'node:worker_threads';
    const s = socket(undefined, undefined, undefined, workerData.fd);
    let n = 0, sum = 0;
    for (;;) { const d = s.recv(65536); if (d.length === 0) break; n += d.length; for (const x of d) sum = (sum + x) % 65521; }
    s.close();
    parentPort.postMessage([n, sum]);
  `, { eval: true, workerData: { fd: b.detach() } });
  const result = new Promise((resolve, reject) => { w.on('message', resolve); w.on('error', reject); });
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7) & 0xff;
  let sum = 0;
  for (const x of data) sum = (sum + x) % 65521;
  assert.equal(a.sendall(data), undefined);
  a.shutdown(SHUT_WR);
  assert.deepEqual(await result, [size, sum]);
  const [c, d] = closer(t, ...socketpair());
  d.close();
  assert.throws(() => c.send('x'), isErrno(BrokenPipeError, 'EPIPE'), 'a closed peer: EPIPE, no SIGPIPE');
  assert.throws(() => c.send(42), TypeError);
});

test('recvfrom(bufsize) → [Buffer, addr] and sendto(data, addr) with AF_INET, AF_INET6 and AF_UNIX', (t) => {
  const cases = [[AF_INET, ['127.0.0.1', 0]], [AF_INET6, ['::1', 0]], [AF_UNIX, abstractName()], [AF_UNIX, unixPath()]];
  for (const [family, bindAddr] of cases) {
    const rx = socket(family, SOCK_DGRAM);
    const tx = socket(family, SOCK_DGRAM);
    closer(t, rx, tx);
    rx.bind(bindAddr);
    if (family === AF_UNIX) tx.bind(typeof bindAddr === 'string' && bindAddr.startsWith('\0') ? abstractName() : unixPath());
    else tx.bind(family === AF_INET ? ['127.0.0.1', 0] : ['::1', 0]);
    assert.equal(tx.sendto(Buffer.from('datagram'), rx.getsockname()), 8, `family ${family}`);
    const [data, from] = rx.recvfrom(100);
    assert.ok(Buffer.isBuffer(data));
    assert.equal(data.toString(), 'datagram');
    assert.deepEqual(from, tx.getsockname(), `family ${family}`);
    assert.equal(tx.sendto('flags form', 0, rx.getsockname()), 10, 'sendto(data, flags, addr)');
    assert.equal(rx.recvfrom(3)[0].toString(), 'fla', 'the rest of a datagram is dropped');
    if (family !== AF_UNIX) assert.equal(from.length, family === AF_INET ? 2 : 4);
  }
});

test('recv on a blocking socket blocks the calling thread until data arrives', async (t) => {
  const [a, b] = closer(t, ...socketpair());
  const w = new Worker(`
    import { socket } from 'iomux';
    import { workerData } from 'node:worker_threads';
    const s = socket(undefined, undefined, undefined, workerData.fd);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    s.sendall('after a while');
    s.close();
  `, { eval: true, workerData: { fd: b.detach() } });
  const exited = new Promise((resolve, reject) => { w.on('exit', resolve); w.on('error', reject); });
  let timerRan = false;
  setTimeout(() => { timerRan = true; }, 0);
  const t0 = performance.now();
  const got = a.recv(100); // no timeout: blocks this thread
  const took = performance.now() - t0;
  assert.equal(got.toString(), 'after a while');
  assert.ok(took >= 200, `recv returned after ${took} ms`);
  assert.equal(timerRan, false, 'the event loop did not run while recv blocked');
  await exited;
});

test('fast path: tryRecvInto/trySend return counts, 0 at EOF and -errno, never throwing for the outcome', (t) => {
  const [a, b] = closer(t, ...socketpair());
  const buf = Buffer.alloc(16);
  // Never blocks, even on a blocking socket (MSG_DONTWAIT).
  assert.equal(a.getblocking(), true);
  assert.equal(a.tryRecvInto(buf), NEG_EAGAIN);
  assert.equal(NEG_EAGAIN, -errno.EAGAIN);
  assert.equal(b.trySend(Buffer.from('hello world')), 11);
  assert.equal(a.tryRecvInto(buf, 4, 5), 5, 'offset and length in bytes');
  assert.equal(buf.toString('latin1', 4, 9), 'hello');
  assert.equal(a.tryRecvInto(buf, 0, 0), 0, 'a length of 0 reads nothing');
  assert.equal(a.tryRecvInto(buf), 6);
  assert.equal(buf.toString('latin1', 0, 6), ' world');
  assert.equal(b.trySend(Buffer.from('xyz'), 1), 2, 'from offset 1 to the end');
  assert.equal(b.trySend(Buffer.from('xyz'), 0, 1), 1);
  assert.equal(a.tryRecvInto(buf), 3);
  assert.equal(buf.toString('latin1', 0, 3), 'yzx');
  // A full send buffer: a partial count, then NEG_EAGAIN.
  const big = Buffer.alloc(1024 * 1024);
  let r;
  let sent = 0;
  while ((r = b.trySend(big)) > 0) sent += r;
  assert.equal(r, NEG_EAGAIN);
  assert.ok(sent > 0);
  // The peer closed: 0 at EOF once the data is read; a send is -EPIPE, never SIGPIPE.
  const [c, d] = closer(t, ...socketpair());
  d.close();
  assert.equal(c.tryRecvInto(buf), 0);
  assert.equal(c.trySend(Buffer.from('x')), -errno.EPIPE);
  // A closed socket: -EBADF.
  c.close();
  assert.equal(c.tryRecvInto(buf), -errno.EBADF);
  assert.equal(c.trySend(buf), -errno.EBADF);
  assert.equal(c.tryAccept(), -errno.EBADF);
});

test('fast path: only argument mistakes throw (TypeError naming buf, RangeError for the range)', (t) => {
  const [a] = closer(t, ...socketpair());
  const buf = Buffer.alloc(8);
  for (const bad of ['text', new Uint16Array(4), new ArrayBuffer(8), null, 8]) {
    assert.throws(() => a.tryRecvInto(bad), (e) => e instanceof TypeError && /\bbuf\b/.test(e.message), String(bad));
    assert.throws(() => a.trySend(bad), (e) => e instanceof TypeError && /\bbuf\b/.test(e.message), String(bad));
  }
  for (const [off, len] of [[-1, 1], [0, 9], [8, 1], [1.5, 1], [0, 1.5], [NaN, 1], [0, -1]]) {
    assert.throws(() => a.tryRecvInto(buf, off, len), RangeError, `${off}, ${len}`);
    assert.throws(() => a.trySend(buf, off, len), RangeError, `${off}, ${len}`);
  }
  assert.throws(() => a.tryRecvInto(buf, '0'), TypeError);
  assert.throws(() => a.trySend(buf, 0, '1'), TypeError);
});

test('fast path: tryAccept returns a non-blocking close-on-exec Socket, or NEG_EAGAIN', (t) => {
  const l = listener(t, AF_INET, ['127.0.0.1', 0]);
  assert.equal(l.getblocking(), true);
  assert.equal(l.tryAccept(), NEG_EAGAIN, 'never blocks, even on a blocking listener');
  const c = socket();
  closer(t, c);
  c.connect(l.getsockname());
  const s = l.tryAccept();
  assert.ok(s instanceof Socket);
  closer(t, s);
  assert.equal(s.getblocking(), false);
  assert.equal(os.getBlocking(s), false);
  assert.equal(os.getInheritable(s), false);
  assert.deepEqual([s.family, s.type], [AF_INET, SOCK_STREAM]);
  assert.deepEqual(s.getpeername(), c.getsockname());
  assert.equal(l.tryAccept(), NEG_EAGAIN);
});

test('byte views are counted in bytes: send(Uint16Array(3)) sends 6 bytes; recvInto of a string is a TypeError naming buf', (t) => {
  const [a, b] = closer(t, ...socketpair());
  assert.equal(a.send(new Uint16Array([0x6261, 0x6463, 0x6665])), 6);
  assert.equal(b.recv(100).toString(), 'abcdef');
  a.sendall(new DataView(new ArrayBuffer(4)));
  a.sendall(new Float64Array(1).buffer);
  assert.equal(b.recv(100).length, 12);
  a.sendall('xyz');
  const into = new Uint32Array(2);
  assert.equal(b.recvInto(into), 3, 'a count of bytes');
  for (const f of [() => b.recvInto('abcdef'), () => b.recvfromInto('abcdef'), () => b.recvInto(42)]) {
    assert.throws(f, (e) => e instanceof TypeError && /\bbuf\b/.test(e.message) && !/^buffer\b/.test(e.message), f.toString());
  }
});
