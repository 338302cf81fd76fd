// HttpClient's API against Node's own http server (and a raw one where the exact bytes
// matter): options and their defaults, request() in both forms, HttpResponse, bodies,
// methods, keep-alive reuse, the per-origin limit and queue, timeouts, aborts, close(),
// IPv6 and names, process liveness, and the shipped type declarations.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as iomux from 'iomux';
import { HttpClient, HttpResponse, TimeoutError, ConnectionRefusedError, ClosedError, OSError, Reactor } from 'iomux';
import { startHttp, closedPort } from './fixtures/http-servers.mjs';
import { guardFds } from './helpers/fds.mjs';
import { server, raw, ownClient, viaCallback } from './helpers/http.mjs';

guardFds();

const sha = (b) => createHash('sha256').update(b).digest('hex');

/** A client and a server that are both closed after the test. */
async function setup(t, handler, clientOpts = {}, serverOpts = {}) {
  const srv = await startHttp(handler, serverOpts);
  const client = new HttpClient(clientOpts);
  t.after(async () => { client.close(); await srv.close(); });
  return { srv, client };
}

function readBody(req) {
  return new Promise((resolve) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts)));
  });
}

test('GET: status, reason, lower-case headers, body, text(), json()', async (t) => {
  const { srv, client } = await setup(t, (req, res) => {
    res.setHeader('X-Custom', 'Yes');
    res.setHeader('Content-Type', 'application/json');
    res.writeHead(201, 'Made It');
    res.end(JSON.stringify({ path: req.url, method: req.method, host: req.headers.host }));
  });
  const res = await client.request(srv.url('/a/b?c=d'));
  assert.ok(res instanceof HttpResponse);
  assert.equal(res.status, 201);
  assert.equal(res.statusText, 'Made It');
  assert.equal(res.headers['x-custom'], 'Yes');
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(Object.getPrototypeOf(res.headers), Object.prototype);
  assert.ok(Buffer.isBuffer(res.body));
  assert.deepEqual(res.json(), { path: '/a/b?c=d', method: 'GET', host: `127.0.0.1:${srv.port}` });
  assert.equal(res.text(), res.body.toString());
});

test('a 404 or 500 is a response, not an error', async (t) => {
  const { srv, client } = await setup(t, (req, res) => { res.statusCode = req.url === '/a' ? 404 : 500; res.end('no'); });
  assert.equal((await client.request(srv.url('/a'))).status, 404);
  assert.equal((await client.request(srv.url('/b'))).status, 500);
});

test('repeated response fields are joined with ", "', async (t) => {
  const { srv, client } = await setup(t, (req, res) => {
    res.setHeader('X-Multi', ['one', 'two']);
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.end();
  });
  const res = await client.request(srv.url());
  assert.equal(res.headers['x-multi'], 'one, two');
  assert.equal(res.headers['set-cookie'], 'a=1, b=2');
});

test('request bodies from Buffer and string set Content-Length; POST without body sends 0', async (t) => {
  const seen = [];
  const { srv, client } = await setup(t, async (req, res) => {
    const body = await readBody(req);
    seen.push({ method: req.method, cl: req.headers['content-length'], te: req.headers['transfer-encoding'], body });
    res.end(body);
  });
  const a = await client.request({ url: srv.url(), method: 'POST', body: Buffer.from('bytes!') });
  assert.equal(a.text(), 'bytes!');
  const b = await client.request({ url: srv.url(), method: 'put', body: 'héllo' });
  assert.equal(b.text(), 'héllo');
  const c = await client.request({ url: srv.url(), method: 'POST' });
  assert.equal(c.body.length, 0);
  const d = await client.request({ url: srv.url(), method: 'PATCH', body: new Uint8Array([1, 2, 3]) });
  assert.deepEqual([...d.body], [1, 2, 3]);
  assert.deepEqual(seen.map((s) => [s.method, s.cl, s.te]), [
    ['POST', '6', undefined], ['PUT', String(Buffer.byteLength('héllo')), undefined], ['POST', '0', undefined],
    ['PATCH', '3', undefined]]);
});

