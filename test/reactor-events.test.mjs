// The Reactor's event detail: the mask every callback and promise gets (EVENT_READ,
// EVENT_WRITE, EVENT_PRIORITY, EVENT_HANGUP, EVENT_ERROR) on stream sockets, socketpairs,
// pipes and eventfds; priority interest (TCP urgent data, a cgroup v2 file that reports
// POLLPRI|POLLERR); one-shot callbacks; libuv's negative poll status; fds registered
// directly on a given selector.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, openSync, closeSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as iomux from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { socketpairFds, shutdownWrite, closeAll } from './helpers/sys.mjs';
import { streamPair, closedAddress } from './helpers/net.mjs';

const {
  EpollSelector, EVENT_READ, EVENT_WRITE, EVENT_PRIORITY, EVENT_HANGUP, EVENT_ERROR,
  TimeoutError, os, socket, AF_INET, SOCK_STREAM, SOCK_NONBLOCK, MSG_OOB, SHUT_WR, errno,
} = iomux;

import { reactor, pipe } from './helpers/loop.mjs';

guardFds();

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** The next call of a callback kind: resolves with [fileobj, events]. */
function nextCall(r, method, fileobj, options) {
  return new Promise((resolve) => r[method](fileobj, (f, ev) => resolve([f, ev]), { once: true, ...options }));
}

describe('the event bits', () => {
  test('exported beside EVENT_READ and EVENT_WRITE, distinct powers of two', () => {
    assert.deepEqual([EVENT_READ, EVENT_WRITE, EVENT_PRIORITY, EVENT_HANGUP, EVENT_ERROR], [1, 2, 4, 8, 16]);
  });
});

describe('eventfd', () => {
  test('READ and WRITE through callbacks and promises', async (t) => {
    const r = reactor(t);
    const e = os.eventfd(0, os.EFD_NONBLOCK);
    t.after(() => os.close(e));
    assert.equal(await r.writable(e), EVENT_WRITE);
    assert.deepEqual(await nextCall(r, 'addWriter', e), [e, EVENT_WRITE]);
    const p = nextCall(r, 'addReader', e);
    os.write(e, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]));
    assert.deepEqual(await p, [e, EVENT_READ]);
    assert.equal(await r.readable(e), EVENT_READ);
  });
});

describe('pipes', () => {
  test('the writer closing: the reader gets HANGUP (POLLHUP), with READ while data is left', async (t) => {
    const r = reactor(t);
    const [rd, wr, closeEnd] = pipe(t);
    os.write(wr, 'x');
    closeEnd(wr);
    assert.equal(await r.readable(rd), EVENT_READ | EVENT_HANGUP, 'data and the hang-up');
    os.read(rd, 10);
    const [obj, ev] = await nextCall(r, 'addReader', rd);
    assert.equal(obj, rd);
    assert.equal(ev, EVENT_HANGUP, 'the hang-up alone calls the reader');
  });

  test('the reader closing: the writer gets ERROR (POLLERR)', async (t) => {
    const r = reactor(t);
    const [rd, wr, closeEnd] = pipe(t);
    closeEnd(rd);
    assert.equal(await r.writable(wr) & EVENT_ERROR, EVENT_ERROR);
    const [, ev] = await nextCall(r, 'addWriter', wr);
    assert.equal(ev & EVENT_ERROR, EVENT_ERROR);
  });
});

describe('socketpairs', () => {
  test('half-close: the reader learns of it from the mask (RDHUP), without a zero-length read', async (t) => {
    const r = reactor(t);
    const [a, b] = socketpairFds();
    t.after(() => closeAll(a, b));
    os.write(b, 'hi');
    shutdownWrite(b);
    const [, ev] = await nextCall(r, 'addReader', a);
    assert.equal(ev, EVENT_READ | EVENT_HANGUP);
    assert.equal(await r.readable(a), EVENT_READ | EVENT_HANGUP);
    // The other direction still works: a is writable, with no hang-up on its side.
    assert.equal(await r.writable(a), EVENT_WRITE);
    // b's reader has heard nothing.
    await assert.rejects(r.readable(b, { timeout: 20 }), TimeoutError);
  });

  test('the peer closing: READ and HANGUP for the reader, HANGUP for the writer', async (t) => {
    const r = reactor(t);
    const [a, b] = socketpairFds();
    t.after(() => closeAll(a));
    os.close(b);
    const ev = await r.readable(a);
    assert.equal(ev & (EVENT_READ | EVENT_HANGUP), EVENT_READ | EVENT_HANGUP);
    const w = await r.writable(a);
    assert.equal(w & EVENT_HANGUP, EVENT_HANGUP, `writable() mask ${w}`);
  });
});

