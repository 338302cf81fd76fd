/**
 * bench/echo: ping-pong echo, 1 and 50 connections, 1000-byte messages, every server
 * driven by the same C load generator (loadgen.c, built with the system cc).
 *
 * Each (server, connection count) case starts a fresh server on a free port, waits until
 * it accepts connections, runs loadgen for a warm-up then a fixed measured duration, reads
 * the server's CPU time from /proc, and stops the server with SIGTERM.
 *
 * 1 connection: server and loadgen are pinned to the same CPU with `taskset -c 0`, so a
 * round trip costs two context switches on one core and the figure is the CPU cost of the
 * round trip (unpinned, it measures how long this VM takes to wake an idle CPU: 13k-70k
 * round trips/s from run to run). 50 connections: nothing pinned; the server and loadgen
 * share the machine's cores.
 *
 * Each case's best of 2 rounds is kept (1 with --quick); with `--rounds N` (N >= 3) each
 * case's median round is shown instead (round trips/s and CPU per round trip, each its own
 * median), which is steadier on a shared machine. The machine's other CPU use during each
 * case is measured from /proc/stat and shown as "outside load".
 *
 * Usage: node bench/echo/run-echo.mjs [--quick] [--rounds N] [--no-extras] [--servers id,id,...]   (build first)
 */
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTools } from '../lib/build.mjs';
import { table, fmtRate, fmtRatio } from '../lib/format.mjs';
import { uringRows } from './uring-rows.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const node = process.execPath;
const CLI = root + 'dist/cli/main.js';

/**
 * The servers, in the order of the tables. `cmd(port)` → [file, args]. `group` sorts
 * them in the charts: the peers first, then iomux.
 */
export function serverList({ cserver }) {
  const hasCli = existsSync(CLI) && existsSync(root + 'dist/cli/echo.js');
  const hasReactor = existsSync(root + 'dist/loop/reactor.js') || /Reactor/.test(readFileSafe(root + 'dist/loop/index.js'));
  const ours = (mode, backend) => (port) => [node, [root + 'bench/echo/iomux-server.mjs', String(port), mode, backend ?? '']];
  const cli = (mode, backend) => (port) => [node, [CLI, 'echo', '--port', String(port), '--mode', mode, '--backend', backend]];
  const list = [
    { id: 'c', label: 'C epoll server (the limit)', short: 'C epoll server', group: 'peer', cmd: (port) => [cserver, [String(port)]] },
    { id: 'node-net', label: 'Node `net`', short: 'Node net', group: 'peer', cmd: (port) => [node, [root + 'bench/echo/node-net-server.mjs', String(port)]] },
    { id: 'cpython', label: 'CPython `selectors`', short: 'CPython selectors', group: 'peer', cmd: (port) => ['python3', [root + 'bench/echo/pyserver.py', String(port)]] },
  ];
  if (hasReactor) {
    list.push({ id: 'reactor', label: 'iomux Reactor (`iomux echo`)', short: 'iomux Reactor', group: 'iomux', cmd: hasCli ? cli('reactor', 'epoll') : ours('reactor') });
    if (hasCli) {
      list.push({
        id: 'reactor-2w', label: 'iomux Reactor on 2 threads, SO_REUSEPORT (`iomux echo --workers 2`)', short: 'iomux Reactor, 2 threads', group: 'iomux',
        cmd: (port) => [node, [CLI, 'echo', '--port', String(port), '--mode', 'reactor', '--workers', '2']],
      });
    }
  }
  for (const b of ['epoll', 'poll', 'select']) {
    list.push({
      id: `blocking-${b}`, label: `iomux blocking loop, ${b === 'epoll' ? 'EpollSelector' : b === 'poll' ? 'PollSelector' : 'SelectSelector'}${hasCli ? ' (`iomux echo`)' : ''}`,
      short: `iomux blocking, ${b}`, group: 'iomux', cmd: hasCli ? cli('blocking', b) : ours('blocking', b),
    });
  }
  // Extra rows: the bench's own servers (public API only), and the raw floor.
  if (hasReactor) {
    list.push({ id: 'script-reactor', label: 'iomux Reactor, bench script (public API, callbacks)', short: 'Reactor, public-API script', group: 'extra', cmd: ours('reactor') });
    list.push({ id: 'script-async', label: 'iomux Reactor, bench script (`await sockRecvInto`/`sockSendall`)', short: 'Reactor, await sock* script', group: 'extra', cmd: ours('async') });
  }
  if (hasCli) list.push({ id: 'script-blocking-epoll', label: 'iomux EpollSelector loop, bench script (public API)', short: 'blocking epoll, public-API script', group: 'extra', cmd: ours('blocking', 'epoll') });
  list.push(...uringRows({ hasCli, node, root, CLI }));
  list.push({ id: 'raw-epoll', label: 'iomux `Epoll#poll` + raw libc recv/send (no Socket, no selector)', short: 'raw Epoll + libc recv/send', group: 'extra', cmd: (port) => [node, [root + 'bench/echo/iomux-raw-server.mjs', String(port), 'epoll']] });
  return list;
}

