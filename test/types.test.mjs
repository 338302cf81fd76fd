// The package's types as a TypeScript user meets them: a strict program that uses the
// selectors' generics, the Reactor with the default selector, the OSError classes and the
// address types must compile; a program with the mistakes those types exist to catch
// must not (on exactly its marked lines); and the declarations reachable from
// dist/index.d.ts say `any` nowhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'fixtures', 'types');
const tsc = join(root, 'node_modules', '.bin', 'tsc');

function compile(project) {
  const r = spawnSync(tsc, ['-p', join(fixtures, project), '--pretty', 'false', '--noEmit'], { encoding: 'utf8', cwd: root });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('a strict program using the typed selectors, Reactor, errors and addresses compiles', () => {
  const { status, out } = compile('tsconfig.json');
  assert.equal(out, '');
  assert.equal(status, 0);
});

test('a program with the mistakes the types catch does not compile, on exactly the marked lines', () => {
  const { status, out } = compile('tsconfig.bad.json');
  assert.notEqual(status, 0);
  const source = readFileSync(join(fixtures, 'bad.ts'), 'utf8').split('\n');
  const marked = source.flatMap((line, i) => (/\/\/ error$/.test(line) ? [i + 1] : []));
  assert.ok(marked.length >= 9, `only ${marked.length} marked lines`);
  const failed = [...new Set([...out.matchAll(/bad\.ts\((\d+),\d+\): error TS\d+/g)].map((m) => Number(m[1])))];
  assert.deepEqual(failed.sort((a, b) => a - b), marked, out);
});

test('no `any` in the declarations reachable from dist/index.d.ts', () => {
  const seen = new Set();
  const todo = [join(root, 'dist', 'index.d.ts')];
  const offenders = [];
  while (todo.length > 0) {
    const file = todo.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    text.split('\n').forEach((line, i) => {
      if (/\bany\b/.test(line)) offenders.push(`${file.slice(root.length + 1)}:${i + 1}: ${line.trim()}`);
    });
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)\.js'/g)) {
      const next = resolve(dirname(file), `${m[1]}.d.ts`);
      if (existsSync(next)) todo.push(next);
    }
  }
  assert.ok(seen.size > 20, `only ${seen.size} declaration files reached`);
  assert.deepEqual(offenders, []);
});
