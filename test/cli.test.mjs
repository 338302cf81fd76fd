// The `iomux` command run as a user runs it: `node dist/cli/main.js <command> ...` as a
// child process, checked by its output and exit status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { guardFds } from './helpers/fds.mjs';
import { uringSupport } from 'iomux';

guardFds();

const root = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(root, 'dist/cli/main.js');

/**
 * Starts `iomux ...args`; returns { child, done } where done resolves to
 * { code, signal, stdout, stderr } once it exits (killed after `timeout` ms). `wrap` is a
 * command that runs node in its turn (`['prlimit', '--nofile=48:48']`).
 */
function start(args, { input, timeout = 30000, env, cwd = root, wrap = [] } = {}) {
  const argv = [...wrap, process.execPath, MAIN, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  const done = new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, get out() { return stdout; }, get err() { return stderr; } });
    });
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

const iomux = (args, opts) => start(args, opts).done;
const show = (r) => `exit ${r.code} ${r.signal ?? ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const sha = (b) => createHash('sha256').update(b).digest('hex');

function tempDir(t) {
  const dir = fs.mkdtempSync(join(tmpdir(), 'iomux-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('iomux --help, --version, no command, unknown command', async () => {
  const h = await iomux(['--help']);
  assert.equal(h.code, 0, show(h));
  for (const c of ['demo', 'echo', 'copy', 'fetch']) assert.match(h.stdout, new RegExp(`^  ${c} `, 'm'));
  const v = await iomux(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), JSON.parse(fs.readFileSync(join(root, 'package.json'), 'utf8')).version);
  const none = await iomux([]);
  assert.equal(none.code, 2);
  assert.match(none.stdout, /Usage: iomux <command>/);
  const bad = await iomux(['frobnicate']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, "iomux: unknown command 'frobnicate' (expected one of: demo, echo, copy, fetch; see iomux --help)\n");
});

test('every command has --help', async () => {
  for (const c of ['copy', 'echo', 'demo', 'fetch']) {
    const r = await iomux([c, '--help']);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`^Usage: iomux ${c}`), c);
    assert.equal(r.stderr, '');
  }
});

test('iomux copy: a file, a FIFO fed late and stdin, all at once', async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a.bin');
  const data = randomBytes(3_000_000);
  fs.writeFileSync(a, data);
  const fifo = join(dir, 'fifo');
  assert.equal((await new Promise((r) => spawn('mkfifo', [fifo]).on('close', r))), 0);
  // A writer that opens the FIFO only after a while: copy must not wait for it to start.
  const lines = Array.from({ length: 50000 }, (_, i) => `line ${i}\n`).join('');
  const writer = spawn(process.execPath, ['-e', `setTimeout(() => require('fs').writeFileSync(${JSON.stringify(fifo)},
    Array.from({ length: 50000 }, (_, i) => 'line ' + i + '\\n').join('')), 200)`]);
  const stdinText = 'from standard input\n'.repeat(1000);
  const r = await iomux(['copy', a, join(dir, 'a.out'), fifo, join(dir, 'fifo.out'), '-', join(dir, 'stdin.out')], { input: stdinText });
  await new Promise((res) => (writer.exitCode !== null ? res() : writer.on('close', res)));
  assert.equal(r.code, 0, show(r));
  assert.equal(sha(fs.readFileSync(join(dir, 'a.out'))), sha(data));
  assert.equal(fs.readFileSync(join(dir, 'fifo.out'), 'utf8'), lines);
  assert.equal(fs.readFileSync(join(dir, 'stdin.out'), 'utf8'), stdinText);
  const total = data.length + Buffer.byteLength(lines) + Buffer.byteLength(stdinText);
  assert.match(r.stderr, new RegExp(`Number of bytes copied: ${total} \\(3/3 pairs in [\\d.]+ s\\)\\n$`));
  assert.equal(r.stdout, '');
});

test("iomux copy: '-' as destination writes to stdout", async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src.txt');
  fs.writeFileSync(src, 'hello, poll\n');
  const r = await iomux(['copy', src, '-']);
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stdout, 'hello, poll\n');
});

test('iomux copy: bad command lines and missing files are one-line errors', async (t) => {
  const dir = tempDir(t);
  const cases = [
    [['copy'], 2, /^iomux copy: expected SRC DST pairs, got 0 arguments \(see iomux copy --help\)\n$/],
    [['copy', 'a', 'b', 'c'], 2, /^iomux copy: expected SRC DST pairs, got 3 arguments/],
    [['copy', '--frob', 'a', 'b'], 2, /^iomux copy: unknown option '--frob'/],
    [['copy', '-', 'x', '-', 'y'], 2, /^iomux copy: standard input \('-'\) can be the source of one pair only/],
    [['copy', join(dir, 'missing'), join(dir, 'out')], 1, /^iomux copy: cannot open '.*missing': No such file or directory \(ENOENT\)\n$/],
  ];
  for (const [args, code, re] of cases) {
    const r = await iomux(args);
    assert.equal(r.code, code, show(r));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
  }
  assert.equal(fs.existsSync(join(dir, 'out')), false, 'nothing created when a source is missing');
});

test('iomux copy: a source and its destination that are the same file are refused, the file kept', async (t) => {
  // Regression: `copy a.txt a.txt` truncated a.txt, then copied its 0 bytes: success, data gone.
  const dir = tempDir(t);
  const a = join(dir, 'a.txt');
  const content = 'precious\n'.repeat(1000);
  fs.writeFileSync(a, content);
  fs.symlinkSync(a, join(dir, 'link'));
  fs.linkSync(a, join(dir, 'hard'));
  fs.writeFileSync(join(dir, 'other.txt'), 'other\n');
  const cases = [
    [[a, a], `'${a}' and '${a}' are the same file`],
    [[a, join(dir, 'link')], `'${a}' and '${join(dir, 'link')}' are the same file`],
    [[join(dir, 'link'), a], `'${join(dir, 'link')}' and '${a}' are the same file`],
    [[join(dir, 'hard'), a], `'${join(dir, 'hard')}' and '${a}' are the same file`],
    // Another pair's source counts too: the first pair would truncate what the second reads.
    [[join(dir, 'other.txt'), join(dir, 'hard'), a, join(dir, 'x')], `'${a}' and '${join(dir, 'hard')}' are the same file`],
  ];
  for (const [args, message] of cases) {
    const r = await iomux(['copy', ...args]);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr, `iomux copy: ${message}\n`);
    assert.equal(fs.readFileSync(a, 'utf8'), content, `${args.join(' ')} left the file alone`);
  }
  assert.equal(fs.existsSync(join(dir, 'x')), false);
});

test("iomux copy: standard input or output that is the file itself ('-' redirected) is refused too", async (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'f.txt');
  fs.writeFileSync(f, 'data\n');
  const { spawnSync } = await import('node:child_process');
  const run = (args, stdio) => {
    const r = spawnSync(process.execPath, [MAIN, 'copy', ...args], { stdio, encoding: 'utf8', timeout: 30000 });
    for (const fd of stdio) if (typeof fd === 'number') fs.closeSync(fd);
    return r;
  };
  // `iomux copy - f < f`: the source is f through standard input.
  const a = run(['-', f], [fs.openSync(f, 'r'), 'pipe', 'pipe']);
  assert.equal(a.status, 1, a.stderr);
  assert.equal(a.stderr, `iomux copy: standard input and '${f}' are the same file\n`);
  // `iomux copy f - >> f`: the destination is f through standard output.
  const b = run([f, '-'], ['ignore', fs.openSync(f, 'a'), 'pipe']);
  assert.equal(b.status, 1, b.stderr);
  assert.equal(b.stderr, `iomux copy: '${f}' and standard output are the same file\n`);
  assert.equal(fs.readFileSync(f, 'utf8'), 'data\n');
});

test('iomux copy: every source is opened and checked before any destination is touched', async (t) => {
  // Regression: `copy big keep.out missing x` truncated keep.out, then failed on missing.
  const dir = tempDir(t);
  const p = (name) => join(dir, name);
  fs.writeFileSync(p('big'), randomBytes(100_000));
  fs.writeFileSync(p('keep.out'), 'keep me\n');
  fs.mkdirSync(p('sub'));
  const cases = [
    [[p('big'), p('keep.out'), p('missing'), p('x')], /^iomux copy: cannot open '.*missing': No such file or directory \(ENOENT\)\n$/],
    [[p('big'), p('keep.out'), p('sub'), p('x')], new RegExp(`^iomux copy: cannot read '${p('sub')}': Is a directory \\(EISDIR\\)\\n$`)],
    [[p('big'), p('keep.out'), p('big'), p('keep.out')], new RegExp(`^iomux copy: '${p('keep.out')}' and '${p('keep.out')}' are the same destination\\n$`)],
    // A destination that cannot be opened: the ones opened before it are neither
    // truncated nor left behind when this run created them.
    [[p('big'), p('keep.out'), p('big'), p('fresh'), p('big'), p('no/such/dir')], /^iomux copy: cannot open '.*no\/such\/dir' for writing: No such file or directory \(ENOENT\)\n$/],
  ];
  for (const [args, re] of cases) {
    const r = await iomux(['copy', ...args]);
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, re);
    assert.equal(fs.readFileSync(p('keep.out'), 'utf8'), 'keep me\n', `${args.join(' ')} left keep.out alone`);
    assert.equal(fs.existsSync(p('x')), false);
    assert.equal(fs.existsSync(p('fresh')), false, 'a destination created by the failed run is removed');
  }
  // And when all is well, an existing destination is truncated and overwritten.
  fs.writeFileSync(p('small'), 'new\n');
  const r = await iomux(['copy', p('small'), p('keep.out')]);
  assert.equal(r.code, 0, show(r));
  assert.equal(fs.readFileSync(p('keep.out'), 'utf8'), 'new\n');
});

/** Starts `iomux echo ...args --port 0`; resolves once it says where it listens. */
async function startEcho(t, args, opts) {
  const proc = start(['echo', '--port', '0', ...args], opts);
  t.after(() => { if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL'); });
  const port = await new Promise((resolve, reject) => {
    const onData = () => {
      const m = /^iomux echo listening on (?:127\.0\.0\.1|\[::1\]):(\d+) \(mode ([\w-]+), backend (\w+)(?:, \d+ workers)?, pid \d+\)\n/.exec(proc.output().stdout);
      if (m) {
        proc.child.stdout.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    proc.child.stdout.on('data', onData);
    proc.done.then((r) => reject(new Error(`echo exited before listening: ${show(r)}`)));
  });
  return { ...proc, port };
}

/** Connects with Node's own net client; returns helpers to talk ping-pong style. */
async function connect(port, host = '127.0.0.1') {
  const net = await import('node:net');
  const sock = net.connect(port, host);
  await new Promise((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  const chunks = [];
  let waiter = null;
  let got = 0;
  sock.on('data', (d) => { chunks.push(d); got += d.length; waiter?.(); });
  const c = {
    sock,
    /** Resolves with the next `n` bytes received. */
    async expect(n) {
      while (got < n) await new Promise((r) => { waiter = r; });
      waiter = null;
      const all = Buffer.concat(chunks);
      chunks.length = 0;
      got = 0;
      assert.equal(all.length, n, 'no more bytes than sent');
      return all;
    },
    /** Sends `data` and resolves with the same number of bytes read back. */
    roundTrip(data) {
      sock.write(data);
      return c.expect(data.length);
    },
    close: () => new Promise((r) => sock.end(r)),
  };
  return c;
}

for (const [name, args] of [
  ['blocking epoll', ['--mode', 'blocking', '--backend', 'epoll']],
  ['blocking poll', ['--backend', 'poll']],
  ['blocking select', ['--mode', 'blocking', '--backend', 'select']],
  ['reactor', ['--mode', 'reactor']],
  ['uring', ['--mode', 'uring']],
  ['uring-blocking', ['--mode', 'uring-blocking']],
]) {
  const uring = name.startsWith('uring');
  const skip = uring && !uringSupport().supported ? `io_uring is unavailable: ${uringSupport().reason}` : false;
  test(`iomux echo (${name}): echoes for several clients, big transfers with back-pressure, SIGTERM exits 0`, { skip }, async (t) => {
    const server = await startEcho(t, args);
    const mode = uring || name === 'reactor' ? name : 'blocking';
    const backend = uring ? 'io_uring' : name === 'reactor' ? 'epoll' : name.split(' ')[1];
    assert.match(server.output().stdout, new RegExp(`\\(mode ${mode}, backend ${backend},`));
    const clients = await Promise.all([1, 2, 3].map(() => connect(server.port)));
    let echoed = 0;
    for (let round = 0; round < 20; round++) {
      const replies = await Promise.all(clients.map((c, i) => c.roundTrip(Buffer.from(`round ${round} client ${i}`))));
      replies.forEach((r, i) => assert.equal(r.toString(), `round ${round} client ${i}`));
      echoed += replies.reduce((n, r) => n + r.length, 0);
    }
    // 8 MB while the client is not reading: the server's sends hit EAGAIN, it keeps the
    // unsent tail and pauses that connection; once the client reads, everything arrives.
    const big = randomBytes(8 << 20);
    const c = clients[0];
    c.sock.pause();
    c.sock.write(big);
    await new Promise((r) => setTimeout(r, 300));
    c.sock.resume();
    assert.equal(sha(await c.expect(big.length)), sha(big));
    echoed += big.length;
    await c.close();
    await clients[1].close();
    // clients[2] stays connected: the server closes it at SIGTERM.
    await new Promise((r) => setTimeout(r, 100));
    server.child.kill('SIGTERM');
    const r = await server.done;
    clients[2].sock.destroy();
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, new RegExp(`iomux echo: SIGTERM: closed 1 open connection; served 3 connections, echoed ${echoed} bytes\\n$`));
    assert.equal(r.stderr, '');
  });
}

test('iomux echo --mode uring-blocking without io_uring: one notice, then the blocking server', async (t) => {
  const server = await startEcho(t, ['--mode', 'uring-blocking'], { env: { IOMUX_URING: 'off' } });
  // The blocking server's backend is DefaultSelector's (IOMUX_SELECTOR when set).
  assert.match(server.output().stdout, /\(mode blocking, backend (epoll|poll|select),/);
  const c = await connect(server.port);
  assert.equal((await c.roundTrip(Buffer.from('still served'))).toString(), 'still served');
  await c.close();
  server.child.kill('SIGTERM');
  const r = await server.done;
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stderr, 'iomux echo: io_uring unavailable (io_uring is switched off by IOMUX_URING=off); serving with --mode blocking\n');
});

test('iomux echo --workers 2: Reactor servers on two threads share the port (SO_REUSEPORT); the counters add up', async (t) => {
  const server = await startEcho(t, ['--mode', 'reactor', '--workers', '2']);
  assert.match(server.output().stdout, /\(mode reactor, backend epoll, 2 workers, pid \d+\)/);
  const clients = await Promise.all(Array.from({ length: 8 }, () => connect(server.port)));
  let echoed = 0;
  for (let round = 0; round < 5; round++) {
    const replies = await Promise.all(clients.map((c, i) => c.roundTrip(Buffer.from(`round ${round} client ${i}`))));
    replies.forEach((r, i) => assert.equal(r.toString(), `round ${round} client ${i}`));
    echoed += replies.reduce((n, r) => n + r.length, 0);
  }
  for (const c of clients.slice(1)) await c.close();
  await new Promise((r) => setTimeout(r, 100));
  server.child.kill('SIGTERM');
  const r = await server.done;
  clients[0].sock.destroy();
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`iomux echo: SIGTERM: closed 1 open connection; served 8 connections, echoed ${echoed} bytes\\n$`));
  assert.equal(r.stderr, '');
  const bad = await iomux(['echo', '--port', '0', '--mode', 'blocking', '--workers', '2']);
  assert.equal(bad.code, 2, show(bad));
  assert.match(bad.stderr, /--workers runs Reactor servers: it needs --mode reactor, got 'blocking'/);
});

test('iomux echo: SIGINT also stops it cleanly; IPv6 loopback', async (t) => {
  const server = await startEcho(t, ['--host', '::1', '--mode', 'blocking']);
  assert.match(server.output().stdout, /listening on \[::1\]:\d+ \(mode blocking, backend (epoll|poll|select),/);
  const c = await connect(server.port, '::1');
  assert.equal((await c.roundTrip(Buffer.from('over IPv6'))).toString(), 'over IPv6');
  await c.close();
  await new Promise((r) => setTimeout(r, 50));
  server.child.kill('SIGINT');
  const r = await server.done;
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /iomux echo: SIGINT: closed 0 open connections; served 1 connection, echoed 9 bytes\n$/);
});

test('iomux echo: bad options and a busy port are one-line errors', async (t) => {
  const cases = [
    [['echo'], 2, /^iomux echo: --port is required \(0 picks a free port\) \(see iomux echo --help\)\n$/],
    [['echo', '--port', '70000'], 2, /^iomux echo: --port must be an integer from 0 to 65535, got '70000'/],
    [['echo', '--port', 'x'], 2, /^iomux echo: --port must be an integer from 0 to 65535, got 'x'/],
    [['echo', '--port', '0', '--mode', 'fast'], 2, /^iomux echo: --mode must be one of reactor, blocking, uring, uring-blocking, got 'fast'/],
    [['echo', '--port', '0', '--backend', 'kqueue'], 2, /^iomux echo: --backend must be one of epoll, poll, select, got 'kqueue'/],
    [['echo', '--port', '0', '--mode', 'reactor', '--backend', 'poll'], 2, /^iomux echo: --mode reactor needs --backend epoll/],
    [['echo', '--port', '0', 'extra'], 2, /^iomux echo: Unexpected argument 'extra'/],
    [['echo', '--port', '0', '--host', 'no.such.host.invalid'], 1, /^iomux echo: cannot listen on no\.such\.host\.invalid:0: .+ \(EAI_[A-Z]+\)\n$/],
  ];
  for (const [args, code, re] of cases) {
    const r = await iomux(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
  }
  // Without --backend the blocking loop's selector is DefaultSelector's choice, which
  // IOMUX_SELECTOR makes; a name it does not know fails as DefaultSelector fails.
  const bogus = await iomux(['echo', '--port', '0', '--mode', 'blocking'], { env: { IOMUX_SELECTOR: 'kqueue' } });
  assert.equal(bogus.code, 1, show(bogus));
  assert.match(bogus.stderr, /^iomux echo: .*IOMUX_SELECTOR="kqueue".*\bepoll, poll, select\b.*\n$/);
  const chosen = await startEcho(t, ['--mode', 'blocking'], { env: { IOMUX_SELECTOR: 'select' } });
  assert.match(chosen.output().stdout, /\(mode blocking, backend select,/);
  chosen.child.kill('SIGTERM');
  assert.equal((await chosen.done).code, 0);
  const server = await startEcho(t, ['--mode', 'reactor']);
  for (const mode of ['reactor', 'blocking']) {
    const r = await iomux(['echo', '--port', String(server.port), '--mode', mode]);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr, `iomux echo: cannot listen on 127.0.0.1:${server.port}: Address already in use (EADDRINUSE)\n`);
    assert.equal(r.stderr.split('\n').length, 2);
  }
  server.child.kill('SIGTERM');
  assert.equal((await server.done).code, 0);
});

test('iomux demo: short rounds per backend, medians with their spread, and how noisy the machine was', async () => {
  // FORCE_COLOR=1: the demo reads its servers' first lines, which colour must not change.
  const r = await iomux(['demo', '--seconds', '0.6', '--rounds', '3', '--connections', '8', '--size', '500'], { env: { FORCE_COLOR: '1' } });
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, /^iomux demo: 8 clients on 127\.0\.0\.1, 500-byte messages, ping-pong, 3 rounds of 0\.2 s per server/);
  assert.match(r.stdout, /^server +how +round trips\/s +spread +vs node:net +range$/m);
  for (const row of ['select', 'poll', 'epoll', 'Reactor', 'node:net']) {
    const m = new RegExp(`^${row} +.*? +([\\d,]+) +±([\\d.]+)% +([\\d.]+)x(?: +([\\d.]+)-([\\d.]+))?$`, 'm').exec(r.stdout);
    assert.ok(m, `row ${row} in\n${r.stdout}`);
    assert.ok(Number(m[1].replace(/,/g, '')) > 100, `${row}: ${m[1]} round trips/s`);
    if (row === 'node:net') assert.equal(m[3], '1.00');
    else assert.ok(Number(m[4]) <= Number(m[3]) && Number(m[3]) <= Number(m[5]), `${row}: the median ratio lies in its range`);
  }
  assert.match(r.stdout, /the median of the 3 rounds/);
  // The note is wrapped at word boundaries: any line break may fall between its words.
  assert.match(r.stdout, /^Noise: the machine was (quiet|somewhat noisy|noisy)\.\s+A\s+server's\s+rounds\s+strayed\s+from\s+its\s+median\s+by\s+±[\d.]+%/m);
  for (let i = 1; i <= 5; i++) assert.match(r.stderr, new RegExp(`demo: starting the .* server \\[${i}/5\\]`));
  assert.match(r.stderr, /demo round 3\/3, /);
  const bad = await iomux(['demo', '--seconds', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^iomux demo: --seconds must be a number from 0\.05 to 600, got '0'/);
});

test('a negative number for an option is reported by its range, not as an ambiguous option', async () => {
  const cases = [
    [['demo', '--size', '-5'], "iomux demo: --size must be an integer from 1 to 1048576, got '-5' (see iomux demo --help)\n"],
    [['demo', '--rounds', '-1'], "iomux demo: --rounds must be an integer from 1 to 100, got '-1' (see iomux demo --help)\n"],
    [['fetch', '-c', '-3', 'http://127.0.0.1/'], "iomux fetch: --concurrency must be an integer from 1 to 1000, got '-3' (see iomux fetch --help)\n"],
    [['echo', '--port', '-1'], "iomux echo: --port must be an integer from 0 to 65535, got '-1' (see iomux echo --help)\n"],
  ];
  for (const [args, want] of cases) {
    const r = await iomux(args);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr, want);
  }
});

test('every help text lists the same options in its usage line and its option list', async () => {
  for (const c of ['copy', 'echo', 'demo', 'fetch']) {
    const r = await iomux([c, '--help']);
    assert.equal(r.code, 0, show(r));
    const [usage, rest] = [r.stdout.split('\n\n')[0], r.stdout.slice(r.stdout.indexOf('\nOptions:\n'))];
    assert.ok(rest.startsWith('\nOptions:\n'), `${c}: an Options section`);
    const inUsage = [...usage.matchAll(/--([a-z-]+)/g)].map((m) => m[1]).sort();
    const listed = [...rest.matchAll(/^ +(?:-[a-z], )?--([a-z-]+)/gm)].map((m) => m[1]).filter((o) => o !== 'help').sort();
    assert.deepEqual(inUsage, listed, `${c}: usage line vs option list`);
  }
  const fetch = await iomux(['fetch', '--help']);
  assert.match(fetch.stdout, /^Fetches every http:\/\/ or https:\/\/ URL /m, 'fetch --help names both schemes');
  const demo = await iomux(['demo', '--help']);
  for (const o of ['--host', '--rounds', '--seconds', '--connections', '--size']) assert.match(demo.stdout, new RegExp(`^Usage: .*\\[${o} `));
});

test('iomux copy: errors name the file and the reason, never an fd number', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src.txt');
  fs.writeFileSync(src, 'some bytes\n');
  const cases = [
    [[dir, join(dir, 'out1')], `iomux copy: cannot read '${dir}': Is a directory (EISDIR)\n`],
    [[src, dir], `iomux copy: cannot open '${dir}' for writing: Is a directory (EISDIR)\n`],
    [[src, join(dir, 'no/such/dir/out')], `iomux copy: cannot open '${join(dir, 'no/such/dir/out')}' for writing: No such file or directory (ENOENT)\n`],
  ];
  if (fs.existsSync('/dev/full')) cases.push([[src, '/dev/full'], "iomux copy: cannot write '/dev/full': No space left on device (ENOSPC)\n"]);
  // Reading a process's own memory at offset 0 fails with EIO (nothing is mapped there).
  cases.push([['/proc/self/mem', join(dir, 'out2')], "iomux copy: cannot read '/proc/self/mem': Input/output error (EIO)\n"]);
  for (const [args, want] of cases) {
    const r = await iomux(['copy', ...args]);
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stderr.split('\n')[0] + '\n', want, show(r));
    assert.doesNotMatch(r.stderr, /\bfd \d+|\[Errno/);
  }
});

test('iomux copy: the progress line ticks while every source waits', async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'fifo');
  assert.equal((await new Promise((r) => spawn('mkfifo', [fifo]).on('close', r))), 0);
  const writer = spawn(process.execPath, ['-e', `setTimeout(() => require('fs').writeFileSync(${JSON.stringify(fifo)}, 'late\\n'), 3200)`]);
  const r = await iomux(['copy', fifo, join(dir, 'out')]);
  await new Promise((res) => (writer.exitCode !== null ? res() : writer.on('close', res)));
  assert.equal(r.code, 0, show(r));
  assert.equal(fs.readFileSync(join(dir, 'out'), 'utf8'), 'late\n');
  // stderr is a pipe here: one status line a second at most, so two or three while
  // waiting 3.2 s (none before the first second).
  const waiting = r.stderr.split('\n').filter((l) => /^copy: 0 B copied, 1\/1 sources open/.test(l));
  assert.ok(waiting.length >= 2, show(r));
});

test('iomux fetch is wired to the HTTP client', async (t) => {
  const http = await import('node:http');
  const server = http.createServer((req, res) => res.end(`you asked for ${req.url}`));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const base = `http://127.0.0.1:${server.address().port}`;
  const r = await iomux(['fetch', `${base}/a`, `${base}/b`]);
  assert.equal(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`${base}/a +200 +`));
  assert.match(r.stdout, new RegExp(`${base}/b +200 +`));
  const bad = await iomux(['fetch', '--frob']);
  assert.equal(bad.code, 2, show(bad));
  assert.equal(bad.stderr.split('\n').length, 2, `one line: ${JSON.stringify(bad.stderr)}`);
});

