// The five seed programs, rewritten in examples/, run as a user runs them: compiled by
// `tsc -p examples` into dist/examples/, started as child processes, checked by output.
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