test('request headers: object, arrays, Map, Host override', async (t) => {
  let got;
  const { srv, client } = await setup(t, (req, res) => { got = req.headersDistinct; res.end(); });
  await client.request({ url: srv.url(), headers: { 'X-One': '1', 'X-Num': 42, 'X-Arr': ['a', 'b'], 'X-Skip': undefined } });
  assert.deepEqual(got['x-one'], ['1']);
  assert.deepEqual(got['x-num'], ['42']);
  assert.deepEqual(got['x-arr'], ['a', 'b']);
  assert.equal(got['x-skip'], undefined);
  assert.deepEqual(got.host, [`127.0.0.1:${srv.port}`]);
  await client.request({ url: srv.url(), headers: new Map([['Host', 'example.test'], ['x-m', 'v']]) });
  assert.deepEqual(got.host, ['example.test']);
  assert.deepEqual(got['x-m'], ['v']);
});

test('invalid requests reject with TypeError naming the problem (and fail nothing else)', async (t) => {
  const { srv, client } = await setup(t, (req, res) => res.end('fine'));
  await assert.rejects(client.request('ftp://127.0.0.1/'), { name: 'TypeError', message: /expected http: or https:/ });
  await assert.rejects(client.request('not a url'), { name: 'TypeError', message: /invalid URL/ });
  // Regression: malformed percent-encoding in the credentials was a bare URIError.
  await assert.rejects(client.request('http://a%zz@127.0.0.1:1/'),
    { name: 'TypeError', message: /percent-encoding in the URL's user name "a%zz" \(for 127\.0\.0\.1:1\)/ });
  await assert.rejects(client.request('http://a:s%zzret@127.0.0.1:1/'),
    (e) => e instanceof TypeError && /URL's password \(for/.test(e.message) && !e.message.includes('zzret'));
  // Regression: the URL parser silently strips tab, CR and LF, so these went out as
  // another URL (a request for /ab, a Host of 127.0.0.1).
  for (const [url, shown] of [[`${srv.url('/a')}\r\nb`, '\\r\\n'], [`${srv.url('/a')}\tb`, '\\t'],
    [`http://127.0.0.\n1:${srv.port}/`, '\\n']]) {
    await assert.rejects(client.request(url), (e) => e instanceof TypeError
      && /URL contains a tab, CR or LF/.test(e.message) && e.message.includes(shown), `${JSON.stringify(url)}`);
    await assert.rejects(client.request({ url }), TypeError);
  }
  await assert.rejects(client.request({ url: srv.url(), headers: { 'X-Bad': 'a\r\nInjected: 1' } }), { name: 'TypeError', message: /X-Bad/ });
  await assert.rejects(client.request({ url: srv.url(), headers: { 'Bad Name': 'x' } }), { name: 'TypeError', message: /header name/ });
  await assert.rejects(client.request({ url: srv.url(), method: 'GE T' }), { name: 'TypeError', message: /method/ });
  await assert.rejects(client.request({ url: srv.url(), body: 'abc', headers: { 'content-length': '5' } }), /body has 3 bytes/);
  await assert.rejects(client.request({ url: srv.url(), body: 42 }), { name: 'TypeError' });
  await assert.rejects(client.request({ url: srv.url(), timeout: -1 }), { name: 'RangeError' });
  // The package's one timeout rule: beyond the longest timer (about 24.8 days) is an error, not no timeout.
  await assert.rejects(client.request({ url: srv.url(), timeout: 2 ** 31 }), { name: 'RangeError', message: /timeout must be from 0 to 2147483647/ });
  await assert.rejects(client.request({ url: srv.url(), timeout: '5' }), { name: 'TypeError', message: /timeout must be a number of milliseconds or null, got "5"/ });
  await assert.rejects(client.request({ url: srv.url(), signal: {} }), { name: 'TypeError', message: /signal must be an AbortSignal, got Object/ });
  assert.equal((await client.request(srv.url())).text(), 'fine');
  assert.throws(() => new HttpClient({ maxConnectionsPerOrigin: 0 }), RangeError);
  assert.throws(() => new HttpClient({ timeout: -5 }), RangeError);
  assert.throws(() => new HttpClient({ reactor: {} }), { name: 'TypeError', message: /iomux Reactor, got Object$/ });
  assert.throws(() => new HttpClient(5), { name: 'TypeError', message: /HttpClient options must be an object like \{ reactor, maxConnectionsPerOrigin, timeout, maxResponseSize, maxRedirections, pipelining, ca, rejectUnauthorized, servername \}, got 5$/ });
  assert.throws(() => client.request(srv.url(), 'cb'), { name: 'TypeError', message: /callback must be a function, got "cb"$/ });
});

test('chunked response with trailers', async (t) => {
  const { srv, client } = await setup(t, (req, res) => {
    res.writeHead(200, { 'Transfer-Encoding': 'chunked', Trailer: 'X-Checksum' });
    res.write('first,');
    setTimeout(() => {
      res.write('second,');
      res.addTrailers({ 'X-Checksum': 'abc' });
      res.end('third');
    }, 20);
  });
  const res = await client.request(srv.url());
  assert.equal(res.text(), 'first,second,third');
  assert.equal(res.headers['transfer-encoding'], 'chunked');
  assert.deepEqual(res.trailers, { 'x-checksum': 'abc' });
});

test('large bodies both ways, checked by SHA-256 (Content-Length and chunked)', async (t) => {
  const big = randomBytes(8 * 1024 * 1024 + 13);
  const { srv, client } = await setup(t, async (req, res) => {
    if (req.url === '/cl') return res.end(big);
    if (req.url === '/chunked') {
      for (let off = 0; off < big.length; off += 100000) res.write(big.subarray(off, off + 100000));
      return res.end();
    }
    const body = await readBody(req);
    res.end(sha(body));
  });
  const [a, b, c] = await Promise.all([
    client.request(srv.url('/cl')), client.request(srv.url('/chunked')),
    client.request({ url: srv.url('/upload'), method: 'POST', body: big }),
  ]);
  assert.equal(a.body.length, big.length);
  assert.equal(sha(a.body), sha(big));
  assert.equal(b.headers['transfer-encoding'], 'chunked');
  assert.equal(sha(b.body), sha(big));
  assert.equal(c.text(), sha(big));
});

test('keep-alive: sequential requests reuse one connection', async (t) => {
  const { srv, client } = await setup(t, (req, res) => res.end(req.url));
  for (let i = 0; i < 20; i++) assert.equal((await client.request(srv.url(`/${i}`))).text(), `/${i}`);
  assert.equal(srv.connections, 1);
});

test('300 concurrent requests go over at most 6 connections (the rest queue)', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  const { srv, client } = await setup(t, (req, res) => {
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    setImmediate(() => { inFlight--; res.end(req.url); });
  });
  const all = await Promise.all(Array.from({ length: 300 }, (_, i) => client.request(srv.url(`/${i}`))));
  all.forEach((r, i) => assert.equal(r.text(), `/${i}`));
  assert.equal(srv.connections, 6);
  assert.equal(srv.maxOpen, 6);
  assert.ok(maxInFlight <= 6, `at most 6 requests at the server at once, saw ${maxInFlight}`);
});

test('maxConnectionsPerOrigin is honoured, and per origin', async (t) => {
  const { srv, client } = await setup(t, (req, res) => setTimeout(() => res.end('x'), 5), { maxConnectionsPerOrigin: 2 });
  const srv2 = await startHttp((req, res) => setTimeout(() => res.end('y'), 5));
  t.after(() => srv2.close());
  await Promise.all([
    ...Array.from({ length: 20 }, () => client.request(srv.url())),
    ...Array.from({ length: 20 }, () => client.request(srv2.url())),
  ]);
  assert.equal(srv.connections, 2);
  assert.equal(srv2.connections, 2);
});

test('HEAD, 204 and 304 have no body and keep the connection usable', async (t) => {
  const { srv, client } = await setup(t, (req, res) => {
    if (req.url === '/204') { res.statusCode = 204; return res.end(); }
    if (req.url === '/304') { res.statusCode = 304; return res.end(); }
    res.setHeader('Content-Length', '11');
    res.end(req.method === 'HEAD' ? undefined : 'hello world');
  });
  const head = await client.request({ url: srv.url('/'), method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], '11');
  assert.equal(head.body.length, 0);
  assert.equal((await client.request(srv.url('/204'))).status, 204);
  assert.equal((await client.request(srv.url('/304'))).body.length, 0);
  assert.equal((await client.request(srv.url('/'))).text(), 'hello world');
  assert.equal(srv.connections, 1);
});

test('100 Continue and 103 Early Hints are skipped', async (t) => {
  const { srv, client } = await setup(t, (req, res) => {
    res.writeContinue();
    res.writeEarlyHints({ link: '</style.css>; rel=preload' });
    res.end('final');
  });
  const res = await client.request(srv.url());
  assert.equal(res.status, 200);
  assert.equal(res.text(), 'final');
});

test('timeout fails only its own request, with iomux TimeoutError', async (t) => {
  const { srv, client } = await setup(t, (req, res) => {
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 3000).unref();
    res.end('fast');
  });
  const t0 = Date.now();
  const slow = client.request({ url: srv.url('/slow'), timeout: 150 });
  const fast = Array.from({ length: 10 }, () => client.request(srv.url('/fast')));
  await assert.rejects(slow, (e) => {
    assert.ok(e instanceof TimeoutError);
    assert.ok(e instanceof OSError);
    assert.equal(e.errno, 110);
    assert.equal(e.code, 'ETIMEDOUT');
    assert.match(e.message, /timed out after 150 ms/);
    return true;
  });
  const took = Date.now() - t0;
  assert.ok(took >= 140 && took < 2500, `timed out after ${took} ms`);
  for (const r of await Promise.all(fast)) assert.equal(r.text(), 'fast');
  // The timed-out connection was discarded; the client still works.
  assert.equal((await client.request(srv.url('/fast'))).text(), 'fast');
});

test('the client-wide timeout applies when a request has none', async (t) => {
  const { srv, client } = await setup(t, (req, res) => setTimeout(() => res.end('late'), 3000).unref(), { timeout: 100 });
  await assert.rejects(client.request(srv.url()), TimeoutError);
});

test('a timeout covers time spent queued', async (t) => {
  const { srv, client } = await setup(t, (req, res) => setTimeout(() => res.end('x'), 400).unref(),
    { maxConnectionsPerOrigin: 1 });
  const first = client.request(srv.url('/1'));
  const queued = client.request({ url: srv.url('/2'), timeout: 100 });
  await assert.rejects(queued, TimeoutError);
  assert.equal((await first).text(), 'x');
});

test('abort: the signal reason, before or during the request; others unaffected', async (t) => {
  const { srv, client } = await setup(t, (req, res) => {
    if (req.url === '/hang') return setTimeout(() => res.end('late'), 3000).unref();
    res.end('ok');
  });
  const ac = new AbortController();
  const p = client.request({ url: srv.url('/hang'), signal: ac.signal });
  const other = client.request(srv.url('/ok'));
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (e) => e instanceof DOMException && e.name === 'AbortError');
  assert.equal((await other).text(), 'ok');
  const reason = new Error('my reason');
  const ac2 = new AbortController();
  const p2 = client.request({ url: srv.url('/hang'), signal: ac2.signal });
  ac2.abort(reason);
  await assert.rejects(p2, (e) => e === reason);
  await assert.rejects(client.request({ url: srv.url('/ok'), signal: AbortSignal.abort('pre') }), (e) => e === 'pre');
  assert.equal((await client.request(srv.url('/ok'))).text(), 'ok');
});

