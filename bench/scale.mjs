/**
 * bench/scale: the cost of one readiness call with N idle fds plus one ready fd, for
 * iomux's `select()`, `Poll#poll`, `Epoll#poll` and `EpollSelector#select`, beside
 * CPython's `select.select`, `select.poll`, `select.epoll` and `selectors.EpollSelector`
 * doing the same work (bench/scale.py, run as a child process afterwards, never at the
 * same time).
 *
 * Idle fds: both ends of AF_UNIX socketpairs, watched for reading, never written to.
 * The ready fd: the read end of one more socketpair holding one unread byte, last in
 * every list. Every call uses a zero timeout and must report exactly one ready fd.
 *
 * Usage: node bench/scale.mjs [--quick] [--json]    (build first: npx tsc -p .)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as iomux from 'iomux';
import * as libc from '../dist/sys/libc.js';
import { measure } from './lib/timing.mjs';
import { table, fmtNs, fmtRatio } from './lib/format.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const FD_SETSIZE = 1024;

/**
 * The pairs compared: iomux API → CPython API, and for select/poll the same CPython API
 * measured with a second thread alive (Node always has threads; see bench/scale.py).
 */
export const PAIRS = [
  ['select()', 'select.select', 'select.select+thread'],
  ['Poll#poll', 'select.poll', 'select.poll+thread'],
  ['Epoll#poll', 'select.epoll'],
  ['EpollSelector#select', 'selectors.EpollSelector'],
];

function socketpair() {
  const sv = new Int32Array(2);
  if (libc.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    throw new Error(`socketpair failed (errno ${libc.errno()}): is the open-file limit below ${20000}?`);
  }
  return [sv[0], sv[1]];
}

/**
 * Runs the iomux side, then the CPython side.
 * @param {{ quick?: boolean, log?: (s: string) => void }} [opts]
 * @returns {Promise<{ ns: number[], selectMax: number, iomux: Record<string, Record<string, {ns:number,best:number}>>, python: Record<string, Record<string, {ns:number,best:number}>>, pythonVersion: string, notes: string[] }>}
 */
export async function runScale({ quick = false, log = (s) => process.stderr.write(s + '\n') } = {}) {
  const ns = [10, 100, 1000, 10000];
  const selectMax = 1000;
  const timing = quick ? { batchMs: 10, rounds: 5 } : { batchMs: 25, rounds: 7 };
  const notes = [];
  const biggest = Math.max(...ns);

  const [readyR, readyW] = socketpair();
  libc.write(readyW, Buffer.from('x'), 1);
  const all = [readyR, readyW];
  const idle = [];
  try {
    while (idle.length < biggest) {
      const [a, b] = socketpair();
      all.push(a, b);
      idle.push(a, b);
    }
    const results = {};
    const record = (api, n, fn, count) => {
      const got = count();
      if (got !== 1) throw new Error(`${api} with N=${n} reported ${got} ready fds, expected 1`);
      const m = measure(fn, timing);
      (results[api] ??= {})[n] = { ns: m.ns, best: m.best };
      log(`  iomux  ${api.padEnd(22)} N=${String(n).padEnd(6)} ${m.ns.toFixed(0)} ns/call`);
    };
    const hasSelectors = typeof iomux.EpollSelector === 'function';
    if (!hasSelectors) notes.push('EpollSelector is not in this build yet: its row is empty.');
    for (const n of ns) {
      const fds = idle.slice(0, n).concat(readyR);
      if (n <= selectMax) {
        // select() needs every fd below FD_SETSIZE; the process's own fds come first, so
        // at N=1000 a runtime that opens many at start-up may leave room for a few less.
        const fit = fds.filter((fd) => fd < FD_SETSIZE);
        if (fit.length < fds.length) {
          notes.push(`select() at N=${n} watched ${fit.length - 1} idle fds: the others were numbered >= FD_SETSIZE in this process.`);
        }
        const none = [];
        record('select()', n, () => iomux.select(fit, none, none, 0), () => iomux.select(fit, none, none, 0)[0].length);
      }

      const p = new iomux.Poll();
      for (const fd of fds) p.register(fd, iomux.POLLIN);
      record('Poll#poll', n, () => p.poll(0), () => p.poll(0).length);

      const ep = new iomux.Epoll();
      for (const fd of fds) ep.register(fd, iomux.EPOLLIN);
      record('Epoll#poll', n, () => ep.poll(0), () => ep.poll(0).length);
      ep.close();

      if (hasSelectors) {
        const es = new iomux.EpollSelector();
        for (const fd of fds) es.register(fd, iomux.EVENT_READ);
        record('EpollSelector#select', n, () => es.select(0), () => es.select(0).length);
        es.close();
      }
    }
    for (const fd of all) libc.close(fd);
    all.length = 0;

    log('  running the CPython side (bench/scale.py)...');
    let py = { results: {}, python: 'not run' };
    try {
      const out = execFileSync('python3', [here + 'scale.py', JSON.stringify({ ns, selectMax, ...timing })], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 24,
      });
      py = JSON.parse(out);
    } catch (e) {
      // No python3 (or it failed): keep iomux's figures, leave the CPython rows empty.
      log(`  CPython side failed: ${e.message.split('\n')[0]}`);
      notes.push(`The CPython side did not run (${e.code === 'ENOENT' ? 'python3 not found' : 'bench/scale.py failed'}): its rows are empty.`);
    }
    return { ns, selectMax, iomux: results, python: py.results, pythonVersion: py.python, notes };
  } finally {
    for (const fd of all) libc.close(fd);
  }
}

/**
 * Renders the results as a Markdown table: ns/call for each side and N, and how many
 * times faster iomux is than CPython (> 1: iomux faster).
 */
export function scaleTable(r) {
  const head = ['API (iomux vs CPython)', ...r.ns.map((n) => `N=${n}`)];
  const rows = [];
  const ratio = (ours, theirs, n) => {
    const a = r.iomux[ours]?.[n]?.ns;
    const b = r.python[theirs]?.[n]?.ns;
    return a && b ? `**${fmtRatio(b / a)}**` : '–';
  };
  for (const [ours, theirs, threaded] of PAIRS) {
    rows.push([`iomux \`${ours}\``, ...r.ns.map((n) => fmtNs(r.iomux[ours]?.[n]?.ns))]);
    rows.push([`CPython \`${theirs}\``, ...r.ns.map((n) => fmtNs(r.python[theirs]?.[n]?.ns))]);
    rows.push(['iomux speed-up', ...r.ns.map((n) => ratio(ours, theirs, n))]);
    if (threaded) {
      rows.push([`CPython \`${theirs}\`, 2nd thread alive`, ...r.ns.map((n) => fmtNs(r.python[threaded]?.[n]?.ns))]);
      rows.push(['iomux speed-up (like for like)', ...r.ns.map((n) => ratio(ours, threaded, n))]);
    }
  }
  return table(head, rows);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const quick = process.argv.includes('--quick');
  const r = await runScale({ quick });
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else console.log(scaleTable(r));
}
