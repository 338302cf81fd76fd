#!/usr/bin/env node
// Checks an unpacked iomux tarball (the `package/` folder `npm pack` makes) as a user
// meets it: the files every entry point names exist, nothing from the repository's
// tooling is shipped, every source map's sources are in the tarball, and every relative
// link in a shipped Markdown file resolves to a shipped file.
//
//   node test/package/check-tarball.mjs DIR
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '');
if (!existsSync(join(root, 'package.json'))) {
  console.error(`usage: check-tarball.mjs DIR (DIR/package.json not found: ${root})`);
  process.exit(2);
}
const problems = [];
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
const files = walk(root).map((f) => relative(root, f));
const shipped = new Set(files);

// Entry points named by package.json.
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})];
const collect = (v) => {
  if (typeof v === 'string') targets.push(v);
  else if (v && typeof v === 'object') Object.values(v).forEach(collect);
};
collect(pkg.exports);
for (const t of targets) {
  if (!shipped.has(t.replace(/^\.\//, ''))) problems.push(`package.json names ${t}, not in the tarball`);
}
const dot = pkg.exports?.['.'] ?? {};
for (const cond of ['import', 'require', 'default']) {
  if (!(cond in dot)) problems.push(`exports["."] has no "${cond}" condition`);
  else if (!('types' in dot) && typeof dot[cond]?.types !== 'string') {
    problems.push(`exports["."].${cond} has no types`);
  }
}
if (!pkg.scripts?.prepack) problems.push('package.json has no prepack script');
for (const f of ['LICENSE', 'README.md']) if (!shipped.has(f)) problems.push(`${f} is not in the tarball`);

// What must not ship.
for (const f of files) {
  if (/^(test|bench|\.ci|node_modules|dist\/examples)\//.test(f) || /^docs\/(api|typedoc)\//.test(f)) {
    problems.push(`${f} is shipped`);
  }
}

// Source maps: every source they name is shipped.
for (const f of files.filter((f) => f.endsWith('.map'))) {
  const map = JSON.parse(readFileSync(join(root, f), 'utf8'));
  if (Array.isArray(map.sourcesContent) && map.sourcesContent.every((s) => typeof s === 'string')) continue;
  for (const s of map.sources ?? []) {
    const p = relative(root, resolve(root, dirname(f), map.sourceRoot ?? '', s));
    if (!shipped.has(p)) problems.push(`${f} names source ${s}, not in the tarball`);
  }
}

// Markdown links: [text](target) and ![alt](target), relative ones only.
for (const f of files.filter((f) => f.endsWith('.md'))) {
  const text = readFileSync(join(root, f), 'utf8').replace(/```[\s\S]*?```/g, '');
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue;
    const path = decodeURIComponent(target.split('#')[0]);
    const p = relative(root, resolve(root, dirname(f), path));
    const ok = shipped.has(p) || files.some((x) => x.startsWith(`${p}/`));
    if (!ok) problems.push(`${f} links ${target}, not in the tarball`);
  }
}

// Words from the project's own making that users cannot follow (reported, not failed on,
// unless --strict-words is given).
const notes = [];
const words = /\bseeds?\b|\bSPEC(?:\.md)?\b|\bhelper [A-Z]\b|\bissue \d+/;
for (const f of files.filter((f) => /\.(md|ts|cts)$/.test(f) && !/^dist\/.*\.js$/.test(f))) {
  readFileSync(join(root, f), 'utf8').split('\n').forEach((line, i) => {
    if (words.test(line)) notes.push(`${f}:${i + 1}: ${line.trim().slice(0, 110)}`);
  });
}
if (notes.length > 0) {
  const list = process.argv.includes('--strict-words') ? problems : console.warn(
    `tarball check: warning: ${notes.length} line(s) speak of how the package was made:`) ?? [];
  for (const n of notes) {
    if (list === problems) problems.push(n);
    else console.warn(`  ${n}`);
  }
}

if (problems.length > 0) {
  console.error(`tarball check: ${problems.length} problem(s)`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`tarball check: ${files.length} files, entry points, source maps and links ok`);
