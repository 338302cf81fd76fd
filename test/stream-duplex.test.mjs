// SocketStream: the Duplex over connected stream and SEQPACKET sockets, on real
// socketpairs and loopback TCP: bulk integrity, backpressure both ways, half-close,
// resets, destroy, pipeline and async iteration, TLS over it, SEQPACKET boundaries, fd
// passing, and fairness against a fast peer.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable, pipeline } from 'node:stream';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import {
  socket, socketpair, toDuplex, SocketStream, defaultReactor, os, errno, OSError, ConnectionResetError, BrokenPipeError,
  AF_UNIX, AF_INET, SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM, SOL_SOCKET, SO_LINGER, SO_SNDBUF, SO_RCVBUF,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, reactorFor, streamPair } from './helpers/net.mjs';

// The per-thread Reactor the faces use by default holds an epoll fd: release it before
// the fd guard looks.
after(() => defaultReactor().close());
guardFds();

const pipelineP = promisify(pipeline);

/** Two connected SocketStreams over a socketpair, destroyed when the test ends. */
function duplexPair(t, type = SOCK_STREAM, opts = {}, optsB = opts) {
  const [a, b] = socketpair(AF_UNIX, type);
  const da = toDuplex(a, opts);
  const db = toDuplex(b, optsB);
  t.after(() => { da.destroy(); db.destroy(); });
  return [da, db];
}

/** Resolves once `s` emitted 'close'. */
const closed = (s) => (s.closed ? Promise.resolve() : new Promise((resolve) => s.once('close', resolve)));