test('iomux fetch: the STATUS column says why a request got no response, in words; errors name the URL', async (t) => {
  const http = await import('node:http');
  const net = await import('node:net');
  const server = http.createServer((req, res) => {
    if (req.url === '/reset') req.socket.destroy();
    else if (req.url !== '/silent') res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  const base = `http://127.0.0.1:${server.address().port}`;
  // A closed loopback port: listen, note it, close.
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const closed = `http://127.0.0.1:${probe.address().port}/`;
  await new Promise((r) => probe.close(r));
  const want = [
    ['notaurl', 'bad URL'], ['ftp://example.com/', 'bad URL'], [`${base}/ok`, '200'], [`${base}/reset`, 'reset'],
    [`${base}/silent`, 'timeout'], [closed, 'refused'],
  ];
  const r = await iomux(['fetch', '--timeout', '700', ...want.map(([u]) => u)]);
  assert.equal(r.code, 1, show(r));
  for (const [url, label] of want) {
    const row = r.stdout.split('\n').find((l) => l.startsWith(`${url} `));
    assert.ok(row, `a row for ${url}:\n${r.stdout}`);
    assert.equal(row.slice(url.length).trim().split(/ {2,}/)[0], label, row);
  }
  assert.match(r.stderr, /^iomux fetch: cannot fetch notaurl: invalid URL "notaurl"$/m);
  assert.match(r.stderr, new RegExp(`^iomux fetch: cannot fetch ${closed}: Connection refused \\(ECONNREFUSED\\)$`, 'm'));
  assert.match(r.stderr, new RegExp(`^iomux fetch: cannot fetch ${base}/silent: no complete response within 700 ms \\(timeout\\)$`, 'm'));
  assert.doesNotMatch(r.stderr, /\bfd \d+|\[Errno|TypeError/);
  assert.doesNotMatch(r.stdout, /TypeError|Error\b/);
});

test('iomux fetch: the progress line ticks while a slow request waits', async (t) => {
  const http = await import('node:http');
  const server = http.createServer((req, res) => { setTimeout(() => res.end('late'), 2600); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const r = await iomux(['fetch', url]);
  assert.equal(r.code, 0, show(r));
  // stderr is a pipe here: one status line a second at most, the elapsed time growing.
  const waiting = [...r.stderr.matchAll(/^\[\.+\] 0\/1 done, 0 failed, 0 B, ([\d.]+) s$/gm)].map((m) => Number(m[1]));
  assert.ok(waiting.length >= 2, show(r));
  assert.ok(waiting.at(-1) >= 1, show(r));
  assert.deepEqual(waiting, [...waiting].sort((a, b) => a - b));
});

test('the blocking echo loop closes its selector when the port is busy (no fd leak)', async (t) => {
  // Regression: the selector was made before listen(), which threw with it still open.
  const { fdCount } = await import('./helpers/fds.mjs');
  const { serveBlocking } = await import('../dist/cli/echo-blocking.js');
  const { socket, EpollSelector, PollSelector, SelectSelector } = await import('iomux');
  const busy = socket();
  t.after(() => busy.close());
  busy.bind(['127.0.0.1', 0]);
  busy.listen();
  const port = busy.getsockname()[1];
  for (const Selector of [EpollSelector, PollSelector, SelectSelector]) {
    const before = fdCount();
    assert.throws(() => serveBlocking('127.0.0.1', port, 16, Selector, -1, () => {}), { code: 'EADDRINUSE' });
    assert.equal(fdCount(), before, `${Selector.name}: no fd left open`);
  }
});

/** CPU seconds (user + system, all threads) process `pid` has used so far. */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** Resolves once `check()` is true, polling every 20 ms; rejects after `ms`. */
async function until(check, ms, what) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const mode of ['reactor', 'blocking', 'uring', 'uring-blocking']) {
  test(`iomux echo (${mode}) out of fds: pauses accepting instead of spinning, serves open connections, resumes`, async (t) => {
    // Regression: with the fd limit reached the listener stays readable and every accept
    // fails with EMFILE at once, so both modes used a whole core while clients waited.
    // Tested for real: the server runs under a low RLIMIT_NOFILE, its CPU time is read
    // from /proc.
    // A limit low enough to reach with a few connections, high enough for Node to load
    // the package (module loading opens files several at a time).
    const NOFILE = 128;
    const server = await startEcho(t, ['--mode', mode], { wrap: ['prlimit', `--nofile=${NOFILE}:${NOFILE}`] });
    const net = await import('node:net');
    const clients = [];
    t.after(() => { for (const c of clients) c.sock.destroy(); });
    for (let i = 0; i < NOFILE + 40; i++) {
      const sock = net.connect(server.port, '127.0.0.1');
      const c = { sock, got: '' };
      sock.setEncoding('utf8').on('data', (d) => { c.got += d; });
      sock.on('error', () => {});
      clients.push(c);
    }
    await until(() => /Too many open files/.test(server.output().stderr), 10000, 'the EMFILE log line');
    const logged = server.output().stderr;
    // Line-anchored: where io_uring is off, the uring mode's fallback notice comes first.
    assert.match(logged, /^iomux echo: cannot accept connections: Too many open files \(EMFILE\); not accepting new connections for 1 s at a time/m);
    // Over a window of more than a second: almost no CPU, and no further log line.
    await new Promise((r) => setTimeout(r, 200));
    const cpu0 = cpuSeconds(server.child.pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    const used = cpuSeconds(server.child.pid) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    assert.ok(used < 0.25 * wall, `${used.toFixed(2)} s of CPU in ${wall.toFixed(2)} s while out of fds`);
    assert.equal(server.output().stderr, logged, 'one log line for the whole episode');
    // The connections accepted before the limit are still served.
    for (const c of clients) c.sock.write('ping');
    await new Promise((r) => setTimeout(r, 300));
    const served = clients.filter((c) => c.got === 'ping');
    const waiting = clients.filter((c) => c.got === '');
    assert.ok(served.length > 0, 'some connections are served');
    assert.ok(waiting.length > 0, 'some connections wait for an fd');
    assert.equal(served.length + waiting.length, clients.length);
    // Closing the served ones frees fds: the server accepts again within its pause.
    for (const c of served) c.sock.destroy();
    await until(() => waiting.some((c) => c.got === 'ping'), 5000, 'a waiting connection to be served');
    for (const c of clients) c.sock.destroy();
    await new Promise((r) => setTimeout(r, 100));
    server.child.kill('SIGTERM');
    const r = await server.done;
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /iomux echo: SIGTERM: closed \d+ open connections?; served \d+ connections/);
  });
}

for (const mode of ['reactor', 'blocking', 'uring', 'uring-blocking']) {
  test(`iomux echo (${mode}): a peer that keeps its socket full does not hold up the others or the stop`, async (t) => {
    // Each wake-up does one recv per ready connection, so a flooding peer gets one turn
    // like the others; and the Reactor returns to Node's loop between wake-ups, so the
    // SIGTERM handler runs during the flood.
    const server = await startEcho(t, ['--mode', mode]);
    const net = await import('node:net');
    const flood = net.connect(server.port, '127.0.0.1');
    t.after(() => flood.destroy());
    await new Promise((r) => flood.once('connect', r));
    flood.on('error', () => {});
    flood.on('data', () => {}); // read everything back, so the server never pauses it
    const chunk = Buffer.alloc(256 << 10, 'x');
    let flooding = true;
    const pump = () => { while (flooding && flood.write(chunk)); };
    flood.on('drain', pump);
    pump();
    await new Promise((r) => setTimeout(r, 200));
    const c = await connect(server.port);
    let worst = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      assert.equal((await c.roundTrip(Buffer.from(`ping ${i}`))).toString(), `ping ${i}`);
      worst = Math.max(worst, performance.now() - t0);
    }
    assert.ok(worst < 1000, `slowest round trip beside the flood: ${worst.toFixed(0)} ms`);
    const t0 = performance.now();
    server.child.kill('SIGTERM');
    const r = await server.done;
    const stopMs = performance.now() - t0;
    flooding = false;
    flood.destroy();
    c.sock.destroy();
    assert.equal(r.code, 0, show(r));
    assert.ok(stopMs < 3000, `stopped ${stopMs.toFixed(0)} ms after SIGTERM`);
    assert.match(r.stdout, /iomux echo: SIGTERM: closed 2 open connections; served 2 connections/);
  });
}
