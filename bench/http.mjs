#!/usr/bin/env node
/**
 * HTTP client benchmark: iomux's HttpClient (with and without pipelining) vs undici's
 * request() and dispatch() (with and without pipelining) vs global fetch vs http.request
 * with a keep-alive Agent, all against the same local Node http server (a child
 * process), C requests in flight at once over K keep-alive connections.
 *
 *   node bench/http.mjs [--quick] [--requests N] [--concurrency C] [--connections K]
 *                       [--pipelining P] [--rounds R] [--body BYTES] [--only a,b]
 *
 * Prints a Markdown table on stdout (req/s, client CPU per request, each against the
 * fastest undici configuration); progress on stderr. Build first (npx tsc -p .). Each
 * round runs every client once, in a rotated order; the table shows the median round.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { request as undiciRequest, Pool as UndiciPool } from 'undici';
import { HttpClient } from '../dist/index.js';
import { makeCerts } from '../test/fixtures/http-certs.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const quick = argv.includes('--quick');
const N = opt('requests', quick ? 5000 : 20000);
const C = opt('concurrency', 100);
const K = opt('connections', 50);
const P = opt('pipelining', 10);
const onlyArg = argv.indexOf('--only');
const only = onlyArg >= 0 ? argv[onlyArg + 1].split(',') : null;
const ROUNDS = opt('rounds', quick ? 1 : 3);
const BODY = opt('body', 64);
const log = (s) => process.stderr.write(`${s}\n`);

/** Starts the server (in a child process); resolves with it and its port. */
async function startServer(args, env = process.env) {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./http/server.mjs', import.meta.url)), String(BODY), ...args],
    { stdio: ['pipe', 'pipe', 'inherit'], env });
  const p = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  return [child, p];
}
const [server, port] = await startServer([]);
const url = `http://127.0.0.1:${port}/`;
// HTTPS rows: the same server over TLS, with a certificate made for this run.
const certs = makeCerts('iomux bench CA', [{ cn: 'localhost', san: 'IP:127.0.0.1' }]);
const [tlsServer, tlsPort] = await startServer(['https'],
  { ...process.env, BENCH_TLS_KEY: certs.servers[0].key, BENCH_TLS_CERT: certs.servers[0].cert });
const tlsUrl = `https://127.0.0.1:${tlsPort}/`;

const origin = url.slice(0, -1);

/** A minimal undici dispatch() handler, as in undici's own benchmark: counts the body's bytes. */
class CountingHandler {
  constructor(resolve, reject) {
    this.resolve = resolve;
    this.reject = reject;
    this.n = 0;
  }
  onConnect() {}
  onHeaders() { return true; }
  onData(chunk) { this.n += chunk.length; return true; }
  onComplete() { this.resolve(this.n); }
  onError(err) { this.reject(err); }
}

const iomux = (pipelining, target = url) => () => {
  const c = new HttpClient({ maxConnectionsPerOrigin: K, pipelining, ca: certs.ca });
  return { one: async () => (await c.request(target)).body.length, close: () => c.close() };
};
const undiciReq = (pipelining) => () => {
  const dispatcher = new UndiciPool(origin, { connections: K, pipelining });
  return {
    one: async () => {
      const { body } = await undiciRequest(url, { dispatcher });
      return (await body.arrayBuffer()).byteLength;
    },
    close: () => dispatcher.close(),
  };
};
const undiciDispatch = (pipelining, at = origin) => () => {
  const dispatcher = new UndiciPool(at, { connections: K, pipelining, connect: { ca: certs.ca } });
  const opts = { path: '/', method: 'GET' };
  return {
    one: () => new Promise((resolve, reject) => dispatcher.dispatch(opts, new CountingHandler(resolve, reject))),
    close: () => dispatcher.close(),
  };
};

