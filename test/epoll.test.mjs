// Epoll: modeled on CPython's test_epoll, against real pipes, socketpairs and files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { arch } from 'node:process';
import {
  epoll, Epoll, os, OSError, ClosedError, PermissionError, FileExistsError,
  EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLET, EPOLLONESHOT, EPOLLRDHUP, EPOLLHUP, EPOLL_CLOEXEC,
} from 'iomux';
import { EPOLL_EVENT_SIZE, EPOLL_EVENT_DATA } from '../dist/sys/structs.js';
import { guardFds } from './helpers/fds.mjs';
import { socketpairFds, shutdownWrite, closeAll, FileObj } from './helpers/sys.mjs';

guardFds();

test('struct epoll_event layout matches the architecture', () => {
  if (arch === 'x64') assert.deepEqual([EPOLL_EVENT_SIZE, EPOLL_EVENT_DATA], [12, 4]);
  else assert.deepEqual([EPOLL_EVENT_SIZE, EPOLL_EVENT_DATA], [16, 8]);
});

test('create, fileno, closed, close-on-exec, idempotent close, Symbol.dispose', () => {
  const ep = epoll();
  assert.ok(ep instanceof Epoll);
  assert.equal(ep.closed, false);
  assert.ok(ep.fileno() > 2);
  assert.equal(os.getInheritable(ep.fileno()), false);
  ep.close();
  ep.close();
  assert.equal(ep.closed, true);
  const ep2 = new Epoll(10, EPOLL_CLOEXEC);
  ep2[Symbol.dispose]();
  assert.equal(ep2.closed, true);
});

test('bad sizehint and flags', () => {
  assert.throws(() => epoll(0), RangeError);
  assert.throws(() => epoll(-2), RangeError);
  // A number that is not an integer is a bad number (RangeError); a
  // non-number is a TypeError; any flags number but 0 / EPOLL_CLOEXEC is OSError EINVAL.
  assert.throws(() => epoll(1.5), RangeError);
  assert.throws(() => epoll('1'), TypeError);
  assert.throws(() => epoll(-1, 1), (e) => e instanceof OSError && e.errno === 22);
  assert.throws(() => epoll(-1, 1.5), (e) => e instanceof OSError && e.errno === 22);
  epoll(-1, 0).close();
  epoll(5).close();
});

test('every method but close() on a closed object is ClosedError', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const ep = epoll();
  ep.close();
  for (const f of [() => ep.fileno(), () => ep.register(r), () => ep.modify(r, EPOLLIN), () => ep.unregister(r), () => ep.poll(0)]) {
    assert.throws(f, (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED');
  }
});

test('fromFd adopts an existing epoll fd', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const ep = epoll();
  ep.register(w, EPOLLOUT);
  const fd = ep.fileno();
  const ep2 = Epoll.fromFd(fd);
  assert.equal(ep2.fileno(), fd);
  assert.deepEqual(ep2.poll(0), [[w, EPOLLOUT]]);
  ep2.close();
  assert.throws(() => Epoll.fromFd(-1), RangeError);
});

test('register, modify, unregister and their errors', (t) => {
  const [a, b] = socketpairFds();
  const file = openSync(new URL(import.meta.url), 'r');
  t.after(() => { closeAll(a, b); closeSync(file); });
  const ep = epoll();
  t.after(() => ep.close());
  ep.register(new FileObj(a), EPOLLIN | EPOLLOUT);
  assert.deepEqual(ep.poll(0), [[a, EPOLLOUT]]);
  assert.throws(() => ep.register(a), (e) => e instanceof FileExistsError && e.errno === 17 && e.syscall === 'epoll_ctl');
  ep.modify(a, EPOLLIN);
  assert.deepEqual(ep.poll(0), []);
  os.write(b, 'x');
  assert.deepEqual(ep.poll(0), [[a, EPOLLIN]]);
  ep.unregister(a);
  assert.deepEqual(ep.poll(0), []);
  assert.throws(() => ep.modify(a, EPOLLIN), (e) => e instanceof OSError && e.errno === 2);
  assert.throws(() => ep.unregister(a), (e) => e instanceof OSError && e.errno === 2);
  assert.throws(() => ep.register(file), (e) => e instanceof PermissionError && e.errno === 1);
  assert.throws(() => ep.register(-1), RangeError);
  assert.throws(() => ep.register('x'), TypeError);
  assert.throws(() => ep.register(a, 2 ** 32), RangeError);
  assert.throws(() => ep.register(a, -(2 ** 31) - 1), RangeError);
});

test('closed fds: register is EBADF, unregister is EBADF', () => {
  const [r, w] = os.pipe();
  const ep = epoll();
  try {
    ep.register(r, EPOLLIN);
    closeAll(r, w);
    assert.throws(() => ep.unregister(r), (e) => e instanceof OSError && e.errno === 9);
    assert.throws(() => ep.register(r), (e) => e instanceof OSError && e.code === 'EBADF');
  } finally {
    ep.close();
  }
});

