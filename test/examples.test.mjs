// The examples (classic Python I/O multiplexing programs written on iomux), run as a
// user runs them: compiled by `tsc -p examples` into dist/examples/, started as child
// processes, checked by their output.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const root = fileURLToPath(new URL('..', import.meta.url));

before(() => {
  // The examples import 'iomux' by name, which resolves to the built dist/: build them
  // here too, so this file runs on its own after `npx tsc -p .` (about 0.2 s).
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'examples')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc -p examples failed:\n${r.stdout}${r.stderr}`);
});

/** Runs dist/examples/<name>.js; resolves to { code, signal, stdout, stderr }. */
function runExample(name, args = [], { timeout = 30000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'dist/examples', `${name}.js`), ...args], {
      cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const ok = (r) => assert.equal(r.code, 0, `exit ${r.code} ${r.signal ?? ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);

test('copy-poll: three piped sources copied at once with poll()', async () => {
  const r = await runExample('copy-poll');
  ok(r);
  assert.match(r.stdout, /copying with poll\(\):/);
  assert.equal((r.stdout.match(/POLLHUP after \d+ reads, unregistered/g) ?? []).length, 3);
  assert.match(r.stdout, /Number of bytes copied 308929\n/);
  assert.equal((r.stdout.match(/matches the source/g) ?? []).length, 3);
  assert.match(r.stdout, /all copies match/);
});

test('epoll-server: accepts its three clients, prints what they send, notices them leave', async () => {
  const r = await runExample('epoll-server');
  ok(r);
  assert.match(r.stdout, /^server: listening on 127\.0\.0\.1:\d+\n/);
  assert.equal((r.stdout.match(/<----- client fd \d+ from 127\.0\.0\.1:\d+ ----->/g) ?? []).length, 3);
  for (const round of [1, 2]) {
    for (const c of [1, 2, 3]) assert.match(r.stdout, new RegExp(`sent "hello #${round} from client ${c}"`));
  }
  assert.equal((r.stdout.match(/closed the connection|hung up/g) ?? []).length, 3);
  assert.match(r.stdout, /server: all 3 clients served, bye\n$/);
});

test('poll-echo-server: queues, POLLOUT toggled with modify, every part echoed', async () => {
  const r = await runExample('poll-echo-server');
  ok(r);
  assert.match(r.stdout, /^Starting up on 127\.0\.0\.1 port \d+\n/);
  for (const part of ['This is the message. ', 'It will be sent ', 'in parts.']) {
    assert.equal((r.stdout.match(new RegExp(`echoed ${JSON.stringify(part).replace(/[.]/g, '\\.')}`, 'g')) ?? []).length, 2, part);
    assert.equal((r.stdout.match(new RegExp(`sending ${JSON.stringify(part).replace(/[.]/g, '\\.')}`, 'g')) ?? []).length, 2, part);
  }
  assert.match(r.stdout, /POLLOUT/);
  assert.match(r.stdout, /back to READ_ONLY/);
  assert.match(r.stdout, /all 2 clients served, bye\n$/);
});

// FORCE_COLOR=1 (as Node's test runner sets it for children in a terminal): the examples
// that read another process's output must not parse colour codes.
test('async-http: concurrent requests; one times out, one is refused, callbacks for all', async () => {
  const r = await runExample('async-http', [], { env: { FORCE_COLOR: '1' } });
  ok(r);
  assert.match(r.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/ -> HTTP\/1\.1 200 OK, body "hello from the local server\\n"/);
  assert.match(r.stdout, /POST http:\/\/127\.0\.0\.1:\d+\/echo -> HTTP\/1\.1 200 OK, body "you sent: a=1&b=2\\n"/);
  assert.match(r.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/slow -> TimeoutError: .*request timed out after 1 s \((\d+) ms\)/);
  const ms = Number(/\/slow -> TimeoutError: .* \((\d+) ms\)/.exec(r.stdout)[1]);
  assert.ok(ms >= 1000 && ms < 2900, `timed out after ${ms} ms`);
  assert.match(r.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/ -> ConnectionRefusedError: /);
  const done = /done: (.*)\n$/.exec(r.stdout)[1].split(', ').sort();
  assert.deepEqual(done, ['200', '200', 'ConnectionRefusedError', 'TimeoutError']);
});

for (const mode of ['blocking', 'reactor']) {
  test(`selectors-server (${mode}): callbacks in key.data serve its two clients, upper-case replies`, async () => {
    const r = await runExample('selectors-server', mode === 'reactor' ? ['--reactor'] : []);
    ok(r);
    assert.match(r.stdout, new RegExp(`^server: listening on 127\\.0\\.0\\.1:\\d+ \\(${mode === 'reactor' ? 'Reactor' : 'blocking selector'} mode\\)\\n`));
    assert.equal((r.stdout.match(/------- connection fd \d+ from 127\.0\.0\.1:\d+ \(mask 1\)/g) ?? []).length, 2);
    for (const [who, msg] of [['client', 'hello'], ['client', 'selectors'], ['client (Reactor)', 'callbacks'], ['client (Reactor)', 'in key.data']]) {
      assert.ok(r.stdout.includes(`${who}: >>>> ${msg}\n`), `${who} sent ${msg}`);
      assert.ok(r.stdout.includes(`${who}: <<<< ${msg.toUpperCase()}\n`), `${who} got ${msg.toUpperCase()}`);
      assert.ok(r.stdout.includes(`says ${JSON.stringify(msg)}`), `server got ${msg}`);
    }
    if (mode === 'blocking') assert.match(r.stdout, /server: waiting\.\.\.\./);
    assert.match(r.stdout, /server: 2 clients served, bye\n$/);
  });
}

test('selectors-client on its own: starts its server, blocking and --reactor', async () => {
  const a = await runExample('selectors-client', ['ping', 'pong'], { env: { FORCE_COLOR: '1' } });
  ok(a);
  assert.match(a.stdout, /server: listening on 127\.0\.0\.1:\d+/);
  // The server's own lines are forwarded as they come, so they may interleave.
  for (const line of ['client: >>>> ping', 'client: <<<< PING', 'client: >>>> pong', 'client: <<<< PONG']) {
    assert.ok(a.stdout.includes(`${line}\n`), line);
  }
  assert.ok(a.stdout.indexOf('<<<< PING') < a.stdout.indexOf('>>>> pong'), 'one message at a time');
  const b = await runExample('selectors-client', ['--reactor', 'via the reactor']);
  ok(b);
  assert.ok(b.stdout.includes('client (Reactor): >>>> via the reactor\n'));
  assert.ok(b.stdout.includes('client (Reactor): <<<< VIA THE REACTOR\n'));
});

for (const flag of ['--client', '--batch']) test(`async-http ${flag}: the same requests with ${flag === '--client' ? 'HttpClient' : 'HttpBatch'} and callbacks`, async () => {
  const r = await runExample('async-http', [flag], { env: { FORCE_COLOR: '1' } });
  ok(r);
  assert.match(r.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/ -> 200 OK, body "hello from the local server\\n"/);
  assert.match(r.stdout, /POST http:\/\/127\.0\.0\.1:\d+\/echo -> 200 OK, body "you sent: a=1&b=2\\n"/);
  assert.match(r.stdout, /GET http:\/\/127\.0\.0\.1:\d+\/slow -> TimeoutError: /);
  assert.match(r.stdout, /-> ConnectionRefusedError: /);
  const done = /done: (.*)\n$/.exec(r.stdout)[1].split(', ').sort();
  assert.deepEqual(done, ['200', '200', 'ConnectionRefusedError', 'TimeoutError']);
});
