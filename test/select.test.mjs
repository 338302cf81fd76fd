// The select module: select(), the poll object and the epoll object (Python's
// `select.select`, `select.poll`, `select.epoll`), against real pipes and socketpairs:
// the conventions they share (file-likes, units, rounding, masks), then each in turn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import * as io from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { socketpairFds, closeAll, FileObj } from './helpers/sys.mjs';

guardFds();


const {
  select, poll, Poll, epoll, Epoll, os, OSError, KeyError, ClosedError, FileNotFoundError,
  POLLIN, POLLPRI, POLLOUT, POLLNVAL, EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLET, EPOLLONESHOT, EPOLL_CLOEXEC,
  FD_SETSIZE,
} = io;

/** Runs `fn()` while a child writes one byte to `w` after `delayMs`; returns [result, ms]. */
async function withLateWriter(w, delayMs, fn) {
  const child = spawn(process.execPath, ['-e', `setTimeout(() => require("fs").writeSync(3, "x"), ${delayMs})`], {
    stdio: ['ignore', 'ignore', 'inherit', w],
  });
  const exited = new Promise((res) => child.on('exit', res));
  const t0 = performance.now();
  const result = fn();
  const ms = performance.now() - t0;
  await exited;
  return [result, ms];
}

// ---- Conventions ---------------------------------------------------------------

test('a file-like is a non-negative integer fd or an object with fileno(); the same object comes back', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const obj = new FileObj(w);
  const plain = { fileno() { return w; } };
  const [, ready] = select([], [obj, w, plain], [], 0);
  assert.equal(ready.length, 3);
  assert.equal(ready[0], obj);
  assert.equal(ready[1], w);
  assert.equal(ready[2], plain);
  const p = poll();
  p.register(obj, POLLOUT);
  assert.deepEqual(p.poll(0), [[w, POLLOUT]]);
});

/** An empty pipe whose read end an Epoll and a Poll both watch; all closed after the test. */
function idlePipeWatchers(t) {
  const [r, w] = os.pipe();
  const ep = epoll();
  t.after(() => { ep.close(); closeAll(r, w); });
  ep.register(r, EPOLLIN);
  const p = poll();
  p.register(r, POLLIN);
  return { r, w, ep, p };
}

test('units: select() and Epoll#poll() take seconds, Poll#poll() milliseconds', (t) => {
  const { r, w, ep, p } = idlePipeWatchers(t);
  for (const [name, call] of [['select(0.08)', () => select([r], [], [], 0.08)], ['Epoll#poll(0.08)', () => ep.poll(0.08)],
    ['Poll#poll(80)', () => p.poll(80)]]) {
    const t0 = performance.now();
    call();
    const ms = performance.now() - t0;
    assert.ok(ms >= 75 && ms < 3000, `${name} waited ${ms} ms`);
  }
});

test('fractional milliseconds are rounded up: a tiny positive timeout waits, never a busy 0 ms', (t) => {
  const { r, w, ep, p } = idlePipeWatchers(t);
  for (const [name, call] of [['select', () => select([r], [], [], 1e-6)], ['Epoll#poll', () => ep.poll(1e-6)],
    ['Poll#poll', () => p.poll(0.001)], ['select 0.0015 s', () => select([r], [], [], 0.0015)]]) {
    const t0 = performance.now();
    const res = call();
    const ms = performance.now() - t0;
    assert.ok(ms >= 0.9, `${name} returned after ${ms} ms`);
    assert.ok(ms < 1000, `${name} took ${ms} ms`);
    assert.ok(Array.isArray(res));
  }
});

test('null or undefined as a timeout blocks until an event (select, Poll#poll, Epoll#poll)', async (t) => {
  const { r, w, ep, p } = idlePipeWatchers(t);
  const sel = [[r], [], []];
  const pl = [[r, POLLIN]];
  const el = [[r, EPOLLIN]];
  const calls = [
    [() => select([r], [], [], null), sel], [() => select([r], [], [], undefined), sel], [() => select([r], [], []), sel],
    [() => p.poll(null), pl], [() => p.poll(undefined), pl], [() => p.poll(), pl],
    [() => ep.poll(null), el], [() => ep.poll(undefined), el], [() => ep.poll(), el],
  ];
  for (const [call, expected] of calls) {
    const [res, ms] = await withLateWriter(w, 60, call);
    assert.ok(ms >= 30, `${call} returned after ${ms} ms`);
    assert.deepEqual(res, expected);
    os.read(r, 10);
  }
});

