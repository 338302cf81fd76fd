#!/usr/bin/env node
/**
 * Duplex throughput: iomux's SocketStream vs Node's `net.Socket`, both ends in this one
 * process, over the same kind of transport:
 *   - an AF_UNIX socketpair (net wraps each fd with `new net.Socket({ fd })`);
 *   - loopback TCP (iomux: listen/accept/connect + toDuplex; net: createServer/connect).
 * Two write patterns: 64 KiB writes (bulk) and 1 KiB writes (many small writes, which
 * Node batches into `_writev`); then a ping-pong of 100-byte messages (latency, where
 * holding small writes to the end of the tick must cost nothing); then a micro-measure of how a batch of small buffers goes
 * to the kernel: one gathered sendmsg(2) against one send(2) per buffer.
 *
 *   node bench/stream.mjs [--quick] [--mb MB] [--rounds R]
 *
 * Prints a Markdown table on stdout (MiB/s and process CPU per MiB, median of the rounds;
 * each round runs every case once, in a rotated order). Build first (npm run build).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  Socket, socketpair, toDuplex, AF_UNIX, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
} from '../dist/index.js';
import { trySendv } from '../dist/net/trymsg.js';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const quick = argv.includes('--quick');
const MB = opt('mb', quick ? 64 : 256);
const ROUNDS = opt('rounds', quick ? 1 : 5);
const log = (s) => process.stderr.write(`${s}\n`);

/** Streams `total` bytes from `w` to `r` in writes of `size`; resolves when `r` ended. */
function transfer(w, r, total, size) {
  const chunk = Buffer.alloc(size, 0x61);
  return new Promise((resolve, reject) => {
    let got = 0;
    r.on('data', (d) => { got += d.length; });
    r.once('end', () => (got === total ? resolve() : reject(new Error(`got ${got} of ${total}`))));
    r.once('error', reject);
    w.once('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += size;
        if (!w.write(chunk)) { w.once('drain', pump); return; }
      }
      w.end();
    };
    pump();
  });
}

const done = (s) => new Promise((resolve) => { if (s.destroyed) resolve(); else s.once('close', resolve); });

