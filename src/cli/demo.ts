/**
 * `iomux demo` (what `npm start` runs): starts `iomux echo` servers on loopback, one per
 * backend (select, poll and epoll blocking loops, and the Reactor inside Node's loop),
 * plus a Node `net` echo server for comparison, each as a child process; drives each
 * with the same fleet of ping-pong clients in several short rounds taken in turn; and
 * prints each server's median round trips per second, the spread of its rounds, its
 * ratio to node:net, and how noisy the machine was. A live progress line goes to stderr.
 * Nothing to set up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parse, numberOption, stringOption } from './args.js';
import { Progress } from './progress.js';
import { runFleet } from './demo-fleet.js';

const HELP = `Usage: iomux demo [--seconds S] [--rounds R] [--connections N] [--size BYTES] [--host H]

Starts an iomux echo server for each backend (select, poll, epoll blocking
loops, and the Reactor inside Node's event loop), and a Node 'net' echo server
for comparison, as child processes on loopback. A fleet of clients plays
ping-pong with each server in turn, in several short rounds; the table gives
each server's median round trips per second, how far its rounds strayed from
that median, and its ratio to node:net, and a last line says how noisy the
machine was during the run. Progress goes to stderr.

Options:
  --seconds S       measuring time per server, split into the rounds
                    (default 3; each round has a short warm-up first)
  --rounds R        rounds per server, 1-100 (default 5)
  --connections N   clients in the fleet, 1-500 (default 50)
  --size BYTES      message size, 1-1048576 (default 1000)
  --host H          loopback address to use (default 127.0.0.1; or ::1)
  -h, --help        show this help
`;

interface Row {
  label: string;
  note: string;
  /** Arguments after `iomux echo`, or null for the Node `net` server. */
  echoArgs: string[] | null;
}

const ROWS: Row[] = [
  { label: 'select', note: 'blocking loop, SelectSelector', echoArgs: ['--mode', 'blocking', '--backend', 'select'] },
  { label: 'poll', note: 'blocking loop, PollSelector', echoArgs: ['--mode', 'blocking', '--backend', 'poll'] },
  { label: 'epoll', note: 'blocking loop, EpollSelector', echoArgs: ['--mode', 'blocking', '--backend', 'epoll'] },
  { label: 'Reactor', note: "epoll fd watched by Node's own loop", echoArgs: ['--mode', 'reactor'] },
  { label: 'node:net', note: 'for comparison: Node\'s own sockets', echoArgs: null },
];

/** Node's idiomatic echo server, for comparison; prints the same first line as iomux echo. */
const NODE_NET_SERVER = `
const net = require('node:net');
const server = net.createServer((c) => { c.setNoDelay(true); c.on('data', (d) => c.write(d)); c.on('error', () => {}); });
server.listen(0, process.argv[1], () => {
  const a = server.address();
  process.stdout.write('node:net echo listening on ' + (a.family === 'IPv6' ? '[' + a.address + ']' : a.address) + ':' + a.port + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
`;

interface Server {
  child: ChildProcess;
  host: string;
  port: number;
  stderr: () => string;
}

/** Starts one server as a child process and waits for its "listening on HOST:PORT" line. */
async function startServer(row: Row, host: string): Promise<Server> {
  const main = fileURLToPath(new URL('./main.js', import.meta.url));
  const args = row.echoArgs
    ? [main, 'echo', '--port', '0', '--host', host, ...row.echoArgs]
    : ['-e', NODE_NET_SERVER, host];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const listening = new Promise<Server>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (?:\[([^\]]+)\]|([^\s:]+)):(\d+)/.exec(out);
      if (m) resolve({ child, host: (m[1] ?? m[2])!, port: Number(m[3]), stderr: () => err });
    });
    child.on('exit', (code, signal) => reject(new Error(
      `the ${row.label} server exited (${signal ?? code}) before listening: ${err.trim().split('\n')[0] ?? ''}`)));
    child.on('error', reject);
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 15000);
  try {
    return await listening;
  } finally {
    clearTimeout(timeout);
  }
}

/** Stops a server with SIGTERM; resolves to its exit status (null if it had to be killed). */
async function stopServer(s: Server): Promise<number | null> {
  if (s.child.exitCode !== null) return s.child.exitCode;
  const exited = once(s.child, 'exit');
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 5000);
  const [code] = (await exited) as [number | null];
  clearTimeout(timer);
  return code;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The median of `xs` (not empty). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** How far the rounds strayed from their median: the larger distance, as a fraction of it. */
export function spread(xs: readonly number[]): number {
  const m = median(xs);
  return m > 0 ? Math.max(m - Math.min(...xs), Math.max(...xs) - m) / m : 0;
}

const pct = (f: number): string => `±${(f * 100).toFixed(f < 0.1 ? 1 : 0)}%`;

/** `text` in lines of at most `width` characters, broken at spaces. */
function wrap(text: string, width = 86): string {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur !== '' && cur.length + 1 + word.length > width) {
      lines.push(cur);
      cur = word;
    } else {
      cur = cur === '' ? word : `${cur} ${word}`;
    }
  }
  return [...lines, cur].join('\n');
}

/** One server's results over the rounds. */
interface Result {
  row: Row;
  server?: Server;
  /** Round trips per second, one per round completed. */
  rates: number[];
  exit: number | null;
  error?: string;
}