test('refused connection: ConnectionRefusedError', async (t) => {
  const port = await closedPort();
  const client = new HttpClient();
  t.after(() => client.close());
  await assert.rejects(client.request(`http://127.0.0.1:${port}/`), (e) => {
    assert.ok(e instanceof ConnectionRefusedError);
    assert.ok(e instanceof OSError);
    assert.equal(e.errno, 111);
    assert.equal(e.code, 'ECONNREFUSED');
    return true;
  });
  // Many at once: each fails on its own.
  const all = await Promise.allSettled(Array.from({ length: 20 }, () => client.request(`http://127.0.0.1:${port}/`)));
  for (const r of all) assert.ok(r.reason instanceof ConnectionRefusedError);
});

test('callback form: (err, res), called asynchronously', async (t) => {
  const { srv, client } = await setup(t, (req, res) => res.end('cb'));
  let sync = true;
  const res = await new Promise((resolve, reject) => {
    const r = client.request(srv.url(), (err, resp) => (err ? reject(err) : resolve(resp)));
    assert.equal(r, undefined);
    sync = false;
  });
  assert.equal(sync, false);
  assert.equal(res.text(), 'cb');
  const port = await closedPort();
  const err = await new Promise((resolve) => client.request(`http://127.0.0.1:${port}/`, (e, r) => {
    assert.equal(r, undefined);
    resolve(e);
  }));
  assert.ok(err instanceof ConnectionRefusedError);
  const err2 = await new Promise((resolve) => client.request('ftp://x/', (e) => resolve(e)));
  assert.ok(err2 instanceof TypeError);
});

