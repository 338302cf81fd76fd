// The Reactor: readiness inside Node's event loop (SPEC "Inside Node's event loop").
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { openSync, closeSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Reactor, EpollSelector, PollSelector, SelectSelector, DefaultSelector, EVENT_READ, TimeoutError, OSError,
  ClosedError, PermissionError, os, socketpair,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { FileObj, socketpairFds } from './helpers/sys.mjs';
import * as libc from '../dist/sys/libc.js';

guardFds();

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

function setup(t) {
  const r = new Reactor();
  t.after(() => r.close());
  return r;
}

function pipe(t) {
  const p = os.pipe();
  const open = new Set(p);
  t.after(() => { for (const fd of open) os.close(fd); });
  return [p[0], p[1], (fd) => { open.delete(fd); os.close(fd); }];
}

/** `p`, or a rejection if it has not settled within `ms`. */
function within(p, ms) {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Resolves after `cond()` holds (polled each 5 ms), or rejects after `ms`. */
async function until(cond, ms = 3000) {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
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
});

describe('callbacks', () => {
  test('addReader calls back with the same object, level-triggered, until removed', async (t) => {
    const r = setup(t);
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
    const r = setup(t);
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
    const r = setup(t);
    assert.throws(() => r.addReader('x', () => {}), TypeError);
    assert.throws(() => r.addReader(-1, () => {}), RangeError);
    assert.throws(() => r.addReader(0, 'nope'), { name: 'TypeError', message: /got "nope"$/ });
    assert.throws(() => r.removeReader({}), TypeError);
  });

  test('timers keep running while fds are watched', async (t) => {
    const r = setup(t);
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
    const r = setup(t);
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
    const r = setup(t);
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
});

describe('readable() / writable()', () => {
  test('resolve when ready; several waiters on one fd all resolve', async (t) => {
    const r = setup(t);
    const [a, b] = pipe(t);
    await r.writable(b);
    const p = Promise.all([r.readable(a), r.readable({ fileno: () => a }), r.readable(a)]);
    let done = false;
    p.then(() => { done = true; });
    await sleep(20);
    assert.equal(done, false);
    os.write(b, 'x');
    assert.deepEqual(await p, [undefined, undefined, undefined]);
  });

  test('a timeout rejects with TimeoutError (ETIMEDOUT)', async (t) => {
    const r = setup(t);
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
    const r = setup(t);
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
    const r = setup(t);
    const [a] = pipe(t);
    await assert.rejects(r.readable('x'), TypeError);
    await assert.rejects(r.readable(-3), RangeError);
    await assert.rejects(r.readable(a, { timeout: -1 }), RangeError);
    await assert.rejects(r.readable(a, { timeout: NaN }), RangeError);
    await assert.rejects(r.readable(a, { timeout: '10' }), { name: 'TypeError', message: /got "10"$/ });
    await assert.rejects(r.readable(a, { signal: {} }), { name: 'TypeError', message: /AbortSignal, got Object$/ });
    await assert.rejects(r.writable(a, 5), { name: 'TypeError', message: /got 5$/ });
  });

  test('a regular file is refused by epoll (PermissionError) and the reactor goes on', async (t) => {
    const r = setup(t);
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
    const r = setup(t);
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
    const r = setup(t);
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
        const r = setup(t);
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
      const r = setup(t);
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
    const r = setup(t);
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
      const r = setup(t);
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

  test('sock* methods delegate to the socket helpers', async (t) => {
    const r = setup(t);
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
});

describe('process lifetime (child processes)', () => {
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