/** Reads a stream to its end: the concatenated bytes (the stream is left open, unlike for await). */
function readAll(s) {
  return new Promise((resolve, reject) => {
    const parts = [];
    s.on('data', (c) => parts.push(c));
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

test('100 MB through a SocketStream over a socketpair: SHA-256 equal on both ends', async (t) => {
  const [da, db] = duplexPair(t);
  const total = 100 * 1024 * 1024;
  const block = randomBytes(1 << 20);
  const sent = createHash('sha256');
  const got = createHash('sha256');
  let received = 0;
  async function* produce() {
    let n = 0;
    let i = 0;
    while (n < total) {
      // Varying sizes and offsets, so chunk edges fall anywhere.
      const size = Math.min(total - n, 1 + ((i * 7919) % (256 * 1024)));
      const off = (i * 104729) % (block.length - size);
      const c = block.subarray(off, off + size);
      sent.update(c);
      n += size;
      i++;
      yield c;
    }
  }
  const sink = new Writable({
    write(c, _e, cb) { received += c.length; got.update(c); cb(); },
  });
  da.resume(); // a's reading side: sees b's end (b closes its side after its EOF)
  await Promise.all([pipelineP(Readable.from(produce()), da), pipelineP(db, sink)]);
  assert.equal(received, total);
  assert.equal(got.digest('hex'), sent.digest('hex'));
  await Promise.all([closed(da), closed(db)]);
  assert.equal(da.socket.closed, true);
  assert.equal(db.socket.closed, true);
});

test('a slow consumer: the readable queue stays within highWaterMark plus one read; the producer sees write() false and drain', async (t) => {
  const hwm = 64 * 1024;
  const readSize = 16 * 1024;
  const [da, db] = duplexPair(t, SOCK_STREAM, { highWaterMark: hwm, readSize });
  const total = 8 * 1024 * 1024;
  const chunk = Buffer.alloc(32 * 1024, 0x5a);
  let falses = 0;
  let drains = 0;
  let maxWritable = 0;
  da.on('drain', () => { drains++; });
  const produced = (async () => {
    for (let n = 0; n < total; n += chunk.length) {
      const ok = da.write(chunk);
      maxWritable = Math.max(maxWritable, da.writableLength);
      if (!ok) {
        falses++;
        await once(da, 'drain');
      }
    }
    da.end();
  })();
  let got = 0;
  let maxQueue = 0;
  let rssMax = 0;
  const rss0 = process.memoryUsage.rss();
  db.pause();
  while (got < total) {
    await new Promise((r) => setTimeout(r, 2));
    maxQueue = Math.max(maxQueue, db.readableLength);
    // Consume slowly: a little at a time, so the peer keeps running into the limit.
    let c;
    let n = 0;
    while (n < 256 * 1024 && (c = db.read()) !== null) {
      got += c.length;
      n += c.length;
    }
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
  }
  await produced;
  const ended = once(db, 'end');
  db.resume();
  await ended;
  assert.equal(got, total);
  assert.ok(maxQueue <= hwm + readSize, `readable queue reached ${maxQueue} > ${hwm} + ${readSize}`);
  assert.ok(maxQueue > 0);
  assert.ok(maxWritable <= hwm + chunk.length, `writable queue reached ${maxWritable}`);
  assert.ok(falses > 0, 'write() never returned false');
  assert.ok(drains >= falses, `drains ${drains} < write() false ${falses}`);
  // Bounded memory: far below what 8 MiB queued twice over would cost.
  assert.ok(rssMax - rss0 < 64 * 1024 * 1024, `rss grew by ${rssMax - rss0}`);
});

test('half-close: end() shuts down the sending side only; the other direction goes on', async (t) => {
  const [da, db] = duplexPair(t, SOCK_STREAM, { allowHalfOpen: true });
  da.end('from a');
  assert.equal((await readAll(db)).toString(), 'from a'); // db saw EOF: 'end'
  assert.equal(db.writable, true);
  // a's reading side is still open: b answers after a's end.
  const answer = readAll(da);
  db.end('answer from b after a ended');
  assert.equal((await answer).toString(), 'answer from b after a ended');
  await Promise.all([closed(da), closed(db)]);
});

test('half-close the other way: the peer ends first while this side keeps writing', async (t) => {
  const [da, db] = duplexPair(t, SOCK_STREAM, { allowHalfOpen: true });
  db.end();
  da.resume();
  await once(da, 'end');
  assert.equal(da.writable, true);
  // da's peer (db) still reads what da writes after db's own end.
  const got = readAll(db);
  for (let i = 0; i < 100; i++) da.write(Buffer.alloc(10000, i));
  da.end();
  const all = await got;
  assert.equal(all.length, 1_000_000);
  assert.equal(all[999_999], 99);
  await Promise.all([closed(da), closed(db)]);
});

test('allowHalfOpen false (the default): the peer\'s end ends this side too, and both close', async (t) => {
  const [da, db] = duplexPair(t);
  db.resume();
  da.resume();
  da.end('bye');
  await Promise.all([once(db, 'end'), once(db, 'finish'), closed(db), closed(da)]);
  assert.equal(db.socket.closed, true);
});

test('end() on a TCP stream: the peer reads EOF (shutdown SHUT_WR), the socket stays open until both sides ended', async (t) => {
  const { c, s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
  const dc = toDuplex(c, { allowHalfOpen: true });
  t.after(() => dc.destroy());
  dc.end('request');
  await once(dc, 'finish');
  assert.equal(c.closed, false);
  assert.equal(s.recv(100).toString(), 'request');
  assert.equal(s.recv(100).length, 0); // EOF
  s.sendall('response');
  s.close();
  assert.equal((await readAll(dc)).toString(), 'response');
  await closed(dc);
  assert.equal(c.closed, true);
});

test('a reset mid-stream surfaces exactly one error (ConnectionResetError) and one close', async (t) => {
  const { c, s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
  const dc = toDuplex(c);
  const errors = [];
  let closes = 0;
  dc.on('error', (e) => errors.push(e));
  dc.on('close', () => { closes++; });
  dc.on('data', () => {});
  s.sendall(Buffer.alloc(100000, 1));
  // Keep writing towards the peer so both the read and the write side meet the reset.
  const timer = setInterval(() => { if (!dc.destroyed) dc.write(Buffer.alloc(65536)); }, 1);
  t.after(() => clearInterval(timer));
  await new Promise((r) => setTimeout(r, 20));
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0); // l_onoff
  linger.writeInt32LE(0, 4); // l_linger 0: close sends RST
  s.setsockopt(SOL_SOCKET, SO_LINGER, linger);
  s.close();
  await closed(dc);
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(errors.length, 1, `errors: ${errors.map(String).join('; ')}`);
  assert.ok(errors[0] instanceof OSError, String(errors[0]));
  assert.ok(errors[0] instanceof ConnectionResetError || errors[0] instanceof BrokenPipeError, String(errors[0]));
  assert.equal(closes, 1);
  assert.equal(c.closed, true);
});

test('writing to a peer that closed: one BrokenPipeError (or reset), no SIGPIPE', async (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  const da = toDuplex(a);
  t.after(() => da.destroy());
  b.close();
  const errors = [];
  da.on('error', (e) => errors.push(e));
  da.resume();
  for (let i = 0; i < 10; i++) da.write(Buffer.alloc(1000));
  await closed(da);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof BrokenPipeError || errors[0] instanceof ConnectionResetError, String(errors[0]));
});

test('destroy() closes the fd once; a second destroy does nothing; the fd number is not closed again', async (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  closer(t, b);
  const fd = a.fileno();
  const da = toDuplex(a);
  da.destroy();
  await closed(da);
  assert.equal(a.closed, true);
  // The number is free; something else takes it and must survive a second destroy.
  const [r, w] = os.pipe();
  t.after(() => { os.close(r); os.close(w); });
  da.destroy();
  assert.ok([r, w].includes(fd), `fd ${fd} not reused by the pipe (${r}, ${w})`);
  assert.match(readlinkSync(`/proc/self/fd/${fd}`), /^pipe:/);
});

test('a socket closed under the stream (socket.close(), not destroy()) ends the stream with one EBADF error instead of hanging', async (t) => {
  const [da, db] = duplexPair(t);
  db.resume();
  const errors = [];
  da.on('error', (e) => errors.push(e));
  da.resume(); // reading: waits on the Reactor
  da.write('x'.repeat(100000));
  da.socket.close();
  await closed(da);
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof OSError && errors[0].errno === errno.EBADF, String(errors[0]));
  assert.match(errors[0].message, /closed under the stream/);
});

test('stream.pipeline through a SocketStream and async iteration of one', async (t) => {
  const [da, db] = duplexPair(t);
  const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}\n`);
  const got = [];
  await Promise.all([
    pipelineP(Readable.from(lines), da),
    (async () => { for await (const c of db) got.push(c); })(),
  ]);
  assert.equal(Buffer.concat(got).toString(), lines.join(''));
});

test('an echo through pipeline(duplex, transform, duplex) over loopback TCP', async (t) => {
  const { c, s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
  const dc = toDuplex(c);
  const ds = toDuplex(s);
  t.after(() => { dc.destroy(); ds.destroy(); });
  const echo = pipelineP(ds, ds).catch(() => {}); // the server echoes what it reads
  const data = randomBytes(3 * 1024 * 1024);
  const back = readAll(dc);
  dc.end(data);
  assert.ok((await back).equals(data));
  await echo;
});

test('a given Reactor drives the stream; the per-thread default is used without one', async (t) => {
  const reactor = reactorFor(t);
  const [da, db] = duplexPair(t, SOCK_STREAM, { reactor });
  db.end('via the given reactor');
  assert.equal((await readAll(da)).toString(), 'via the given reactor');
});

test('argument checks name the bad value', (t) => {
  assert.throws(() => toDuplex({}), /SocketStream needs a Socket, got/);
  const d = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, d);
  assert.throws(() => toDuplex(d), (e) => e instanceof TypeError && /SOCK_STREAM or SOCK_SEQPACKET/.test(e.message));
  const unconnected = socket(AF_INET, SOCK_STREAM);
  closer(t, unconnected);
  assert.throws(() => toDuplex(unconnected), (e) => e instanceof OSError && e.errno === errno.ENOTCONN);
  const [a, b] = socketpair();
  closer(t, a, b);
  assert.throws(() => toDuplex(a, { readSize: 1.5 }), RangeError);
  assert.throws(() => toDuplex(a, { reactor: 5 }), /reactor must be a Reactor/);
  assert.throws(() => toDuplex(a, 5), TypeError);
  assert.equal(a.closed, false);
});

test('SEQPACKET: object mode, one message per chunk, boundaries kept both ways', async (t) => {
  const [da, db] = duplexPair(t, SOCK_SEQPACKET);
  assert.equal(da.readableObjectMode, true);
  const sizes = [1, 2, 3, 100, 4096, 65536, 1, 7, 30000];
  const msgs = sizes.map((n, i) => Buffer.alloc(n, i + 1));
  const got = [];
  const all = new Promise((resolve) => db.on('data', (m) => { got.push(m); if (got.length === msgs.length + 1) resolve(); }));
  for (const m of msgs) da.write(m);
  da.write('a string is one message too');
  await all;
  db.removeAllListeners('data');
  assert.deepEqual(got.map((m) => m.length), [...sizes, 27]);
  for (let i = 0; i < msgs.length; i++) assert.ok(got[i].equals(msgs[i]), `message ${i}`);
  assert.equal(got[msgs.length].toString(), 'a string is one message too');
  // The other way, many small messages written in one tick (held and sent as a batch).
  const back = [];
  const done = new Promise((resolve) => da.on('data', (m) => { back.push(m.toString()); if (back.length === 500) resolve(); }));
  for (let i = 0; i < 500; i++) db.write(`m${i}`);
  await done;
  assert.deepEqual(back, Array.from({ length: 500 }, (_, i) => `m${i}`));
});

test('SEQPACKET: a message longer than readSize is an EMSGSIZE error, not silently cut; an empty message is refused', async (t) => {
  const [da, db] = duplexPair(t, SOCK_SEQPACKET, {}, { readSize: 100 });
  const errors = [];
  da.on('error', (e) => errors.push(e));
  await assert.rejects(new Promise((_, reject) => { da.write(Buffer.alloc(0), reject); }), /empty SEQPACKET message/);
  await closed(da); // a failed write destroys the stream, as any Writable's
  assert.equal(errors.length, 1);
  const [a2, b2] = duplexPair(t, SOCK_SEQPACKET, {}, { readSize: 100 });
  a2.write(Buffer.alloc(101));
  const [err] = await once(b2, 'error');
  assert.ok(err instanceof OSError && err.errno === errno.EMSGSIZE, String(err));
  assert.match(err.message, /readSize/);
});

test('SEQPACKET: a slow consumer holds at most highWaterMark messages plus one', async (t) => {
  const [da, db] = duplexPair(t, SOCK_SEQPACKET, { highWaterMark: 8 });
  db.pause();
  let maxQueue = 0;
  let got = 0;
  const consumer = setInterval(() => {
    maxQueue = Math.max(maxQueue, db.readableLength);
    while (db.read() !== null) got++;
  }, 5);
  t.after(() => clearInterval(consumer));
  let falses = 0;
  for (let i = 0; i < 2000; i++) {
    if (!da.write(Buffer.alloc(1000, i & 0xff))) {
      falses++;
      await new Promise((r) => da.once('drain', r));
    }
  }
  while (got < 2000) await new Promise((r) => setTimeout(r, 5));
  clearInterval(consumer);
  assert.equal(got, 2000);
  assert.ok(maxQueue <= 9, `queue of ${maxQueue} messages`);
  assert.ok(falses > 0);
});

test('fd passing: sendFds() carries a pipe and a Socket; the receiver gets them as an fds event', async (t) => {
  const [da, db] = duplexPair(t, SOCK_STREAM, {}, { fds: true });
  const [r, w] = os.pipe();
  const [x, y] = socketpair();
  closer(t, x, y);
  t.after(() => { os.close(r); os.close(w); });
  const gotFds = once(db, 'fds');
  da.write('before ');
  da.sendFds('with fds', [w, x], () => {});
  da.write(' after');
  const [fds] = await gotFds;
  assert.equal(fds.length, 2);
  try {
    // The received pipe end writes into our pipe; the received socket talks to y.
    os.write(fds[0], Buffer.from('through the passed pipe'));
    assert.equal(os.read(r, 100).toString(), 'through the passed pipe');
    const passed = socket(null, null, null, fds[1]);
    passed.sendall('through the passed socket');
    assert.equal(y.recv(100).toString(), 'through the passed socket');
    passed.close();
  } finally {
    os.close(fds[0]);
  }
  da.end();
  assert.equal((await readAll(db)).toString(), 'before with fds after');
});

test('fd passing: fds sent to a stream nobody listens to for them are closed, not leaked', async (t) => {
  const [da, db] = duplexPair(t, SOCK_STREAM, {}, { fds: 4 });
  const [r, w] = os.pipe();
  t.after(() => { os.close(r); os.close(w); });
  da.sendFds('x', [r, w]);
  da.end();
  assert.equal((await readAll(db)).toString(), 'x');
  // The guard at the end of the file checks that nothing stayed open.
});

test('fairness: a peer that keeps the socket full does not starve timers', async (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  const db = toDuplex(b);
  t.after(() => db.destroy());
  // A worker thread writes as fast as it can on a blocking socket.
  const fd = a.detach();
  const worker = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.url).then(({ socket }) => {
      const s = socket(null, null, null, workerData.fd);
      parentPort.postMessage('writing');
      const chunk = Buffer.alloc(256 * 1024, 1);
      try { for (let i = 0; i < 400; i++) s.sendall(chunk); } catch {}
      s.close();
    });`, { eval: true, workerData: { fd, url: import.meta.resolve('iomux') } });
  let got = 0;
  db.on('data', (c) => {
    got += c.length;
    // A consumer slower than the producer: the socket never runs dry.
    const until = performance.now() + 1;
    while (performance.now() < until);
  });
  await once(worker, 'message'); // the worker is about to write
  const lates = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 10));
    lates.push(performance.now() - t0);
  }
  db.destroy();
  await once(worker, 'exit');
  assert.ok(got > 0);
  // Generous for a loaded machine; unbounded reads held the first timer for 400+ ms.
  assert.ok(Math.max(...lates) < 150, `10 ms timers took ${lates.map((x) => x.toFixed(0)).join(', ')} ms`);
});