test('close() rejects in-flight and queued requests with ClosedError', async (t) => {
  const srv = await startHttp((req, res) => setTimeout(() => res.end('late'), 2000).unref());
  t.after(() => srv.close());
  const client = new HttpClient({ maxConnectionsPerOrigin: 2 });
  const ps = Array.from({ length: 5 }, () => client.request(srv.url()));
  await new Promise((r) => setTimeout(r, 100));
  client.close();
  const all = await Promise.allSettled(ps);
  for (const r of all) {
    assert.equal(r.status, 'rejected');
    assert.ok(r.reason instanceof ClosedError);
    assert.equal(r.reason.code, 'ERR_CLOSED');
  }
  await assert.rejects(client.request(srv.url()), ClosedError);
  client.close(); // idempotent
  assert.equal(client.closed, true);
});

test('IPv6 literal URL', async (t) => {
  const { srv, client } = await setup(t, (req, res) => res.end(req.headers.host), {}, { host: '::1' });
  const res = await client.request(`http://[::1]:${srv.port}/`);
  assert.equal(res.text(), `[::1]:${srv.port}`);
});

test('host names go through the resolver', async (t) => {
  const { srv, client } = await setup(t, (req, res) => res.end(req.headers.host));
  const res = await client.request(`http://localhost:${srv.port}/`);
  assert.equal(res.text(), `localhost:${srv.port}`);
  await assert.rejects(client.request('http://no-such-host.invalid/'), (e) => e instanceof OSError && /EAI_/.test(e.code));
});

