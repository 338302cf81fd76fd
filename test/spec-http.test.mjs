// SPEC "HTTP/1.1 client: HttpClient", sentence by sentence, against Node's http server
// and raw TCP servers on loopback.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as iomux from 'iomux';
import { startHttp, startRaw, closedPort } from './fixtures/http-servers.mjs';
import { guardFds } from './helpers/fds.mjs';

const {
  HttpClient, HttpResponse, HttpParseError, Reactor, ClosedError, TimeoutError, OSError,
  ConnectionRefusedError, ConnectionResetError,
} = iomux;

guardFds();

async function server(t, handler, opts) {
  const srv = await startHttp(handler, opts);
  t.after(() => srv.close());
  return srv;
}

async function raw(t, onRequest) {
  const srv = await startRaw(onRequest);
  t.after(() => srv.close());
  return srv;
}

function client(t, opts) {
  const c = opts === undefined ? new HttpClient() : new HttpClient(opts);
  t.after(() => c.close());
  return c;
}

/** Calls `c.request(...args, cb)` and resolves with the callback's arguments. */
function viaCallback(c, ...args) {
  return new Promise((resolve) => {
    const ret = c.request(...args, (...cbArgs) => resolve({ ret, cbArgs }));
  });
}

describe('new HttpClient(options)', () => {
  test('exported from the root; new HttpClient() takes no arguments', async (t) => {
    assert.equal(typeof HttpClient, 'function');
    const c = client(t);
    assert.equal(c.maxConnectionsPerOrigin, 6);
    assert.equal(c.timeout, 30000);
    const c2 = new HttpClient({ maxConnectionsPerOrigin: 3, timeout: 1500 });
    assert.equal(c2.maxConnectionsPerOrigin, 3);
    assert.equal(c2.timeout, 1500);
    c2.close();
    const srv = await server(t, (req, res) => res.end('ok'));
    assert.equal((await c.request(srv.url())).text(), 'ok');
  });

  test('maxConnectionsPerOrigin defaults to 6: more concurrent requests queue', async (t) => {
    const srv = await server(t, (req, res) => setTimeout(() => res.end(req.url), 30));
    const c = client(t);
    const paths = Array.from({ length: 15 }, (_, i) => `/${i}`);
    const res = await Promise.all(paths.map((p) => c.request(srv.url(p))));
    assert.deepEqual(res.map((r) => r.text()), paths);
    assert.equal(srv.maxOpen, 6);
    assert.equal(srv.connections, 6, 'connections are kept alive and reused');
  });

  test('maxConnectionsPerOrigin is per origin; queued requests run as connections free up', async (t) => {
    const a = await server(t, (req, res) => setTimeout(() => res.end('a'), 20));
    const b = await server(t, (req, res) => setTimeout(() => res.end('b'), 20));
    const c = client(t, { maxConnectionsPerOrigin: 2 });
    const all = [];
    for (let i = 0; i < 6; i++) all.push(c.request(a.url()), c.request(b.url()));
    const res = await Promise.all(all);
    assert.equal(res.filter((r) => r.text() === 'a').length, 6);
    assert.equal(a.maxOpen, 2);
    assert.equal(b.maxOpen, 2);
  });

  test('timeout defaults to 30000 ms: a slow (but not that slow) response succeeds', async (t) => {
    const srv = await server(t, (req, res) => setTimeout(() => res.end('late'), 300));
    const c = client(t);
    assert.equal((await c.request(srv.url())).text(), 'late');
  });

  test('bad options: TypeError for a wrong type, RangeError for a bad number', () => {
    assert.throws(() => new HttpClient({ maxConnectionsPerOrigin: 0 }), RangeError);
    assert.throws(() => new HttpClient({ maxConnectionsPerOrigin: -1 }), RangeError);
    assert.throws(() => new HttpClient({ maxConnectionsPerOrigin: 1.5 }), RangeError);
    assert.throws(() => new HttpClient({ maxConnectionsPerOrigin: NaN }), RangeError);
    assert.throws(() => new HttpClient({ maxConnectionsPerOrigin: '6' }), TypeError);
    assert.throws(() => new HttpClient({ timeout: -1 }), RangeError);
    assert.throws(() => new HttpClient({ timeout: NaN }), RangeError);
    assert.throws(() => new HttpClient({ timeout: '100' }), TypeError);
    assert.throws(() => new HttpClient({ reactor: {} }), TypeError);
    new HttpClient({}).close();
    new HttpClient(undefined).close();
  });

  test('reactor: runs on the given Reactor, which close() leaves open', async (t) => {
    const r = new Reactor();
    t.after(() => r.close());
    const srv = await server(t, (req, res) => res.end('on mine'));
    const c = new HttpClient({ reactor: r });
    const p = c.request(srv.url());
    await sleep(0);
    assert.ok(r.selector.getMap().size >= 1, 'the request uses the given reactor');
    assert.equal((await p).text(), 'on mine');
    c.close();
    assert.equal(r.closed, false);
    const [a, b] = iomux.os.pipe();
    try {
      iomux.os.write(b, 'x');
      await r.readable(a, { timeout: 5000 });
    } finally {
      iomux.os.close(a);
      iomux.os.close(b);
    }
  });
});

