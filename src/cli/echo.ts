/**
 * `iomux echo`: a TCP echo server that runs until SIGINT or SIGTERM, then closes every
 * connection and exits 0. Three engines:
 *
 * - `--mode reactor`: the server lives on a `Reactor`, inside Node's own event loop (libuv
 *   watches the selector's epoll fd). Signals arrive as ordinary `process.on` events.
 * - `--mode blocking`: the classic `while (true) selector.select()` on the chosen backend
 *   (`DefaultSelector`: `--backend` reaches it as `IOMUX_SELECTOR` in the worker's
 *   environment).
 *   A thread blocked in `epoll_wait` never returns to Node's event loop, so a
 *   `process.on('SIGTERM')` handler on that thread would never run. Polling a flag with a
 *   short timeout would work but wakes the server for nothing and delays the stop. So the
 *   loop runs on a worker thread (echo-worker.ts) and also watches an eventfd; the main
 *   thread keeps Node's event loop free, receives the signal there, and writes to the
 *   eventfd, which wakes the worker at once. The worker closes everything, reports, and
 *   exits; no timer, no cost on the hot path.
 *
 * - `--mode uring`: a `Proactor` (io_uring) inside Node's loop (echo-uring.ts); where
 *   io_uring is unavailable it says so in one line on stderr and serves as `--mode reactor`.
 * - `--mode uring-blocking`: the same server driven by the blocking `Proactor#run()` on a
 *   worker thread, for the same reason as `--mode blocking`; the main thread wakes it
 *   through a socketpair (the ring receives from sockets, not from an eventfd). Without
 *   io_uring it says so and serves as `--mode blocking` (on `DefaultSelector`'s backend).
 *
 * `--workers N` (reactor mode) runs N Reactor servers, one per worker thread, each with
 * its own event loop and its own listening socket on the same port (SO_REUSEPORT): the
 * kernel spreads new connections among them, so the server uses N cores. The main thread
 * only owns the signals and sums the counters (echo-reactor-worker.ts).
 *
 * The first line on stdout is `iomux echo listening on HOST:PORT (...)`, so `--port 0`
 * (any free port) works for scripts, tests and the benchmark.
 */
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { os, uringSupport, socketpair, AF_UNIX, SOCK_STREAM } from '../index.js';
import { parse, numberOption, choiceOption, stringOption, UsageError } from './args.js';
import { BACKENDS, type Backend, type EchoStats, type ListenInfo, formatListen } from './echo-common.js';

const HELP = `Usage: iomux echo --port N [--host H] [--mode reactor|blocking|uring|uring-blocking]
                  [--backend epoll|poll|select]
                  [--backlog N] [--workers N]

A TCP echo server: every byte received is sent back. Runs until SIGINT or
SIGTERM, then closes its connections and exits 0. The first line on stdout
says where it listens, e.g. "iomux echo listening on 127.0.0.1:7000 (...)".
Out of file descriptors, it stops accepting for 1 s at a time (one line on
stderr) and goes on serving the connections it has.

Options:
  --port N       TCP port to listen on; 0 picks a free one (required)
  --host H       address to bind (default 127.0.0.1; '::1', '0.0.0.0', a name)
  --mode M       reactor: inside Node's event loop, on a Reactor (epoll only);
                 blocking: a select loop on a worker thread;
                 uring: io_uring completions inside Node's event loop
                 (falls back to reactor, with a notice, where io_uring is off);
                 uring-blocking: io_uring, a blocking run() on a worker thread,
                 the fastest (falls back to blocking where io_uring is off).
                 Default: reactor, or blocking when --backend is poll or select.
  --backend B    the blocking loop's selector: epoll, poll or select
                 (default: $IOMUX_SELECTOR when set, else epoll)
  --backlog N    listen() backlog (default 511)
  --workers N    reactor mode on N threads, each with its own loop and its
                 own listener on the port (SO_REUSEPORT); default 1
  -h, --help     show this help
`;

/** Options of one echo server run. */
export interface EchoOptions {
  host: string;
  port: number;
  backlog: number;
  mode: 'reactor' | 'blocking' | 'uring' | 'uring-blocking';
  /** The blocking loop's backend, or null for `DefaultSelector`'s own choice. */
  backend: Backend | null;
  /** Reactor servers on as many threads, sharing the port (1: one, on the main thread). */
  workers: number;
}

