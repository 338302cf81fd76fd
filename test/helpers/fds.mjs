// Open-fd leak guard: call guardFds() at the top of a test file. It records which fds
// are open before the file's tests and fails the file if any fd opened since is still
// open afterwards, naming what each one points to. An fd that disappeared is not a
// leak (Node closes some of its own lazily), so only new fds count.
import { readdirSync, readlinkSync } from 'node:fs';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';

/** The open fds of this process, from /proc/self/fd (without the listing's own fd). */
export function openFds() {
  const fds = new Set(readdirSync('/proc/self/fd').map(Number));
  // readdirSync opened one directory fd while listing, closed by now: drop the stale ones.
  for (const fd of fds) {
    try { readlinkSync(`/proc/self/fd/${fd}`); } catch { fds.delete(fd); }
  }
  return fds;
}

/** Number of open fds of this process. */
export function fdCount() {
  return openFds().size;
}

function describe(fd) {
  try { return `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`; } catch { return `${fd}`; }
}

/** Registers before/after hooks that fail the file when fds leak. */
export function guardFds() {
  let start = new Set();
  const leaked = () => [...openFds()].filter((fd) => !start.has(fd));
  before(() => { start = openFds(); });
  after(async () => {
    // Give Node's own handles (closed asynchronously) a moment to settle.
    for (let i = 0; i < 20 && leaked().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(leaked().map(describe), [], 'fds opened by the tests and still open');
  });
}
