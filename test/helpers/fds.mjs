// Open-fd leak guard: call guardFds() at the top of a test file. It records the number
// of open fds before the file's tests and fails the file if it differs afterwards.
import { readdirSync } from 'node:fs';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';

/** Number of open fds of this process, from /proc/self/fd. */
export function fdCount() {
  // readdirSync opens and closes one directory fd while listing; it appears in the list.
  return readdirSync('/proc/self/fd').length - 1;
}

/** Registers before/after hooks that fail the file when fds leak. */
export function guardFds() {
  let start = 0;
  before(() => { start = fdCount(); });
  after(async () => {
    // Give Node's own handles (closed asynchronously) a moment to settle.
    for (let i = 0; i < 20 && fdCount() !== start; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(fdCount(), start, `open fds before the tests: ${start}, after: ${fdCount()}`);
  });
}
