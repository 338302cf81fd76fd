// The Reactor: readiness callbacks and promises inside Node's event loop, on every
// selector backend's environment (the Reactor itself always uses a selector with an fd).
// Worker threads are in reactor-worker.test.mjs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as iomux from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { FileObj, socketpairFds } from './helpers/sys.mjs';
import { asyncListener } from './helpers/net.mjs';
import * as libc from '../dist/sys/libc.js';

const {
  Reactor, EpollSelector, PollSelector, SelectSelector, DefaultSelector, EVENT_READ, EVENT_WRITE, TimeoutError, OSError,
  ClosedError, PermissionError, ConnectionRefusedError, os, socket, socketpair, AF_INET, SOCK_STREAM,
} = iomux;

import { reactor, pipe } from './helpers/loop.mjs';

guardFds();

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** A non-blocking socketpair, closed after the test. */
function pair(t) {
  const [x, y] = socketpair();
  t.after(() => { x.close(); y.close(); });
  x.setblocking(false);
  y.setblocking(false);
  return [x, y];
}

/** A non-blocking listening TCP socket on 127.0.0.1. */
const listener = (t) => asyncListener(t, AF_INET);

/** Resolves after `cond()` holds (polled each 5 ms), or rejects after `ms`. */
async function until(cond, ms = 5000) {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

/** `p`, or a rejection if it has not settled within `ms`. */
function within(p, ms) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Whether `p` is still pending after the current macrotask turn. */
async function pending(p, ms = 20) {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await sleep(ms);
  return !settled;
}

describe('construction', () => {
  test('default selector is epoll (whatever IOMUX_SELECTOR says); a given one is kept open', (t) => {
    const r = new Reactor();
    assert.ok(r.selector instanceof EpollSelector);
    r.close();
    assert.equal(r.selector.closed, true, 'its own selector is closed');
    const s = new EpollSelector();
    const r2 = new Reactor(s);
    assert.equal(r2.selector, s);
    r2.close();
    assert.equal(s.closed, false, 'a given selector is left open');
    s.close();
  });

  test('a selector without fileno() is a TypeError; a closed one a ClosedError', () => {
    for (const Cls of [PollSelector, SelectSelector]) {
      const s = new Cls();
      assert.throws(() => new Reactor(s), (e) => e instanceof TypeError && /fileno/.test(e.message));
      s.close();
    }
    assert.throws(() => new Reactor({}), TypeError);
    assert.throws(() => new Reactor(42), TypeError);
    const s = new EpollSelector();
    s.close();
    assert.throws(() => new Reactor(s), ClosedError);
    const d = new DefaultSelector();
    if (typeof d.fileno === 'function') new Reactor(d).close();
    d.close();
  });

  test('exported from the package root as a class', () => {
    assert.equal(typeof Reactor, 'function');
    const r = new Reactor();
    assert.ok(r instanceof Reactor);
    r.close();
  });

  test('default: a new EpollSelector, whatever IOMUX_SELECTOR forces DefaultSelector to be', () => {
    for (const forced of ['epoll', 'poll', 'select']) {
      const out = spawnSync(process.execPath, [fixture('reactor-child.mjs')],
        { encoding: 'utf8', timeout: 30000, env: { ...process.env, IOMUX_SELECTOR: forced } });
      assert.equal(out.status, 0, out.stderr);
      const rep = JSON.parse(out.stdout);
      assert.equal(rep.selector, 'EpollSelector', `IOMUX_SELECTOR=${forced}`);
      assert.equal(rep.fired, true, `IOMUX_SELECTOR=${forced}: the default reactor dispatches`);
      assert.equal(rep.ownClosed, true, 'close() closes the selector it created');
      // A forced DefaultSelector without fileno() cannot be given to a Reactor.
      assert.equal(rep.givenDefault, forced === 'epoll' ? 'ok' : 'TypeError');
    }
  });

  test('a given selector without fileno() (select, poll) is a TypeError', () => {
    for (const Cls of [PollSelector, SelectSelector]) {
      const s = new Cls();
      try {
        assert.throws(() => new Reactor(s), TypeError);
      } finally {
        s.close();
      }
    }
    for (const bad of [{}, 1, 'epoll', { fileno: () => 3 }]) assert.throws(() => new Reactor(bad), TypeError);
  });

  test('a given EpollSelector is driven, and close() leaves it open', async (t) => {
    const s = new EpollSelector();
    t.after(() => s.close());
    const r = new Reactor(s);
    assert.equal(r.selector, s);
    const [a, b] = pipe(t);
    os.write(b, 'x');
    await r.readable(a, { timeout: 5000 });
    r.close();
    assert.equal(s.closed, false);
    assert.equal(s.getMap().size, 0, 'the reactor takes its registrations away');
    assert.equal(typeof s.fileno(), 'number');
  });

  test('the default selector is closed by close()', () => {
    const r = new Reactor();
    const s = r.selector;
    assert.ok(s instanceof EpollSelector);
    r.close();
    assert.equal(s.closed, true);
  });
});

describe('callbacks: addReader / addWriter / removeReader / removeWriter', () => {
  test('addReader calls back with the same object, level-triggered, until removed', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const obj = { fileno: () => a };
    const seen = [];
    r.addReader(obj, (f) => { seen.push(f); });
    os.write(b, 'x');
    await until(() => seen.length >= 3);
    assert.ok(seen.every((f) => f === obj));
    assert.equal(r.removeReader(obj), true);
    assert.equal(r.removeReader(obj), false);
    const n = seen.length;
    await sleep(30);
    assert.equal(seen.length, n, 'no call after removeReader');
  });

  test('adding again replaces the callback; readers and writers are independent', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const calls = [];
    r.addReader(a, () => calls.push('old'));
    r.addReader(a, () => { calls.push('new'); os.read(a, 10); });
    let writes = 0;
    r.addWriter(b, (fd) => { assert.equal(fd, b); if (++writes === 1) os.write(b, 'x'); });
    await until(() => calls.length >= 1 && writes >= 3);
    assert.ok(calls.every((c) => c === 'new'));
    assert.equal(r.removeWriter(b), true);
    assert.equal(r.removeWriter(b), false);
    assert.equal(r.removeReader(b), false);
    assert.equal(r.removeReader(a), true);
  });

  test('bad arguments', (t) => {
    const r = reactor(t);
    assert.throws(() => r.addReader('x', () => {}), TypeError);
    assert.throws(() => r.addReader(-1, () => {}), RangeError);
    assert.throws(() => r.addReader(0, 'nope'), { name: 'TypeError', message: /got "nope"$/ });
    assert.throws(() => r.removeReader({}), TypeError);
  });

  test('timers keep running while fds are watched', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    let reads = 0;
    r.addReader(a, () => { reads++; });
    r.addWriter(b, () => {});
    let ticks = 0;
    const iv = setInterval(() => { ticks++; }, 10);
    await sleep(150);
    clearInterval(iv);
    assert.ok(ticks >= 5, `only ${ticks} interval ticks in 150 ms`);
    assert.equal(reads, 0);
    r.removeReader(a);
    r.removeWriter(b);
  });

  test('microtasks and nextTicks queued by a callback run before the next phase', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const order = [];
    await new Promise((done) => {
      // Done once both the timer and the immediate ran: under load either may come first.
      const settle = (what) => { order.push(what); if (order.length === 5) done(); };
      r.addReader(a, () => {
        os.read(a, 10);
        r.removeReader(a);
        order.push('callback');
        setTimeout(() => settle('timeout'), 0);
        setImmediate(() => settle('immediate'));
        Promise.resolve().then(() => order.push('microtask'));
        process.nextTick(() => order.push('nextTick'));
      });
      os.write(b, 'x');
    });
    assert.deepEqual(order.slice(0, 3), ['callback', 'nextTick', 'microtask']);
    assert.deepEqual(order.slice(3).sort(), ['immediate', 'timeout']);
  });

  test('a reader removed by an earlier callback of the same batch is not called', async (t) => {
    const r = reactor(t);
    const pipes = [pipe(t), pipe(t), pipe(t)];
    let calls = 0;
    for (const [a] of pipes) {
      r.addReader(a, () => {
        calls++;
        for (const [x] of pipes) r.removeReader(x);
      });
    }
    for (const [, b] of pipes) os.write(b, 'x');
    await until(() => calls > 0);
    await sleep(30);
    assert.equal(calls, 1);
  });

  test('an exception in a callback reaches uncaughtException; the batch and the reactor go on', () => {
    const out = spawnSync(process.execPath, [fixture('reactor-throw.mjs')], { encoding: 'utf8', timeout: 20000 });
    assert.equal(out.status, 0, out.stderr);
    const report = JSON.parse(out.stdout);
    assert.deepEqual(report.caught, ['boom']);
    assert.deepEqual(report.called.sort(), ['a1', 'a2']);
    assert.equal(report.later, true);
  });

  test('callback(fileobj) receives the very object given, each time the fd is ready (level-triggered)', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const obj = { fileno: () => a };
    const seen = [];
    r.addReader(obj, (f) => seen.push(f));
    os.write(b, 'x'); // never read: level-triggered means called again and again
    await until(() => seen.length >= 3);
    assert.ok(seen.every((f) => f === obj));
    assert.equal(r.removeReader(obj), true);
    const n = seen.length;
    await sleep(30);
    assert.equal(seen.length, n, 'not called after removal');
  });

  test('a bare fd is passed back as the same number; a Socket as the same Socket', async (t) => {
    const r = reactor(t);
    const [x, y] = pair(t);
    const [, b] = pipe(t);
    let gotSock = null;
    let gotFd = null;
    r.addWriter(x, (s) => { gotSock = s; r.removeWriter(x); });
    r.addWriter(b, (fd) => { gotFd = fd; r.removeWriter(b); });
    await until(() => gotSock !== null && gotFd !== null);
    assert.equal(gotSock, x);
    assert.equal(gotFd, b);
    void y;
  });

  test('adding again replaces the callback (and the object passed back)', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const first = [];
    const second = [];
    const o1 = { fileno: () => a };
    const o2 = { fileno: () => a };
    r.addReader(o1, (f) => first.push(f));
    r.addReader(o2, (f) => second.push(f));
    os.write(b, 'x');
    await until(() => second.length >= 2);
    assert.equal(first.length, 0);
    assert.ok(second.every((f) => f === o2));
    assert.equal(r.removeReader(a), true, 'found by fd number too');
    assert.equal(r.removeReader(o1), false);
  });

  test('readers and writers of one fd are independent', async (t) => {
    const r = reactor(t);
    const [x] = pair(t);
    let w = 0;
    let rd = 0;
    r.addReader(x, () => { rd++; });
    r.addWriter(x, () => { w++; });
    await until(() => w >= 2);
    assert.equal(rd, 0);
    assert.equal(r.removeWriter(x), true);
    assert.equal(r.removeReader(x), true);
  });

  test('removeReader / removeWriter return true only if one was registered', (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    assert.equal(r.removeReader(a), false);
    assert.equal(r.removeWriter(b), false);
    r.addReader(a, () => {});
    r.addWriter(b, () => {});
    assert.equal(r.removeWriter(a), false, 'a reader is not a writer');
    assert.equal(r.removeReader(b), false);
    assert.strictEqual(r.removeReader(a), true);
    assert.strictEqual(r.removeReader(a), false);
    assert.strictEqual(r.removeWriter(b), true);
    assert.strictEqual(r.removeWriter(b), false);
  });

  test('bad arguments: TypeError / RangeError, checked before anything is registered', (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    assert.throws(() => r.addReader('3', () => {}), TypeError);
    assert.throws(() => r.addReader({}, () => {}), TypeError);
    assert.throws(() => r.addReader(-1, () => {}), RangeError);
    assert.throws(() => r.addWriter(a, null), TypeError);
    assert.throws(() => r.addReader(a, 'not a function'), TypeError);
    assert.equal(r.removeReader(a), false);
    assert.equal(r.selector.getMap().size, 0);
  });

  test('a Socket closed while registered: its registrations go with it; its fd number reused works afresh', async (t) => {
    const r = reactor(t);
    const [x, y] = socketpair();
    t.after(() => y.close());
    x.setblocking(false);
    const fd = x.fileno();
    r.addReader(x, () => {});
    const waiting = r.readable(x).then(() => null, (e) => e);
    x.close(); // fileno() is now -1; the Reactor forgot the fd as it closed
    assert.equal(r.removeReader(x), false, 'nothing left to remove');
    const [u, v] = socketpair();
    t.after(() => { u.close(); v.close(); });
    const reused = [u, v].find((s) => s.fileno() === fd);
    const other = reused === u ? v : u;
    if (reused === undefined) {
      t.skip(`fd ${fd} was not reused`);
      return;
    }
    let got = null;
    r.addReader(reused, (s) => { got = s; r.removeReader(s); });
    other.send(Buffer.from('z'));
    await until(() => got !== null);
    assert.equal(got, reused);
    // The wait on the closed socket can never be served: it rejected as the socket closed.
    const err = await waiting;
    assert.ok(err instanceof OSError && err.code === 'EBADF', String(err));
    assert.match(err.message, /closed while waited on/);
  });

  test('a closed fd: the kernel error (EBADF) propagates and nothing stays registered', (t) => {
    const r = reactor(t);
    const [a, b] = os.pipe();
    os.close(a);
    os.close(b);
    assert.throws(() => r.addReader(a, () => {}), (e) => e instanceof OSError && e.code === 'EBADF' && e.errno === 9);
    assert.equal(r.removeReader(a), false);
    assert.equal(r.selector.getMap().size, 0);
  });
});

