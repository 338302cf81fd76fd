// Waker: an eventfd that one thread makes readable to interrupt a wait in another;
// registrable with select(), poll, epoll, every selector and the Reactor; its fd posted
// to a worker thread (Waker.fromFd) wakes a select() blocked there.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Worker, MessageChannel } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import * as iomux from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { pollOne } from '../dist/sys/pollfd.js';

const {
  Waker, Reactor, select, poll, epoll, POLLIN, EPOLLIN, EpollSelector, PollSelector, SelectSelector,
  DefaultSelector, EVENT_READ, ClosedError, OSError,
} = iomux;

guardFds();

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const readable = (fd) => (pollOne(fd, POLLIN, 0) & POLLIN) !== 0;

function waker(t) {
  const w = new Waker();
  t.after(() => w.close());
  return w;
}

describe('Waker', () => {
  test('wake() makes the fd readable, drain() resets it; wakes coalesce', (t) => {
    const w = waker(t);
    assert.equal(typeof w.fileno(), 'number');
    assert.equal(readable(w.fileno()), false);
    assert.equal(w.drain(), false, 'nothing to drain');
    w.wake();
    w.wake();
    w.wake();
    assert.equal(readable(w.fileno()), true);
    assert.equal(w.drain(), true);
    assert.equal(readable(w.fileno()), false, 'one drain for any number of wakes');
    assert.equal(w.drain(), false);
  });

  test('close() closes the eventfd once; a fromFd() wrapper leaves it open', (t) => {
    const w = new Waker();
    const fd = w.fileno();
    const other = Waker.fromFd(fd);
    other.wake();
    other.close();
    assert.equal(other.closed, true);
    assert.throws(() => other.wake(), ClosedError);
    assert.equal(w.drain(), true, 'the owner still works after the wrapper closed');
    w.close();
    w.close();
    assert.equal(w.closed, true);
    assert.throws(() => w.fileno(), ClosedError);
    assert.throws(() => w.drain(), ClosedError);
    const stale = Waker.fromFd(fd); // the fd is closed now: the kernel says so
    t.after(() => stale.close());
    assert.throws(() => stale.wake(), (e) => e instanceof OSError && e.code === 'EBADF');
  });

  test('fromFd() checks its argument', () => {
    assert.throws(() => Waker.fromFd('3'), TypeError);
    assert.throws(() => Waker.fromFd(-1), RangeError);
    assert.throws(() => Waker.fromFd(1.5), RangeError);
  });

  test('registrable with select(), poll, epoll and every selector', (t) => {
    const w = waker(t);
    w.wake();
    assert.deepEqual(select([w], [], [], 0)[0], [w]);
    const p = poll();
    p.register(w, POLLIN);
    assert.deepEqual(p.poll(0), [[w.fileno(), POLLIN]]);
    const ep = epoll();
    t.after(() => ep.close());
    ep.register(w, EPOLLIN);
    assert.deepEqual(ep.poll(0), [[w.fileno(), EPOLLIN]]);
    for (const Cls of [EpollSelector, PollSelector, SelectSelector, DefaultSelector]) {
      const s = new Cls();
      try {
        s.register(w, EVENT_READ, 'waker');
        const ready = s.select(0);
        assert.equal(ready.length, 1, Cls.name);
        assert.equal(ready[0][0].fileobj, w);
        assert.equal(ready[0][1], EVENT_READ);
      } finally {
        s.close();
      }
    }
    w.drain();
  });

  test('with the Reactor: a reader callback and readable()', async (t) => {
    const w = waker(t);
    const r = new Reactor();
    t.after(() => r.close());
    const woken = new Promise((resolve) => r.addReader(w, (f, ev) => { f.drain(); resolve(ev); }, { once: true }));
    setTimeout(() => w.wake(), 10);
    assert.equal(await woken, EVENT_READ);
    const p = r.readable(w);
    w.wake();
    assert.equal(await p, EVENT_READ);
    assert.equal(w.drain(), true);
  });

  test('closing a Waker a Reactor waits on rejects the wait (EBADF)', async (t) => {
    const w = new Waker();
    const r = new Reactor();
    t.after(() => r.close());
    const p = r.readable(w);
    w.close();
    await assert.rejects(p, (e) => e instanceof OSError && e.code === 'EBADF');
  });
});

describe('across threads', () => {
  test('wake() in the main thread interrupts a select() blocked in a worker; the worker wakes the main thread\'s Reactor', async (t) => {
    const toWorker = new Waker();
    const toMain = new Waker();
    t.after(() => { toWorker.close(); toMain.close(); });
    const r = new Reactor();
    t.after(() => r.close());
    const { port1, port2 } = new MessageChannel();
    t.after(() => port1.close());
    const worker = new Worker(fixture('waker-worker.mjs'), {
      workerData: { fd: toWorker.fileno(), mainFd: toMain.fileno(), port: port2 },
      transferList: [port2],
    });
    const messages = [];
    const exited = new Promise((resolve, reject) => { worker.once('exit', resolve); worker.once('error', reject); });
    await new Promise((resolve) => worker.on('message', (m) => { messages.push(m); if (m.ready) resolve(); }));
    const mainWoken = r.readable(toMain, { timeout: 20000 });
    // The worker is (or soon will be) blocked in select() with no timeout.
    await new Promise((resolve) => setTimeout(resolve, 50));
    port1.postMessage('job 1');
    toWorker.wake();
    await new Promise((resolve) => setTimeout(resolve, 20));
    port1.postMessage('job 2');
    port1.postMessage('stop');
    toWorker.wake();
    assert.equal(await mainWoken, EVENT_READ, 'the worker woke the main thread\'s Reactor');
    assert.equal(toMain.drain(), true);
    assert.equal(await exited, 0);
    assert.deepEqual(messages.at(-1), { done: ['job 1', 'job 2'] });
    assert.equal(readable(toWorker.fileno()), false, 'the worker drained its waker');
  });
});

describe('the example', () => {
  test('examples/waker-worker.ts: a worker blocked in select() takes jobs and stops when woken', () => {
    const root = new URL('..', import.meta.url).pathname;
    const tsc = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}examples`], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
    const out = spawnSync(process.execPath, [`${root}dist/examples/waker-worker.js`], { encoding: 'utf8', timeout: 30000 });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout, '2^2 = 4\n3^2 = 9\n12^2 = 144\nworker exited with 0\n');
  });
});