describe('request()', () => {
  test('request(url) → Promise<HttpResponse>; a URL object works too', async (t) => {
    const srv = await server(t, (req, res) => res.end(`${req.method} ${req.url}`));
    const c = client(t);
    const p = c.request(srv.url('/x?y=1'));
    assert.ok(p instanceof Promise);
    const res = await p;
    assert.ok(res instanceof HttpResponse);
    assert.equal(res.text(), 'GET /x?y=1');
    assert.equal((await c.request(new URL(srv.url('/u')))).text(), 'GET /u');
  });

  test('request({ url, method, headers, body }): method defaults to GET, headers to none', async (t) => {
    let seen;
    const srv = await server(t, (req, res) => {
      const parts = [];
      req.on('data', (d) => parts.push(d));
      req.on('end', () => {
        seen = { method: req.method, headers: req.headers, body: Buffer.concat(parts).toString() };
        res.end('done');
      });
    });
    const c = client(t);
    await c.request({ url: srv.url() });
    assert.equal(seen.method, 'GET');
    assert.equal(seen.headers.host, `127.0.0.1:${srv.port}`);
    await c.request({ url: srv.url(), method: 'POST', headers: { 'X-Test': 'yes' }, body: 'payload' });
    assert.equal(seen.method, 'POST');
    assert.equal(seen.headers['x-test'], 'yes');
    assert.equal(seen.headers['content-length'], '7');
    assert.equal(seen.body, 'payload');
    await c.request({ url: srv.url(), method: 'PUT', body: Buffer.from([0x61, 0x62]) });
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.body, 'ab');
  });

  test('request(url, callback) calls callback(null, res) once, asynchronously, and returns undefined', async (t) => {
    const srv = await server(t, (req, res) => res.end('cb'));
    const c = client(t);
    let sync = true;
    const done = viaCallback(c, srv.url());
    sync = false;
    const { ret, cbArgs } = await done;
    assert.equal(sync, false);
    assert.equal(ret, undefined);
    assert.equal(cbArgs[0], null);
    assert.ok(cbArgs[1] instanceof HttpResponse);
    assert.equal(cbArgs[1].text(), 'cb');
  });

  test('request(options, callback): errors arrive as callback(err)', async (t) => {
    const srv = await server(t, (req, res) => res.end('opts'));
    const c = client(t);
    const ok = await viaCallback(c, { url: srv.url(), method: 'GET' });
    assert.equal(ok.cbArgs[0], null);
    assert.equal(ok.cbArgs[1].text(), 'opts');
    const port = await closedPort();
    const bad = await viaCallback(c, { url: `http://127.0.0.1:${port}/` });
    assert.ok(bad.cbArgs[0] instanceof ConnectionRefusedError);
    assert.equal(bad.cbArgs[1], undefined);
    const invalid = await viaCallback(c, 'not a url');
    assert.ok(invalid.cbArgs[0] instanceof TypeError);
  });

  test('per-request timeout overrides the client\'s', async (t) => {
    const srv = await server(t, (req, res) => setTimeout(() => res.end('slow'), 200));
    const c = client(t, { timeout: 50 });
    await assert.rejects(c.request(srv.url()), TimeoutError);
    assert.equal((await c.request({ url: srv.url(), timeout: 5000 })).text(), 'slow');
  });
});