function readFileSafe(p) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function freePort() {
  const srv = net.createServer();
  await new Promise((res) => srv.listen(0, '127.0.0.1', res));
  const { port } = srv.address();
  await new Promise((res) => srv.close(res));
  return port;
}

async function waitListening(port, child, ms = 15000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`server exited with status ${child.exitCode} before listening`);
    const ok = await new Promise((res) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`server did not listen on port ${port} within ${ms} ms`);
}

/**
 * CPU seconds used so far by process `pid`, all its threads: the scheduler's own count
 * (ns) from /proc/PID/task/TID/schedstat, else utime + stime from /proc/PID/stat (10 ms ticks).
 */
function cpuSeconds(pid) {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread exited meanwhile
      }
    }
    return ns / 1e9;
  } catch {
    // no schedstat (kernel built without it): fall back to the tick counts
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole machine has spent busy (every CPU, every process) so far. */
function machineBusySeconds() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    return (total - f[3] - (f[4] ?? 0)) / 100; // minus idle and iowait
  } catch {
    return NaN;
  }
}

function run(file, args) {
  return new Promise((res, rej) => {
    const p = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', rej);
    p.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`${file} exited with ${code}: ${err.trim()}`))));
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((res) => child.once('exit', res));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(t);
}

/** One case: a fresh server, loadgen for warm-up + duration. */
async function runCase(server, conns, { loadgen, duration, warmup, size, pin }) {
  const port = await freePort();
  const [file, args] = server.cmd(port);
  const pinned = pin && conns === 1;
  const child = pinned
    ? spawn('taskset', ['-c', '0', file, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  try {
    await waitListening(port, child);
    const cpu0 = cpuSeconds(child.pid);
    const busy0 = machineBusySeconds();
    const t0 = performance.now();
    const lg = [loadgen, ['127.0.0.1', String(port), String(conns), String(size), String(duration), String(warmup)]];
    const out = pinned ? await run('taskset', ['-c', '0', lg[0], ...lg[1]]) : await run(lg[0], lg[1]);
    const wall = (performance.now() - t0) / 1000;
    const cpuUsed = cpuSeconds(child.pid) - cpu0;
    const cpu = cpuUsed / wall;
    const busy = (machineBusySeconds() - busy0) / wall;
    const r = JSON.parse(out);
    if (r.errors) throw new Error(`${r.errors} echoed messages did not match what was sent`);
    // Whatever else kept the CPUs busy meanwhile (other processes on a shared machine).
    const other = Math.max(0, busy - cpu - r.cpu);
    // The server's CPU per round trip, warm-up included on both sides: a cost that other
    // load on the machine barely changes (unlike round trips/s).
    const cpuPerTrip = (cpuUsed / r.allRoundTrips) * 1e6;
    return { rps: r.rps, roundTrips: r.roundTrips, seconds: r.seconds, cpu, cpuPerTrip, loadgenCpu: r.cpu, other };
  } catch (e) {
    throw new Error(`${server.label}, ${conns} connection(s): ${e.message}${stderr ? `\n${stderr.trim()}` : ''}`);
  } finally {
    await stop(child);
  }
}

/**
 * Runs every server at 1 and 50 connections, `rounds` times over (round after round, so
 * a burst of outside load hits one round, not one server), keeping each case's best
 * round, or with 3 rounds or more its median. The extra rows run once.
 * @returns {Promise<{ conns: number[], size: number, duration: number, warmup: number, rounds: number, pinned: boolean, cc: string, servers: Array<{id,label,group,results: Record<number,{rps,cpu,loadgenCpu,other,all}>}>}>}
 */
export async function runEcho({ quick = false, rounds: wanted, only, extras = true, log = (s) => process.stderr.write(s + '\n') } = {}) {
  const tools = buildTools(log);
  const opts = { loadgen: tools.loadgen, size: 1000, duration: quick ? 1 : 2, warmup: quick ? 0.3 : 0.5, pin: hasTaskset() };
  const rounds = wanted ?? (quick ? 1 : 2);
  const conns = [1, 50];
  let servers = serverList(tools);
  if (only) servers = servers.filter((s) => only.includes(s.id));
  else if (!extras) servers = servers.filter((s) => s.group !== 'extra');
  const out = servers.map((s) => ({ id: s.id, label: s.label, short: s.short, group: s.group, results: {} }));
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) log(`  round ${round} of ${rounds}`);
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i];
      if (round > 1 && s.group === 'extra') continue;
      for (const c of conns) {
        const prev = out[i].results[c];
        let r;
        try {
          r = await runCase(s, c, opts);
        } catch (e) {
          log(`  FAILED ${e.message}`);
          if (!prev) out[i].results[c] = { error: e.message.split('\n')[0] };
          continue;
        }
        log(`  ${s.label.replace(/`/g, '').padEnd(62)} ${String(c).padStart(2)} conn: ${fmtRate(r.rps).padStart(7)} round trips/s, `
          + `server ${r.cpuPerTrip.toFixed(2)} µs CPU/trip; CPU server ${pct(r.cpu)} loadgen ${pct(r.loadgenCpu)} others ${pct(r.other)}`);
        const all = [...(prev?.all ?? []), r.rps];
        const allCpu = [...(prev?.allCpu ?? []), r.cpuPerTrip];
        const best = !prev || prev.error || r.rps > prev.rps ? { ...r, all, allCpu } : { ...prev, all, allCpu };
        // CPU per round trip: the lowest round (outside load can only add to it).
        if (prev && !prev.error) best.cpuPerTrip = Math.min(prev.cpuPerTrip, r.cpuPerTrip);
        if (rounds >= 3) {
          best.rps = median(all);
          best.cpuPerTrip = median(allCpu);
        }
        out[i].results[c] = best;
      }
    }
  }
  return { conns, size: opts.size, duration: opts.duration, warmup: opts.warmup, rounds, pinned: opts.pin, cc: tools.cc, servers: out };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function pct(x) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '?';
}

/**
 * The echo table: round trips/s (best round), the server's CPU, the ratios to the C
 * server and to Node's net, and the CPU others used meanwhile (outside load).
 */
export function echoTable(r) {
  const c = r.servers.find((s) => s.id === 'c');
  const n = r.servers.find((s) => s.id === 'node-net');
  const head = ['Server'];
  for (const k of r.conns) head.push(`${k} conn: round trips/s`, 'vs C', 'vs Node', 'server CPU/trip', 'server CPU');
  head.push('outside load');
  const rows = r.servers.map((s) => {
    const row = [s.label];
    let other = 0;
    for (const k of r.conns) {
      const x = s.results[k];
      if (!x || x.error) {
        row.push('failed', '–', '–', '–', '–');
        continue;
      }
      other = Math.max(other, x.other);
      row.push(fmtRate(x.rps), fmtRatio(x.rps / c?.results[k]?.rps), fmtRatio(x.rps / n?.results[k]?.rps),
        `${x.cpuPerTrip.toFixed(2)} µs`, pct(x.cpu));
    }
    row.push(pct(other));
    return row;
  });
  return table(head, rows);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf('--servers');
  const only = i > 0 ? process.argv[i + 1].split(',') : undefined;
  const j = process.argv.indexOf('--rounds');
  const rounds = j > 0 ? Number(process.argv[j + 1]) : undefined;
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) throw new RangeError(`--rounds must be a positive integer, got ${process.argv[j + 1]}`);
  const r = await runEcho({ quick: process.argv.includes('--quick'), rounds, only, extras: !process.argv.includes('--no-extras') });
  if (r.rounds >= 3) console.log(`Median of ${r.rounds} rounds per case (round trips/s and server CPU/trip each its own median).\n`);
  console.log(echoTable(r));
}
