/**
 * Builds the C io_uring echo server (cserver-uring.c, raw system calls over the kernel's
 * <linux/io_uring.h>, no liburing) into bench/.build/, like bench/lib/build.mjs builds the
 * others. Returns its path, or null with the reason logged when it cannot be built (no
 * <linux/io_uring.h>: install the kernel headers, e.g. Debian's linux-libc-dev).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILD_DIR, CC_FLAGS } from '../lib/build.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** @returns {string | null} the binary, or null when it could not be compiled */
export function buildUringServer(log = (s) => process.stderr.write(s + '\n')) {
  mkdirSync(BUILD_DIR, { recursive: true });
  const src = here + 'cserver-uring.c';
  const bin = BUILD_DIR + 'cserver-uring';
  if (existsSync(bin) && statSync(bin).mtimeMs >= statSync(src).mtimeMs) return bin;
  try {
    log(`  cc ${CC_FLAGS.join(' ')} -o bench/.build/cserver-uring bench/echo/cserver-uring.c`);
    execFileSync('cc', [...CC_FLAGS, '-o', bin, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    return bin;
  } catch (e) {
    const why = String(e.stderr ?? e.message).includes('io_uring.h')
      ? '<linux/io_uring.h> is missing (install the kernel headers, e.g. linux-libc-dev)'
      : String(e.stderr ?? e.message).trim().split('\n')[0];
    log(`  skipping the C io_uring server: ${why}`);
    return null;
  }
}