/** Runs `iomux demo`; resolves to the exit status. */
export async function runDemo(argv: string[]): Promise<number> {
  const p = parse(argv, {
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    size: { type: 'string' },
    host: { type: 'string' },
  }, false);
  if (p.values['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  const seconds = numberOption(p, 'seconds', 3, 0.05, 600, false);
  const rounds = numberOption(p, 'rounds', 5, 1, 100);
  const connections = numberOption(p, 'connections', 50, 1, 500);
  const size = numberOption(p, 'size', 1000, 1, 1 << 20);
  const host = stringOption(p, 'host', '127.0.0.1');
  const slice = seconds / rounds;
  const warmup = Math.round(Math.min(0.2, slice / 4) * 1000) / 1000;

  process.stdout.write(`iomux demo: ${connections} clients on ${host}, ${size}-byte messages, ping-pong, `
    + `${rounds} round${rounds === 1 ? '' : 's'} of ${+slice.toFixed(3)} s per server (each after a ${warmup} s warm-up)\n\n`);
  const progress = new Progress();
  const results: Result[] = ROWS.map((row) => ({ row, rates: [], exit: null }));
  try {
    // Every server up first (an idle one costs nothing), so that the rounds can take
    // turns: a burst of load from elsewhere on the machine then hits every server's
    // median alike instead of one server's only figure.
    for (const [i, r] of results.entries()) {
      progress.update(`demo: starting the ${r.row.label} server [${i + 1}/${ROWS.length}]…`, true);
      try {
        r.server = await startServer(r.row, host);
      } catch (e) {
        r.error = (e as Error).message.split('\n')[0];
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < results.length; k++) {
        // Each round starts with another server, so none is always first or last.
        const r = results[(k + round) % results.length]!;
        if (r.server === undefined || r.error !== undefined) continue;
        const step = `round ${round + 1}/${rounds}, ${r.row.label}`;
        try {
          const f = runFleet(r.server.host, r.server.port, connections, size, warmup, slice, (trips, elapsed) => {
            progress.update(elapsed >= 0.05
              ? `demo ${step}: ${elapsed.toFixed(1)}/${+slice.toFixed(2)} s, ${fmt(trips / elapsed)} round trips/s`
              : `demo ${step}: warming up…`);
          });
          r.rates.push(f.roundTrips / f.seconds);
        } catch (e) {
          r.error = (e as Error).message.split('\n')[0];
        }
      }
    }
  } finally {
    for (const r of results) if (r.server !== undefined) r.exit = await stopServer(r.server);
    progress.clear();
  }

  const base = results.find((r) => r.row.echoArgs === null);
  const ok = (r: Result): boolean => r.error === undefined && r.rates.length > 0;
  const cells = results.map((r) => {
    if (!ok(r)) return [r.row.label, r.row.note, 'failed', '', '', ''];
    let ratio = '';
    let range = '';
    if (base !== undefined && ok(base) && base.rates.length === r.rates.length) {
      // Ratios of the same round: both servers ran under the same conditions.
      const ratios = r.rates.map((x, i) => x / base.rates[i]!);
      ratio = `${median(ratios).toFixed(2)}x`;
      if (r !== base && ratios.length > 1) range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    }
    return [r.row.label, r.row.note, fmt(median(r.rates)), pct(spread(r.rates)), ratio, range];
  });
  const head = ['server', 'how', 'round trips/s', 'spread', 'vs node:net', 'range'];
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    `${c[0]!.padEnd(w[0]!)}  ${c[1]!.padEnd(w[1]!)}  ${c[2]!.padStart(w[2]!)}  ${c[3]!.padStart(w[3]!)}  ${c[4]!.padStart(w[4]!)}  ${c[5]!.padStart(w[5]!)}`.trimEnd();
  const lines = [line(head), line(w.map((n) => '-'.repeat(n)))];
  let failed = 0;
  for (const [i, r] of results.entries()) {
    const good = ok(r) && r.exit === 0;
    if (!good) failed++;
    lines.push(line(cells[i]!) + (r.error !== undefined ? `  (${r.error})` : r.exit !== 0 ? `  (server exit ${r.exit})` : ''));
  }

  const spreads = results.filter((r) => ok(r) && r.rates.length > 1).map((r) => ({ r, s: spread(r.rates) }));
  let noise: string;
  if (spreads.length === 0) {
    noise = 'One round each: run with --rounds 3 or more to see how noisy the machine is.';
  } else {
    const typical = median(spreads.map((x) => x.s));
    const worst = spreads.reduce((a, b) => (b.s > a.s ? b : a));
    const kind = typical < 0.05 ? 'quiet' : typical < 0.15 ? 'somewhat noisy' : 'noisy';
    noise = wrap(`Noise: the machine was ${kind}. A server's rounds strayed from its median by `
      + `${pct(typical)} (the median over the servers; at most ${pct(worst.s)}, ${worst.r.row.label}), so `
      + `ratios closer than about ${pct(typical)} are a tie on this run.`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`
    + `round trips/s: the median of the ${rounds} round${rounds === 1 ? '' : 's'}; spread: how far the rounds strayed from it;\n`
    + 'vs node:net: the median of the ratios taken round by round, and their range.\n'
    + `${noise}\n\n`
    + 'Each server ran as a child process (iomux echo --port 0 ...; stopped with SIGTERM);\n'
    + 'the clients are one iomux EpollSelector loop in this process, so on a small machine\n'
    + 'they share the CPU with the server: compare the rows, not the absolute numbers.\n');
  return failed === 0 ? 0 : 1;
}