describe('readable() / writable()', () => {
  test('resolve when ready; several waiters on one fd all resolve', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    await r.writable(b);
    const p = Promise.all([r.readable(a), r.readable({ fileno: () => a }), r.readable(a)]);
    let done = false;
    p.then(() => { done = true; });
    await sleep(20);
    assert.equal(done, false);
    os.write(b, 'x');
    assert.deepEqual(await p, [EVENT_READ, EVENT_READ, EVENT_READ], 'each resolves to the mask of what happened');
  });

  test('a timeout rejects with TimeoutError (ETIMEDOUT)', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    const t0 = performance.now();
    await assert.rejects(r.readable(a, { timeout: 50 }), (e) => e instanceof TimeoutError && e instanceof OSError
      && e.errno === 110 && e.code === 'ETIMEDOUT' && e.message.includes(String(a)));
    const waited = performance.now() - t0;
    assert.ok(waited >= 45 && waited < 3000, `waited ${waited} ms`);
    // A timed-out wait leaves nothing behind: the next one still works.
    const [, b2] = [a, null];
    void b2;
  });

  test('AbortSignal: already aborted, aborted while waiting, custom reason', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(r.readable(a, { signal: ac.signal }), (e) => e === ac.signal.reason && e.name === 'AbortError');
    const ac2 = new AbortController();
    const p = r.readable(a, { signal: ac2.signal, timeout: 5000 });
    setTimeout(() => ac2.abort(), 10);
    await assert.rejects(p, { name: 'AbortError' });
    const reason = new Error('stop');
    const ac3 = new AbortController();
    const p3 = r.writable(b, { signal: ac3.signal });
    await p3; // writable at once: the signal does not matter
    const p4 = r.readable(a, { signal: ac3.signal });
    ac3.abort(reason);
    await assert.rejects(p4, (e) => e === reason);
    // The fd still works after the cancellations.
    os.write(b, 'x');
    await r.readable(a, { timeout: 2000 });
  });

  test('bad options and bad file objects reject', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    await assert.rejects(r.readable('x'), TypeError);
    await assert.rejects(r.readable(-3), RangeError);
    await assert.rejects(r.readable(a, { timeout: -1 }), RangeError);
    await assert.rejects(r.readable(a, { timeout: NaN }), RangeError);
    await assert.rejects(r.readable(a, { timeout: '10' }), { name: 'TypeError', message: /got "10"$/ });
    await assert.rejects(r.readable(a, { signal: {} }), { name: 'TypeError', message: /AbortSignal, got Object$/ });
    await assert.rejects(r.writable(a, 5), { name: 'TypeError', message: /got 5$/ });
    // Options passed the wrong way are refused by the one rule, naming the argument.
    const shape = /^options must be an object like \{ timeout, signal \}, got /;
    for (const bad of [5000, '5000', true, [5000], () => 5000]) {
      await assert.rejects(r.readable(a, bad), { name: 'TypeError', message: shape }, String(bad));
      await assert.rejects(r.writable(a, bad), { name: 'TypeError', message: shape }, String(bad));
    }
    assert.equal(r.selector.getMap().size, 0, 'nothing registered by a refused wait');
  });

  test('a regular file is refused by epoll (PermissionError) and the reactor goes on', async (t) => {
    const r = reactor(t);
    const dir = mkdtempSync(join(tmpdir(), 'iomux-reactor-'));
    writeFileSync(join(dir, 'f'), 'data');
    const fd = openSync(join(dir, 'f'), 'r');
    t.after(() => { closeSync(fd); rmSync(dir, { recursive: true }); });
    await assert.rejects(r.readable(fd), PermissionError);
    assert.throws(() => r.addReader(fd, () => {}), PermissionError);
    assert.equal(r.removeReader(fd), false);
    const [a, b] = pipe(t);
    os.write(b, 'x');
    await r.readable(a, { timeout: 2000 });
  });

  test('an fd number closed and reused is watched afresh', async (t) => {
    const r = reactor(t);
    for (let i = 0; i < 5; i++) {
      const [a, b] = os.pipe();
      try {
        os.write(b, 'x');
        await r.readable(a, { timeout: 2000 });
        const p = r.readable(a, { timeout: 2000 });
        await p;
        const w = r.writable(b, { timeout: 2000 });
        await w;
      } finally {
        os.close(a);
        os.close(b);
      }
    }
    const [a, b] = pipe(t);
    const p = r.readable(a, { timeout: 3000 });
    setTimeout(() => os.write(b, 'y'), 20);
    await p;
    const seen = [];
    const [c, d, closeEnd] = pipe(t);
    r.addReader(c, () => { seen.push(os.read(c, 10).toString()); });
    os.write(d, '1');
    await until(() => seen.length === 1);
    r.removeReader(c);
    closeEnd(c);
    closeEnd(d);
    const [e, f] = pipe(t); // takes the numbers of c and d
    r.addReader(e, () => { seen.push(os.read(e, 10).toString()); });
    os.write(f, '2');
    await until(() => seen.length === 2);
    r.removeReader(e);
    assert.deepEqual(seen, ['1', '2']);
  });

  // Regression: a wait on a socket closed meanwhile stayed pending forever (and kept the
  // process alive: see the 'closedFd' child below).
  test('closing a watched fd through iomux rejects its waits with EBADF and drops its callbacks', async (t) => {
    const r = reactor(t);
    const [x, y] = socketpair();
    t.after(() => { x.close(); y.close(); });
    x.setblocking(false);
    let calls = 0;
    r.addReader(x, () => { calls++; });
    const waits = [r.readable(x), r.readable(x, { timeout: 5000, signal: new AbortController().signal })]
      .map((p) => within(p.then(() => null, (e) => e), 2000));
    x.close();
    for (const err of await Promise.all(waits)) {
      assert.ok(err instanceof OSError, String(err));
      assert.equal(err.code, 'EBADF');
      assert.equal(err.errno, 9);
      assert.match(err.message, /closed while waited on/);
    }
    assert.equal(r.selector.getMap().size, 0, 'removed from the selector');
    assert.equal(r.removeReader(x), false, 'the callback is gone');
    await sleep(20);
    assert.equal(calls, 0);
    const [a, b] = os.pipe();
    t.after(() => os.close(b));
    const w = within(r.readable(a).then(() => null, (e) => e), 2000);
    os.close(a);
    const err = await w;
    assert.ok(err instanceof OSError && err.code === 'EBADF', String(err));
    assert.equal(r.selector.getMap().size, 0);
  });

  // Regression: the old state of a reused fd number was kept (acquire() reused it), so a
  // ready event of the closed file reached the new file's callback in the same dispatch.
  test('a fd number reused in a callback gets fresh state: the stale event does not reach the new file', async (t) => {
    for (const kind of ['numbers', 'objects']) {
      for (const how of ['behind iomux', 'os.close']) {
        const r = reactor(t);
        const files = [];
        // A file is { fd, obj }: obj is what the Reactor sees (the number, or a FileObj).
        const open = (fd) => { const f = { fd, obj: kind === 'numbers' ? fd : new FileObj(fd) }; files.push(f); return f; };
        t.after(() => { for (const f of files) if (f.fd >= 0) libc.close(f.fd); });
        const close = (f) => {
          if (how === 'os.close') os.close(f.fd); else libc.close(f.fd);
          f.fd = -1;
          if (kind === 'objects') f.obj.fd = -1;
        };
        const [p1, p2] = os.pipe();
        const [q1, q2] = os.pipe();
        const [P, P2, Q, Q2] = [open(p1), open(p2), open(q1), open(q2)];
        const calls = [];
        let reused = null;
        const first = (mine, other) => () => {
          calls.push(mine === P ? 'P' : 'Q');
          if (reused !== null) return;
          // Close the other ready file and open a new pipe that takes its number.
          const num = other.fd;
          close(other);
          const [n1, n2] = os.pipe();
          const N = open(n1);
          open(n2);
          reused = n1 === num;
          r.removeReader(mine.obj);
          r.addReader(N.obj, () => calls.push('new'));
        };
        r.addReader(P.obj, first(P, Q));
        r.addReader(Q.obj, first(Q, P));
        os.write(P2.fd, 'x');
        os.write(Q2.fd, 'x');
        await until(() => reused !== null);
        await sleep(30);
        if (!reused) t.diagnostic(`${kind}, ${how}: the fd number was not reused; nothing to check`);
        else assert.deepEqual(calls.length, 1, `${kind}, ${how}: ${calls}`);
        r.close();
      }
    }
  });

  // Regression: with the reader left on a pipe closed behind the Reactor's back, a new pipe
  // that got the same number was never watched (the kernel had dropped the closed fd from
  // the epoll set, and the Reactor believed it still registered).
  test('after closing a watched pipe without removeReader, a new pipe with its number fires', async (t) => {
    for (const how of ['behind iomux', 'os.close']) {
      const r = reactor(t);
      const [a, b] = os.pipe();
      const seen = [];
      r.addReader(a, () => seen.push('old'));
      await sleep(10);
      if (how === 'os.close') os.close(a); else libc.close(a);
      const [c, d, closeEnd] = pipe(t);
      t.after(() => os.close(b));
      if (c !== a) {
        t.diagnostic(`${how}: the fd number was not reused`);
        r.close();
        continue;
      }
      r.addReader(c, () => { seen.push(os.read(c, 10).toString()); });
      os.write(d, 'new');
      await until(() => seen.length > 0);
      assert.deepEqual(seen, ['new'], how);
      r.removeReader(c);
      r.close();
      closeEnd(c);
      closeEnd(d);
    }
  });

  test('interest lingers after a wait, is dropped after an idle wake-up; removeWriter drops WRITE at once', async (t) => {
    const r = reactor(t);
    const [x, y] = socketpair();
    t.after(() => { x.close(); y.close(); });
    x.setblocking(false);
    y.setblocking(false);
    const sel = r.selector;
    const p = r.readable(x, { timeout: 2000 });
    y.send(Buffer.from('a'));
    await p;
    assert.equal(sel.getKey(x).events, EVENT_READ, 'still registered after the wait');
    const key = sel.getKey(x);
    await r.readable(x, { timeout: 2000 }); // still readable: no re-registration needed
    assert.equal(sel.getKey(x), key, 'the same registration served the second wait');
    await until(() => !sel.getMap().has(x)); // nobody reads: one idle wake-up drops it
    assert.equal(x.recv(10).toString(), 'a');
    r.addReader(x, () => {});
    r.addWriter(x, () => {});
    assert.equal(sel.getKey(x).events, EVENT_READ | 2);
    assert.equal(r.removeWriter(x), true);
    assert.equal(sel.getKey(x).events, EVENT_READ, 'WRITE interest dropped at once');
    assert.equal(r.removeReader(x), true);
  });

  // Regression: removeWriter shrank the interest with epoll_ctl(MOD) on the closed fd and
  // rethrew its EBADF from process.nextTick, so the process died of an uncaught exception.
  // Closed behind the Reactor's back the callbacks are still there to remove (true);
  // closed through iomux (Socket.close) they went with the close (false).
  test('removeWriter/removeReader after the socket was closed: nothing uncaught, nothing left', async (t) => {
    const uncaught = [];
    const onUncaught = (err) => { uncaught.push(err); };
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));
    for (const how of ['behind iomux', 'Socket.close']) {
      const r = reactor(t);
      let x;
      let closeX;
      if (how === 'Socket.close') {
        const [s, y] = socketpair();
        t.after(() => { s.close(); y.close(); });
        s.setblocking(false);
        x = s;
        closeX = () => s.close();
      } else {
        const [fx, fy] = socketpairFds();
        t.after(() => libc.close(fy));
        x = new FileObj(fx);
        closeX = () => { libc.close(fx); x.fd = -1; };
      }
      r.addReader(x, () => {});
      r.addWriter(x, () => {});
      await sleep(10);
      closeX();
      const expected = how === 'behind iomux';
      assert.equal(r.removeWriter(x), expected, how);
      assert.equal(r.removeReader(x), expected, how);
      await sleep(20);
      assert.deepEqual(uncaught, [], how);
      assert.equal(r.selector.getMap().size, 0, `${how}: nothing stays registered`);
    }
  });

  test('return a Promise that resolves once the fd is ready, to the mask of what happened', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const p = r.readable(a);
    assert.ok(p instanceof Promise);
    assert.equal(await pending(p), true, 'not ready yet');
    os.write(b, 'x');
    assert.equal(await p, EVENT_READ);
    const w = r.writable(b);
    assert.ok(w instanceof Promise);
    assert.equal(await w, EVENT_WRITE);
  });

  test('timeout (ms) rejects with iomux TimeoutError: an OSError, errno ETIMEDOUT', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    const t0 = performance.now();
    const err = await r.readable(a, { timeout: 60 }).then(() => null, (e) => e);
    const waited = performance.now() - t0;
    assert.ok(err instanceof TimeoutError, String(err));
    assert.ok(err instanceof OSError);
    assert.ok(err instanceof Error);
    assert.equal(err.errno, 110);
    assert.equal(err.code, 'ETIMEDOUT');
    assert.equal(err.name, 'TimeoutError');
    assert.ok(waited >= 55, `rejected after ${waited} ms, asked 60`);
    assert.ok(waited < 5000, `rejected after ${waited} ms`);
  });

  test('a fractional timeout is never shorter than asked', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    const t0 = performance.now();
    await assert.rejects(r.readable(a, { timeout: 20.5 }), TimeoutError);
    assert.ok(performance.now() - t0 >= 20, 'waited at least the timeout');
  });

  test('a ready fd wins over its timeout, even when the timer fires before the dispatch; timeout 0 polls', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    os.write(b, 'x');
    for (const timeout of [0, 1, 5]) {
      const p = r.readable(a, { timeout });
      const end = performance.now() + 20;
      while (performance.now() < end); // Node's loop time is now stale: its timers run first
      assert.equal(await p, EVENT_READ, `timeout ${timeout}`);
    }
    const [c] = pipe(t);
    await assert.rejects(r.readable(c, { timeout: 0 }), TimeoutError);
    await r.writable(b, { timeout: 0 });
  });

  test('timeout null / undefined / Infinity: no timeout', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    for (const timeout of [null, undefined, Infinity]) {
      const p = r.readable(a, { timeout });
      assert.equal(await pending(p, 30), true);
      os.write(b, 'x');
      await p;
      os.read(a, 10);
    }
  });

  test('a ready fd wins over the timeout; writable() times out too', async (t) => {
    const r = reactor(t);
    const [x, y] = pair(t);
    await r.writable(x, { timeout: 1000 });
    // Fill x's send buffer so it stops being writable.
    const chunk = Buffer.alloc(65536);
    try { for (;;) x.send(chunk); } catch (e) { assert.equal(e.code, 'EAGAIN'); }
    await assert.rejects(r.writable(x, { timeout: 30 }), (e) => e instanceof TimeoutError && e.errno === 110);
    void y;
  });

  test('abort rejects with the signal\'s reason: an AbortError DOMException by default', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    const ac = new AbortController();
    const p = r.readable(a, { signal: ac.signal });
    assert.equal(await pending(p), true);
    ac.abort();
    const err = await p.then(() => null, (e) => e);
    assert.equal(err, ac.signal.reason);
    assert.ok(err instanceof DOMException);
    assert.equal(err.name, 'AbortError');
  });

  test('abort with a custom reason rejects with exactly that value', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    for (const reason of [new Error('why'), 'a string', 42]) {
      const ac = new AbortController();
      const p = r.writable(a, { signal: ac.signal }); // a pipe's read end is never writable
      ac.abort(reason);
      await assert.rejects(p, (e) => e === reason);
    }
  });

  test('an already-aborted signal rejects at once, without waiting', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    os.write(b, 'x'); // even a ready fd
    await assert.rejects(r.readable(a, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    const reason = new Error('already');
    await assert.rejects(r.writable(b, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });

  test('AbortSignal.timeout() rejects with its TimeoutError DOMException reason', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    const sig = AbortSignal.timeout(20);
    await assert.rejects(r.readable(a, { signal: sig }), (e) => e === sig.reason && e.name === 'TimeoutError');
  });

  test('a timed-out or aborted wait leaves the fd usable; other waiters are unaffected', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const survivor = r.readable(a, { timeout: 5000 });
    await assert.rejects(r.readable(a, { timeout: 10 }), TimeoutError);
    const ac = new AbortController();
    const aborted = r.readable(a, { signal: ac.signal });
    ac.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    os.write(b, 'x');
    await survivor;
  });

  test('bad options reject (TypeError / RangeError)', async (t) => {
    const r = reactor(t);
    const [a] = pipe(t);
    await assert.rejects(r.readable(a, { timeout: -5 }), RangeError);
    await assert.rejects(r.readable(a, { timeout: NaN }), RangeError);
    await assert.rejects(r.readable(a, { timeout: '5' }), TypeError);
    await assert.rejects(r.readable(a, { signal: 'yes' }), TypeError);
    await assert.rejects(r.readable('nope'), TypeError);
    await assert.rejects(r.writable(-2), RangeError);
  });
});