test('level-triggered reports again; edge-triggered once per change; masks are unsigned', (t) => {
  const [a, b] = socketpairFds();
  const [c, d] = socketpairFds();
  const ep = epoll();
  t.after(() => { closeAll(a, b, c, d); ep.close(); });
  ep.register(a, EPOLLIN);
  ep.register(c, EPOLLIN | EPOLLET); // negative in JS; accepted as mask >>> 0
  os.write(b, 'x');
  os.write(d, 'x');
  const first = new Map(ep.poll(0));
  assert.equal(first.get(a), EPOLLIN);
  assert.equal(first.get(c), EPOLLIN);
  const second = ep.poll(0);
  assert.deepEqual(second, [[a, EPOLLIN]]);
  os.write(d, 'y');
  assert.deepEqual(new Map(ep.poll(0)).get(c), EPOLLIN);
  for (const [, ev] of ep.poll(0)) assert.ok(ev >= 0);
});

test('EPOLLONESHOT disables the fd after one event until modify re-arms it', (t) => {
  const [a, b] = socketpairFds();
  const ep = epoll();
  t.after(() => { closeAll(a, b); ep.close(); });
  ep.register(a, EPOLLIN | EPOLLONESHOT);
  os.write(b, 'x');
  assert.deepEqual(ep.poll(0), [[a, EPOLLIN]]);
  assert.deepEqual(ep.poll(0), []);
  ep.modify(a, EPOLLIN | EPOLLONESHOT);
  assert.deepEqual(ep.poll(0), [[a, EPOLLIN]]);
});

test("EPOLLRDHUP on the peer's shutdown; EPOLLHUP on a pipe whose writer closed", (t) => {
  const [a, b] = socketpairFds();
  const [r, w] = os.pipe();
  const ep = epoll();
  t.after(() => { closeAll(a, b, r); ep.close(); });
  ep.register(a, EPOLLIN | EPOLLRDHUP);
  assert.deepEqual(ep.poll(0), []);
  shutdownWrite(b);
  assert.deepEqual(ep.poll(0), [[a, EPOLLIN | EPOLLRDHUP]]);
  ep.unregister(a);
  ep.register(r, EPOLLIN);
  os.close(w);
  assert.deepEqual(ep.poll(0), [[r, EPOLLHUP]]);
});

test('poll: maxevents and timeouts', (t) => {
  const pairs = Array.from({ length: 5 }, () => socketpairFds());
  const ep = epoll();
  t.after(() => { closeAll(pairs); ep.close(); });
  for (const [a] of pairs) ep.register(a, EPOLLOUT);
  assert.equal(ep.poll(0).length, 5);
  assert.equal(ep.poll(0, 2).length, 2);
  assert.equal(ep.poll(null, 1).length, 1);
  assert.throws(() => ep.poll(0, 0), RangeError);
  assert.throws(() => ep.poll(0, -2), RangeError);
  assert.throws(() => ep.poll(0, 1.5), RangeError);
  assert.throws(() => ep.poll(0, '1'), TypeError);
  assert.throws(() => ep.poll('1'), TypeError);
  for (const [a] of pairs) ep.unregister(a);
  let t0 = performance.now();
  assert.deepEqual(ep.poll(0.1), []);
  const took = performance.now() - t0;
  assert.ok(took >= 95 && took < 2000, `poll(0.1) took ${took} ms`);
  t0 = performance.now();
  assert.deepEqual(ep.poll(0.00001), []);
  assert.ok(performance.now() - t0 >= 0.9, 'a tiny positive timeout waits at least 1 ms');
});

test('more than 1024 fds', (t) => {
  const pipes = [];
  const ep = epoll();
  t.after(() => { closeAll(pipes); ep.close(); });
  for (let i = 0; i < 700; i++) pipes.push(os.pipe());
  for (const [r] of pipes) ep.register(r, EPOLLIN | EPOLLPRI);
  const [lastR, lastW] = pipes.at(-1);
  assert.ok(lastR > 1024);
  os.write(lastW, 'x');
  assert.deepEqual(ep.poll(0), [[lastR, EPOLLIN]]);
});

test('null, undefined and any negative timeout block until an event', async (t) => {
  const [r, w] = os.pipe();
  const ep = epoll();
  t.after(() => { closeAll(r, w); ep.close(); });
  ep.register(r, EPOLLIN);
  for (const timeout of [null, undefined, -1, -0.5]) {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(3, "x"), 60)'], {
      stdio: ['ignore', 'ignore', 'inherit', w],
    });
    const exited = new Promise((res) => child.on('exit', res));
    const t0 = performance.now();
    assert.deepEqual(ep.poll(timeout), [[r, EPOLLIN]]);
    assert.ok(performance.now() - t0 >= 30, `poll(${timeout}) returned early`);
    os.read(r, 10);
    await exited;
  }
});
