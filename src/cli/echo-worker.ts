/**
 * Worker-thread entry of `iomux echo --mode blocking`: runs the blocking loop
 * (echo-blocking.ts) and reports to the main thread (echo.ts), which owns the signals.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DefaultSelector } from '../index.js';
import { serveBlocking } from './echo-blocking.js';
import type { EchoOptions, WorkerMessage } from './echo.js';

const opts = workerData as EchoOptions & { wakeFd: number };
const post = (m: WorkerMessage): void => parentPort!.postMessage(m);

try {
  const stats = serveBlocking(opts.host, opts.port, opts.backlog, DefaultSelector, opts.wakeFd,
    (info, backend) => post({ type: 'listening', info, backend }), (line) => post({ type: 'log', line }));
  post({ type: 'stopped', stats });
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
