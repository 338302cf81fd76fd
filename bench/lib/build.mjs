/**
 * Compiles the C tools of bench/echo (the load generator and the C echo server) with the
 * system `cc` into bench/.build/ (gitignored). Rebuilds only when a source is newer.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
export const BUILD_DIR = benchDir + '.build/';

/** The exact compiler command line used, for the docs. */
export const CC_FLAGS = ['-O2', '-Wall', '-Wextra'];

/**
 * Builds `loadgen` and `cserver`; returns their paths and the compiler's version line.
 * @throws Error naming the missing compiler when `cc` is not installed.
 */
export function buildTools(log = (s) => process.stderr.write(s + '\n')) {
  mkdirSync(BUILD_DIR, { recursive: true });
  let version;
  try {
    version = execFileSync('cc', ['--version'], { encoding: 'utf8' }).split('\n')[0].trim();
  } catch {
    throw new Error('bench/echo needs a C compiler: `cc` was not found on PATH (install gcc or clang)');
  }
  const out = {};
  for (const name of ['loadgen', 'cserver']) {
    const src = `${benchDir}echo/${name}.c`;
    const bin = BUILD_DIR + name;
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      log(`  cc ${CC_FLAGS.join(' ')} -o bench/.build/${name} bench/echo/${name}.c`);
      execFileSync('cc', [...CC_FLAGS, '-o', bin, src], { stdio: ['ignore', 'inherit', 'inherit'] });
    }
    out[name] = bin;
  }
  return { ...out, cc: version };
}
