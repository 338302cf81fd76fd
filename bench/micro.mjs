/**
 * bench/micro: what iomux's own code adds on the echo hot path, call by call, measured
 * in process CPU time (robust to outside load). Each row compares the public path with
 * the bare kernel call or a leaner variant, so a change in src/ shows up here directly.
 *
 * Usage: node bench/micro.mjs [--quick] [--json]    (build first: npx tsc -p .)
 */
import { fileURLToPath } from 'node:url';
import * as iomux from 'iomux';
import * as libc from '../dist/sys/libc.js';
import { measure } from './lib/timing.mjs';
import { table, fmtNs } from './lib/format.mjs';

const cpuSec = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Runs the Reactor (or a plain select(0) + setImmediate loop) with `n` always-ready fds for `seconds` of CPU. */
async function loopCost(kind, n, seconds) {
  const pairs = [];
  for (let i = 0; i < n; i++) {
    const [a, b] = iomux.socketpair();
    b.send(Buffer.from('x')); // never read: level-triggered, always ready
    pairs.push(a, b);
  }
  let calls = 0;
  let stop = false;
  let teardown;
  if (kind === 'reactor') {
    const r = new iomux.Reactor();
    for (let i = 0; i < n; i++) r.addReader(pairs[2 * i], () => { calls++; });
    teardown = () => r.close();
  } else {
    const sel = new iomux.EpollSelector();
    for (let i = 0; i < n; i++) sel.register(pairs[2 * i], iomux.EVENT_READ, () => { calls++; });
    const tick = () => {
      if (stop) return;
      const ev = sel.select(0);
      for (let i = 0; i < ev.length; i++) ev[i][0].data(ev[i][0].fileobj);
      setImmediate(tick);
    };
    setImmediate(tick);
    teardown = () => sel.close();
  }
  await new Promise((res) => setTimeout(res, 30)); // warm up
  calls = 0;
  const c0 = cpuSec();
  await new Promise((res) => {
    const t = setInterval(() => {
      if (cpuSec() - c0 >= seconds) {
        clearInterval(t);
        res();
      }
    }, 5);
  });
  const used = cpuSec() - c0;
  const seen = calls;
  stop = true;
  await new Promise((res) => setImmediate(res));
  teardown();
  for (const s of pairs) s.close();
  return { perWake: (used / (seen / n)) * 1e9, perCallback: (used / seen) * 1e9 };
}