/** Each transport: `pair(kind)` gives `[writer, reader]` Duplexes of that kind. */
const pairs = {
  socketpair: async (kind) => {
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
    if (kind === 'iomux') return [toDuplex(a), toDuplex(b)];
    const fa = a.detach();
    const fb = b.detach();
    return [new net.Socket({ fd: fa, readable: true, writable: true }), new net.Socket({ fd: fb, readable: true, writable: true })];
  },
  'loopback TCP': async (kind) => {
    if (kind === 'iomux') {
      const l = new Socket(AF_INET, SOCK_STREAM);
      l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
      l.bind(['127.0.0.1', 0]);
      l.listen();
      const c = new Socket(AF_INET, SOCK_STREAM);
      c.connect(l.getsockname());
      const [s] = l.accept();
      l.close();
      return [toDuplex(c), toDuplex(s)];
    }
    const server = net.createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise((r) => server.once('connection', r));
    const c = net.connect(server.address().port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    const s = await accepted;
    server.close();
    return [c, s];
  },
};

const cases = [];
for (const transport of Object.keys(pairs)) {
  for (const size of [64 * 1024, 1024]) {
    for (const kind of ['iomux', 'net']) cases.push({ transport, size, kind });
  }
}

const results = new Map(); // key -> [{ mibs, cpuPerMiB }]
const key = (c) => `${c.transport}|${c.size}|${c.kind}`;
for (let round = 0; round < ROUNDS; round++) {
  const order = cases.map((_, i) => cases[(i + round) % cases.length]);
  for (const c of order) {
    const total = c.size === 1024 ? Math.ceil(MB / 4) * 1024 * 1024 : MB * 1024 * 1024;
    const [w, r] = await pairs[c.transport](c.kind);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await transfer(w, r, total, c.size);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    w.destroy();
    r.destroy();
    await Promise.all([done(w), done(r)]);
    const mib = total / 1048576;
    const row = { mibs: mib / secs, cpuPerMiB: (cpu.user + cpu.system) / 1000 / mib };
    if (!results.has(key(c))) results.set(key(c), []);
    results.get(key(c)).push(row);
    log(`round ${round + 1} ${c.transport} ${c.size} B ${c.kind}: ${row.mibs.toFixed(0)} MiB/s`);
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const lines = [];
lines.push(`Duplex throughput, ${MB} MiB per bulk run (${Math.ceil(MB / 4)} MiB with 1 KiB writes), median of ${ROUNDS} round(s), node ${process.version}`);
lines.push('');
lines.push('| transport | write size | iomux SocketStream MiB/s | net.Socket MiB/s | iomux / net | iomux CPU ms/MiB | net CPU ms/MiB |');
lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const transport of Object.keys(pairs)) {
  for (const size of [64 * 1024, 1024]) {
    const i = results.get(`${transport}|${size}|iomux`);
    const n = results.get(`${transport}|${size}|net`);
    const im = median(i.map((x) => x.mibs));
    const nm = median(n.map((x) => x.mibs));
    lines.push(`| ${transport} | ${size >= 1024 ? `${size / 1024} KiB` : `${size} B`} | ${im.toFixed(0)} | ${nm.toFixed(0)} | ${(im / nm).toFixed(2)} | `
      + `${median(i.map((x) => x.cpuPerMiB)).toFixed(2)} | ${median(n.map((x) => x.cpuPerMiB)).toFixed(2)} |`);
  }
}

// ---- ping-pong: one small message each way at a time ------------------------------------
{
  const trips = quick ? 5000 : 20000;
  /** `trips` round trips of 100 bytes between the two ends: round trips per second. */
  const pingPong = (a, b) => new Promise((resolve, reject) => {
    const msg = Buffer.alloc(100, 0x70);
    let left = trips;
    let at = 0;
    let back = 0;
    b.on('data', (d) => { at += d.length; while (at >= 100) { at -= 100; b.write(msg); } });
    a.on('data', (d) => {
      back += d.length;
      while (back >= 100) {
        back -= 100;
        if (--left === 0) { resolve(); return; }
        a.write(msg);
      }
    });
    a.once('error', reject);
    b.once('error', reject);
    a.write(msg);
  });
  const rows = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const transport of Object.keys(pairs)) {
      for (const kind of round % 2 === 0 ? ['iomux', 'net'] : ['net', 'iomux']) {
        const [a, b] = await pairs[transport](kind);
        const t0 = performance.now();
        await pingPong(a, b);
        const rate = trips / ((performance.now() - t0) / 1000);
        a.destroy();
        b.destroy();
        await Promise.all([done(a), done(b)]);
        const k = `${transport}|${kind}`;
        if (!rows.has(k)) rows.set(k, []);
        rows.get(k).push(rate);
        log(`round ${round + 1} ping-pong ${transport} ${kind}: ${rate.toFixed(0)} round trips/s`);
      }
    }
  }
  lines.push('');
  lines.push(`Ping-pong, 100-byte messages, ${trips} round trips, one connection, median of ${ROUNDS}:`);
  lines.push('');
  lines.push('| transport | iomux round trips/s | net round trips/s | iomux / net |');
  lines.push('| --- | ---: | ---: | ---: |');
  for (const transport of Object.keys(pairs)) {
    const i = median(rows.get(`${transport}|iomux`));
    const n = median(rows.get(`${transport}|net`));
    lines.push(`| ${transport} | ${i.toFixed(0)} | ${n.toFixed(0)} | ${(i / n).toFixed(2)} |`);
  }
}

// ---- gathered send vs one send per buffer ------------------------------------------------
{
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  const sink = Buffer.allocUnsafe(1 << 20);
  const drain = () => { while (b.tryRecvInto(sink) > 0); };
  lines.push('');
  lines.push('A batch of small buffers to the kernel (socketpair, receiver drained between batches), ns per batch:');
  lines.push('');
  lines.push('| batch | one sendmsg (gathered) | one send per buffer | ratio |');
  lines.push('| --- | ---: | ---: | ---: |');
  for (const [count, size] of [[4, 1024], [16, 1024], [64, 256], [16, 8192]]) {
    const bufs = Array.from({ length: count }, () => Buffer.alloc(size, 1));
    const g = { bufs, first: 0, offset: 0 };
    const iters = quick ? 2000 : 10000;
    const time = (f) => {
      let best = Infinity;
      for (let rep = 0; rep < 3; rep++) {
        let t = 0;
        for (let i = 0; i < iters; i++) {
          const t0 = performance.now();
          f();
          t += performance.now() - t0;
          drain();
        }
        best = Math.min(best, (t / iters) * 1e6);
      }
      return best;
    };
    const gathered = time(() => { trySendv(a.fileno(), g); });
    const loop = time(() => { for (const x of bufs) a.trySend(x, 0, x.length); });
    lines.push(`| ${count} x ${size} B | ${gathered.toFixed(0)} | ${loop.toFixed(0)} | ${(loop / gathered).toFixed(1)}x |`);
  }
  a.close();
  b.close();
}
console.log(lines.join('\n'));
