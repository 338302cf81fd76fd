/**
 * `iomux demo` (what `npm start` runs): starts `iomux echo` servers on loopback, one per
 * backend (select, poll and epoll blocking loops, and the Reactor inside Node's loop),
 * plus a Node `net` echo server for comparison, each as a child process; drives each
 * with the same fleet of ping-pong clients for a few seconds; and prints round trips per
 * second in a table. A live progress line goes to stderr. Nothing to set up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parse, numberOption, stringOption } from './args.js';
import { Progress } from './progress.js';
import { runFleet } from './demo-fleet.js';

const HELP = `Usage: iomux demo [--seconds S] [--connections N] [--size BYTES]

Starts an iomux echo server for each backend (select, poll, epoll blocking
loops, and the Reactor inside Node's event loop), and a Node 'net' echo server
for comparison, one at a time as child processes on loopback. A fleet of
clients plays ping-pong with each, and a table of round trips per second is
printed at the end. Progress goes to stderr.

Options:
  --seconds S       measuring time per server (default 3; a short warm-up
                    comes first)
  --connections N   clients in the fleet (default 50)
  --size BYTES      message size (default 1000)
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

/** Runs `iomux demo`; resolves to the exit status. */
export async function runDemo(argv: string[]): Promise<number> {
  const p = parse(argv, {
    seconds: { type: 'string' },
    connections: { type: 'string' },
    size: { type: 'string' },
    host: { type: 'string' },
  }, false);
  if (p.values['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  const seconds = numberOption(p, 'seconds', 3, 0.05, 600, false);
  const connections = numberOption(p, 'connections', 50, 1, 500);
  const size = numberOption(p, 'size', 1000, 1, 1 << 20);
  const host = stringOption(p, 'host', '127.0.0.1');
  const warmup = Math.min(0.5, seconds / 5);

  process.stdout.write(`iomux demo: ${connections} clients on ${host}, ${size}-byte messages, ping-pong, `
    + `${seconds} s per server (after a ${warmup} s warm-up)\n\n`);
  const progress = new Progress();
  const results: Array<{ row: Row; rate: number; exit: number | null; error?: string }> = [];
  for (const [i, row] of ROWS.entries()) {
    const step = `[${i + 1}/${ROWS.length}] ${row.label}`;
    progress.update(`demo ${step}: starting the server…`, true);
    let server: Server | undefined;
    try {
      server = await startServer(row, host);
      const r = runFleet(server.host, server.port, connections, size, warmup, seconds, (trips, elapsed) => {
        progress.update(elapsed >= 0.05
          ? `demo ${step}: ${elapsed.toFixed(1)}/${seconds} s, ${fmt(trips / elapsed)} round trips/s`
          : `demo ${step}: warming up…`);
      });
      const exit = await stopServer(server);
      results.push({ row, rate: r.roundTrips / r.seconds, exit });
    } catch (e) {
      const exit = server ? await stopServer(server) : null;
      results.push({ row, rate: NaN, exit, error: (e as Error).message.split('\n')[0] });
    }
  }
  progress.clear();

  const base = results.find((r) => r.row.echoArgs === null)?.rate ?? NaN;
  const lw = Math.max(...ROWS.map((r) => r.label.length));
  const nw = Math.max(...ROWS.map((r) => r.note.length));
  const lines = [
    `${'server'.padEnd(lw)}  ${'how'.padEnd(nw)}  ${'round trips/s'.padStart(13)}  ${'vs node:net'.padStart(11)}`,
    `${'-'.repeat(lw)}  ${'-'.repeat(nw)}  ${'-'.repeat(13)}  ${'-'.repeat(11)}`,
  ];
  let failed = 0;
  for (const r of results) {
    const ok = !r.error && r.exit === 0;
    if (!ok) failed++;
    const rate = r.error ? 'failed' : fmt(r.rate);
    const ratio = r.error || !Number.isFinite(base) ? '' : `${(r.rate / base).toFixed(2)}x`;
    lines.push(`${r.row.label.padEnd(lw)}  ${r.row.note.padEnd(nw)}  ${rate.padStart(13)}  ${ratio.padStart(11)}`
      + (r.error ? `  (${r.error})` : r.exit !== 0 ? `  (server exit ${r.exit})` : ''));
  }
  process.stdout.write(`${lines.join('\n')}\n\n`
    + 'Each server ran as a child process (iomux echo --port 0 ...; stopped with SIGTERM);\n'
    + 'the clients are one iomux EpollSelector loop in this process, so on a small machine\n'
    + 'they share the CPU with the server: compare the rows, not the absolute numbers.\n');
  return failed === 0 ? 0 : 1;
}
