/**
 * bench/udp: a UDP echo of many small datagrams from several clients, every server driven
 * by the same C load generator (loadgen.c: CLIENTS threads, each keeping WINDOW datagrams
 * of SIZE bytes in flight on its own socket). Servers, all one thread on 127.0.0.1:
 *   - iomux recvmmsg/sendmmsg (a DatagramBatch of 64 on a Reactor, bench/udp/iomux-server.mjs mmsg)
 *   - iomux one at a time (recvfromInto/sendto on a Reactor, ... single)
 *   - Node `dgram` (bench/udp/node-dgram-server.mjs)
 *   - C recvmmsg/sendmmsg (cserver.c), compiled here; its row is skipped, with a message,
 *     if it does not compile. The load generator itself needs `cc`.
 * Rounds are interleaved (each server once per round) and the median echoes/s is kept.
 *
 * Usage: node bench/udp/run-udp.mjs [--rounds N] [--seconds S] [--clients C] [--window W] [--size B]
 *        (npm run build first)
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = fileURLToPath(new URL('.', import.meta.url));
const buildDir = fileURLToPath(new URL('../.build/', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg('rounds', 3);
const SECONDS = arg('seconds', 3);
const CLIENTS = arg('clients', 4);
const WINDOW = arg('window', 32);
const SIZE = arg('size', 64);

function compile(name, extra = []) {
  mkdirSync(buildDir, { recursive: true });
  const src = `${here}${name}.c`;
  const bin = `${buildDir}udp-${name}`;
  if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
    execFileSync('cc', ['-O2', '-Wall', '-o', bin, src, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return bin;
}

let loadgen;
try {
  loadgen = compile('loadgen', ['-lpthread']);
} catch (e) {
  console.error(`bench/udp needs a C compiler for its load generator: ${e.message}`);
  process.exit(1);
}
let cserver = null;
try {
  cserver = compile('cserver');
} catch (e) {
  console.error(`skipping the C server row: it did not compile (${e.message})`);
}

const node = process.execPath;
const servers = [
  { id: 'iomux-mmsg', label: 'iomux recvmmsg/sendmmsg (Reactor)', cmd: (p) => [node, [`${here}iomux-server.mjs`, p, 'mmsg']] },
  { id: 'iomux-single', label: 'iomux one at a time (Reactor)', cmd: (p) => [node, [`${here}iomux-server.mjs`, p, 'single']] },
  { id: 'dgram', label: 'Node dgram', cmd: (p) => [node, [`${here}node-dgram-server.mjs`, p]] },
];
if (cserver) servers.push({ id: 'c', label: 'C recvmmsg/sendmmsg', cmd: (p) => [cserver, [p]] });

let port = 20000 + (process.pid % 20000);

async function runOne(server) {
  const p = String(++port);
  const [file, args] = server.cmd(p);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`${server.id} exited with ${code}`)));
  });
  await sleep(100);
  const out = execFileSync(loadgen, [p, String(CLIENTS), String(SECONDS), String(SIZE), String(WINDOW)], { encoding: 'utf8' });
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const m = /echoes_per_sec (\d+) lost_windows (\d+)/.exec(out);
  return { rate: Number(m[1]), lost: Number(m[2]) };
}

const results = Object.fromEntries(servers.map((s) => [s.id, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const s of servers) {
    const res = await runOne(s);
    results[s.id].push(res.rate);
    process.stderr.write(`round ${r + 1} ${s.id}: ${res.rate} echoes/s (${res.lost} windows resent)\n`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const med = Object.fromEntries(servers.map((s) => [s.id, median(results[s.id])]));
console.log(`\nUDP echo, ${CLIENTS} clients x ${WINDOW} datagrams of ${SIZE} B in flight, ${SECONDS} s, median of ${ROUNDS} rounds`);
console.log('| server | echoes/s | vs Node dgram | vs C |');
console.log('| --- | ---: | ---: | ---: |');
for (const s of servers) {
  const vsC = med.c ? (med[s.id] / med.c).toFixed(2) + 'x' : 'n/a';
  console.log(`| ${s.label} | ${med[s.id].toLocaleString('en-US')} | ${(med[s.id] / med.dgram).toFixed(2)}x | ${vsC} |`);
}
