// `iomux fetch` as a user runs it: a child process against an in-process server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startHttp, closedPort } from './fixtures/http-servers.mjs';
import { guardFds } from './helpers/fds.mjs';
import https from 'node:https';
import { writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts } from './fixtures/http-certs.mjs';

guardFds();

const MAIN = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** Runs `iomux fetch ...args` without blocking this thread (the server lives here). */
function fetchCli(args, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, 'fetch', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function server(t) {
  const srv = await startHttp((req, res) => {
    if (req.url === '/slow') return setTimeout(() => res.end('late'), 3000).unref();
    if (req.url === '/missing') { res.statusCode = 404; return res.end('nope'); }
    res.end('x'.repeat(Number(req.url.slice(1)) || 10));
  });
  t.after(() => srv.close());
  return srv;
}

test('fetches every URL: table on stdout in order, progress on stderr, exit 0', async (t) => {
  const srv = await server(t);
  const urls = Array.from({ length: 25 }, (_, i) => srv.url(`/${i + 1}`));
  const r = await fetchCli([...urls, '--concurrency', '4']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /^URL\s+STATUS\s+BYTES\s+MS$/);
  assert.equal(lines.length, 26);
  lines.slice(1).forEach((line, i) => {
    const [url, status, bytes, ms] = line.trim().split(/\s+/);
    assert.equal(url, urls[i]);
    assert.equal(status, '200');
    assert.equal(Number(bytes), i + 1);
    assert.ok(Number(ms) >= 0);
  });
  assert.match(r.stderr, /25\/25 done/);
  assert.match(r.stderr, /25 fetched in [\d.]+ s, 0 failed/);
  assert.ok(srv.connections <= 4, `at most 4 connections, saw ${srv.connections}`);
});

test('failures: refused, timeout, 404, https; exit 1; the rest still fetched', async (t) => {
  const srv = await server(t);
  const port = await closedPort();
  const r = await fetchCli([srv.url('/5'), `http://127.0.0.1:${port}/`, srv.url('/slow'), srv.url('/missing'),
    'ftp://example.com/', '--timeout', '200']);
  assert.equal(r.code, 1);
  // The STATUS column says why there was no response in words ('bad URL' has a space).
  const rows = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/ {2,}/));
  assert.deepEqual(rows.map((c) => c[1]), ['200', 'refused', 'timeout', '404', 'bad URL']);
  assert.match(r.stderr, /cannot fetch http:\/\/127\.0\.0\.1:\d+\/: Connection refused \(ECONNREFUSED\)/);
  assert.match(r.stderr, /no complete response within 200 ms \(timeout\)/);
  assert.match(r.stderr, /4 failed/);
});

test('--help, and bad command lines exit 2 with one line', async () => {
  const help = await fetchCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: iomux fetch URL\.\.\. \[--concurrency N\] \[--timeout MS\]/);
  const none = await fetchCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no URL given/);
  const bad = await fetchCli(['http://x/', '--concurrency', 'lots']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--concurrency must be an integer/);
  const unknown = await fetchCli(['http://x/', '--bogus']);
  assert.equal(unknown.code, 2);
});

test('https:// URLs: verified against the trusted CAs (NODE_EXTRA_CA_CERTS here); an unknown CA is a failed row', async (t) => {
  const certs = makeCerts('iomux fetch test CA', [{ cn: 'localhost', san: 'DNS:localhost,IP:127.0.0.1' }]);
  const srv = https.createServer(certs.servers[0], (req, res) => res.end('secure'));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { srv.closeAllConnections(); srv.close(r); }));
  const dir = mkdtempSync(join(tmpdir(), 'iomux-ca-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ca.pem'), certs.ca);
  const url = `https://127.0.0.1:${srv.address().port}/`;
  const ok = await fetchCli([url], { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(ok.stdout.trim().split('\n')[1].trim().split(/\s+/).slice(0, 3), [url, '200', '6']);
  const bad = await fetchCli([url]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  assert.match(bad.stderr, /TLS connection to https:\/\/127\.0\.0\.1:\d+ failed/);
});
