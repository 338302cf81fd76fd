// HTTPS: node:tls over a Duplex on the iomux socket, against a local Node https server
// with certificates made by openssl at test time: verification on by default (wrong CA,
// wrong name refused with TlsError naming the origin), ca / rejectUnauthorized /
// servername (SNI) options, ALPN http/1.1, keep-alive, bodies both ways, redirects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import net from 'node:net';
import { HttpClient, HttpBatch, TlsError } from 'iomux';
import { makeCerts } from './fixtures/http-certs.mjs';
import { guardFds } from './helpers/fds.mjs';

guardFds();

let certs;
let other;
before(() => {
  certs = makeCerts('iomux test CA', [
    { cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' },
    { cn: 'other.test', san: 'DNS:other.test' },
  ]);
  other = makeCerts('another CA', [{ cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }]);
});

/** A Node https server on 127.0.0.1: SNI picks other.test's certificate; it records what it saw. */
async function httpsServer(t, handler, { cert = certs.servers[0] } = {}) {
  const seen = [];
  const srv = https.createServer({
    ...cert, ALPNProtocols: ['http/1.1'],
    SNICallback: (name, cb) => cb(null, tls.createSecureContext(name === 'other.test' ? certs.servers[1] : cert)),
  }, (req, res) => {
    seen.push({ servername: req.socket.servername, alpn: req.socket.alpnProtocol, url: req.url, method: req.method });
    handler(req, res);
  });
  let connections = 0;
  const sockets = new Set();
  srv.on('secureConnection', (s) => { connections++; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  t.after(() => new Promise((r) => { for (const s of sockets) s.destroy(); srv.close(r); }));
  return { port, seen, sockets, get connections() { return connections; }, url: (p = '/', host = '127.0.0.1') => `https://${host}:${port}${p}` };
}

const client = (t, opts) => {
  const c = new HttpClient(opts);
  t.after(() => c.close());
  return c;
};

const hello = (req, res) => {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => res.end(`hello ${req.method} ${Buffer.concat(parts).length}`));
};

test('with the CA: requests succeed by IP address and by name, ALPN http/1.1, keep-alive', async (t) => {
  const srv = await httpsServer(t, hello);
  const c = client(t, { ca: certs.ca });
  const a = await c.request(srv.url('/a'));
  assert.equal(a.status, 200);
  assert.equal(a.text(), 'hello GET 0');
  assert.equal((await c.request(srv.url('/b'))).text(), 'hello GET 0');
  assert.equal(srv.connections, 1, 'a keep-alive TLS connection');
  assert.equal(srv.seen[0].alpn, 'http/1.1');
  assert.equal(srv.seen[0].servername, false, 'no SNI for an IP address');
  const byName = await c.request(srv.url('/n', 'localhost'));
  assert.equal(byName.text(), 'hello GET 0');
  assert.equal(srv.seen.at(-1).servername, 'localhost', 'SNI: the URL host name');
});

test('bodies both ways over TLS: a POST, a streamed request body, a streamed 4 MiB response', async (t) => {
  const big = Buffer.alloc(4 * 1024 * 1024, 'z');
  const srv = await httpsServer(t, (req, res) => (req.url === '/big' ? res.end(big) : hello(req, res)));
  const c = client(t, { ca: certs.ca });
  assert.equal((await c.request({ url: srv.url('/p'), method: 'POST', body: 'x'.repeat(100000) })).text(), 'hello POST 100000');
  async function* gen() { for (let i = 0; i < 64; i++) yield Buffer.alloc(16384, i); }
  assert.equal((await c.request({ url: srv.url('/s'), method: 'PUT', body: gen() })).text(), 'hello PUT 1048576');
  const s = await c.stream(srv.url('/big'));
  let n = 0;
  for await (const chunk of s.body) n += chunk.length;
  assert.equal(n, big.length);
  assert.equal((await c.request(srv.url('/big'))).body.equals(big), true);
});

test('verification is on by default: an unknown CA fails with TlsError naming the origin', async (t) => {
  const srv = await httpsServer(t, hello);
  const c = client(t);
  await assert.rejects(c.request(srv.url('/')), (e) => {
    assert.ok(e instanceof TlsError, String(e));
    assert.equal(e.name, 'TlsError');
    assert.match(e.code, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    assert.match(e.message, new RegExp(`TLS connection to https://127\\.0\\.0\\.1:${srv.port} failed: `));
    assert.ok(e.cause instanceof Error);
    return true;
  });
  // Another CA's certificate is no better.
  await assert.rejects(client(t, { ca: other.ca }).request(srv.url('/')), TlsError);
  // rejectUnauthorized: false turns verification off.
  assert.equal((await client(t, { rejectUnauthorized: false }).request(srv.url('/'))).text(), 'hello GET 0');
  assert.equal(srv.seen.length, 1);
});

test('a certificate for another name fails; servername sends SNI and checks that name instead', async (t) => {
  const srv = await httpsServer(t, hello, { cert: certs.servers[1] }); // other.test only
  await assert.rejects(client(t, { ca: certs.ca }).request(srv.url('/')), (e) => {
    assert.ok(e instanceof TlsError);
    assert.equal(e.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    assert.match(e.message, /127\.0\.0\.1/);
    return true;
  });
  const sni = client(t, { ca: certs.ca, servername: 'other.test' });
  assert.equal((await sni.request(srv.url('/'))).text(), 'hello GET 0');
  assert.equal(srv.seen.at(-1).servername, 'other.test');
  // A server that picks its certificate by SNI: the name decides which one is checked.
  const multi = await httpsServer(t, hello);
  assert.equal((await sni.request(multi.url('/'))).text(), 'hello GET 0');
  assert.equal(multi.seen.at(-1).servername, 'other.test');
  await assert.rejects(client(t, { ca: certs.ca, servername: 'wrong.test' }).request(multi.url('/')), { name: 'TlsError', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
});

test('redirects within https and from http to https; HttpBatch refuses https with a clear TypeError; options are checked', async (t) => {
  const srv = await httpsServer(t, (req, res) => {
    if (req.url === '/go') { res.writeHead(302, { location: '/there' }); return res.end(); }
    hello(req, res);
  });
  const c = client(t, { ca: certs.ca, maxRedirections: 2 });
  const r = await c.request(srv.url('/go'));
  assert.equal(r.text(), 'hello GET 0');
  assert.equal(r.url, srv.url('/there'));
  // From a plain http server to the https one: another origin, followed over TLS.
  const http = await import('node:http');
  const plain = http.createServer((req, res) => { res.writeHead(301, { location: srv.url('/secure') }); res.end(); });
  await new Promise((ok) => plain.listen(0, '127.0.0.1', ok));
  t.after(() => new Promise((ok) => { plain.closeAllConnections(); plain.close(ok); }));
  const up = await c.request({ url: `http://127.0.0.1:${plain.address().port}/`, headers: { authorization: 'Bearer x' } });
  assert.equal(up.url, srv.url('/secure'));
  assert.equal(up.text(), 'hello GET 0');
  const [res] = new HttpBatch().add(srv.url('/')).run();
  assert.ok(res instanceof TypeError);
  assert.match(res.message, /https: is not supported by HttpBatch/);
  assert.throws(() => new HttpClient({ ca: 5 }), { name: 'TypeError', message: /ca must be/ });
  assert.throws(() => new HttpClient({ rejectUnauthorized: 'no' }), { name: 'TypeError', message: /rejectUnauthorized must be a boolean/ });
  assert.throws(() => new HttpClient({ servername: '' }), { name: 'TypeError', message: /servername/ });
});

test('a server that is not TLS: a clear error naming the origin', async (t) => {
  const plain = net.createServer((s) => {
    s.on('error', () => {});
    s.resume(); // reads, so that it sees the client's close
    s.end('HTTP/1.1 200 OK\r\n\r\n');
  });
  await new Promise((r) => plain.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => plain.close(r)));
  const c = client(t, { ca: certs.ca, timeout: 5000 });
  await assert.rejects(c.request(`https://127.0.0.1:${plain.address().port}/`), (e) => {
    assert.ok(e instanceof TlsError || e.name === 'ConnectionResetError', String(e));
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${plain.address().port}`));
    return true;
  });
});

test('an idle TLS connection the server closes is dropped; a handshake that never ends times out', async (t) => {
  const srv = await httpsServer(t, hello);
  const c = client(t, { ca: certs.ca, timeout: 300 });
  assert.equal((await c.request(srv.url('/1'))).text(), 'hello GET 0');
  for (const s of [...srv.sockets]) s.destroy(); // the server drops its idle connection
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await c.request(srv.url('/2'))).text(), 'hello GET 0');
  assert.equal(srv.connections, 2);
  const silent = net.createServer((s) => s.on('error', () => {}).resume()); // accepts, never answers
  await new Promise((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { silent.close(r); for (const s of silentSockets) s.destroy(); }));
  const silentSockets = new Set();
  silent.on('connection', (s) => silentSockets.add(s));
  await assert.rejects(c.request(`https://127.0.0.1:${silent.address().port}/`), { name: 'TimeoutError' });
});

test('a streamed body over TLS: reading stops while the consumer is behind, then every byte arrives', async (t) => {
  const total = 64 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 3);
  let written = 0;
  const srv = await httpsServer(t, (req, res) => {
    res.writeHead(200, { 'content-length': total });
    const pump = () => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  const c = client(t, { ca: certs.ca, timeout: 0 });
  const res = await c.stream(srv.url('/big'));
  await new Promise((r) => setTimeout(r, 400));
  const stalled = written;
  t.diagnostic(`the server wrote ${(stalled / 2 ** 20).toFixed(1)} MiB of 64 while nobody read`);
  assert.ok(stalled < 40 * 1024 * 1024, `the server wrote ${stalled} bytes while nobody read`);
  let got = 0;
  for await (const b of res.body) got += b.length;
  assert.equal(got, total);
});