function options(argv: string[]): EchoOptions | null {
  const p = parse(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    mode: { type: 'string' },
    backend: { type: 'string' },
    backlog: { type: 'string' },
    workers: { type: 'string' },
  }, false);
  if (p.values['help']) return null;
  if (p.values['port'] === undefined) throw new UsageError('--port is required (0 picks a free port)');
  const port = numberOption(p, 'port', 0, 0, 65535);
  const backend = p.values['backend'] === undefined ? null : choiceOption(p, 'backend', BACKENDS, 'epoll');
  const mode = choiceOption(p, 'mode', ['reactor', 'blocking', 'uring', 'uring-blocking'] as const,
    backend !== null && backend !== 'epoll' ? 'blocking' : 'reactor');
  if (mode === 'reactor' && backend !== null && backend !== 'epoll') {
    throw new UsageError(`--mode reactor needs --backend epoll (libuv must watch the selector's fd), got '${backend}'`);
  }
  if ((mode === 'uring' || mode === 'uring-blocking') && backend !== null) {
    throw new UsageError(`--mode ${mode} takes no --backend, got '${backend}'`);
  }
  const workers = numberOption(p, 'workers', 1, 1, 64);
  if (workers > 1 && mode !== 'reactor') throw new UsageError(`--workers runs Reactor servers: it needs --mode reactor, got '${mode}'`);
  return {
    host: stringOption(p, 'host', '127.0.0.1'),
    port,
    backlog: numberOption(p, 'backlog', 511, 1, 65535),
    mode,
    backend: mode === 'blocking' ? backend : null,
    workers,
  };
}

/** Runs `iomux echo`; resolves to the exit status once a signal has stopped the server. */
export async function runEcho(argv: string[]): Promise<number> {
  const opts = options(argv);
  if (!opts) {
    process.stdout.write(HELP);
    return 0;
  }
  const stats = opts.mode === 'uring' ? await runUring(opts)
    : opts.mode === 'uring-blocking' ? await runUringBlocking(opts)
      : opts.workers > 1 ? await runWorkers(opts)
        : opts.mode === 'reactor' ? await runReactor(opts) : await runBlocking(opts);
  process.stdout.write(`iomux echo: ${stats.signal}: closed ${stats.open} open connection${stats.open === 1 ? '' : 's'}; `
    + `served ${stats.connections} connection${stats.connections === 1 ? '' : 's'}, echoed ${stats.bytes} bytes\n`);
  return 0;
}