test('event masks are 32-bit: -2^31..2^32-1 accepted as mask >>> 0, anything else RangeError; returned masks non-negative', (t) => {
  const [a, b] = socketpairFds();
  const ep = epoll();
  t.after(() => { ep.close(); closeAll(a, b); });
  ep.register(a, EPOLLIN | EPOLLET);
  assert.ok((EPOLLIN | EPOLLET) < 0, 'negative in JS');
  os.write(b, 'x');
  const [[fd, ev]] = ep.poll(0);
  assert.equal(fd, a);
  assert.equal(ev, EPOLLIN);
  ep.modify(a, -(2 ** 31)); // EPOLLET alone
  ep.modify(a, EPOLLOUT | EPOLLONESHOT);
  for (const [, e] of ep.poll(0)) assert.ok(e >= 0);
  for (const bad of [2 ** 32, -(2 ** 31) - 1, 1.5, NaN, Infinity, -Infinity, 2 ** 53]) {
    assert.throws(() => ep.modify(a, bad), RangeError, String(bad));
    assert.throws(() => ep.register(b, bad), RangeError, String(bad));
  }
  // The extremes pass the range check and reach the kernel, which refuses EPOLLEXCLUSIVE
  // combined with every other bit (EINVAL): an OSError, not a RangeError.
  for (const edge of [-1, 2 ** 32 - 1]) {
    assert.throws(() => ep.modify(a, edge), (e) => e instanceof OSError && e.code === 'EINVAL', String(edge));
  }
});

// ---- Constants -----------------------------------------------------------------

test('constants have their Linux values and are exported from the root', () => {
  const expected = {
    POLLIN: 0x1, POLLPRI: 0x2, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20, POLLRDNORM: 0x40,
    POLLRDBAND: 0x80, POLLWRNORM: 0x100, POLLWRBAND: 0x200, POLLMSG: 0x400, POLLRDHUP: 0x2000,
    EPOLLIN: 0x1, EPOLLOUT: 0x4, EPOLLPRI: 0x2, EPOLLERR: 0x8, EPOLLHUP: 0x10, EPOLLET: 2 ** 31,
    EPOLLONESHOT: 2 ** 30, EPOLLEXCLUSIVE: 2 ** 28, EPOLLRDHUP: 0x2000, EPOLLRDNORM: 0x40, EPOLLRDBAND: 0x80,
    EPOLLWRNORM: 0x100, EPOLLWRBAND: 0x200, EPOLLMSG: 0x400, EPOLL_CLOEXEC: 0o2000000, FD_SETSIZE: 1024,
    PIPE_BUF: 4096,
  };
  for (const [name, value] of Object.entries(expected)) {
    assert.equal(typeof io[name], 'number', name);
    assert.equal(io[name], value, name);
  }
});

// ---- select() ------------------------------------------------------------------

test('select() → [r, w, x]: three new arrays of the given objects that are ready, in input order', (t) => {
  const [r, w] = os.pipe();
  const [a, b] = socketpairFds();
  t.after(() => closeAll(r, w, a, b));
  const rl = [r, a];
  const wl = [b, w];
  const xl = [];
  os.write(w, 'x');
  os.write(b, 'y');
  const res = select(rl, wl, xl, 0);
  assert.equal(res.length, 3);
  assert.deepEqual(res, [[r, a], [b, w], []]);
  assert.notEqual(res[0], rl);
  assert.notEqual(res[1], wl);
  assert.notEqual(res[2], xl);
  const again = select([a, r], [], [], 0);
  assert.deepEqual(again[0], [a, r]);
  const none = select([], [], [], 0);
  assert.deepEqual(none, [[], [], []]);
  assert.notEqual(none[0], none[1]);
});

test('select(): negative timeout → RangeError; fd >= FD_SETSIZE → RangeError; closed fd → OSError EBADF; non-file-like → TypeError', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  for (const bad of [-1, -0.001, -Infinity]) assert.throws(() => select([r], [], [], bad), RangeError);
  assert.throws(() => select([r], [FD_SETSIZE], [], 0), RangeError);
  assert.throws(() => select([r], [], [new FileObj(FD_SETSIZE + 1)], 0), RangeError);
  const [c, d] = os.pipe();
  closeAll(c, d);
  assert.throws(() => select([], [d], [], 0), (e) => e instanceof OSError && e.errno === 9 && e.code === 'EBADF');
  for (const bad of ['x', {}, null, 1.5, [r]]) assert.throws(() => select([bad], [], [], 0), TypeError);
  for (const bad of [5, {}, null, undefined]) assert.throws(() => select(bad, [], [], 0), TypeError);
});

