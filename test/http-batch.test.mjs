// HttpBatch: the blocking client (add requests with callbacks, run on a plain selector
// until all are done or timed out) on HttpClient's connections: keep-alive, the
// per-origin limit, the stale-connection retry. Against a server in a child process
// (run() blocks this thread, so the server cannot live in it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HttpBatch, HttpResponse, TimeoutError, ConnectionRefusedError, ConnectionResetError, ResponseTooLargeError } from 'iomux';
import { closedPort } from './fixtures/http-servers.mjs';
import { guardFds } from './helpers/fds.mjs';

// The child server starts before the fd guard counts and stops after it has checked,
// so its pipes are not taken for a leak.
const child = spawn(process.execPath, [fileURLToPath(new URL('./fixtures/http-server-child.mjs', import.meta.url))],
  { stdio: ['pipe', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
  child.once('exit', (code) => reject(new Error(`test server exited with ${code}`)));
});
const base = `http://127.0.0.1:${port}`;
guardFds();
after(async () => {
  child.stdin.end();
  await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
});

test('requests run concurrently; callbacks and results in order; a timeout fails only its own', () => {
  const calls = [];
  const batch = new HttpBatch({ timeout: 5000 });
  batch
    .add(`${base}/ok`, (err, res) => calls.push(['ok', err, res]))
    .add({ url: `${base}/slow?ms=6000`, timeout: 300 }, (err, res) => calls.push(['slow', err, res]))
    .add(`${base}/json`, (err, res) => calls.push(['json', err, res]))
    .add(`${base}/chunked`, (err, res) => calls.push(['chunked', err, res]))
    .add({ url: `${base}/echo`, method: 'POST', body: 'posted' }, (err, res) => calls.push(['echo', err, res]))
    .add(`${base}/big?n=3000000`);
  assert.equal(batch.size, 6);
  const t0 = Date.now();
  const results = batch.run();
  const took = Date.now() - t0;
  assert.ok(took < 4500, `took ${took} ms: the slow request (6 s) must not hold the others`);
  assert.equal(results.length, 6);
  assert.equal(results[0].text(), 'ok');
  assert.ok(results[1] instanceof TimeoutError);
  assert.deepEqual(results[2].json(), { hello: 'world', path: '/json' });
  assert.equal(results[3].text(), 'a'.repeat(1000) + 'b'.repeat(1000));
  assert.equal(results[4].text(), 'posted');
  assert.equal(results[5].body.length, 3000000);
  assert.equal(calls.length, 5);
  const byName = Object.fromEntries(calls.map(([n, e, r]) => [n, { e, r }]));
  assert.equal(byName.ok.e, null);
  assert.ok(byName.ok.r instanceof HttpResponse);
  assert.ok(byName.slow.e instanceof TimeoutError);
  assert.equal(byName.slow.r, undefined);
  assert.equal(calls.at(-1)[0], 'slow', 'the timed-out request finishes last');
});

test('refused, invalid and resolved-by-name requests', async () => {
  const port = await closedPort();
  const errs = [];
  const batch = new HttpBatch();
  batch.add(`http://127.0.0.1:${port}/`, (e) => errs.push(e));
  batch.add('https://127.0.0.1/', (e) => errs.push(e));
  batch.add(base.replace('127.0.0.1', 'localhost') + '/ok');
  const [refused, https, named] = batch.run();
  assert.ok(refused instanceof ConnectionRefusedError);
  assert.ok(https instanceof TypeError);
  assert.match(https.message, /https: is not supported by HttpBatch .*use HttpClient/);
  assert.equal(named.text(), 'ok');
  assert.equal(errs.length, 2);
});

test('a throwing callback does not stop the others; its error is rethrown at the end', () => {
  const seen = [];
  const batch = new HttpBatch();
  batch.add(`${base}/ok`, () => { throw new Error('boom'); });
  batch.add(`${base}/slow?ms=100`, (e, r) => seen.push(r.text()));
  assert.throws(() => batch.run(), /boom/);
  assert.deepEqual(seen, ['slow']);
});

test('a batch runs once; an empty batch returns at once', () => {
  const empty = new HttpBatch();
  assert.deepEqual(empty.run(), []);
  assert.throws(() => empty.run(), /already run/);
  assert.throws(() => empty.add(`${base}/ok`), /already run/);
  assert.throws(() => new HttpBatch({ timeout: -1 }), RangeError);
});

test('opening a connection to a bad address leaves no socket open (both clients use openConnect)', async () => {
  // Regression: HttpBatch closed nothing when starting the connect threw after the
  // socket was made, and stopped at the first address whose socket could not be made.
  const { openConnect } = await import('../dist/http/io.js');
  const { fdCount } = await import('./helpers/fds.mjs');
  const before = fdCount();
  assert.throws(() => openConnect(2 /* AF_INET */, 'bad\0host', 80), TypeError);
  assert.equal(fdCount(), before);
  const [sock, r] = openConnect(2, '127.0.0.1', port);
  try {
    assert.ok(r === 0 || r < 0, `0 or -errno, got ${r}`);
    assert.equal(sock.getblocking(), false);
  } finally {
    sock.close();
  }
});

const connsOf = (results) => new Set(results.map((r) => r.headers['x-conn']));

test('requests to one origin share keep-alive connections, at most maxConnectionsPerOrigin', () => {
  // Regression: every request had a connection of its own, all open at once.
  const two = new HttpBatch({ maxConnectionsPerOrigin: 2 });
  for (let i = 0; i < 10; i++) two.add(`${base}/slow?ms=20`);
  const results = two.run();
  for (const r of results) assert.equal(r.text(), 'slow');
  assert.equal(connsOf(results).size, 2, 'two connections, each reused');
  assert.deepEqual(results.map((r) => Number(r.headers['x-served'])).sort((a, b) => a - b), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  const dflt = new HttpBatch();
  for (let i = 0; i < 20; i++) dflt.add(`${base}/slow?ms=20`);
  assert.equal(connsOf(dflt.run()).size, 6, 'the default limit is 6 per origin');
  // Sequential requests on one connection: the queue waits for it rather than opening more.
  const one = new HttpBatch({ maxConnectionsPerOrigin: 1 });
  for (let i = 0; i < 5; i++) one.add(`${base}/ok`);
  one.add({ url: `${base}/echo`, method: 'POST', body: 'on the same one' });
  const seq = one.run();
  assert.equal(connsOf(seq).size, 1);
  assert.equal(seq[5].text(), 'on the same one');
  assert.throws(() => new HttpBatch({ maxConnectionsPerOrigin: 0 }), RangeError);
  assert.throws(() => new HttpBatch({ maxConnectionsPerOrigin: '2' }), { name: 'TypeError', message: /maxConnectionsPerOrigin must be an integer, got "2"$/ });
  assert.throws(() => new HttpBatch(5), { name: 'TypeError', message: /HttpBatch options must be an object like \{ timeout, maxConnectionsPerOrigin, maxResponseSize \}, got 5$/ });
});

test('a stale keep-alive connection: an idempotent request is retried once on a fresh one, a POST fails', () => {
  // The server answers each connection's first request and drops the connection at the next.
  const batch = new HttpBatch({ maxConnectionsPerOrigin: 1 });
  batch.add(`${base}/stale`).add(`${base}/stale`).add({ url: `${base}/stale`, method: 'PUT', body: 'x' });
  const results = batch.run();
  for (const r of results) assert.equal(r.text(), 'stale');
  assert.equal(connsOf(results).size, 3, 'each retried on a fresh connection');
  const post = new HttpBatch({ maxConnectionsPerOrigin: 1 });
  post.add(`${base}/stale`).add({ url: `${base}/stale`, method: 'POST', body: 'x' });
  const [first, second] = post.run();
  assert.equal(first.text(), 'stale');
  assert.ok(second instanceof ConnectionResetError, `got ${second}`);
});

test('a timeout covers time spent waiting for a connection', () => {
  const batch = new HttpBatch({ maxConnectionsPerOrigin: 1 });
  batch.add(`${base}/slow?ms=600`).add({ url: `${base}/ok`, timeout: 200 });
  const t0 = Date.now();
  const [slow, queued] = batch.run();
  assert.equal(slow.text(), 'slow');
  assert.ok(queued instanceof TimeoutError, `got ${queued}`);
  assert.ok(Date.now() - t0 < 3000);
});

test('maxResponseSize bounds each response of a batch (and per request)', () => {
  const [big, ok, own] = new HttpBatch({ maxResponseSize: 1000, timeout: 5000 })
    .add(`${base}/big?n=3000`).add(`${base}/big?n=1000`).add({ url: `${base}/big?n=3000`, maxResponseSize: 3000 }).run();
  assert.ok(big instanceof ResponseTooLargeError, String(big));
  assert.match(big.message, /3000 bytes \(Content-Length\) exceeds maxResponseSize 1000/);
  assert.equal(ok.body.length, 1000);
  assert.equal(own.body.length, 3000);
});