/** Resolves with the name of the first SIGINT/SIGTERM; a second one exits at once. */
function stopSignal(): { promise: Promise<string>; dispose(): void } {
  let resolve!: (s: string) => void;
  const promise = new Promise<string>((r) => { resolve = r; });
  let received = false;
  const handler = (sig: string): void => {
    if (received) {
      process.stderr.write(`iomux echo: second ${sig}, exiting without cleanup\n`);
      process.exit(130);
    }
    received = true;
    resolve(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    promise,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

function announce(opts: EchoOptions, info: ListenInfo, backend: string): void {
  const threads = opts.workers > 1 ? `, ${opts.workers} workers` : '';
  process.stdout.write(`iomux echo listening on ${formatListen(info)} (mode ${opts.mode}, backend ${backend}${threads}, pid ${process.pid})\n`);
}

async function runUring(opts: EchoOptions): Promise<EchoStats & { signal: string }> {
  const support = uringSupport();
  if (!support.supported) {
    process.stderr.write(`iomux echo: io_uring unavailable (${support.reason}); serving with --mode reactor (epoll)\n`);
    return runReactor({ ...opts, mode: 'reactor' });
  }
  const { UringEchoServer } = await import('./echo-uring.js');
  const signals = stopSignal();
  try {
    const server = new UringEchoServer(opts.host, opts.port, opts.backlog, (line) => process.stderr.write(`${line}\n`));
    announce(opts, server.address, server.backend);
    const signal = await signals.promise;
    return { ...server.close(), signal };
  } finally {
    signals.dispose();
  }
}

async function runReactor(opts: EchoOptions): Promise<EchoStats & { signal: string }> {
  const { ReactorEchoServer } = await import('./echo-reactor.js');
  const signals = stopSignal();
  try {
    const server = new ReactorEchoServer(opts.host, opts.port, opts.backlog,
      (line) => process.stderr.write(`${line}\n`));
    announce(opts, server.address, server.backend);
    const signal = await signals.promise;
    return { ...server.close(), signal };
  } finally {
    signals.dispose();
  }
}

/** Messages from the worker thread (echo-worker.ts) to the main thread. */
export type WorkerMessage =
  | { type: 'listening'; info: ListenInfo; backend: string }
  | { type: 'log'; line: string }
  | { type: 'error'; message: string }
  | { type: 'stopped'; stats: EchoStats };

async function runUringBlocking(opts: EchoOptions): Promise<EchoStats & { signal: string }> {
  const support = uringSupport();
  if (!support.supported) {
    process.stderr.write(`iomux echo: io_uring unavailable (${support.reason}); serving with --mode blocking\n`);
    return runBlocking({ ...opts, mode: 'blocking' });
  }
  // The ring receives from sockets: the wake channel is a socketpair, not an eventfd.
  const [reader, writer] = socketpair(AF_UNIX, SOCK_STREAM);
  try {
    return await runThread(opts, './echo-uring-worker.js', reader.fileno(), writer.fileno());
  } finally {
    reader.close();
    writer.close();
  }
}

async function runBlocking(opts: EchoOptions): Promise<EchoStats & { signal: string }> {
  // Non-blocking eventfd shared by both threads (fds belong to the process): the main
  // thread writes it on a signal, the worker's selector sees it readable and stops.
  const wake = os.eventfd(0, os.EFD_NONBLOCK);
  try {
    return await runThread(opts, './echo-worker.js', wake, wake);
  } finally {
    os.close(wake);
  }
}

/**
 * Runs a blocking server on a worker thread (`script`, beside this module) that stops when
 * `wakeFd` becomes readable; on SIGINT/SIGTERM the main thread writes 8 bytes to `writeFd`
 * (an eventfd's counter, or the wake socket's other end).
 */
async function runThread(opts: EchoOptions, script: string, wakeFd: number, writeFd: number): Promise<EchoStats & { signal: string }> {
  const signals = stopSignal();
  const worker = new Worker(new URL(script, import.meta.url), {
    workerData: { ...opts, wakeFd },
    // The worker's DefaultSelector reads its own copy of the environment.
    env: opts.backend === null ? process.env : { ...process.env, IOMUX_SELECTOR: opts.backend },
    stdout: false,
    stderr: false,
  });
  let stats: EchoStats | undefined;
  let failure: string | undefined;
  let signal = '';
  worker.on('message', (m: WorkerMessage) => {
    if (m.type === 'listening') announce(opts, m.info, m.backend);
    else if (m.type === 'log') process.stderr.write(`${m.line}\n`);
    else if (m.type === 'error') failure = m.message;
    else stats = m.stats;
  });
  worker.on('error', (e) => { failure ??= e.message; });
  const exited = once(worker, 'exit');
  try {
    signal = await Promise.race([signals.promise, exited.then(() => '')]);
    if (signal) {
      // eventfd counters are 8 bytes, host order: add 1 to wake the worker.
      os.write(writeFd, new Uint8Array(new BigUint64Array([1n]).buffer));
      await exited;
    }
  } finally {
    signals.dispose();
  }
  if (failure !== undefined) throw new Error(failure);
  if (!stats) throw new Error('the server thread stopped without reporting');
  return { ...stats, signal };
}

/**
 * `--workers N`: N Reactor servers on worker threads sharing the port. The first one
 * binds (so `--port 0` picks one free port), the others join it on that port; a signal
 * stops all of them, and their counters are summed.
 */
async function runWorkers(opts: EchoOptions): Promise<EchoStats & { signal: string }> {
  const signals = stopSignal();
  const workers: Worker[] = [];
  const exits: Promise<unknown>[] = [];
  const stats: EchoStats[] = [];
  let failure: string | undefined;
  const start = (port: number): Promise<ListenInfo> => new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./echo-reactor-worker.js', import.meta.url), {
      workerData: { host: opts.host, port, backlog: opts.backlog },
      stdout: false,
      stderr: false,
    });
    workers.push(worker);
    exits.push(once(worker, 'exit'));
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'listening') resolve(m.info);
      else if (m.type === 'log') process.stderr.write(`${m.line}\n`);
      else if (m.type === 'error') {
        failure ??= m.message;
        reject(new Error(m.message));
      } else stats.push(m.stats);
    });
    worker.on('error', (e) => {
      failure ??= e.message;
      reject(e);
    });
    // Settles nothing once listening: only a thread that ended before it listened.
    worker.once('exit', () => reject(new Error(failure ?? 'a server thread ended before it listened')));
  });
  let signal = '';
  try {
    const first = await start(opts.port);
    for (let i = 1; i < opts.workers; i++) await start(first.port);
    announce(opts, first, 'epoll');
    signal = await Promise.race([signals.promise, Promise.race(exits).then(() => '')]);
    for (const w of workers) w.postMessage('stop');
    await Promise.all(exits);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  } finally {
    signals.dispose();
  }
  if (failure !== undefined) throw new Error(failure);
  if (stats.length !== workers.length) throw new Error('a server thread stopped without reporting');
  const sum: EchoStats = { connections: 0, open: 0, bytes: 0 };
  for (const s of stats) {
    sum.connections += s.connections;
    sum.open += s.open;
    sum.bytes += s.bytes;
  }
  return { ...sum, signal };
}
