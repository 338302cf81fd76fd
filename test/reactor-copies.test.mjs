// Two copies of the package in one process (two versions in node_modules, or a bundled
// copy beside an installed one) load and run side by side: nothing they declare to the
// FFI is process-wide.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iomux-copy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a second copy of the package loads beside the first, and both Reactors run', async () => {
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  const first = await import(join(root, 'dist/index.js'));
  const second = await import(join(dir, 'dist/index.js'));
  assert.notEqual(first.Reactor, second.Reactor);
  for (const m of [first, second]) {
    const reactor = new m.Reactor();
    const [r, w] = m.os.pipe();
    try {
      const ready = reactor.readable(r, { timeout: 5000 });
      m.os.write(w, Buffer.from('x'));
      await ready;
    } finally {
      reactor.close();
      m.os.close(r);
      m.os.close(w);
    }
  }
});
