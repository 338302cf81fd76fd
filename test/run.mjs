#!/usr/bin/env node
// Runs the node:test suites: every test/**/*.test.mjs, or those whose path contains one
// of the arguments (`node test/run.mjs selectors reactor`). Each file runs in its own
// process, and each guards its own open-fd count (see helpers/fds.mjs).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.test.mjs') ? [join(dir, e.name)] : []);
const filters = process.argv.slice(2);
const files = walk(root).sort().filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
console.log(`# node ${process.version}, IOMUX_SELECTOR=${process.env.IOMUX_SELECTOR ?? '(default)'}, ${files.length} files`);
const r = spawnSync(process.execPath, ['--test', '--test-timeout=120000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
