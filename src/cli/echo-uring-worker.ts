/**
 * Worker-thread entry of `iomux echo --mode uring-blocking`: an io_uring echo server driven
 * by the blocking `Proactor#run()` (echo-uring.ts), reporting to the main thread (echo.ts),
 * which owns the signals and wakes this thread through the wake socket.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UringEchoServer } from './echo-uring.js';
import type { EchoOptions, WorkerMessage } from './echo.js';

const opts = workerData as EchoOptions & { wakeFd: number };
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

try {
  const server = new UringEchoServer(opts.host, opts.port, opts.backlog, (line) => post({ type: 'log', line }), 'blocking');
  post({ type: 'listening', info: server.address, backend: server.backend });
  post({ type: 'stopped', stats: server.serve(opts.wakeFd) });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
