// HttpClient against raw TCP servers, exact bytes on the wire: every body framing, and
// servers that misbehave on purpose: early closes, resets, malformed responses, responses
// trickled byte by byte, extra bytes, stale keep-alive connections, a flood, a peer that
// is not an HTTP server. Each failure must fail its own request only, and a connection that
// produced an error must never be reused.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { HttpClient, HttpParseError, ConnectionResetError, TimeoutError, OSError } from 'iomux';
import { startRaw } from './fixtures/http-servers.mjs';
import { guardFds } from './helpers/fds.mjs';
import { raw, ownClient } from './helpers/http.mjs';

guardFds();

async function setup(t, onRequest, clientOpts = {}) {
  const srv = await startRaw(onRequest);
  const client = new HttpClient(clientOpts);
  t.after(async () => { client.close(); await srv.close(); });
  return { srv, client };
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

test('close in the middle of a Content-Length body: ConnectionResetError', async (t) => {
  const { srv, client } = await setup(t, (sock) => sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..'));
  await assert.rejects(client.request(srv.url()), (e) => {
    assert.ok(e instanceof ConnectionResetError);
    assert.equal(e.code, 'ECONNRESET');
    assert.match(e.message, /before the response was complete/);
    return true;
  });
});

test('close in the middle of a chunked body or of the head: ConnectionResetError', async (t) => {
  const { srv, client } = await setup(t, (sock, head) => {
    if (head.startsWith('GET /chunked')) sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    else sock.end('HTTP/1.1 200 OK\r\nContent-Le');
  });
  await assert.rejects(client.request(srv.url('/chunked')), ConnectionResetError);
  await assert.rejects(client.request(srv.url('/head')), ConnectionResetError);
});

test('close before any response on a fresh connection: ConnectionResetError, no retry', async (t) => {
  const { srv, client } = await setup(t, (sock) => sock.end());
  await assert.rejects(client.request(srv.url()), (e) => e instanceof ConnectionResetError && /before sending a response/.test(e.message));
  assert.equal(srv.connections, 1);
});

test('a TCP reset mid-response: ConnectionResetError', async (t) => {
  const { srv, client } = await setup(t, (sock) => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
    setTimeout(() => sock.resetAndDestroy(), 30);
  });
  await assert.rejects(client.request(srv.url()), ConnectionResetError);
});

test('a body delimited by connection close', async (t) => {
  const { srv, client } = await setup(t, (sock) => {
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ');
    setTimeout(() => sock.end('the end'), 20);
  });
  const res = await client.request(srv.url());
  assert.equal(res.text(), 'until the end');
  assert.equal((await client.request(srv.url())).text(), 'until the end');
  assert.equal(srv.connections, 2);
});

test('HTTP/1.0 responses: closed unless keep-alive is announced', async (t) => {
  const { srv, client } = await setup(t, (sock, head) => {
    if (head.startsWith('GET /ka')) sock.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nka');
    else sock.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nno');
  });
  assert.equal((await client.request(srv.url('/ka'))).text(), 'ka');
  assert.equal((await client.request(srv.url('/ka'))).text(), 'ka');
  assert.equal(srv.connections, 1);
  assert.equal((await client.request(srv.url('/no'))).text(), 'no');
  assert.equal((await client.request(srv.url('/ka'))).text(), 'ka');
  assert.equal(srv.connections, 2);
});

test('a response trickled one byte at a time, with interim 1xx', async (t) => {
  const text = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n'
    + '3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-T: t\r\n\r\n';
  const { srv, client } = await setup(t, (sock) => {
    let i = 0;
    const step = () => {
      if (i < text.length) { sock.write(text[i++]); setTimeout(step, 1); }
    };
    step();
  });
  const res = await client.request(srv.url());
  assert.equal(res.text(), 'abcde');
  assert.equal(res.headers['x-a'], 'b');
  assert.deepEqual(res.trailers, { 'x-t': 't' });
});

const MALFORMED = {
  'both Content-Length and Transfer-Encoding': 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'conflicting Content-Length': 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
  'invalid Content-Length': 'HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc',
  'invalid chunk size': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n0\r\n\r\n',
  'chunk size has more than 16 digits': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'0'.repeat(20)}3\r\nabc\r\n0\r\n\r\n`,
  'missing CRLF after chunk data': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n',
  'obsolete line folding': 'HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n',
  'invalid status line': 'HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n',
  'unsupported HTTP version': 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n',
  'invalid header field line': 'HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n',
  'larger than 65536 bytes': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70000)}\r\nContent-Length: 0\r\n\r\n`,
  'too many header fields': `HTTP/1.1 200 OK\r\n${'X-H: v\r\n'.repeat(500)}Content-Length: 0\r\n\r\n`,
  'unexpected 101': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n',
};