describe('stream sockets (TCP on loopback)', () => {
  test('READ, WRITE and a half-close through callbacks and promises', async (t) => {
    const r = reactor(t);
    const { c, s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
    assert.equal(await r.writable(c), EVENT_WRITE);
    c.send(Buffer.from('x'));
    assert.deepEqual(await nextCall(r, 'addReader', s), [s, EVENT_READ]);
    s.recv(1);
    c.shutdown(SHUT_WR);
    assert.equal(await r.readable(s), EVENT_READ | EVENT_HANGUP, 'EOF with RDHUP');
    const [, ev] = await nextCall(r, 'addReader', s);
    assert.equal(ev, EVENT_READ | EVENT_HANGUP);
  });

  test('urgent data raises EVENT_PRIORITY: addPriority, priority(), alongside a reader and a writer', async (t) => {
    const r = reactor(t);
    const { c, s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
    const seen = { reader: [], writer: [], priority: [] };
    r.addReader(s, (f, ev) => { seen.reader.push(ev); s.recv(100); });
    r.addWriter(s, (f, ev) => { seen.writer.push(ev); r.removeWriter(s); });
    const pri = r.priority(s, { timeout: 5000 });
    const cb = nextCall(r, 'addPriority', s);
    c.send(Buffer.from('!'), MSG_OOB);
    const ev = await pri;
    assert.equal(ev & EVENT_PRIORITY, EVENT_PRIORITY, `priority() mask ${ev}`);
    const [obj, cev] = await cb;
    assert.equal(obj, s);
    assert.equal(cev & EVENT_PRIORITY, EVENT_PRIORITY);
    assert.equal(seen.writer.length, 1, 'the writer ran too');
    assert.equal(seen.writer[0] & EVENT_WRITE, EVENT_WRITE);
    // Read the urgent byte: priority data is gone, the priority callback stays quiet.
    assert.equal(s.recv(1, MSG_OOB).toString(), '!');
    let calls = 0;
    r.addPriority(s, () => { calls++; });
    await sleep(30);
    assert.equal(calls, 0);
    assert.equal(r.removePriority(s), true);
    assert.equal(r.removePriority(s), false);
    assert.equal(r.removeReader(s), true);
  });

  test('priority(): timeout and AbortSignal as readable()', async (t) => {
    const r = reactor(t);
    const { s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
    await assert.rejects(r.priority(s, { timeout: 20 }), (e) => e instanceof TimeoutError && /priority data within 20 ms/.test(e.message));
    const ac = new AbortController();
    const p = r.priority(s, { signal: ac.signal });
    ac.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
    await assert.rejects(r.priority(s, 5), TypeError);
    assert.equal(r.selector.getMap().size <= 1, true);
  });

  test('a refused connection: the writer gets ERROR (and HANGUP)', async (t) => {
    const r = reactor(t);
    const c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    t.after(() => c.close());
    assert.throws(() => c.connect(closedAddress()), (e) => e.errno === errno.EINPROGRESS || e.errno === errno.ECONNREFUSED);
    const ev = await r.writable(c);
    assert.equal(ev & EVENT_ERROR, EVENT_ERROR, `mask ${ev}`);
    assert.equal(ev & EVENT_HANGUP, EVENT_HANGUP, `mask ${ev}`);
  });
});

describe('one-shot callbacks', () => {
  test('once: runs at most once, then is removed', async (t) => {
    const r = reactor(t);
    const e = os.eventfd(1, os.EFD_NONBLOCK); // readable, and stays so
    t.after(() => os.close(e));
    let n = 0;
    r.addReader(e, () => { n++; }, { once: true });
    await sleep(30);
    assert.equal(n, 1);
    assert.equal(r.removeReader(e), false, 'already removed');
    for (const bad of [1, 'yes', null]) assert.throws(() => r.addReader(e, () => {}, { once: bad }), TypeError);
    assert.throws(() => r.addReader(e, () => {}, 7), TypeError);
  });

  test('adding again from inside the callback costs no epoll_ctl', async (t) => {
    const sel = new EpollSelector();
    t.after(() => sel.close());
    const r = reactor(t, sel);
    const calls = [];
    for (const m of ['register', 'modify', 'unregister']) {
      const orig = sel[m].bind(sel);
      sel[m] = (...a) => { calls.push(m); return orig(...a); };
    }
    const e = os.eventfd(1, os.EFD_NONBLOCK);
    t.after(() => os.close(e));
    let n = 0;
    await new Promise((done) => {
      const cb = (f, ev) => {
        assert.equal(ev, EVENT_READ);
        if (++n === 5) done();
        else r.addReader(e, cb, { once: true });
      };
      r.addReader(e, cb, { once: true });
    });
    assert.deepEqual(calls, ['register'], 'one registration for five one-shot callbacks');
    for (const kind of ['Writer', 'Priority']) {
      let m = 0;
      r[`add${kind}`](e, () => { m++; }, { once: true });
      if (kind === 'Writer') {
        await sleep(30);
        assert.equal(m, 1, `${kind} once`);
      }
      r[`remove${kind}`](e);
    }
  });
});

describe('fds registered directly on a given selector', () => {
  test('are disarmed with one warning: the loop does not spin, the reactor goes on', async (t) => {
    const sel = new EpollSelector();
    t.after(() => sel.close());
    const r = reactor(t, sel);
    const [a, b] = pipe(t);
    const [c, d] = pipe(t);
    const warnings = [];
    const onWarning = (w) => warnings.push(w);
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    sel.register(a, EVENT_READ, 'not the reactor\'s');
    os.write(b, 'x'); // stays readable: nobody reads it
    await r.writable(d);
    // A spinning loop never sits idle in its poll phase: its utilization is near 1 (on a
    // busy machine too, where its CPU time would not tell).
    await sleep(20);
    const elu0 = performance.eventLoopUtilization();
    await sleep(300);
    const elu = performance.eventLoopUtilization(elu0).utilization;
    assert.ok(elu < 0.5, `the loop spun: event loop utilization ${elu.toFixed(2)} over 300 ms`);
    assert.equal(warnings.filter((w) => w.code === 'IOMUX_FOREIGN_FD').length, 1);
    assert.match(warnings.find((w) => w.code === 'IOMUX_FOREIGN_FD').message, new RegExp(`fd ${a} was registered directly`));
    os.write(d, 'y');
    assert.equal(await r.readable(c), EVENT_READ, 'the reactor still dispatches its own');
    sel.unregister(a);
  });
});

describe('libuv stops the watch with a negative status', () => {
  test('every waiter rejects, callbacks go, the error is reported; the reactor goes on', () => {
    const out = spawnSync(process.execPath, [fixture('reactor-status.mjs')], { encoding: 'utf8', timeout: 30000 });
    assert.equal(out.status, 0, out.stderr);
    const rep = JSON.parse(out.stdout);
    assert.equal(rep.rejected, 2, JSON.stringify(rep));
    assert.match(rep.message, /stopped watching the reactor's selector/);
    assert.equal(rep.errno, errno.EBADF);
    assert.equal(rep.uncaught, rep.message, 'the same error is reported as uncaught');
    assert.equal(rep.selectorSize, 0, 'registrations dropped');
    assert.equal(rep.afterwards, EVENT_READ, 'a new reactor on a sound selector works in the same process');
  });
});

describe('a kernfs file that reports POLLPRI|POLLERR (cgroup v2 cgroup.events)', () => {
  // kernfs (sysfs, cgroup v2) reports POLLERR|POLLPRI from a change until the file is
  // read again. A cgroup's cgroup.events changes when a process enters it (populated 1)
  // and when the last one leaves (populated 0).
  test('a process entering and leaving a cgroup calls the priority callback and resolves priority()', async (t) => {
    const root = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find((d) => existsSync(join(d, 'cgroup.procs')) && existsSync(join(d, 'cgroup.controllers')));
    const dir = root && join(root, `iomux-test-${process.pid}`);
    try {
      if (!dir) throw new Error('no cgroup v2 hierarchy');
      mkdirSync(dir);
    } catch (e) {
      t.skip(`cannot make a cgroup v2 group here (${e.message}): urgent data covers EVENT_PRIORITY`);
      return;
    }
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const fd = openSync(join(dir, 'cgroup.events'), 'r');
    t.after(() => {
      closeSync(fd);
      child.kill('SIGKILL');
    });
    const buf = Buffer.alloc(256);
    const read = () => buf.toString('latin1', 0, readSync(fd, buf, 0, 256, 0));
    assert.match(read(), /populated 0/);
    const r = reactor(t);
    await assert.rejects(r.priority(fd, { timeout: 30 }), TimeoutError, 'nothing changed yet');
    const called = new Promise((resolve) => r.addPriority(fd, (f, ev) => resolve(ev), { once: true }));
    writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
    const ev = await called;
    assert.equal(ev & (EVENT_PRIORITY | EVENT_ERROR), EVENT_PRIORITY | EVENT_ERROR, `callback mask ${ev}`);
    assert.match(read(), /populated 1/);
    const left = r.priority(fd, { timeout: 10000 });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const pev = await left;
    assert.equal(pev & (EVENT_PRIORITY | EVENT_ERROR), EVENT_PRIORITY | EVENT_ERROR, `priority() mask ${pev}`);
    assert.match(read(), /populated 0/);
    r.close();
    await until(() => { try { rmdirSync(dir); return true; } catch { return false; } });
  });
});

/** Waits until `cond()` holds (polling every 10 ms, at most 5 s). */
async function until(cond) {
  const end = performance.now() + 5000;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not met in 5 s');
    await sleep(10);
  }
}
