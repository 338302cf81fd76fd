/**
 * The careful loop behind bench/scale: the same method as bench/scale.py, so that the
 * iomux and CPython figures are comparable. Calibrate a batch size that takes about
 * `batchMs`, run `rounds` batches, report the median ns per call (and the best).
 */

/**
 * @param {() => unknown} fn       the call to time (called with no arguments).
 * @param {{ batchMs?: number, rounds?: number }} [opts]
 * @returns {{ ns: number, best: number, iters: number, rounds: number }}
 */
export function measure(fn, { batchMs = 20, rounds = 7 } = {}) {
  // Warm up (lets the JIT settle) and calibrate the batch size at the same time.
  let iters = 16;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= batchMs / 2) {
      iters = Math.max(1, Math.round((iters * batchMs) / ms));
      break;
    }
    iters *= 2;
  }
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / iters);
  }
  samples.sort((a, b) => a - b);
  return { ns: samples[samples.length >> 1], best: samples[0], iters, rounds };
}
