/**
 * A multi-core echo server: N worker threads, each with its own `Reactor` (its own event
 * loop) and its own listening socket, all bound to one port with SO_REUSEPORT
 * (`createServer(..., { reusePort: true })`). The kernel spreads incoming connections
 * over the listeners, so each thread serves its share without any hand-off between them.
 *
 * Self-contained: the main thread reserves a port, starts the workers, connects clients
 * (blocking sockets, `createConnection`), checks every echo, prints how many connections
 * each worker served, and stops the workers.
 * Run: `node dist/examples/reuseport-workers.js [WORKERS] [CONNECTIONS]` (defaults 2 and 40).
 * `--serve PORT WORKERS` only serves (for a load generator) until SIGTERM or SIGINT.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import {
  Reactor, socket, createServer, createConnection, AF_INET, SOL_SOCKET, SO_REUSEPORT, type Socket,
} from 'iomux';

interface Start { port: number; index: number }

/** One worker: a listener on the shared port and an echo per connection, on its own Reactor. */
async function worker({ port, index }: Start): Promise<void> {
  const reactor = new Reactor();
  const listener = createServer(['127.0.0.1', port], { reusePort: true });
  listener.setblocking(false);
  let served = 0;
  const echo = async (conn: Socket): Promise<void> => {
    try {
      for (;;) {
        const data = await reactor.sockRecv(conn, 65536);
        if (data.length === 0) return;
        await reactor.sockSendall(conn, data);
      }
    } catch {
      // a peer that reset the connection (or went away mid-send): this connection ends
    } finally {
      conn.close();
    }
  };
  parentPort!.on('message', (msg) => {
    if (msg !== 'stop') return;
    listener.close(); // the pending sockAccept rejects with EBADF
    parentPort!.postMessage({ index, served });
    reactor.close();
    parentPort!.close();
  });
  parentPort!.postMessage({ index, ready: true });
  for (;;) {
    let conn: Socket;
    try {
      [conn] = await reactor.sockAccept(listener);
    } catch {
      return; // the listener was closed: stopping
    }
    served++;
    void echo(conn);
  }
}

/** `--serve PORT WORKERS`: the workers alone on PORT, until a signal stops them. */
async function serve(port: number, workers: number): Promise<void> {
  const threads = Array.from({ length: workers }, (_, index) =>
    new Worker(fileURLToPath(import.meta.url), { workerData: { port, index } satisfies Start }));
  await Promise.all(threads.map((w) => new Promise((resolve) => w.once('message', resolve))));
  console.log(`serving on 127.0.0.1:${port} with ${workers} workers`);
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const counts = await Promise.all(threads.map((w) => new Promise<{ served: number }>((resolve) => {
    w.once('message', resolve);
    w.postMessage('stop');
  })));
  console.log(`${signal}: served ${counts.map((c) => c.served).join(' + ')} connections`);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') return serve(Number(process.argv[3]), Number(process.argv[4] ?? 2));
  const workers = Number(process.argv[2] ?? 2);
  const connections = Number(process.argv[3] ?? 40);
  // Reserve a port: a socket bound with SO_REUSEPORT but not listening receives nothing,
  // and holds the port until the workers' listeners are bound to it.
  const reserve = socket(AF_INET);
  reserve.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  reserve.bind(['127.0.0.1', 0]);
  const [, port] = reserve.getsockname();
  console.log(`main: port ${port}, ${workers} workers, each with its own Reactor`);

  const threads = Array.from({ length: workers }, (_, index) =>
    new Worker(fileURLToPath(import.meta.url), { workerData: { port, index } satisfies Start }));
  const exited = threads.map((w) => new Promise((resolve) => w.once('exit', resolve)));
  await Promise.all(threads.map((w) => new Promise<void>((resolve, reject) => {
    w.once('error', reject);
    w.once('message', () => resolve());
  })));
  reserve.close();

  let ok = 0;
  for (let i = 0; i < connections; i++) {
    const c = createConnection(['127.0.0.1', port], 5);
    const msg = `hello ${i}`;
    c.sendall(msg);
    let got = '';
    while (got.length < msg.length) got += c.recv(100).toString();
    if (got === msg) ok++;
    c.close();
  }
  console.log(`main: ${ok} of ${connections} echoes correct`);

  const counts = await Promise.all(threads.map((w) => new Promise<{ index: number; served: number }>((resolve) => {
    w.once('message', resolve);
    w.postMessage('stop');
  })));
  for (const { index, served } of counts.sort((a, b) => a.index - b.index)) {
    console.log(`worker ${index}: served ${served} connections`);
  }
  const total = counts.reduce((n, c) => n + c.served, 0);
  console.log(`total served: ${total}`);
  await Promise.all(exited);
  if (ok !== connections || total !== connections) process.exitCode = 1;
}

if (isMainThread) await main();
else await worker(workerData as Start);
