// Redirects, opt-in with maxRedirections: which are followed, the method and body rules
// (303 and a POST's 301/302 become a GET without body; 307/308 resend), credentials kept
// only within one origin, the limit; and the retry of requests a closing server left
// unanswered (idempotent methods only, never a streamed body).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient } from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { server, raw, ownClient } from './helpers/http.mjs';

guardFds();

/** A Node server: /to?status=N&loc=URL redirects; anything else echoes what it received. */
async function redirector(t) {
  const seen = [];
  const srv = await server(t, async (req, res) => {
    const parts = [];
    for await (const b of req) parts.push(b);
    const body = Buffer.concat(parts).toString();
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/to') {
      res.writeHead(Number(u.searchParams.get('status')), { location: u.searchParams.get('loc') });
      return res.end('moved');
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, body, ct: req.headers['content-type'] ?? null,
      auth: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null }));
  });
  srv.seen = seen;
  return srv;
}

const to = (status, loc) => `/to?status=${status}&loc=${encodeURIComponent(loc)}`;

test('redirects are not followed by default: the 3xx is the response', async (t) => {
  const srv = await redirector(t);
  const c = ownClient(t);
  assert.equal(c.maxRedirections, 0);
  const res = await c.request(srv.url(to(302, '/final')));
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, '/final');
  assert.equal(res.text(), 'moved');
});

test('maxRedirections: a chain is followed (relative and absolute Locations); res.url is the last URL', async (t) => {
  const srv = await redirector(t);
  const c = ownClient(t, { maxRedirections: 5 });
  const res = await c.request(srv.url(to(301, to(302, srv.url(to(307, '/final?x=1'))))));
  assert.equal(res.status, 200);
  assert.equal(res.json().url, '/final?x=1');
  assert.equal(res.url, srv.url('/final?x=1'));
  assert.equal(srv.connections, 1, 'same origin: one keep-alive connection');
  // Streamed responses follow too; the 3xx bodies are read and dropped.
  const s = await c.stream(srv.url(to(308, '/streamed')));
  assert.equal(JSON.parse(await s.text()).url, '/streamed');
});

test('the limit: at most maxRedirections followed, then the last 3xx is returned; per request too', async (t) => {
  const srv = await redirector(t);
  const c = ownClient(t, { maxRedirections: 1 });
  const chain = srv.url(to(302, to(302, '/final')));
  const res = await c.request(chain);
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, '/final');
  assert.equal((await c.request({ url: chain, maxRedirections: 2 })).status, 200);
  assert.equal((await c.request({ url: chain, maxRedirections: 0 })).status, 302);
  await assert.rejects(c.request({ url: chain, maxRedirections: -1 }), RangeError);
  await assert.rejects(c.request({ url: chain, maxRedirections: 1.5 }), RangeError);
  assert.throws(() => new HttpClient({ maxRedirections: 'x' }), TypeError);
});

test('methods and bodies: 303 and a POST\'s 301/302 become a GET without body; 307/308 resend method and body', async (t) => {
  const srv = await redirector(t);
  const c = ownClient(t, { maxRedirections: 1 });
  const post = (status, method = 'POST') => c.request({ url: srv.url(to(status, '/final')), method, body: 'data', headers: { 'content-type': 'text/plain' } });
  for (const status of [301, 302, 303]) {
    assert.deepEqual((await post(status)).json(), { method: 'GET', url: '/final', body: '', ct: null, auth: null, cookie: null }, String(status));
  }
  for (const status of [307, 308]) {
    assert.deepEqual((await post(status)).json(), { method: 'POST', url: '/final', body: 'data', ct: 'text/plain', auth: null, cookie: null }, String(status));
  }
  // A PUT keeps its method on 301/302; any method but HEAD becomes a GET on 303.
  assert.equal((await post(302, 'PUT')).json().method, 'PUT');
  assert.equal((await post(303, 'DELETE')).json().method, 'GET');
  const head = await c.request({ url: srv.url(to(303, '/final')), method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(srv.seen.at(-1).method, 'HEAD');
});

test('a 307/308 that would resend a streamed body, a Location the client cannot follow: the 3xx is returned', async (t) => {
  const srv = await redirector(t);
  const c = ownClient(t, { maxRedirections: 3 });
  async function* body() { yield 'once'; }
  const res = await c.request({ url: srv.url(to(307, '/final')), method: 'POST', body: body() });
  assert.equal(res.status, 307);
  // A 303 drops the body anyway: followed.
  assert.equal((await c.request({ url: srv.url(to(303, '/final')), method: 'POST', body: body() })).status, 200);
  for (const loc of ['ftp://example.com/x', 'https://[::1', '']) {
    const r = await c.request(srv.url(to(302, loc)));
    assert.equal(r.status, 302, loc);
  }
  const nol = await raw(t, (sock) => sock.write('HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n'));
  assert.equal((await c.request(nol.url('/'))).status, 301);
});

test('credentials: Authorization, Cookie and URL credentials go on within the origin, never to another', async (t) => {
  const a = await redirector(t);
  const b = await redirector(t);
  const c = ownClient(t, { maxRedirections: 2 });
  const headers = { authorization: 'Bearer secret', cookie: 'sid=1', 'x-other': 'kept' };
  const same = await c.request({ url: a.url(to(302, '/final')), headers });
  assert.equal(same.json().auth, 'Bearer secret');
  assert.equal(same.json().cookie, 'sid=1');
  const cross = await c.request({ url: a.url(to(302, b.url('/final'))), headers });
  assert.equal(cross.json().auth, null);
  assert.equal(cross.json().cookie, null);
  assert.equal(b.seen.at(-1).headers['x-other'], 'kept');
  // Another port is another origin; so is another host name for the same address.
  const other = await c.request({ url: a.url(to(302, b.url('/final').replace('127.0.0.1', 'localhost'))), headers });
  assert.equal(other.json().auth, null);
  // user:pass in the first URL: sent to its origin after a redirect, not to another.
  const withCreds = a.url(to(302, '/final')).replace('http://', 'http://user:pw@');
  assert.equal((await c.request(withCreds)).json().auth, `Basic ${Buffer.from('user:pw').toString('base64')}`);
  const crossCreds = a.url(to(302, b.url('/final'))).replace('http://', 'http://user:pw@');
  assert.equal((await c.request(crossCreds)).json().auth, null);
});

test('a request the server left unanswered as it closed is retried once: idempotent methods only, never a streamed body', async (t) => {
  // Each connection answers its first request only, then closes when the next arrives.
  const srv = await raw(t, (sock, head, { n }) => {
    if (n === 0) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    else sock.destroy();
  });
  const c = ownClient(t);
  assert.equal((await c.request(srv.url('/'))).text(), 'ok');
  for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) {
    const r = await c.request({ url: srv.url('/'), method, body: method === 'PUT' ? 'x' : undefined });
    assert.equal(r.status, 200, method);
  }
  for (const method of ['POST', 'PATCH']) {
    await assert.rejects(c.request({ url: srv.url('/'), method, body: 'x' }), { name: 'ConnectionResetError' }, method);
    assert.equal((await c.request(srv.url('/'))).text(), 'ok'); // a fresh connection for the next test
  }
  async function* body() { yield 'x'; }
  await assert.rejects(c.request({ url: srv.url('/'), method: 'PUT', body: body() }), (e) => e.code === 'ECONNRESET' || e.code === 'EPIPE');
});
