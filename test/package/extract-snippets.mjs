#!/usr/bin/env node
// Writes every ```ts block of the given Markdown files into DIR as its own module, with a
// strict tsconfig.json (compiling into DIR/out), so that the documentation's TypeScript is
// type-checked against the package as installed, and can be run. A block whose info string is `ts fragment` is left out (for
// excerpts that cannot stand alone).
//
//   node test/package/extract-snippets.mjs DIR FILE.md...
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const [dir, ...docs] = process.argv.slice(2);
if (!dir || docs.length === 0) {
  console.error('usage: extract-snippets.mjs DIR FILE.md...');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const files = [];
for (const doc of docs) {
  const text = readFileSync(doc, 'utf8');
  let n = 0;
  for (const m of text.matchAll(/^```(\S+)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const [, lang, rest, code] = m;
    if (lang !== 'ts' && lang !== 'typescript') continue;
    if (/\bfragment\b/.test(rest)) continue;
    const line = text.slice(0, m.index).split('\n').length;
    const name = `${basename(doc, '.md')}-${++n}-line${line}.ts`;
    writeFileSync(join(dir, name), `${code}\nexport {};\n`);
    files.push(name);
  }
}
writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
  compilerOptions: {
    module: 'NodeNext', target: 'ES2022', strict: true, rootDir: '.', outDir: 'out',
    noImplicitOverride: true, noFallthroughCasesInSwitch: true,
  },
  files,
}, null, 2));
console.log(`${files.length} TypeScript blocks from ${docs.join(', ')}`);
