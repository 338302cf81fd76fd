/**
 * The io_uring rows of bench/echo: the C io_uring server (compiled at bench time, skipped
 * with a logged reason when the kernel headers are missing), `iomux echo --mode uring`
 * (a Proactor inside Node's loop), `iomux echo --mode uring-blocking` (`Proactor#run()`
 * on a worker thread) and the bench script's Proactor inside Node's loop.
 * Rows are left out, with a logged reason, where io_uring is unavailable.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { buildUringServer } from './uring-build.mjs';

let cached;

/** The rows, in the shape of run-echo.mjs's serverList entries. */
export function uringRows({ hasCli, node, root, CLI }, log = (s) => process.stderr.write(s + '\n')) {
  if (cached) return cached;
  cached = [];
  let support = { supported: false, reason: 'dist/ is not built (npm run build)' };
  if (existsSync(root + 'dist/uring/proactor.js')) {
    // Probe in a child: this module is loaded synchronously by the server list.
    try {
      const out = execFileSync(node, ['--input-type=module', '-e',
        `const m = await import(${JSON.stringify(root + 'dist/index.js')}); process.stdout.write(JSON.stringify(m.uringSupport()));`],
      { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
      support = JSON.parse(out);
    } catch (e) {
      support = { supported: false, reason: `the io_uring probe failed: ${e.message.split('\n')[0]}` };
    }
  }
  const cbin = buildUringServer(log);
  if (cbin) cached.push({ id: 'c-uring', label: 'C io_uring server (raw syscalls, multishot)', short: 'C io_uring server', group: 'peer', cmd: (port) => [cbin, [String(port)]] });
  if (!support.supported) {
    log(`  skipping the iomux io_uring rows: ${support.reason}`);
    return cached;
  }
  if (hasCli) {
    cached.push({ id: 'uring', label: 'iomux Proactor, io_uring in Node\'s loop (`iomux echo --mode uring`)', short: 'iomux io_uring', group: 'iomux',
      cmd: (port) => [node, [CLI, 'echo', '--port', String(port), '--mode', 'uring']] });
  }
  cached.push(hasCli
    ? { id: 'uring-blocking', label: 'iomux Proactor, blocking `run()` on a worker (`iomux echo --mode uring-blocking`)', short: 'iomux io_uring, blocking', group: 'iomux',
      cmd: (port) => [node, [CLI, 'echo', '--port', String(port), '--mode', 'uring-blocking']] }
    : { id: 'uring-blocking', label: 'iomux Proactor, blocking `run()` (bench script)', short: 'io_uring, blocking run()', group: 'extra',
      cmd: (port) => [node, [root + 'bench/echo/iomux-uring-server.mjs', String(port), 'blocking']] });
  cached.push({ id: 'uring-loop', label: 'iomux Proactor in Node\'s loop (bench script)', short: 'io_uring, loop script', group: 'extra',
    cmd: (port) => [node, [root + 'bench/echo/iomux-uring-server.mjs', String(port), 'loop']] });
  return cached;
}