/** @returns {Promise<{ rows: Array<[string, number, string]> }>} */
export async function runMicro({ quick = false, log = (s) => process.stderr.write(s + '\n') } = {}) {
  const timing = quick ? { batchMs: 10, rounds: 5 } : { batchMs: 20, rounds: 7 };
  const rows = [];
  const add = (what, ns, note = '') => {
    rows.push([what, ns, note]);
    log(`  ${what.padEnd(72)} ${fmtNs(ns)}`);
  };
  const cleanup = [];
  try {
    // 1. One wake-up with 30 ready fds: the selector's work over the bare Epoll object.
    const sel = new iomux.EpollSelector();
    const ep = new iomux.Epoll();
    cleanup.push(() => sel.close(), () => ep.close());
    for (let i = 0; i < 30; i++) {
      const [a, b] = iomux.socketpair();
      cleanup.push(() => a.close(), () => b.close());
      b.send(Buffer.from('x'));
      sel.register(a, iomux.EVENT_READ, i);
      ep.register(a, iomux.EPOLLIN);
    }
    add('`Epoll#poll(0)`, 30 ready fds (per call)', measure(() => ep.poll(0), timing).ns);
    add('`EpollSelector#select(0)`, 30 ready fds (per call)', measure(() => sel.select(0), timing).ns);
    let sink = 0;
    const base = measure(() => sel.select(0).length, timing).ns;
    const viaForOf = measure(() => {
      for (const [key, ev] of sel.select(0)) sink += key.data + ev;
    }, timing).ns;
    const viaIndex = measure(() => {
      const e = sel.select(0);
      for (let i = 0; i < e.length; i++) sink += e[i][0].data + e[i][1];
    }, timing).ns;
    // Differences of two measurements: clamp run-to-run noise at 0.
    add('iterating a select() result with `for...of` (per event)', Math.max(0, (viaForOf - base) / 30), 'SelectResult iterator (skips pairs unregistered meanwhile)');
    add('iterating a select() result with an index loop (per event)', Math.max(0, (viaIndex - base) / 30));

    // 2. One echo: send 1000 bytes on one end of a socketpair, receive them on the other.
    const [a, b] = iomux.socketpair();
    cleanup.push(() => a.close(), () => b.close());
    const big = Buffer.alloc(256 * 1024);
    const msg = Buffer.alloc(1000, 1);
    const fa = a.fileno();
    const fb = b.fileno();
    add('send + recv 1000 B, raw libc calls through koffi', measure(() => {
      libc.send(fa, msg, 1000, 0x4040);
      libc.recv(fb, big, big.length, 0x40);
    }, timing).ns, 'the floor: kernel + koffi');
    add('send + recv 1000 B, public `Socket#send` / `Socket#recvInto`', measure(() => {
      a.send(msg);
      b.recvInto(big);
    }, timing).ns);
    add('send + recv 1000 B, public `Socket#trySend(buf, 0, n)` from a big buffer', measure(() => {
      a.trySend(big, 0, 1000);
      b.tryRecvInto(big, 0, big.length);
    }, timing).ns, 'what `iomux echo` does: a subarray per send');
    add('send + recv 1000 B, public `Socket#trySend` of a whole buffer', measure(() => {
      a.trySend(msg, 0, 1000);
      b.tryRecvInto(big, 0, big.length);
    }, timing).ns, 'no subarray');

    // 3. poll(2) with 1000 idle fds: the JS result scan over the kernel call.
    const idle = [];
    for (let i = 0; i < 500; i++) {
      const [x, y] = iomux.socketpair();
      idle.push(x, y);
      cleanup.push(() => x.close(), () => y.close());
    }
    const p = new iomux.Poll();
    for (const s of idle) p.register(s, iomux.POLLIN);
    p.register(a, iomux.POLLIN);
    b.send(Buffer.from('x'));
    const pfd = Buffer.alloc(8 * 1001);
    const words = new Int32Array(pfd.buffer, pfd.byteOffset, 2002);
    idle.forEach((s, i) => { words[2 * i] = s.fileno(); words[2 * i + 1] = iomux.POLLIN; });
    words[2000] = a.fileno();
    words[2001] = iomux.POLLIN;
    add('`Poll#poll(0)`, 1000 idle + 1 ready', measure(() => p.poll(0), timing).ns);
    add('bare `poll(2)` through koffi on the same 1001 pollfds', measure(() => libc.poll(pfd, 1001, 0), timing).ns);
    a.recvInto(big);

    // 4. The Reactor's wake-up (libuv -> koffi callback -> setImmediate -> select(0) -> callbacks).
    const secs = quick ? 0.3 : 1;
    for (const n of [1, 30]) {
      const r = await loopCost('reactor', n, secs);
      const m = await loopCost('loop', n, secs);
      add(`Reactor, ${n} always-ready fd(s): one wake-up`, r.perWake, `${fmtNs(r.perCallback)} per callback`);
      add(`select(0) + setImmediate loop, ${n} always-ready fd(s): one pass`, m.perWake, `${fmtNs(m.perCallback)} per callback`);
    }
  } finally {
    for (const f of cleanup.reverse()) f();
  }
  return { rows };
}

export function microTable(r) {
  return table(['Hot-path step', 'CPU time', 'Note'], r.rows.map(([w, ns, note]) => [w, fmtNs(ns), note]), { align: 'lrl' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await runMicro({ quick: process.argv.includes('--quick') });
  if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  else console.log(microTable(r));
}