for (const [what, response] of Object.entries(MALFORMED)) {
  test(`malformed response (${what}): HttpParseError; that connection is not reused`, async (t) => {
    const { srv, client } = await setup(t, (sock, head) => sock.write(head.startsWith('GET /bad') ? response : OK));
    await assert.rejects(client.request(srv.url('/bad')), (e) => {
      assert.ok(e instanceof HttpParseError, `got ${e}`);
      assert.equal(e.code, 'ERR_HTTP_PARSE');
      assert.ok(e.message.includes(what), `${e.message} should mention ${what}`);
      return true;
    });
    assert.equal((await client.request(srv.url('/good'))).text(), 'ok');
    assert.equal(srv.connections, 2);
  });
}

test('a peer that is not an HTTP server: HttpParseError at once, whether it then closes or waits', async (t) => {
  const { srv, client } = await setup(t, (sock, head) => {
    if (head.startsWith('GET /close')) sock.end('SSH-2.0-OpenSSH_9.6\r\n');
    else sock.write('SSH-2.0-OpenSSH_9.6\r\n');
  });
  for (const path of ['/close', '/wait']) {
    const t0 = performance.now();
    await assert.rejects(client.request({ url: srv.url(path), timeout: 5000 }), (e) => {
      assert.ok(e instanceof HttpParseError, `${path}: got ${e}`);
      assert.match(e.message, /invalid status line "SSH-2.0-OpenSSH_9.6"/);
      return true;
    });
    const took = performance.now() - t0;
    assert.ok(took < 2000, `${path}: took ${Math.round(took)} ms`);
  }
});

test('a failure fails only its own request among concurrent ones', async (t) => {
  const { srv, client } = await setup(t, (sock, head) => {
    if (head.startsWith('GET /bad')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n');
    else if (head.startsWith('GET /cut')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab');
    else if (head.startsWith('GET /hang')) { /* never answers */ }
    else setTimeout(() => sock.write(OK), 5);
  });
  const good = Array.from({ length: 30 }, () => client.request(srv.url('/good')));
  // Each outcome is awaited from the start: under load the timeout can fire before the
  // other failures have arrived.
  const failures = [
    assert.rejects(client.request(srv.url('/bad')), HttpParseError),
    assert.rejects(client.request(srv.url('/cut')), ConnectionResetError),
    assert.rejects(client.request({ url: srv.url('/hang'), timeout: 100 }), TimeoutError),
  ];
  await Promise.all(failures);
  for (const r of await Promise.all(good)) assert.equal(r.text(), 'ok');
});

test('bytes after a complete response: response delivered, connection not reused', async (t) => {
  const { srv, client } = await setup(t, (sock) => sock.write(`${OK}GARBAGE`));
  assert.equal((await client.request(srv.url())).text(), 'ok');
  assert.equal((await client.request(srv.url())).text(), 'ok');
  assert.equal(srv.connections, 2);
});

test('stale keep-alive connection: an idempotent request is retried once on a fresh one', async (t) => {
  // Every connection answers its first request, then drops the next one unanswered
  // (a server that timed the connection out just as the request arrived).
  const { srv, client } = await setup(t, (sock, head, { n }) => {
    if (n === 0) sock.write(OK);
    else sock.destroy();
  });
  assert.equal((await client.request(srv.url('/1'))).text(), 'ok');
  assert.equal((await client.request(srv.url('/2'))).text(), 'ok');
  assert.equal(srv.connections, 2);
  assert.equal((await client.request({ url: srv.url('/3'), method: 'PUT', body: 'x' })).text(), 'ok');
  assert.equal(srv.connections, 3);
  // POST is not idempotent: it fails instead of being sent twice.
  await assert.rejects(client.request({ url: srv.url('/4'), method: 'POST', body: 'x' }), ConnectionResetError);
});

test('a retried request that fails again is not retried twice', async (t) => {
  const { srv, client } = await setup(t, (sock, head, { conn, n }) => {
    if (conn === 0 && n === 0) sock.write(OK);
    else sock.destroy();
  });
  assert.equal((await client.request(srv.url())).text(), 'ok');
  await assert.rejects(client.request(srv.url()), ConnectionResetError);
  assert.equal(srv.connections, 2);
});

test('an idle keep-alive connection closed by the server is replaced', async (t) => {
  const { srv, client } = await setup(t, (sock) => {
    sock.write(OK);
    setTimeout(() => sock.end(), 20);
  });
  assert.equal((await client.request(srv.url())).text(), 'ok');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal((await client.request(srv.url())).text(), 'ok');
  assert.equal(srv.connections, 2);
});

test('a server that never reads: the send blocks, the timeout still fires', async (t) => {
  const { srv, client } = await setup(t, () => {});
  srv.server.on('connection', (s) => s.pause());
  const body = Buffer.alloc(32 * 1024 * 1024);
  await assert.rejects(client.request({ url: srv.url(), method: 'POST', body, timeout: 300 }), TimeoutError);
});

test('an idle connection past the server\'s Keep-Alive timeout is not reused', async (t) => {
  const { srv, client } = await setup(t, (sock, head) => {
    const ka = head.startsWith('GET /short') ? 'timeout=1' : 'timeout=5, max=100';
    sock.write(`HTTP/1.1 200 OK\r\nKeep-Alive: ${ka}\r\nContent-Length: 2\r\n\r\nok`);
  });
  await client.request(srv.url('/long'));
  await client.request(srv.url('/short'));
  assert.equal(srv.connections, 1);
  // The server said 1 s; with a second of margin the connection is already too old.
  await client.request({ url: srv.url('/long'), method: 'POST', body: 'x' });
  assert.equal(srv.connections, 2);
});

/** Starts the flooding server child; stopped (and waited for) when the test ends. */
async function floodServer(t) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [new URL('./fixtures/http-flood-child.mjs', import.meta.url).pathname],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(async () => {
    child.stdin.end();
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`flood server exited with ${code}`)));
  });
  return `http://127.0.0.1:${port}/`;
}