// ---- poll ----------------------------------------------------------------------

test('poll() or new Poll() → a poll object', () => {
  assert.ok(poll() instanceof Poll);
  assert.ok(new Poll() instanceof Poll);
  assert.notEqual(poll(), poll());
});

test('Poll#register: default POLLIN|POLLPRI|POLLOUT; again overwrites; no syscall (closed fd accepted); mask outside 0..65535 → RangeError', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const p = poll();
  p.register(w);
  assert.deepEqual(p.poll(0), [[w, POLLOUT]]);
  p.register(w, POLLIN);
  assert.deepEqual(p.poll(0), []);
  p.register(w, POLLIN | POLLPRI | POLLOUT);
  assert.deepEqual(p.poll(0), [[w, POLLOUT]]);
  const [c, d] = os.pipe();
  closeAll(c, d);
  p.register(c); // no syscall: accepted
  assert.deepEqual(new Map(p.poll(0)).get(c), POLLNVAL);
  for (const bad of [65536, -1, 2 ** 32, 1.5, NaN, Infinity]) assert.throws(() => p.register(r, bad), RangeError, String(bad));
  p.register(r, 0);
  p.register(r, 65535);
});

test('Poll#modify of an unregistered fd → OSError ENOENT; Poll#unregister of one → KeyError', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const p = poll();
  assert.throws(() => p.modify(r, POLLIN), (e) => e instanceof OSError && e instanceof FileNotFoundError && e.errno === 2 && e.code === 'ENOENT');
  assert.throws(() => p.unregister(r), KeyError);
  p.register(r, POLLIN);
  p.modify(r, POLLOUT);
  assert.throws(() => p.modify(r, 65536), RangeError);
  p.unregister(r);
  assert.throws(() => p.unregister(r), KeyError);
});

test('Poll#poll(timeout) (ms; null/undefined/negative block) → Array<[fd, revents]>; a closed registered fd reports [fd, POLLNVAL]', async (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const p = poll();
  p.register(r, POLLIN);
  for (const timeout of [-1, -1000, -0.5]) {
    const [res, ms] = await withLateWriter(w, 60, () => p.poll(timeout));
    assert.deepEqual(res, [[r, POLLIN]]);
    assert.ok(ms >= 30, `poll(${timeout}) returned after ${ms} ms`);
    os.read(r, 10);
  }
  const [c, d] = os.pipe();
  closeAll(c, d);
  p.register(c, POLLIN);
  const res = p.poll(0);
  assert.deepEqual(res, [[c, POLLNVAL]]);
  assert.ok(Array.isArray(res[0]) && res[0].length === 2);
});

// ---- epoll ---------------------------------------------------------------------

test('epoll(sizehint = -1, flags = 0) or new Epoll(...) → a close-on-exec epoll object', () => {
  for (const ep of [epoll(), new Epoll(), epoll(-1), epoll(1), epoll(100, 0), new Epoll(-1, EPOLL_CLOEXEC)]) {
    try {
      assert.ok(ep instanceof Epoll);
      assert.equal(os.getInheritable(ep.fileno()), false);
    } finally {
      ep.close();
    }
  }
});

test('Epoll: sizehint 0 or < -1 → RangeError; flags other than 0 / EPOLL_CLOEXEC → OSError EINVAL', () => {
  for (const bad of [0, -2, -100]) {
    assert.throws(() => epoll(bad), RangeError);
    assert.throws(() => new Epoll(bad), RangeError);
  }
  // Also bad numbers (RangeError): not an integer, or beyond a C int.
  for (const bad of [1.5, NaN, Infinity, 2 ** 31]) assert.throws(() => epoll(bad), RangeError, String(bad));
  for (const bad of ['1', null, {}]) assert.throws(() => epoll(bad), TypeError, String(bad));
  for (const bad of [1, 2, EPOLL_CLOEXEC | 1, -1, 0o4000]) {
    assert.throws(() => epoll(-1, bad), (e) => e instanceof OSError && e.errno === 22 && e.code === 'EINVAL');
  }
});