test('on a given Reactor; the Reactor stays open after close()', async (t) => {
  const reactor = new Reactor();
  const srv = await startHttp((req, res) => res.end('r'));
  t.after(async () => { reactor.close(); await srv.close(); });
  const client = new HttpClient({ reactor });
  assert.equal((await client.request(srv.url())).text(), 'r');
  client.close();
  await reactor.readable(0, { timeout: 10 }).catch(() => {}); // still usable
});

/**
 * Runs fixtures/http-exit-child.mjs against `url` and waits for it to exit by itself
 * (killed after 10 s if it does not); resolves with its exit code and stdout.
 */
async function runExitChild(url, ...args) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [new URL('./fixtures/http-exit-child.mjs', import.meta.url).pathname, url, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const killer = setTimeout(() => child.kill(), 10000);
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  return { code, out };
}

test('the process stays alive while a request is in flight, and exits with only idle connections', async (t) => {
  const srv = await startHttp((req, res) => setTimeout(() => res.end('slow'), 300));
  t.after(() => srv.close());
  const { code, out } = await runExitChild(srv.url());
  assert.equal(code, 0, 'the child exits on its own (not killed)');
  assert.equal(out, '200 slow\n');
});

test('a request with a fake AbortSignal is a TypeError and leaves nothing keeping the process alive', async (t) => {
  // Regression: the listener was added after the request was counted in flight, so the
  // throw left the count at 1 for good and the client's Reactor referenced forever.
  const srv = await startHttp((req, res) => res.end('ok'));
  t.after(() => srv.close());
  const client = new HttpClient();
  t.after(() => client.close());
  await assert.rejects(client.request({ url: srv.url(), signal: { aborted: false } }),
    (e) => e instanceof TypeError && /signal must be an AbortSignal, got Object/.test(e.message));
  const { code, out } = await runExitChild(srv.url(), 'bad-signal');
  assert.equal(out, 'TypeError\n200 ok\n');
  assert.equal(code, 0, 'the child exits on its own (not killed)');
});

