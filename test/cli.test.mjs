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
import { guardFds } from './helpers/fds.mjs';

guardFds();

const root = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(root, 'dist/cli/main.js');

/**
 * Starts `iomux ...args`; returns { child, done } where done resolves to
 * { code, signal, stdout, stderr } once it exits (killed after `timeout` ms).
 */
function start(args, { input, timeout = 30000, env, cwd = root } = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], {
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
  for (const c of ['copy', 'echo', 'demo']) {
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
    [['copy', join(dir, 'missing'), join(dir, 'out')], 1, /^iomux copy: ENOENT: no such file or directory, open '.*missing'\n$/],
  ];
  for (const [args, code, re] of cases) {
    const r = await iomux(args);
    assert.equal(r.code, code, show(r));
    assert.match(r.stderr, re);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${JSON.stringify(r.stderr)}`);
  }
  assert.equal(fs.existsSync(join(dir, 'out')), false, 'nothing created when a source is missing');
});