test('Epoll: fileno(), closed, close() (idempotent), Epoll.fromFd(fd), [Symbol.dispose]()', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const ep = epoll();
  assert.equal(ep.closed, false);
  const fd = ep.fileno();
  assert.ok(Number.isInteger(fd) && fd >= 0);
  ep.register(w, EPOLLOUT);
  const adopted = Epoll.fromFd(fd);
  assert.ok(adopted instanceof Epoll);
  assert.equal(adopted.fileno(), fd);
  assert.equal(adopted.closed, false);
  assert.deepEqual(adopted.poll(0), [[w, EPOLLOUT]]);
  adopted.close();
  assert.equal(adopted.closed, true);
  adopted.close();
  // The first object's fd is gone with the adopted one; its close() stays quiet (as CPython).
  ep.close();
  ep.close();
  assert.equal(ep.closed, true);
  const d = epoll();
  assert.equal(typeof d[Symbol.dispose], 'function');
  d[Symbol.dispose]();
  assert.equal(d.closed, true);
  d[Symbol.dispose]();
  assert.throws(() => Epoll.fromFd(-1), RangeError);
  assert.throws(() => Epoll.fromFd('3'), TypeError);
});

test('Epoll#register: default EPOLLIN|EPOLLPRI|EPOLLOUT; EEXIST; EBADF; regular file EPERM; -1 → RangeError', (t) => {
  const [a, b] = socketpairFds();
  const file = openSync(new URL(import.meta.url), 'r');
  const ep = epoll();
  t.after(() => { ep.close(); closeAll(a, b); closeSync(file); });
  ep.register(a);
  assert.deepEqual(ep.poll(0), [[a, EPOLLOUT]]);
  os.write(b, 'x');
  assert.deepEqual(ep.poll(0), [[a, EPOLLIN | EPOLLOUT]]);
  assert.throws(() => ep.register(a), (e) => e instanceof OSError && e.errno === 17 && e.code === 'EEXIST');
  const [c, d] = os.pipe();
  closeAll(c, d);
  assert.throws(() => ep.register(c), (e) => e instanceof OSError && e.errno === 9 && e.code === 'EBADF');
  assert.throws(() => ep.register(file), (e) => e instanceof OSError && e.errno === 1 && e.code === 'EPERM');
  assert.throws(() => ep.register(-1), RangeError);
  assert.throws(() => ep.register(new FileObj(-1)), RangeError);
  void EPOLLPRI;
});

test('Epoll#modify, Epoll#unregister (closed fd → OSError EBADF; unregistered → ENOENT)', (t) => {
  const [a, b] = socketpairFds();
  const ep = epoll();
  t.after(() => { ep.close(); closeAll(a, b); });
  ep.register(a, EPOLLIN);
  assert.deepEqual(ep.poll(0), []);
  ep.modify(a, EPOLLOUT);
  assert.deepEqual(ep.poll(0), [[a, EPOLLOUT]]);
  ep.unregister(a);
  assert.deepEqual(ep.poll(0), []);
  assert.throws(() => ep.unregister(a), (e) => e instanceof OSError && e.code === 'ENOENT');
  assert.throws(() => ep.modify(a, EPOLLIN), (e) => e instanceof OSError && e.code === 'ENOENT');
  const [c, d] = os.pipe();
  ep.register(c, EPOLLIN);
  closeAll(c, d);
  assert.throws(() => ep.unregister(c), (e) => e instanceof OSError && e.errno === 9 && e.code === 'EBADF');
  assert.throws(() => ep.modify(c, EPOLLIN), (e) => e instanceof OSError && e.errno === 9 && e.code === 'EBADF');
});

test('Epoll#poll(timeout, maxevents = -1): seconds; null/undefined/any negative block; → Array<[fd, events]>', async (t) => {
  const [r, w] = os.pipe();
  const pairs = Array.from({ length: 3 }, () => socketpairFds());
  const ep = epoll();
  t.after(() => { ep.close(); closeAll(r, w, pairs); });
  for (const [a] of pairs) ep.register(a, EPOLLOUT);
  const all = ep.poll(0);
  assert.equal(all.length, 3);
  for (const pair of all) assert.ok(Array.isArray(pair) && pair.length === 2 && pair[1] === EPOLLOUT);
  assert.equal(ep.poll(0, 1).length, 1);
  assert.equal(ep.poll(0, -1).length, 3);
  for (const bad of [0, -2, -10]) assert.throws(() => ep.poll(0, bad), RangeError);
  for (const [a] of pairs) ep.unregister(a);
  ep.register(r, EPOLLIN);
  for (const timeout of [-1, -0.001, -1e9, -Infinity]) {
    const [res, ms] = await withLateWriter(w, 60, () => ep.poll(timeout));
    assert.deepEqual(res, [[r, EPOLLIN]]);
    assert.ok(ms >= 30, `poll(${timeout}) returned after ${ms} ms`);
    os.read(r, 10);
  }
});