// ---- TLS over a SocketStream -------------------------------------------------------------

let certDir = null;
/** A self-signed EC certificate for 'localhost' made with openssl in a temp dir. */
function certificate(t) {
  if (certDir === null) {
    certDir = mkdtempSync(join(tmpdir(), 'iomux-tls-'));
    process.on('exit', () => rmSync(certDir, { recursive: true, force: true }));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { encoding: 'utf8' });
    if (r.status !== 0) t.skip(`openssl failed: ${r.stderr}`);
  }
  return { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) };
}

test('TLS: tls.connect({ socket }) over a SocketStream against a local tls.createServer, data checked both ways', async (t) => {
  const { key, cert } = certificate(t);
  const payload = randomBytes(2 * 1024 * 1024);
  const server = tls.createServer({ key, cert }, (conn) => {
    // Echo, with a marker first, so both directions carry checked bytes.
    conn.write('server says hi\n');
    conn.pipe(conn);
    conn.on('error', () => {});
  });
  t.after(() => server.close());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const s = socket(AF_INET, SOCK_STREAM);
  s.connect(['127.0.0.1', server.address().port]);
  const transport = toDuplex(s);
  const conn = tls.connect({ socket: transport, ca: cert, servername: 'localhost' });
  t.after(() => { conn.destroy(); transport.destroy(); });
  await once(conn, 'secureConnect');
  assert.equal(conn.authorized, true, String(conn.authorizationError));
  const back = readAll(conn);
  conn.end(payload);
  const all = await back;
  assert.equal(all.subarray(0, 15).toString(), 'server says hi\n');
  assert.ok(all.subarray(15).equals(payload), 'echoed bytes differ');
  await closed(transport);
  assert.equal(s.closed, true);
});

