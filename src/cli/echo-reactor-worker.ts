/**
 * Worker-thread entry of `iomux echo --workers N`: one Reactor echo server on this
 * thread's own event loop, listening with SO_REUSEPORT on the port the main thread
 * (echo.ts) names. It serves until the main thread posts a message, then closes its
 * connections, reports its counters and lets the thread end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ReactorEchoServer } from './echo-reactor.js';
import type { WorkerMessage } from './echo.js';

const { host, port, backlog } = workerData as { host: string; port: number; backlog: number };
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

try {
  const server = new ReactorEchoServer(host, port, backlog, (line) => post({ type: 'log', line }), true);
  post({ type: 'listening', info: server.address, backend: server.backend });
  parentPort!.once('message', () => {
    post({ type: 'stopped', stats: server.close() });
    parentPort!.close();
  });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