test('closing a given Reactor before the client does not break client.close()', async (t) => {
  const reactor = new Reactor();
  const srv = await startHttp((req, res) => res.end('r'));
  t.after(() => srv.close());
  const client = new HttpClient({ reactor });
  assert.equal((await client.request(srv.url())).text(), 'r');
  reactor.close();
  client.close();
});

describe('new HttpClient(options)', () => {
  test('exported from the root; new HttpClient() takes no arguments', async (t) => {
    assert.equal(typeof HttpClient, 'function');
    const c = ownClient(t);
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
    const c = ownClient(t);
    const paths = Array.from({ length: 15 }, (_, i) => `/${i}`);
    const res = await Promise.all(paths.map((p) => c.request(srv.url(p))));
    assert.deepEqual(res.map((r) => r.text()), paths);
    assert.equal(srv.maxOpen, 6);
    assert.equal(srv.connections, 6, 'connections are kept alive and reused');
  });

  test('maxConnectionsPerOrigin is per origin; queued requests run as connections free up', async (t) => {
    const a = await server(t, (req, res) => setTimeout(() => res.end('a'), 20));
    const b = await server(t, (req, res) => setTimeout(() => res.end('b'), 20));
    const c = ownClient(t, { maxConnectionsPerOrigin: 2 });
    const all = [];
    for (let i = 0; i < 6; i++) all.push(c.request(a.url()), c.request(b.url()));
    const res = await Promise.all(all);
    assert.equal(res.filter((r) => r.text() === 'a').length, 6);
    assert.equal(a.maxOpen, 2);
    assert.equal(b.maxOpen, 2);
  });

  test('timeout defaults to 30000 ms: a slow (but not that slow) response succeeds', async (t) => {
    const srv = await server(t, (req, res) => setTimeout(() => res.end('late'), 300));
    const c = ownClient(t);
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
    const c = ownClient(t);
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
    const c = ownClient(t);
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
    const c = ownClient(t);
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
    const c = ownClient(t);
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
    const c = ownClient(t, { timeout: 50 });
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
    const c = ownClient(t);
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
    const c = ownClient(t);
    const res = await c.request(srv.url());
    assert.equal(res.headers['set-cookie'], 'a=1, b=2; Path=/');
    assert.equal(res.headers['x-rep'], 'one, two');
  });

  test('json() on a body that is not JSON throws SyntaxError', async (t) => {
    const srv = await server(t, (req, res) => res.end('not json'));
    const c = ownClient(t);
    const res = await c.request(srv.url());
    assert.throws(() => res.json(), SyntaxError);
  });
});

describe('errors', () => {
  test('abort → the signal\'s reason (AbortError by default; a custom reason as is; already aborted)', async (t) => {
    const srv = await server(t, (req, res) => setTimeout(() => res.end('late'), 500));
    const c = ownClient(t);
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
    for (const name of ['HttpClient', 'HttpResponse', 'HttpStreamResponse', 'HttpParseError', 'ResponseTooLargeError', 'PipelineAbortedError',
      'HttpClientOptions', 'ClientRequestOptions', 'RequestOptions', 'RequestCallback', 'BodyStream']) {
      assert.match(idx, new RegExp(`\\b${name}\\b`));
    }
    const cl = readFileSync(new URL('../dist/http/client.d.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(code(cl), /\bany\b/);
    assert.match(cl, /request\(input: string \| URL \| ClientRequestOptions\): Promise<HttpResponse>/);
    assert.match(cl, /request\(input: string \| URL \| ClientRequestOptions, callback: RequestCallback\): void/);
    assert.match(cl, /stream\(input: string \| URL \| ClientRequestOptions\): Promise<HttpStreamResponse>/);
    assert.match(cl, /interface ClientRequestOptions extends RequestOptions/);
  });
});