describe('HttpResponse', () => {
  test('status, statusText, headers (plain object, lower-case), body (Buffer), text(), json()', async (t) => {
    const srv = await server(t, (req, res) => {
      res.setHeader('X-Mixed-Case', 'Value');
      res.setHeader('Content-Type', 'application/json; charset=utf-8');
      res.writeHead(202, 'Accepted For Now');
      res.end(JSON.stringify({ héllo: [1, 2] }));
    });
    const c = client(t);
    const res = await c.request(srv.url());
    assert.equal(res.status, 202);
    assert.equal(res.statusText, 'Accepted For Now');
    assert.equal(Object.getPrototypeOf(res.headers), Object.prototype);
    assert.equal(res.headers['x-mixed-case'], 'Value');
    assert.equal(res.headers['X-Mixed-Case'], undefined);
    for (const k of Object.keys(res.headers)) assert.equal(k, k.toLowerCase());
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(Buffer.isBuffer(res.body));
    assert.equal(res.text(), '{"héllo":[1,2]}');
    assert.deepEqual(res.json(), { héllo: [1, 2] });
  });

  test('repeated fields are joined by ", " (set-cookie too)', async (t) => {
    const srv = await raw(t, (sock) => {
      sock.write('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Rep: one\r\nset-cookie: b=2; Path=/\r\nX-REP: two\r\n'
        + 'Content-Length: 0\r\n\r\n');
    });
    const c = client(t);
    const res = await c.request(srv.url());
    assert.equal(res.headers['set-cookie'], 'a=1, b=2; Path=/');
    assert.equal(res.headers['x-rep'], 'one, two');
  });

  test('json() on a body that is not JSON throws SyntaxError', async (t) => {
    const srv = await server(t, (req, res) => res.end('not json'));
    const c = client(t);
    const res = await c.request(srv.url());
    assert.throws(() => res.json(), SyntaxError);
  });
});