test('TLS: new tls.TLSSocket(duplex, { isServer }) on one end of a socketpair, tls.connect on the other', async (t) => {
  const { key, cert } = certificate(t);
  const [da, db] = duplexPair(t);
  const server = new tls.TLSSocket(da, { isServer: true, key, cert });
  const client = tls.connect({ socket: db, ca: cert, servername: 'localhost' });
  t.after(() => { server.destroy(); client.destroy(); });
  const toServer = randomBytes(300000);
  const toClient = randomBytes(200000);
  await once(client, 'secureConnect');
  const atServer = readAll(server);
  const atClient = readAll(client);
  client.end(toServer);
  server.end(toClient);
  const [s, c] = await Promise.all([atServer, atClient]);
  assert.ok(s.equals(toServer));
  assert.ok(c.equals(toClient));
});

test('small SO_SNDBUF/SO_RCVBUF: many partial sends still deliver every byte in order', async (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  a.setsockopt(SOL_SOCKET, SO_SNDBUF, 4096);
  b.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096);
  const da = toDuplex(a);
  const db = toDuplex(b);
  t.after(() => { da.destroy(); db.destroy(); });
  const data = randomBytes(5 * 1024 * 1024);
  const back = readAll(db);
  // Mixed sizes in one tick: some go alone, the rest as gathered batches.
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(data.length - off, [1, 100, 5000, 70000, 300][i % 5]);
    da.write(data.subarray(off, off + n));
    off += n;
  }
  da.end();
  assert.ok((await back).equals(data));
});

test('SocketStream is exported with its factory', () => {
  assert.equal(typeof SocketStream, 'function');
  assert.equal(typeof toDuplex, 'function');
});

test('faces in a worker thread that is terminated while they watch their sockets leave the process running', async () => {
  const w = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.url).then(({ socketpair, toDuplex, DatagramSocket, defaultReactor }) => {
      const [a, b] = socketpair();
      const da = toDuplex(a);
      const db = toDuplex(b);
      const d = new DatagramSocket('udp4');
      d.bind(['127.0.0.1', 0]);
      db.on('data', (m) => parentPort.postMessage({ m: String(m), fds: [a.fileno(), b.fileno(), d.socket.fileno(), defaultReactor().selector.fileno()] }));
      da.write('hello from the worker');
    });`, { eval: true, workerData: { url: import.meta.resolve('iomux') } });
  const [{ m, fds }] = await once(w, 'message');
  assert.equal(m, 'hello from the worker');
  await w.terminate();
  await new Promise((r) => setTimeout(r, 50));
  // A terminated worker's fds stay open (they are the process's, and the worker's Reactor
  // keeps its epoll fd): close them here.
  for (const fd of fds) os.close(fd);
});