test('a server that keeps the socket full does not starve timers: the interval keeps time, the timeout fires', async (t) => {
  const url = await floodServer(t);
  const client = new HttpClient();
  t.after(() => client.close());
  let last = performance.now();
  let worstGap = 0;
  const interval = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
  }, 20);
  t.after(() => clearInterval(interval));
  const t0 = performance.now();
  await assert.rejects(client.request({ url, timeout: 1000 }), TimeoutError);
  const took = performance.now() - t0;
  clearInterval(interval);
  assert.ok(took < 1800, `the 1000 ms timeout fired after ${Math.round(took)} ms`);
  assert.ok(worstGap < 400, `a 20 ms interval waited ${Math.round(worstGap)} ms`);
});

describe('bodies from a raw server', () => {
  test('Content-Length, chunked and connection-close bodies', async (t) => {
    const srv = await raw(t, (sock, head) => {
      const path = head.split(' ')[1];
      if (path === '/len') sock.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
      else if (path === '/chunked') sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
      else sock.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end');
    });
    const c = ownClient(t);
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
    const c = ownClient(t, { maxConnectionsPerOrigin: 1 });
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

});

describe('errors from a raw server', () => {
  test('timeout (ms, whole request) → iomux TimeoutError (OSError, ETIMEDOUT)', async (t) => {
    const srv = await raw(t, (sock) => {
      // Head at once, body trickled: the whole request counts, not each read.
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
      let n = 0;
      const iv = setInterval(() => { if (sock.destroyed || ++n > 10) clearInterval(iv); else sock.write('x'); }, 30);
    });
    const c = ownClient(t);
    const t0 = performance.now();
    const err = await c.request({ url: srv.url(), timeout: 120 }).then(() => null, (e) => e);
    const took = performance.now() - t0;
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(err instanceof OSError);
    assert.equal(err.errno, 110);
    assert.equal(err.code, 'ETIMEDOUT');
    assert.ok(took >= 115 && took < 5000, `timed out after ${took} ms`);
  });

  test('a malformed response → HttpParseError (exported, code ERR_HTTP_PARSE)', async (t) => {
    const srv = await raw(t, (sock) => sock.end('HTTP/1.1 2OO OK\r\n\r\n'));
    const c = ownClient(t);
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
    const c = ownClient(t);
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
    const c = ownClient(t, { maxConnectionsPerOrigin: 2 });
    const results = await Promise.allSettled([
      c.request(srv.url('/good1')), c.request(srv.url('/bad')), c.request(srv.url('/good2')),
      c.request(srv.url('/cut')), c.request({ url: srv.url('/slow'), timeout: 50 }), c.request(srv.url('/good3')),
    ]);
    const shape = results.map((r) => (r.status === 'fulfilled' ? r.value.text() : r.reason.constructor.name));
    assert.deepEqual(shape, ['good', 'HttpParseError', 'good', 'ConnectionResetError', 'TimeoutError', 'good']);
  });
});