/** Each client: `setup()` returns `{ one(): Promise<bodyLength>, close() }`. */
const allClients = {
  'iomux HttpClient': iomux(1),
  [`iomux HttpClient p${P}`]: iomux(P),
  'undici request()': undiciReq(1),
  [`undici request() p${P}`]: undiciReq(P),
  'undici dispatch()': undiciDispatch(1),
  [`undici dispatch() p${P}`]: undiciDispatch(P),
  'iomux HttpClient https': iomux(1, tlsUrl),
  'undici dispatch() https': undiciDispatch(1, tlsUrl.slice(0, -1)),
  'fetch()': () => ({
    one: async () => (await (await fetch(url)).arrayBuffer()).byteLength,
    close: () => {},
  }),
  'http.request + Agent': () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: K });
    return {
      one: () => new Promise((resolve, reject) => {
        http.get(url, { agent }, (res) => {
          let n = 0;
          res.on('data', (d) => { n += d.length; });
          res.on('end', () => resolve(n));
          res.on('error', reject);
        }).on('error', reject);
      }),
      close: () => agent.destroy(),
    };
  },
};
const clients = Object.fromEntries(Object.entries(allClients)
  .filter(([name]) => only === null || only.some((o) => name.includes(o))));

async function run(name, total) {
  const c = clients[name]();
  try {
    // Warm up: open the connections and let the JIT see the code.
    await drive(c, Math.min(2000, total), C);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await drive(c, total, C);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { rps: total / secs, cpuUs: (cpu.user + cpu.system) / total };
  } finally {
    await c.close();
  }
}

async function drive(c, total, concurrency) {
  let left = total;
  const worker = async () => {
    while (left > 0) {
      left--;
      const n = await c.one();
      if (n !== BODY) throw new Error(`body of ${n} bytes, expected ${BODY}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const names = Object.keys(clients);
const results = Object.fromEntries(names.map((n) => [n, []]));
log(`bench http: ${N} requests x ${ROUNDS} rounds per client, ${C} in flight over ${K} connections, ${BODY}-byte bodies, server pid ${server.pid}`);
for (let r = 0; r < ROUNDS; r++) {
  const order = names.map((_, i) => names[(i + r) % names.length]);
  for (const name of order) {
    const res = await run(name, N);
    results[name].push(res);
    log(`  round ${r + 1}: ${name.padEnd(24)} ${res.rps.toFixed(0).padStart(7)} req/s  ${res.cpuUs.toFixed(1).padStart(6)} us CPU/req`);
  }
}
server.stdin.end();
tlsServer.stdin.end();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const summary = Object.fromEntries(names.map((n) => [n, {
  rps: median(results[n].map((x) => x.rps)), cpuUs: median(results[n].map((x) => x.cpuUs)),
}]));
const undiciNames = names.filter((n) => n.startsWith('undici') && !n.endsWith('https'));
const baseName = undiciNames.length > 0
  ? undiciNames.reduce((a, b) => (summary[b].rps > summary[a].rps ? b : a)) : names[0];
const base = summary[baseName];
console.log(`${N} GET requests per client and round, ${C} in flight over ${K} keep-alive connections`);
console.log(`(pN: up to N requests pipelined per connection), ${BODY}-byte bodies, against one Node http`);
console.log(`server (child process); median of ${ROUNDS} round(s). CPU is the client process's user+system`);
console.log(`time per request (the server runs in its own process). Ratios are against the fastest undici`);
console.log(`configuration in this run: ${baseName} (HTTPS rows: against the server's TLS twin, same settings).\n`);
console.log(`| Client | req/s | vs ${baseName} | client CPU µs/req | vs ${baseName} |`);
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const n of names) {
  const s = summary[n];
  console.log(`| ${n} | ${s.rps.toFixed(0)} | ${(s.rps / base.rps).toFixed(2)}x | ${s.cpuUs.toFixed(1)} | ${(s.cpuUs / base.cpuUs).toFixed(2)}x |`);
}
