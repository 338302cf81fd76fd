// HttpClient against llhttp's response test corpus (the parser of Node's own http module),
// read at test time from ../shared/llhttp-response-corpus beside the repository (or the
// directory IOMUX_HTTP_CORPUS names). Every case that applies to a client in llhttp's
// strict mode is served byte-exact by a raw loopback server, once in one write and once
// one byte per write, then the connection is closed; the client's outcome must be what
// llhttp's log implies (see test/fixtures/http-corpus.mjs). A case holding several
// responses is also answered to as many requests pipelined on one connection, each
// outcome checked. Where iomux deliberately differs, the case is listed below with the
// reason and iomux's own expected outcome.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient, HttpParseError, ConnectionResetError, Reactor } from 'iomux';
import { readCorpus, expectation, expectations } from './fixtures/http-corpus.mjs';
import { guardFds } from './helpers/fds.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = process.env.IOMUX_HTTP_CORPUS ?? join(ROOT, '..', 'shared', 'llhttp-response-corpus');

/**
 * Cases where iomux deliberately behaves otherwise than llhttp's strict mode, with why,
 * and what iomux does instead (asserted, so that a change is noticed).
 */
const DIFFERENCES = new Map([
  ['sample.md: RTSP response', { why: 'iomux is an HTTP client: a status line must start with "HTTP/" (llhttp also parses RTSP and ICE)', expect: { kind: 'error' } }],
  ['sample.md: ICE response', { why: 'iomux is an HTTP client: a status line must start with "HTTP/" (llhttp also parses RTSP and ICE)', expect: { kind: 'error' } }],
  ['sample.md: No carriage ret', {
    why: 'a bare LF ends a line, as RFC 9112 2.2 allows a recipient to accept (llhttp strict requires CRLF)',
    expect: { kind: 'response', status: 200, body: 'these headers are from http://news.ycombinator.com/' },
  }],
  ['invalid.md: Only LFs present and no body', {
    why: 'a bare LF ends a line (RFC 9112 2.2)', expect: { kind: 'response', status: 200, body: '' },
  }],
  ['invalid.md: Only LFs present', {
    why: 'a bare LF ends a line (RFC 9112 2.2)', expect: { kind: 'response', status: 200, body: 'BODY\n\\' },
  }],
]);

/** Case types that describe llhttp's strict behaviour toward responses (lenient ones do not). */
const APPLIES = new Set(['response', 'response-finish']);

const present = existsSync(CORPUS);
const cases = present ? readCorpus(CORPUS) : [];

if (!present) {
  guardFds();
  test('llhttp response corpus', { skip: `corpus not found at ${CORPUS} (set IOMUX_HTTP_CORPUS to its directory)` }, () => {});
} else {
  let server;
  let port;
  let reactor;
  const sockets = new Set();

  before(async () => {
    reactor = new Reactor();
    // GET|HEAD /<case index>/<one|bytes>/<n>: once n requests have arrived, answer with the
    // case's bytes (in one write or byte by byte), then close.
    server = net.createServer((sock) => {
      sockets.add(sock);
      sock.setNoDelay(true);
      sock.on('close', () => sockets.delete(sock));
      sock.on('error', () => {});
      let head = '';
      let answered = false;
      sock.on('data', async (d) => {
        if (answered) return; // the request's rest, if any: read and dropped
        head += d.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const [, idx, mode, n] = /^[A-Z]+ \/(\d+)\/(\w+)\/(\d+) /.exec(head);
        if (head.split('\r\n\r\n').length - 1 < Number(n)) return;
        answered = true;
        const input = cases[Number(idx)].input;
        if (mode === 'one') sock.write(input);
        else {
          for (let i = 0; i < input.length && !sock.destroyed; i++) {
            sock.write(input.subarray(i, i + 1));
            await new Promise((r) => setImmediate(r));
          }
        }
        sock.end();
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
    reactor.close();
  });
  guardFds(); // after the hooks above: its check runs once they have closed what they opened

  /** What the client delivers for case `idx` served in `mode`, for each of `n` pipelined requests. */
  async function outcomes(idx, mode, method, n = 1) {
    const client = new HttpClient({ reactor, timeout: 10000, pipelining: n, maxConnectionsPerOrigin: 1 });
    const one = async () => {
      try {
        const res = await client.request({ url: `http://127.0.0.1:${port}/${idx}/${mode}/${n}`, method });
        return { kind: 'response', res };
      } catch (e) {
        if (e instanceof HttpParseError) return { kind: 'error', err: e };
        if (e instanceof ConnectionResetError) return { kind: 'truncated', err: e };
        throw e;
      }
    };
    try {
      return await Promise.all(Array.from({ length: n }, one));
    } finally {
      client.close();
    }
  }

  function check(got, want, label) {
    const detail = got.err !== undefined ? `${got.err.name}: ${got.err.message}` : `status ${got.res?.status}`;
    assert.equal(got.kind, want.kind, `${label}: expected ${want.kind}${want.reason ? ` (${want.reason})` : ''}, got ${got.kind} (${detail})`);
    if (want.kind !== 'response') return;
    const r = got.res;
    assert.equal(r.status, want.status, label);
    assert.equal(r.body.toString('latin1'), Buffer.from(want.body).toString('latin1'), `${label}: body`);
    if (want.statusText !== undefined) assert.equal(r.statusText, want.statusText, `${label}: reason phrase`);
    if (want.headers !== undefined) assert.deepEqual({ ...r.headers }, want.headers, `${label}: headers`);
    if (want.trailers !== undefined) assert.deepEqual({ ...r.trailers }, want.trailers, `${label}: trailers`);
  }

  const byFile = new Map();
  cases.forEach((c, idx) => {
    if (!byFile.has(c.file)) byFile.set(c.file, []);
    byFile.get(c.file).push({ c, idx });
  });
  for (const [file, list] of byFile) {
    describe(file, () => {
      for (const { c, idx } of list) {
        const name = `${c.file}: ${c.title}`;
        const label = `${name} (line ${c.line})`;
        if (!APPLIES.has(c.meta.type)) {
          test(`${c.title} [${c.meta.type}]`, { skip: `llhttp ${c.meta.type} mode, not strict` }, () => {});
          continue;
        }
        const diff = DIFFERENCES.get(name);
        const want = diff?.expect ?? expectation(c);
        const method = c.meta.skipBody === true ? 'HEAD' : 'GET';
        const title = diff ? `${c.title} (differs from llhttp: ${diff.why})` : c.title;
        const all = diff === undefined ? expectations(c) : [want];
        test(title, async () => {
          for (const mode of ['one', 'bytes']) {
            const [got] = await outcomes(idx, mode, method);
            check(got, want, `${label} [${mode === 'one' ? 'one write' : 'one byte per write'}]`);
          }
          if (all.length > 1) {
            // Several responses: as many requests pipelined on one connection.
            for (const mode of ['one', 'bytes']) {
              const got = await outcomes(idx, mode, method, all.length);
              got.forEach((g, i) => check(g, all[i], `${label} [${all.length} pipelined, response ${i + 1}, ${mode}]`));
            }
          }
        });
      }
    });
  }

  test('every known difference names a case of the corpus', () => {
    const names = new Set(cases.map((c) => `${c.file}: ${c.title}`));
    for (const name of DIFFERENCES.keys()) assert.ok(names.has(name), name);
  });
}