describe('bodies and connections', () => {
  test('Content-Length, chunked and connection-close bodies', async (t) => {
    const srv = await raw(t, (sock, head) => {
      const path = head.split(' ')[1];
      if (path === '/len') sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
      else if (path === '/chunked') sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      else sock.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end');
    });
    const c = client(t);
    assert.equal((await c.request(srv.url('/len'))).text(), 'hello');
    assert.equal((await c.request(srv.url('/chunked'))).text(), 'hello world');
    assert.equal((await c.request(srv.url('/close'))).text(), 'until the end');
  });

  test('HEAD, 204 and 304 have no body (even with a Content-Length), and the connection is reused', async (t) => {
    const srv = await raw(t, (sock, head) => {
      const path = head.split(' ')[1];
      if (head.startsWith('HEAD')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
      else if (path === '/204') sock.write('HTTP/1.1 204 No Content\r\n\r\n');
      else if (path === '/304') sock.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n');
      else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const c = client(t, { maxConnectionsPerOrigin: 1 });
    const h = await c.request({ url: srv.url(), method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.ok(Buffer.isBuffer(h.body));
    assert.equal(h.headers['content-length'], '100');
    assert.equal((await c.request(srv.url('/204'))).body.length, 0);
    assert.equal((await c.request(srv.url('/304'))).body.length, 0);
    assert.equal((await c.request(srv.url('/'))).text(), 'ok');
    assert.equal(srv.connections, 1);
  });

  test('keep-alive: sequential requests reuse one connection', async (t) => {
    const srv = await server(t, (req, res) => res.end('k'));
    const c = client(t);
    for (let i = 0; i < 5; i++) await c.request(srv.url());
    assert.equal(srv.connections, 1);
  });

  test('IPv6 literal URLs and host names through the resolver', async (t) => {
    let six;
    try {
      six = await server(t, (req, res) => res.end(`six ${req.headers.host}`), { host: '::1' });
    } catch {
      t.skip('no IPv6 loopback here');
      return;
    }
    const c = client(t);
    const res = await c.request(`http://[::1]:${six.port}/`);
    assert.equal(res.text(), `six [::1]:${six.port}`);
    const four = await server(t, (req, res) => res.end(`name ${req.headers.host}`));
    assert.equal((await c.request(`http://localhost:${four.port}/`)).text(), `name localhost:${four.port}`);
  });
});

describe('errors', () => {
  test('refused → ConnectionRefusedError (an OSError, errno ECONNREFUSED)', async (t) => {
    const port = await closedPort();
    const c = client(t);
    await assert.rejects(c.request(`http://127.0.0.1:${port}/`),
      (e) => e instanceof ConnectionRefusedError && e instanceof OSError && e.errno === 111 && e.code === 'ECONNREFUSED');
  });

  test('timeout (ms, whole request) → iomux TimeoutError (OSError, ETIMEDOUT)', async (t) => {
    const srv = await raw(t, (sock) => {
      // Head at once, body trickled: the whole request counts, not each read.
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
      let n = 0;
      const iv = setInterval(() => { if (sock.destroyed || ++n > 10) clearInterval(iv); else sock.write('x'); }, 30);
    });
    const c = client(t);
    const t0 = performance.now();
    const err = await c.request({ url: srv.url(), timeout: 120 }).then(() => null, (e) => e);
    const took = performance.now() - t0;
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(err instanceof OSError);
    assert.equal(err.errno, 110);
    assert.equal(err.code, 'ETIMEDOUT');
    assert.ok(took >= 115 && took < 5000, `timed out after ${took} ms`);
  });

  test('abort → the signal\'s reason (AbortError by default; a custom reason as is; already aborted)', async (t) => {
    const srv = await server(t, (req, res) => setTimeout(() => res.end('late'), 500));
    const c = client(t);
    const ac = new AbortController();
    const p = c.request({ url: srv.url(), signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(p, (e) => e === ac.signal.reason && e.name === 'AbortError');
    const reason = new Error('mine');
    const ac2 = new AbortController();
    const p2 = c.request({ url: srv.url(), signal: ac2.signal });
    setTimeout(() => ac2.abort(reason), 20);
    await assert.rejects(p2, (e) => e === reason);
    const pre = AbortSignal.abort();
    await assert.rejects(c.request({ url: srv.url(), signal: pre }), (e) => e === pre.reason);
  });

  test('a malformed response → HttpParseError (exported, code ERR_HTTP_PARSE)', async (t) => {
    const srv = await raw(t, (sock) => sock.end('HTTP/1.1 2OO OK\r\n\r\n'));
    const c = client(t);
    const err = await c.request(srv.url()).then(() => null, (e) => e);
    assert.ok(err instanceof HttpParseError, String(err));
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'ERR_HTTP_PARSE');
    assert.equal(err.name, 'HttpParseError');
    const srv2 = await raw(t, (sock) => sock.end('HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n'));
    await assert.rejects(c.request(srv2.url()), { code: 'ERR_HTTP_PARSE' });
  });

  test('a connection that closes mid-body → ConnectionResetError', async (t) => {
    const srv = await raw(t, (sock, head) => {
      if (head.includes('/chunked')) sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel');
      else sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part');
    });
    const c = client(t);
    await assert.rejects(c.request(srv.url('/len')), (e) => e instanceof ConnectionResetError && e.errno === 104);
    await assert.rejects(c.request(srv.url('/chunked')), ConnectionResetError);
  });

  test('a failure fails that request only', async (t) => {
    const srv = await raw(t, (sock, head) => {
      const path = head.split(' ')[1];
      if (path === '/bad') sock.end('garbage\r\n\r\n');
      else if (path === '/cut') sock.end('HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc');
      else if (path === '/slow') setTimeout(() => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow'), 300);
      else setTimeout(() => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood'), 30);
    });
    const c = client(t, { maxConnectionsPerOrigin: 2 });
    const results = await Promise.allSettled([
      c.request(srv.url('/good1')), c.request(srv.url('/bad')), c.request(srv.url('/good2')),
      c.request(srv.url('/cut')), c.request({ url: srv.url('/slow'), timeout: 50 }), c.request(srv.url('/good3')),
    ]);
    const shape = results.map((r) => (r.status === 'fulfilled' ? r.value.text() : r.reason.constructor.name));
    assert.deepEqual(shape, ['good', 'HttpParseError', 'good', 'ConnectionResetError', 'TimeoutError', 'good']);
  });
});

describe('close()', () => {
  test('rejects in-flight and queued requests with ClosedError', async (t) => {
    const srv = await server(t, (req, res) => setTimeout(() => res.end('never seen'), 2000));
    const c = new HttpClient({ maxConnectionsPerOrigin: 1 });
    const inflight = c.request(srv.url('/1'));
    const queued = c.request(srv.url('/2'));
    const cb = new Promise((resolve) => c.request(srv.url('/3'), (err, res) => resolve([err, res])));
    await sleep(50);
    c.close();
    for (const p of [inflight, queued]) {
      await assert.rejects(p, (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED');
    }
    const [err, res] = await cb;
    assert.ok(err instanceof ClosedError);
    assert.equal(res, undefined);
  });

  test('after close(): requests reject with ClosedError; close() is idempotent', async (t) => {
    const c = new HttpClient();
    c.close();
    c.close();
    await assert.rejects(c.request('http://127.0.0.1:1/'), ClosedError);
    const { cbArgs } = await viaCallback(c, 'http://127.0.0.1:1/');
    assert.ok(cbArgs[0] instanceof ClosedError);
    void t;
  });

  test('close() with idle keep-alive connections closes them (the server sees the end)', async (t) => {
    const srv = await server(t, (req, res) => res.end('x'));
    const c = new HttpClient();
    await c.request(srv.url());
    assert.equal(srv.state.open, 1);
    c.close();
    const end = performance.now() + 5000;
    while (srv.state.open !== 0 && performance.now() < end) await sleep(5);
    assert.equal(srv.state.open, 0);
  });
});

/** A .d.ts without its comments. */
const code = (dts) => dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

describe('types', () => {
  test('dist/index.d.ts: HttpClient, HttpResponse, HttpParseError and the option types, no any', () => {
    const idx = readFileSync(new URL('../dist/http/index.d.ts', import.meta.url), 'utf8');
    for (const name of ['HttpClient', 'HttpResponse', 'HttpParseError', 'HttpClientOptions', 'RequestOptions', 'RequestCallback']) {
      assert.match(idx, new RegExp(`\\b${name}\\b`));
    }
    const cl = readFileSync(new URL('../dist/http/client.d.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(code(cl), /\bany\b/);
    assert.match(cl, /request\(input: string \| URL \| RequestOptions\): Promise<HttpResponse>/);
    assert.match(cl, /request\(input: string \| URL \| RequestOptions, callback: RequestCallback\): void/);
    void net;
  });
});
