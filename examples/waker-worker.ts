/**
 * A blocking selector loop in a worker thread, told to pick up new work or to stop by a
 * `Waker` (mio's pattern). The worker sleeps in `select()` with no timeout; the main
 * thread queues a job on a MessagePort and calls `wake()`, which makes the Waker's
 * eventfd readable and so returns the worker's `select()`. The fd number is all the
 * worker needs: fds are shared by every thread of a process, and `Waker.fromFd()` wraps
 * it there. The worker answers through another Waker, watched on the main thread by a
 * `Reactor` (no thread blocks there). Run: `node dist/examples/waker-worker.js`.
 */
import { Worker, MessageChannel, isMainThread, workerData, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { Waker, Reactor, DefaultSelector, EVENT_READ } from 'iomux';

interface Setup {
  /** The fd of the Waker that wakes the worker. */
  wakeWorker: number;
  /** The fd of the Waker that wakes the main thread. */
  wakeMain: number;
  /** Jobs in (numbers to square, or 'stop'). */
  jobs: MessagePort;
  /** Results out. */
  results: MessagePort;
}

/** The worker: a blocking selector loop; each wake-up drains the Waker, then the queue. */
function worker(setup: Setup): void {
  const waker = Waker.fromFd(setup.wakeWorker);
  const answer = Waker.fromFd(setup.wakeMain);
  const sel = new DefaultSelector();
  sel.register(waker, EVENT_READ);
  let running = true;
  while (running) {
    for (const [key] of sel.select()) { // blocks until woken
      if (key.fileobj !== waker) continue;
      waker.drain(); // before looking at the queue: a wake after this is not lost
      for (let m = receiveMessageOnPort(setup.jobs); m !== undefined; m = receiveMessageOnPort(setup.jobs)) {
        if (m.message === 'stop') running = false;
        else setup.results.postMessage(`${m.message as number}^2 = ${(m.message as number) ** 2}`);
      }
    }
    answer.wake(); // the results are posted: tell the main thread
  }
  sel.close();
  waker.close(); // wrappers: the fds stay open for the main thread, which made them
  answer.close();
}

async function main(): Promise<void> {
  const toWorker = new Waker();
  const toMain = new Waker();
  const jobs = new MessageChannel();
  const results = new MessageChannel();
  const setup: Setup = { wakeWorker: toWorker.fileno(), wakeMain: toMain.fileno(), jobs: jobs.port2, results: results.port2 };
  const w = new Worker(new URL(import.meta.url), { workerData: setup, transferList: [jobs.port2, results.port2] });
  const exited = new Promise<number>((resolve) => w.once('exit', resolve));
  const reactor = new Reactor();
  for (const batch of [[2, 3], [12]]) {
    for (const n of batch) jobs.port1.postMessage(n);
    toWorker.wake();
    await reactor.readable(toMain); // the worker has answered
    toMain.drain();
    for (let m = receiveMessageOnPort(results.port1); m !== undefined; m = receiveMessageOnPort(results.port1)) {
      console.log(m.message);
    }
  }
  jobs.port1.postMessage('stop');
  toWorker.wake();
  console.log(`worker exited with ${await exited}`);
  reactor.close();
  jobs.port1.close();
  results.port1.close();
  toWorker.close();
  toMain.close();
}

if (isMainThread) await main();
else worker(workerData as Setup);
