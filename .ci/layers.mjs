#!/usr/bin/env node
// The layer check (`npm run lint:layers`): dependency-cruiser with the rules of
// .dependency-cruiser.cjs over the import graph of src/, type-only imports included.
//
// dependency-cruiser cannot parse TypeScript 7 sources, so the graph is built in two steps
// in node_modules/.cache/iomux-layers/src/ (a fresh tree each run, so no output of a
// deleted source lingers, as it does in dist/):
// 1. tsc compiles src/ there: the runtime imports, exactly as Node loads them;
// 2. each compiled file gets one bare `import '…'` line per type-only import of its source
//    (`import type`, `export type … from`, `import { type X }`, `import('…')` types), which
//    compilation erased: a type-only import still ties one layer to another, and a cycle
//    through types is still a cycle for whoever reads or moves the code.
// Extra arguments go to dependency-cruiser (e.g. `-- -T text`).
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(root, 'node_modules/.cache/iomux-layers/src');

function run(cmd, args) {
  const r = spawnSync(process.execPath, [cmd, ...args], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

rmSync(OUT, { recursive: true, force: true });
run(join(root, 'node_modules/typescript/bin/tsc'),
  ['-p', 'tsconfig.json', '--outDir', OUT, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false']);

const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(join(dir, e.name)) : /(?<!\.d)\.ts$/.test(e.name) ? [join(dir, e.name)] : []);

/** The specifiers of a source's type-only imports (comments removed first). */
function typeImports(source) {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs = new Set();
  const patterns = [
    /^\s*(?:import|export)\s+type\b[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm, // import type / export type … from
    /^\s*import\s*\{[^}]*\btype\s[^}]*\}\s*from\s*['"]([^'"]+)['"]/gm, // import { type X, … } from
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g, // import('…') in a type (or a dynamic import)
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.add(m[1]);
  return specs;
}

const src = join(root, 'src');
for (const file of walk(src)) {
  const specs = typeImports(readFileSync(file, 'utf8'));
  if (specs.size === 0) continue;
  const compiled = join(OUT, file.slice(src.length + 1).replace(/\.ts$/, '.js'));
  appendFileSync(compiled, [...specs].map((s) => `import '${s}'; // type-only in the source\n`).join(''));
}

run(join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'),
  ['src', '--config', '.dependency-cruiser.cjs', ...process.argv.slice(2)]);
