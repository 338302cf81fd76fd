// Streamed response bodies (HttpClient#stream: read as they arrive, with backpressure),
// the maxResponseSize bound on buffered ones, and request bodies from async iterables
// (sent chunked, or with a given Content-Length).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HttpClient, HttpStreamResponse, ResponseTooLargeError } from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { server, raw, ownClient } from './helpers/http.mjs';

guardFds();

const tick = (ms) => new Promise((r) => setTimeout(r, ms));

test('stream(): the head resolves before the body has arrived, and the body comes as it arrives', async (t) => {
  let next;
  const srv = await server(t, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
    res.write('first ');
    next = () => {
      res.addTrailers({ 'x-sum': '42' });
      res.end('second');
    };
  });
  const c = ownClient(t);
  const res = await c.stream(srv.url('/s'));
  assert.ok(res instanceof HttpStreamResponse);
  assert.equal(res.status, 200);
  assert.equal(res.ok, true);
  assert.equal(res.headers['content-type'], 'text/plain');
  const it = res.body[Symbol.asyncIterator]();
  assert.equal(String((await it.next()).value), 'first ');
  next();
  let rest = '';
  for (let r = await it.next(); !r.done; r = await it.next()) rest += r.value;
  assert.equal(rest, 'second');
  assert.deepEqual({ ...res.trailers }, { 'x-sum': '42' });
  // Read to its end, the connection went back to the pool.
  const again = await c.stream(srv.url('/s2'));
  setImmediate(() => next());
  assert.equal(await again.text(), 'first second');
  assert.equal(srv.connections, 1);
});

