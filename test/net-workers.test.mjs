// Multi-core serving with SO_REUSEPORT: the reuseport-workers example (N worker threads,
// each with its own Reactor and a createServer(..., { reusePort: true }) listener on one
// port) echoes every connection, and the kernel spreads them over the workers.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const root = fileURLToPath(new URL('..', import.meta.url));

before(() => {
  const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'examples')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc -p examples failed:\n${r.stdout}${r.stderr}`);
});

test('reuseport-workers: 3 workers on one port serve 60 connections between them', () => {
  const r = spawnSync(process.execPath, [join(root, 'dist/examples/reuseport-workers.js'), '3', '60'],
    { encoding: 'utf8', timeout: 60000, env: { ...process.env, FORCE_COLOR: '0' } });
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /main: 60 of 60 echoes correct/);
  const served = [...r.stdout.matchAll(/worker (\d): served (\d+) connections/g)].map((m) => Number(m[2]));
  assert.equal(served.length, 3);
  assert.equal(served.reduce((a, b) => a + b, 0), 60);
  // Each worker's share is random (a hash of the 4-tuple): all 60 on one worker has odds of 3 / 3^60.
  assert.ok(served.filter((n) => n > 0).length >= 2, `the kernel spreads connections: ${served}`);
});
