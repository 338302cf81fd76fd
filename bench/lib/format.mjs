/** Small formatting helpers shared by the benches: Markdown tables and numbers. */

/**
 * A Markdown table. `align` has one letter per column, `l` or `r`; by default the first
 * column is left-aligned and the others (numbers) right-aligned.
 */
export function table(head, rows, { align } = {}) {
  const widths = head.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => String(r[i]).length)));
  const left = (i) => (align ? align[i] === 'l' : i === 0);
  const line = (cells) => '| ' + cells.map((c, i) => (left(i) ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ') + ' |';
  const rule = '| ' + widths.map((w, i) => (left(i) ? '-'.repeat(w) : '-'.repeat(w - 1) + ':')).join(' | ') + ' |';
  return [line(head), rule, ...rows.map(line)].join('\n');
}

/** Nanoseconds, human-scaled: `412 ns`, `41.5 µs`, `1.35 ms`; `–` when missing. */
export function fmtNs(ns) {
  if (ns === undefined || ns === null || !Number.isFinite(ns)) return '–';
  if (ns < 1000) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** A ratio like `1.23x`; `–` when missing. */
export function fmtRatio(x) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '–';
  return `${x.toFixed(2)}x`;
}

/** Round trips per second: `126.4k`. */
export function fmtRate(x) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '–';
  return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0);
}