describe('sock* methods', () => {
  test('sock* methods delegate to the socket helpers', async (t) => {
    const r = reactor(t);
    const [x, y] = socketpair();
    t.after(() => { x.close(); y.close(); });
    x.setblocking(false);
    y.setblocking(false);
    const got = r.sockRecv(y, 100);
    await r.sockSendall(x, 'hello');
    assert.equal((await got).toString(), 'hello');
    const buf = Buffer.alloc(10);
    const n = r.sockRecvInto(y, buf, { timeout: 2000 });
    await r.sockSendall(x, Buffer.from('abc'));
    assert.equal(await n, 3);
    assert.equal(buf.subarray(0, 3).toString(), 'abc');
  });

  test('sockRecv → Buffer, sockRecvInto → count, sockSendall → void (empty Buffer / 0 at EOF)', async (t) => {
    const r = reactor(t);
    const [x, y] = pair(t);
    const got = r.sockRecv(y, 100);
    assert.equal(await pending(got), true, 'waits for data');
    assert.equal(await r.sockSendall(x, 'hello'), undefined);
    const b = await got;
    assert.ok(Buffer.isBuffer(b));
    assert.equal(b.toString(), 'hello');
    const buf = Buffer.alloc(8);
    const n = r.sockRecvInto(y, buf);
    await r.sockSendall(x, Buffer.from('abc'));
    assert.equal(await n, 3);
    assert.equal(buf.toString('latin1', 0, 3), 'abc');
    x.shutdown(iomux.SHUT_WR);
    assert.equal((await r.sockRecv(y, 10)).length, 0);
    assert.equal(await r.sockRecvInto(y, buf), 0);
  });

  test('sockSendall sends everything even past the socket buffer', async (t) => {
    const r = reactor(t);
    const [x, y] = pair(t);
    const data = Buffer.alloc(4 * 1024 * 1024, 7);
    const sent = r.sockSendall(x, data);
    let total = 0;
    while (total < data.length) total += (await r.sockRecv(y, 1 << 16)).length;
    await sent;
    assert.equal(total, data.length);
  });

  test('sockAccept → [Socket, addr], non-blocking; sockConnect → void', async (t) => {
    const r = reactor(t);
    const srv = listener(t);
    const [, port] = srv.getsockname();
    const c = socket(AF_INET, SOCK_STREAM);
    t.after(() => c.close());
    c.setblocking(false);
    const accepted = r.sockAccept(srv, { timeout: 5000 });
    assert.equal(await r.sockConnect(c, ['127.0.0.1', port], { timeout: 5000 }), undefined);
    const res = await accepted;
    assert.ok(Array.isArray(res) && res.length === 2);
    const [s, addr] = res;
    t.after(() => s.close());
    assert.ok(s instanceof iomux.Socket);
    assert.equal(s.getblocking(), false, 'accepted sockets are non-blocking');
    assert.deepEqual(addr, c.getsockname());
    await r.sockSendall(s, 'ping');
    assert.equal((await r.sockRecv(c, 10)).toString(), 'ping');
  });

  test('sockConnect to a closed port rejects with ConnectionRefusedError', async (t) => {
    const r = reactor(t);
    const srv = listener(t);
    const [, port] = srv.getsockname();
    srv.close();
    const c = socket(AF_INET, SOCK_STREAM);
    t.after(() => c.close());
    c.setblocking(false);
    await assert.rejects(r.sockConnect(c, ['127.0.0.1', port]),
      (e) => e instanceof ConnectionRefusedError && e instanceof OSError && e.errno === 111);
  });

  test('each takes { timeout, signal } last: TimeoutError, the abort reason, an already-aborted signal', async (t) => {
    const r = reactor(t);
    const [x, y] = pair(t);
    const srv = listener(t);
    await assert.rejects(r.sockRecv(y, 10, { timeout: 30 }), (e) => e instanceof TimeoutError && e.code === 'ETIMEDOUT');
    await assert.rejects(r.sockRecvInto(y, Buffer.alloc(4), { timeout: 30 }), TimeoutError);
    await assert.rejects(r.sockAccept(srv, { timeout: 30 }), TimeoutError);
    const ac = new AbortController();
    const p = r.sockRecv(y, 10, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (e) => e === ac.signal.reason && e.name === 'AbortError');
    const reason = new Error('stop');
    await assert.rejects(r.sockRecv(y, 10, { signal: AbortSignal.abort(reason) }), (e) => e === reason);
    await assert.rejects(r.sockAccept(srv, { signal: AbortSignal.abort() }), { name: 'AbortError' });
    // Fill the buffer, then a sockSendall cannot finish in time.
    await assert.rejects(r.sockSendall(x, Buffer.alloc(8 * 1024 * 1024), { timeout: 50 }), TimeoutError);
  });
});