test('stream(): HEAD, 204 and an empty body end at once; a 1xx is skipped', async (t) => {
  const srv = await raw(t, (sock, head) => {
    if (head.startsWith('HEAD')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
    else if (head.includes('/204')) sock.write('HTTP/1.1 204 No Content\r\n\r\n');
    else sock.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const c = ownClient(t);
  for (const [url, method, status] of [[srv.url('/'), 'HEAD', 200], [srv.url('/204'), 'GET', 204], [srv.url('/'), 'GET', 200]]) {
    const res = await c.stream({ url, method });
    assert.equal(res.status, status);
    assert.equal((await res.buffer()).length, 0);
  }
  assert.equal(srv.connections, 1);
});

test('stream(): the connection stops reading while the consumer is behind (backpressure), then delivers every byte', async (t) => {
  const total = 256 * 1024 * 1024;
  let written = 0;
  let ended = false;
  const chunk = Buffer.alloc(64 * 1024, 7);
  const srv = await server(t, (req, res) => {
    res.writeHead(200, { 'content-length': total });
    const pump = () => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      ended = true;
      res.end();
    };
    pump();
  });
  const c = ownClient(t, { timeout: 0 });
  const res = await c.stream(srv.url('/big'));
  await tick(400);
  // Socket buffers on both sides plus the stream's 64 KiB: far from the 256 MiB body.
  const stalled = written;
  assert.ok(stalled < 48 * 1024 * 1024, `the server wrote ${stalled} bytes while nobody read`);
  await tick(200);
  assert.equal(written, stalled, 'the server could still write: the client kept reading');
  assert.equal(ended, false);
  let got = 0;
  for await (const b of res.body) got += b.length;
  assert.equal(got, total);
});

test('stream(): destroying the body early closes its connection; the next request gets a new one', async (t) => {
  const srv = await server(t, (req, res) => {
    if (req.url === '/small') return res.end('ok');
    res.writeHead(200);
    const iv = setInterval(() => res.write('x'.repeat(1000)), 5);
    res.on('close', () => clearInterval(iv));
  });
  const c = ownClient(t);
  const res = await c.stream(srv.url('/endless'));
  for await (const b of res.body) {
    assert.ok(b.length > 0);
    break; // destroys the stream
  }
  assert.equal((await c.request(srv.url('/small'))).text(), 'ok');
  assert.equal(srv.connections, 2);
});

test('stream(): the timeout covers the head; a failure after it errors the body; close() ends it', async (t) => {
  const srv = await raw(t, (sock, head) => {
    if (head.includes('/slow')) return; // never answers
    if (head.includes('/cut')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..');
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf');
  });
  const c = ownClient(t, { timeout: 200 });
  await assert.rejects(c.stream(srv.url('/slow')), { name: 'TimeoutError' });
  const cut = await c.stream(srv.url('/cut'));
  await assert.rejects(cut.buffer(), { name: 'ConnectionResetError', message: /before the response was complete/ });
  const open = await c.stream(srv.url('/open'));
  await tick(250); // past the timeout: the body is the consumer's now
  const reading = open.buffer();
  c.close();
  await assert.rejects(reading, { name: 'ClosedError' });
});

test('stream(): a body that ends while the consumer is behind leaves its connection reading for the next request', async (t) => {
  // 64 KiB: the last piece fills the stream's buffer, so reading pauses just as the body ends.
  const body = 'b'.repeat(64 * 1024);
  const srv = await raw(t, (sock) => sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
  const c = ownClient(t, { timeout: 3000 });
  const res = await c.stream(srv.url('/1'));
  await tick(50);
  assert.equal((await res.text()).length, body.length);
  assert.equal((await c.request(srv.url('/2'))).body.length, body.length);
  assert.equal(srv.connections, 1);
});

test('stream(): an aborted signal fails the body with its reason and closes the connection', async (t) => {
  const srv = await raw(t, (sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf'));
  const c = ownClient(t);
  const ac = new AbortController();
  const res = await c.stream({ url: srv.url('/'), signal: ac.signal });
  const reading = res.buffer();
  ac.abort(new Error('stop it'));
  await assert.rejects(reading, { message: 'stop it' });
  await tick(20);
  // Its connection is gone: the next request opens another one.
  const again = await c.stream(srv.url('/'));
  again.body.destroy();
  assert.equal(srv.connections, 2);
});

test('a 1 GiB streamed body: RSS stays bounded (measured in a child process)', { timeout: 180000 }, async (t) => {
  const GiB = 1024 * 1024 * 1024;
  const chunk = Buffer.alloc(256 * 1024, 97);
  const srv = await server(t, (req, res) => {
    res.writeHead(200, { 'content-length': GiB });
    let sent = 0;
    const pump = () => {
      while (sent < GiB) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const child = fileURLToPath(new URL('./fixtures/http-stream-child.mjs', import.meta.url));
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [child, srv.url('/gib')], { timeout: 170000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
  assert.equal(out.status, 200);
  assert.equal(out.bytes, GiB);
  const grew = out.max - out.base;
  t.diagnostic(`RSS ${Math.round(out.base / 2 ** 20)} MiB before, at most ${Math.round(out.max / 2 ** 20)} MiB while reading 1 GiB`);
  assert.ok(grew < 160 * 2 ** 20, `RSS grew by ${Math.round(grew / 2 ** 20)} MiB while streaming`);
});

test('maxResponseSize: a larger declared body fails at once; a larger chunked or until-close body fails when it passes the limit; the connection is closed', async (t) => {
  const closed = [];
  const srv = await raw(t, (sock, head, { conn }) => {
    sock.on('close', () => closed.push(conn));
    if (head.includes('/declared')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n'); // and no body yet
    else if (head.includes('/chunked')) sock.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${'a'.repeat(100)}\r\n64\r\n${'b'.repeat(100)}\r\n`);
    else if (head.includes('/eof')) sock.end(`HTTP/1.1 200 OK\r\n\r\n${'c'.repeat(300)}`);
    else sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 150\r\n\r\n${'d'.repeat(150)}`);
  });
  const c = ownClient(t, { maxResponseSize: 150 });
  assert.equal(c.maxResponseSize, 150);
  for (const path of ['/declared', '/chunked', '/eof']) {
    await assert.rejects(c.request(srv.url(path)), (e) => {
      assert.ok(e instanceof ResponseTooLargeError, `${path}: ${e}`);
      assert.equal(e.code, 'ERR_HTTP_RESPONSE_TOO_LARGE');
      assert.equal(e.limit, 150);
      assert.match(e.message, /exceeds maxResponseSize 150/);
      return true;
    });
  }
  assert.equal((await c.request(srv.url('/exact'))).body.length, 150);
  // Per request: a lower or a higher limit.
  await assert.rejects(c.request({ url: srv.url('/exact'), maxResponseSize: 149 }), ResponseTooLargeError);
  assert.equal((await c.request({ url: srv.url('/eof'), maxResponseSize: 1000 })).body.length, 300);
  // A streamed response is not bounded by it.
  assert.equal((await (await c.stream(srv.url('/eof'))).buffer()).length, 300);
  await tick(50);
  assert.ok(closed.includes(0) && closed.includes(1) && closed.includes(2), `closed: ${closed}`);
  assert.throws(() => new HttpClient({ maxResponseSize: -1 }), RangeError);
  assert.throws(() => new HttpClient({ maxResponseSize: 1.5 }), RangeError);
  await assert.rejects(c.request({ url: srv.url('/'), maxResponseSize: 'x' }), TypeError);
});

/** A Node server echoing each request's method, framing and body. */
async function echo(t) {
  return server(t, async (req, res) => {
    const parts = [];
    try {
      for await (const b of req) parts.push(b);
    } catch {
      return; // the client gave up on its request
    }
    res.end(JSON.stringify({
      method: req.method, te: req.headers['transfer-encoding'] ?? null, cl: req.headers['content-length'] ?? null,
      body: Buffer.concat(parts).toString(),
    }));
  });
}

test('request bodies: Buffer, string, async generator and Readable (chunked), or with a given Content-Length', async (t) => {
  const srv = await echo(t);
  const c = ownClient(t);
  async function* gen() {
    yield 'hello ';
    await tick(5);
    yield Buffer.from('streamed ');
    yield new Uint8Array([119, 111, 114, 108, 100]);
    yield '';
  }
  const cases = [
    [{ body: Buffer.from('buf') }, { te: null, cl: '3', body: 'buf' }],
    [{ body: 'héllo' }, { te: null, cl: '6', body: 'héllo' }],
    [{ body: gen() }, { te: 'chunked', cl: null, body: 'hello streamed world' }],
    [{ body: Readable.from(['a', 'b', 'c']) }, { te: 'chunked', cl: null, body: 'abc' }],
    [{ body: Readable.from([]) }, { te: 'chunked', cl: null, body: '' }],
    [{ body: gen(), headers: { 'content-length': '20' } }, { te: null, cl: '20', body: 'hello streamed world' }],
  ];
  for (const [opts, want] of cases) {
    const res = await c.request({ url: srv.url('/'), method: 'POST', ...opts });
    assert.deepEqual(res.json(), { method: 'POST', ...want });
  }
  // Large: more than the socket buffers hold, so the body is written as the server reads.
  const piece = Buffer.alloc(1024 * 1024, 120);
  async function* big() { for (let i = 0; i < 16; i++) yield piece; }
  const res = await c.request({ url: srv.url('/'), method: 'PUT', body: big(), timeout: 60000 });
  assert.equal(res.json().body.length, 16 * 1024 * 1024);
  assert.equal(srv.connections, 1);
});

test('request bodies: a source that fails, a wrong piece or a wrong length fails the request and closes the connection', async (t) => {
  const srv = await echo(t);
  const c = ownClient(t);
  async function* failing() { yield 'a'; throw new Error('source broke'); }
  await assert.rejects(c.request({ url: srv.url('/'), method: 'POST', body: failing() }), { message: 'source broke' });
  async function* wrong() { yield 42; }
  await assert.rejects(c.request({ url: srv.url('/'), method: 'POST', body: wrong() }), { name: 'TypeError', message: /body piece must be/ });
  async function* three() { yield 'abc'; }
  await assert.rejects(c.request({ url: srv.url('/'), method: 'POST', body: three(), headers: { 'content-length': 5 } }),
    { name: 'RangeError', message: /had 3 bytes but content-length is 5/ });
  await assert.rejects(c.request({ url: srv.url('/'), method: 'POST', body: three(), headers: { 'content-length': 2 } }),
    { name: 'RangeError', message: /more than the 2 bytes/ });
  await assert.rejects(c.request({ url: srv.url('/'), method: 'POST', body: three(), headers: { 'content-length': 'x' } }), TypeError);
  await assert.rejects(c.request({ url: srv.url('/'), method: 'POST', body: 42 }), { name: 'TypeError', message: /async iterable/ });
  // Nothing of that broke the client.
  assert.equal((await c.request({ url: srv.url('/'), method: 'POST', body: 'fine' })).json().body, 'fine');
});

test('request bodies: an abandoned request stops reading its source', async (t) => {
  const srv = await server(t, () => {}); // never reads nor answers
  const c = ownClient(t);
  let finished = false;
  async function* endless() {
    try {
      for (;;) { yield Buffer.alloc(64 * 1024); await tick(1); }
    } finally { finished = true; }
  }
  await assert.rejects(c.request({ url: srv.url('/'), method: 'POST', body: endless(), timeout: 300 }), { name: 'TimeoutError' });
  await tick(50);
  assert.equal(finished, true);
});