test('Epoll: every method but close() on a closed object → ClosedError', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const ep = epoll();
  ep.register(r, EPOLLIN);
  ep.close();
  const calls = [() => ep.fileno(), () => ep.register(w), () => ep.register(w, EPOLLOUT), () => ep.modify(r, EPOLLIN),
    () => ep.unregister(r), () => ep.poll(), () => ep.poll(0), () => ep.poll(0, 5), () => ep.register('x')];
  for (const call of calls) assert.throws(call, (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED', String(call));
  ep.close();
  ep[Symbol.dispose]();
  assert.equal(ep.closed, true);
});


// ---- select(), modeled on CPython's test_select ------------------------------------

test('nothing ready: three new empty arrays', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const res = select([r], [], [], 0);
  assert.deepEqual(res, [[], [], []]);
});

test('readable and writable ends are reported, as the objects given, in input order', (t) => {
  const [r, w] = os.pipe();
  const [a, b] = socketpairFds();
  t.after(() => closeAll(r, w, a, b));
  const ro = new FileObj(r), wo = new FileObj(w), ao = new FileObj(a);
  let [rr, ww, xx] = select([ro, ao], [wo, ao], [ro], 0);
  assert.deepEqual(rr, []);
  assert.equal(ww.length, 2);
  assert.equal(ww[0], wo);
  assert.equal(ww[1], ao);
  assert.deepEqual(xx, []);
  os.write(w, 'x');
  os.write(b, 'y');
  [rr, ww] = select([ao, ro], [], [], 0);
  assert.equal(rr[0], ao);
  assert.equal(rr[1], ro);
  assert.deepEqual(ww, []);
});

test('any iterable is accepted and duplicates are kept', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const [, ww] = select(new Set([r]), [w, w], [], 0);
  assert.deepEqual(ww, [w, w]);
});

test('timeout: waits about as long as asked, rounds tiny values up, null blocks until ready', async (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  let t0 = performance.now();
  select([r], [], [], 0.1);
  const took = performance.now() - t0;
  assert.ok(took >= 95 && took < 2000, `select(0.1) took ${took} ms`);
  t0 = performance.now();
  select([r], [], [], 1e-7);
  assert.ok(performance.now() - t0 < 1000);
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(3, "x"), 100)'], {
    stdio: ['ignore', 'ignore', 'inherit', w],
  });
  const exited = new Promise((res) => child.on('exit', res));
  t0 = performance.now();
  const [rr] = select([r], [], [], null);
  assert.deepEqual(rr, [r]);
  assert.ok(performance.now() - t0 >= 50);
  await exited;
});

test('bad input', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  assert.throws(() => select([r], [], [], -1), RangeError);
  assert.throws(() => select([r], [], [], NaN), RangeError);
  assert.throws(() => select([r], [], [], '1'), TypeError);
  assert.throws(() => select(['x'], [], [], 0), TypeError);
  assert.throws(() => select([{}], [], [], 0), TypeError);
  assert.throws(() => select([1.5], [], [], 0), TypeError);
  assert.throws(() => select([-1], [], [], 0), RangeError);
  assert.throws(() => select([new FileObj(-1)], [], [], 0), RangeError);
  assert.throws(() => select([r], [], [FD_SETSIZE], 0), (e) => e instanceof RangeError && /1024/.test(e.message));
  assert.throws(() => select([new FileObj(5000)], [], [], 0), /5000/);
});

test('a closed fd is OSError EBADF', () => {
  const [r, w] = os.pipe();
  closeAll(r, w);
  assert.throws(() => select([r], [], [], 0), (e) => e instanceof OSError && e.errno === 9 && e.code === 'EBADF');
});

test('hang-up: the read end of a pipe whose writer closed is readable (EOF)', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r));
  os.close(w);
  assert.deepEqual(select([r], [], [], 0)[0], [r]);
  assert.equal(os.read(r, 10).length, 0);
});