describe('close()', () => {
  test('rejects pending promises with ClosedError and removes everything; idempotent', async (t) => {
    const r = new Reactor();
    const [a, b] = pipe(t);
    let called = 0;
    r.addReader(a, () => { called++; });
    const p1 = r.readable(a, { timeout: 10000 });
    const ac = new AbortController();
    const p2 = r.readable(a, { signal: ac.signal });
    r.close();
    r.close();
    await assert.rejects(p1, (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED');
    await assert.rejects(p2, ClosedError);
    ac.abort();
    os.write(b, 'x');
    await sleep(20);
    assert.equal(called, 0);
    assert.equal(r.closed, true);
    assert.throws(() => r.addReader(a, () => {}), ClosedError);
    assert.throws(() => r.addWriter(b, () => {}), ClosedError);
    await assert.rejects(r.readable(a), ClosedError);
    await assert.rejects(r.writable(b), ClosedError);
    assert.equal(r.removeReader(a), false);
    assert.throws(() => r.selector.fileno(), ClosedError);
    r[Symbol.dispose]();
  });

  test('a given selector is left open and without the reactor\'s fds', async (t) => {
    const s = new EpollSelector();
    t.after(() => s.close());
    const r = new Reactor(s);
    const [a, b] = pipe(t);
    r.addReader(a, () => {});
    await r.writable(b);
    r.close();
    assert.equal(s.closed, false);
    assert.equal(s.getMap().size, 0);
    s.register(a, EVENT_READ);
  });

  test('close() from inside a callback stops the dispatch', async (t) => {
    const r = new Reactor();
    const pipes = [pipe(t), pipe(t)];
    let calls = 0;
    for (const [a] of pipes) r.addReader(a, () => { calls++; r.close(); });
    for (const [, b] of pipes) os.write(b, 'x');
    await until(() => calls > 0);
    await sleep(20);
    assert.equal(calls, 1);
  });

  test('rejects pending readable/writable and sock* promises with ClosedError (code ERR_CLOSED)', async (t) => {
    const r = new Reactor();
    const [a] = pipe(t);
    const [, y] = pair(t);
    const p1 = r.readable(a);
    const p2 = r.readable(a, { timeout: 60000, signal: new AbortController().signal });
    const p3 = r.sockRecv(y, 10);
    await sleep(5);
    r.close();
    for (const p of [p1, p2, p3]) {
      await assert.rejects(p, (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED' && e instanceof Error);
    }
  });

  test('removes everything: no callback runs after close()', async (t) => {
    const r = new Reactor();
    const [a, b] = pipe(t);
    let calls = 0;
    r.addReader(a, () => { calls++; });
    r.addWriter(b, () => { calls++; });
    r.close();
    os.write(b, 'x');
    await sleep(30);
    assert.equal(calls, 0);
  });

  test('after close(): add* throw ClosedError, waits and sock* reject with it, remove* return false', async (t) => {
    const r = new Reactor();
    r.close();
    const [a, b] = pipe(t);
    const [x, y] = pair(t);
    y.send(Buffer.from('data')); // even with data ready, a closed reactor does nothing
    assert.throws(() => r.addReader(a, () => {}), ClosedError);
    assert.throws(() => r.addWriter(b, () => {}), ClosedError);
    assert.equal(r.removeReader(a), false);
    assert.equal(r.removeWriter(b), false);
    await assert.rejects(r.readable(a), ClosedError);
    await assert.rejects(r.writable(b), ClosedError);
    await assert.rejects(r.sockRecv(x, 10), ClosedError);
    await assert.rejects(r.sockRecvInto(x, Buffer.alloc(4)), ClosedError);
    await assert.rejects(r.sockSendall(x, 'z'), ClosedError);
    await assert.rejects(r.sockAccept(x), ClosedError);
    const c = socket(AF_INET, SOCK_STREAM);
    t.after(() => c.close());
    c.setblocking(false);
    await assert.rejects(r.sockConnect(c, ['127.0.0.1', 1]), ClosedError);
    assert.equal(x.recv(10).toString(), 'data', 'the data was not consumed');
  });

  test('idempotent; [Symbol.dispose]() closes; closed reports it', () => {
    const r = new Reactor();
    assert.equal(r.closed, false);
    r.close();
    r.close();
    assert.equal(r.closed, true);
    const r2 = new Reactor();
    r2[Symbol.dispose]();
    assert.equal(r2.closed, true);
    assert.equal(r2.selector.closed, true);
  });

  test('close() from inside a readable() reaction and from a callback is safe', async (t) => {
    const r = new Reactor();
    const [a, b] = pipe(t);
    os.write(b, 'x');
    await r.readable(a);
    r.close();
    const r2 = new Reactor();
    let n = 0;
    await new Promise((done) => r2.addReader(a, () => { n++; r2.close(); setTimeout(done, 20); }));
    assert.equal(n, 1);
  });
});

describe('ref() / unref() and process lifetime', () => {
  test('return the reactor (chainable) and work before and after close()', () => {
    const r = new Reactor();
    assert.equal(r.unref(), r);
    assert.equal(r.ref(), r);
    r.close();
    assert.equal(r.unref(), r);
    assert.equal(r.ref(), r);
  });

  /** Runs the exit fixture; resolves with whether it exited by itself within `ms`. */
  function run(mode, ms = 700) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [fixture('reactor-exit.mjs'), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      let timer = null;
      child.stdout.on('data', () => {
        if (timer === null && out.includes('armed')) timer = setTimeout(() => child.kill('SIGKILL'), ms);
      });
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0 && signal === null) reject(new Error(`${mode}: exit code ${code}: ${err}`));
        else resolve({ exited: signal === null, out });
      });
    });
  }

  for (const [mode, exits] of [
    ['nothing', true], ['removed', true], ['reader', false], ['unref', true], ['reref', false],
    ['pending', false], ['pendingUnref', true], ['resolved', true], ['closed', true], ['writerDone', true],
    ['closedFd', true],
  ]) {
    test(`${mode}: ${exits ? 'exits by itself' : 'stays alive'}`, async () => {
      const { exited, out } = await run(mode);
      assert.equal(exited, exits, out);
      if (mode === 'resolved') assert.match(out, /resolved/);
      if (mode === 'writerDone') assert.match(out, /writer done/);
      if (mode === 'closedFd') assert.match(out, /rejected EBADF/);
    });
  }
});

