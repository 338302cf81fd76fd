// Python's third socket mode: settimeout(seconds). The fd is non-blocking and each
// operation waits at most that long, then throws TimeoutError; data in time goes through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { socket, socketpair, os, TimeoutError, AF_UNIX, SOCK_DGRAM } from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

test('settimeout/gettimeout/getblocking follow Python', (t) => {
  const s = socket();
  t.after(() => s.close());
  assert.equal(s.gettimeout(), null);
  assert.equal(s.getblocking(), true);
  s.settimeout(1.5);
  assert.equal(s.gettimeout(), 1.5);
  assert.equal(s.getblocking(), true, 'a timeout is still "blocking" (gettimeout() != 0)');
  assert.equal(os.getBlocking(s), false, 'the fd itself is non-blocking');
  s.settimeout(0);
  assert.equal(s.getblocking(), false);
  s.setblocking(true);
  assert.equal(s.gettimeout(), null);
  assert.equal(os.getBlocking(s), true);
  s.setblocking(false);
  assert.equal(s.gettimeout(), 0);
  s.settimeout(null);
  assert.equal(s.gettimeout(), null);
  assert.throws(() => s.settimeout(-1), RangeError);
  assert.throws(() => s.settimeout(NaN), RangeError);
  assert.throws(() => s.settimeout('1'), TypeError);
});

test('recv, recvfrom, accept and recvFds time out with TimeoutError', (t) => {
  const [a, b] = socketpair();
  t.after(() => { a.close(); b.close(); });
  a.settimeout(0.05);
  let start = performance.now();
  assert.throws(() => a.recv(10), (e) => e instanceof TimeoutError && e.errno === 110 && /timed out/.test(e.message));
  const took = performance.now() - start;
  assert.ok(took >= 45 && took < 2000, `took ${took} ms`);
  assert.throws(() => a.recvfrom(10), TimeoutError);
  assert.throws(() => a.recvFds(10, 1), TimeoutError);
  const l = socket();
  t.after(() => l.close());
  l.bind(['127.0.0.1', 0]);
  l.listen();
  l.settimeout(0.02);
  start = performance.now();
  assert.throws(() => l.accept(), TimeoutError);
  assert.ok(performance.now() - start >= 15);
  // Data that is there (or arrives in time) goes through.
  b.send('here');
  assert.equal(a.recv(10).toString(), 'here');
  const c = socket();
  t.after(() => c.close());
  c.connect(l.getsockname());
  const [s] = l.accept();
  t.after(() => s.close());
  assert.equal(s.gettimeout(), null, 'accepted sockets are blocking');
});

test('sendall with a timeout bounds the whole call', (t) => {
  const [a, b] = socketpair();
  t.after(() => { a.close(); b.close(); });
  a.settimeout(0.1);
  const start = performance.now();
  assert.throws(() => a.sendall(Buffer.alloc(32 * 1024 * 1024)), TimeoutError);
  const took = performance.now() - start;
  assert.ok(took >= 95 && took < 3000, `took ${took} ms`);
  const [d1, d2] = socketpair(AF_UNIX, SOCK_DGRAM);
  t.after(() => { d1.close(); d2.close(); });
  d1.settimeout(0.02);
  assert.throws(() => { for (;;) d1.send(Buffer.alloc(1000)); }, TimeoutError);
});

test('a blocking recv with a timeout gets data that a worker sends later', async (t) => {
  const [a, b] = socketpair();
  t.after(() => a.close());
  const w = new Worker(`
    import { socket } from 'iomux';
    import { workerData } from 'node:worker_threads';
    const s = socket(undefined, undefined, undefined, workerData.fd);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    s.sendall('late but in time');
    s.close();
  `, { eval: true, workerData: { fd: b.detach() } });
  w.on('error', (e) => console.error(e));
  a.settimeout(10);
  assert.equal(a.recv(100).toString(), 'late but in time');
  await new Promise((r) => w.on('exit', r));
});
