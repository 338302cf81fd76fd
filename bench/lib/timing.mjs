/**
 * The careful loop behind bench/scale: the same method as bench/scale.py, so that the
 * iomux and CPython figures are comparable. Calibrate a batch size that takes about
 * `batchMs`, run `rounds` batches, report the median cost per call (and the best).
 *
 * The clock is the process's CPU time (user + system, `getrusage`), not wall time: the
 * calls never block (zero timeouts), so the two agree on an idle machine, but CPU time
 * leaves out the time the process spent preempted by other load on a shared machine.
 */

function cpuNs() {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/**
 * @param {() => unknown} fn       the call to time (called with no arguments).
 * @param {{ batchMs?: number, rounds?: number }} [opts]
 * @returns {{ ns: number, best: number, wallNs: number, iters: number, rounds: number }}
 */
export function measure(fn, { batchMs = 20, rounds = 7 } = {}) {
  // Warm up first: at least 30 ms of calls, so that the JIT has optimized the path and
  // background work (GC, compilation) has settled before anything is timed.
  const warmEnd = cpuNs() + Math.max(30, 2 * batchMs) * 1e6;
  while (cpuNs() < warmEnd) for (let i = 0; i < 64; i++) fn();
  // Then calibrate the batch size.
  let iters = 16;
  for (;;) {
    const t0 = cpuNs();
    for (let i = 0; i < iters; i++) fn();
    const ms = (cpuNs() - t0) / 1e6;
    if (ms >= batchMs / 2) {
      iters = Math.max(1, Math.round((iters * batchMs) / ms));
      break;
    }
    iters *= 2;
  }
  const samples = [];
  const walls = [];
  for (let r = 0; r < rounds; r++) {
    const w0 = process.hrtime.bigint();
    const t0 = cpuNs();
    for (let i = 0; i < iters; i++) fn();
    samples.push((cpuNs() - t0) / iters);
    walls.push(Number(process.hrtime.bigint() - w0) / iters);
  }
  samples.sort((a, b) => a - b);
  walls.sort((a, b) => a - b);
  return { ns: samples[samples.length >> 1], best: samples[0], wallNs: walls[walls.length >> 1], iters, rounds };
}
