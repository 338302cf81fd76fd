// Pipelining (`pipelining: N`): up to N idempotent requests written on one connection
// before their responses arrive, answered in order; non-idempotent requests and streamed
// bodies never share a connection; a failure fails the requests behind it with
// PipelineAbortedError; requests a closing server left unanswered go again once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient, HttpParseError, PipelineAbortedError } from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { server, raw, ownClient } from './helpers/http.mjs';

guardFds();

const tick = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A Node http server answering /<n>?ms=D after D ms with a body naming the request; it
 * records, per connection, how many requests it was handling at once at most.
 */
async function slowEcho(t) {
  const stats = { maxAtOnce: 0, postAlone: true };
  const srv = await server(t, (req, res) => {
    const sock = req.socket;
    sock.busy = (sock.busy ?? 0) + 1;
    sock.methods = [...(sock.methods ?? []), req.method];
    stats.maxAtOnce = Math.max(stats.maxAtOnce, sock.busy);
    if (req.method === 'POST' && sock.busy > 1) stats.postAlone = false;
    if (req.method !== 'POST' && sock.methods.slice(0, -1).some((m, i) => m === 'POST' && i >= sock.methods.length - sock.busy)) stats.postAlone = false;
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => {
      sock.busy--;
      res.end(`${req.method} ${req.url}`);
    }, ms);
  });
  srv.stats = stats;
  return srv;
}

test('pipelining 10 on one connection: requests are written before earlier responses, responses matched in order', async (t) => {
  const srv = await slowEcho(t);
  const c = ownClient(t, { pipelining: 10, maxConnectionsPerOrigin: 1 });
  assert.equal(c.pipelining, 10);
  // Random delays: the handlers finish out of order; the server still answers in order.
  const paths = Array.from({ length: 40 }, (_, i) => `/${i}?ms=${(i * 7) % 13}`);
  const t0 = Date.now();
  const res = await Promise.all(paths.map((p) => c.request(srv.url(p))));
  const took = Date.now() - t0;
  res.forEach((r, i) => assert.equal(r.text(), `GET ${paths[i]}`));
  assert.equal(srv.connections, 1);
  assert.ok(srv.stats.maxAtOnce > 1 && srv.stats.maxAtOnce <= 10, `at most ${srv.stats.maxAtOnce} at once on the connection`);
  t.diagnostic(`40 requests, up to ${srv.stats.maxAtOnce} in flight on one connection, ${took} ms`);
});

test('pipelining with several connections: each holds at most N; every body arrives whole and in its place', async (t) => {
  const srv = await server(t, (req, res) => {
    const n = Number(req.url.slice(1));
    res.end(Buffer.alloc(n * 997, String(n % 10))); // bodies of many sizes, some over a read buffer
  });
  const c = ownClient(t, { pipelining: 4, maxConnectionsPerOrigin: 3 });
  const res = await Promise.all(Array.from({ length: 60 }, (_, n) => c.request(srv.url(`/${n}`))));
  res.forEach((r, n) => {
    assert.equal(r.body.length, n * 997);
    assert.ok(r.body.every((b) => b === 48 + (n % 10)), `body of /${n}`);
  });
  assert.ok(srv.connections <= 3);
});

test('only idempotent requests are pipelined: a POST goes alone on its connection', async (t) => {
  const srv = await slowEcho(t);
  const c = ownClient(t, { pipelining: 8, maxConnectionsPerOrigin: 1 });
  const jobs = [];
  for (let i = 0; i < 12; i++) {
    jobs.push(i % 4 === 1 ? c.request({ url: srv.url(`/p${i}?ms=5`), method: 'POST', body: String(i) }) : c.request(srv.url(`/g${i}?ms=5`)));
  }
  const res = await Promise.all(jobs);
  res.forEach((r, i) => assert.equal(r.text(), i % 4 === 1 ? `POST /p${i}?ms=5` : `GET /g${i}?ms=5`));
  assert.equal(srv.stats.postAlone, true, 'a POST shared its connection with another request in flight');
  assert.ok(srv.stats.maxAtOnce > 1, 'the GETs were pipelined');
});

test('a failure fails the rest of that pipeline with PipelineAbortedError naming the cause', async (t) => {
  let heads = 0;
  const srv = await raw(t, (sock) => {
    // Once four requests are in, answer the first, then bytes that are no response.
    if (++heads === 4) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokSSH-2.0-x\r\n\r\n');
  });
  const c = ownClient(t, { pipelining: 4, maxConnectionsPerOrigin: 1 });
  const out = await Promise.allSettled([1, 2, 3, 4].map((i) => c.request(srv.url(`/${i}`))));
  assert.equal(out[0].value.text(), 'ok');
  assert.ok(out[1].reason instanceof HttpParseError, String(out[1].reason));
  for (const o of out.slice(2)) {
    assert.ok(o.reason instanceof PipelineAbortedError, String(o.reason));
    assert.equal(o.reason.code, 'ERR_HTTP_PIPELINE_ABORTED');
    assert.match(o.reason.message, /GET http:\/\/127\.0\.0\.1:\d+\/[34] was pipelined on a connection to 127\.0\.0\.1:\d+ that failed before its response: invalid status line/);
    assert.equal(o.reason.cause, out[1].reason);
  }
});

test('a response with Connection: close: the requests pipelined behind it go again once on a new connection', async (t) => {
  const srv = await raw(t, (sock, head, { conn, n }) => {
    if (conn === 0 && n === 0) sock.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfirst');
    else if (conn > 0) sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlater`);
  });
  const c = ownClient(t, { pipelining: 5, maxConnectionsPerOrigin: 1 });
  const res = await Promise.all([1, 2, 3].map((i) => c.request(srv.url(`/${i}`))));
  assert.deepEqual(res.map((r) => r.text()), ['first', 'later', 'later']);
  assert.equal(srv.connections, 2);
});

test('a timeout in the middle of a pipeline: the others still get their responses', async (t) => {
  const srv = await slowEcho(t);
  const c = ownClient(t, { pipelining: 5, maxConnectionsPerOrigin: 1 });
  const jobs = [c.request(srv.url('/a?ms=10')), c.request({ url: srv.url('/b?ms=400'), timeout: 100 }), c.request(srv.url('/c?ms=10'))];
  const out = await Promise.allSettled(jobs);
  assert.equal(out[0].value.text(), 'GET /a?ms=10');
  assert.equal(out[1].reason.name, 'TimeoutError');
  assert.equal(out[2].value.text(), 'GET /c?ms=10');
});

test('pipelining option: an integer >= 1; 1 writes one request at a time', async (t) => {
  assert.throws(() => new HttpClient({ pipelining: 0 }), RangeError);
  assert.throws(() => new HttpClient({ pipelining: 2.5 }), RangeError);
  assert.throws(() => new HttpClient({ pipelining: '2' }), TypeError);
  const srv = await slowEcho(t);
  const c = ownClient(t, { maxConnectionsPerOrigin: 1 });
  assert.equal(c.pipelining, 1);
  await Promise.all(Array.from({ length: 5 }, (_, i) => c.request(srv.url(`/${i}?ms=5`))));
  assert.equal(srv.stats.maxAtOnce, 1);
  await tick(0);
});