describe('types', () => {
  test('dist/index.d.ts exports Reactor and its option types; no any in the Reactor API', () => {
    const loop = readFileSync(new URL('../dist/loop/index.d.ts', import.meta.url), 'utf8');
    assert.match(loop, /export \{ Reactor \}/);
    assert.match(loop, /ReactorWaitOptions/);
    const d = readFileSync(new URL('../dist/loop/reactor.d.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(d.replace(/\/\*[\s\S]*?\*\//g, ''), /\bany\b/);
    assert.match(d, /readable\(fileobj: FileLike, opts\?: ReactorWaitOptions\): Promise<number>/);
    assert.match(d, /priority\(fileobj: FileLike, opts\?: ReactorWaitOptions\): Promise<number>/);
    assert.match(d, /addReader<F extends FileLike>\(fileobj: F, callback: ReadyCallback<F>, options\?: ReactorCallbackOptions\): void/);
    assert.match(loop, /ReactorCallbackOptions/);
    assert.match(d, /removeReader\(fileobj: FileLike\): boolean/);
    // The package's Reactor adds the socket operations (declared beside the sockets).
    const net = readFileSync(new URL('../dist/net/async.d.ts', import.meta.url), 'utf8');
    assert.match(net, /sockRecv\(sock: Socket, n: number, options\?: SockOpOptions\): Promise<Buffer>/);
    assert.match(net, /sockAccept<A extends SocketAddress>\(sock: Socket<A>, options\?: SockOpOptions\): Promise<\[Socket<A>, A\]>/);
    void EVENT_READ;
  });
});

describe('leaks', () => {
  test('fds, heap, libuv handles and callback slots over many cycles', () => {
    const out = spawnSync(process.execPath, ['--expose-gc', fixture('reactor-leak.mjs'), '100000', '10000'],
      { encoding: 'utf8', timeout: 120000 });
    assert.equal(out.status, 0, out.stderr);
    const report = JSON.parse(out.stdout);
    const MB = 1024 * 1024;
    assert.ok(report.addRemoveGrowth < 2 * MB, `heap grew ${report.addRemoveGrowth} bytes over 100,000 add/remove cycles`);
    assert.ok(report.waitGrowth < 2 * MB, `heap grew ${report.waitGrowth} bytes over 10,000 waits`);
    assert.ok(report.reactorGrowth < 4 * MB, `heap grew ${report.reactorGrowth} bytes over 10,000 reactors`);
    assert.equal(report.fdDelta, 0);
    assert.deepEqual(report.handles, { open: 0 });
  });
});
