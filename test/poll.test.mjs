// Poll: modeled on CPython's test_poll, against real pipes and socketpairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  poll, Poll, os, OSError, KeyError, POLLIN, POLLOUT, POLLPRI, POLLHUP, POLLNVAL, POLLRDHUP,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { socketpairFds, shutdownWrite, closeAll, FileObj } from './helpers/sys.mjs';

guardFds();

test('poll() returns a Poll; default mask is POLLIN|POLLPRI|POLLOUT', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const p = poll();
  assert.ok(p instanceof Poll);
  p.register(w);
  assert.deepEqual(p.poll(0), [[w, POLLOUT]]);
  p.register(new FileObj(r));
  os.write(w, 'x');
  const res = new Map(p.poll(0));
  assert.equal(res.get(r), POLLIN);
  assert.equal(res.get(w), POLLOUT);
});

test('registering again overwrites the mask; modify changes it; unregister removes it', (t) => {
  const [a, b] = socketpairFds();
  t.after(() => closeAll(a, b));
  const p = new Poll();
  p.register(a, POLLIN);
  assert.deepEqual(p.poll(0), []);
  p.register(a, POLLOUT);
  assert.deepEqual(p.poll(0), [[a, POLLOUT]]);
  p.modify(a, POLLIN);
  assert.deepEqual(p.poll(0), []);
  os.write(b, 'hi');
  assert.deepEqual(p.poll(0), [[a, POLLIN]]);
  p.unregister(a);
  assert.deepEqual(p.poll(0), []);
});

test('modify of an unregistered fd is OSError ENOENT; unregister is KeyError', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const p = poll();
  assert.throws(() => p.modify(r, POLLIN), (e) => e instanceof OSError && e.errno === 2 && /not registered/.test(e.message));
  assert.throws(() => p.unregister(r), (e) => e instanceof KeyError && e.message.includes(String(r)));
});

test('a closed registered fd reports POLLNVAL; register makes no syscall', () => {
  const [r, w] = os.pipe();
  closeAll(r, w);
  const p = poll();
  p.register(r);
  assert.deepEqual(p.poll(0), [[r, POLLNVAL]]);
});

test('hang-up and RDHUP', (t) => {
  const [r, w] = os.pipe();
  const [a, b] = socketpairFds();
  t.after(() => closeAll(r, a, b));
  os.close(w);
  const p = poll();
  p.register(r, POLLIN);
  assert.deepEqual(p.poll(0), [[r, POLLHUP]]);
  p.unregister(r);
  p.register(a, POLLIN | POLLRDHUP);
  assert.deepEqual(p.poll(0), []);
  shutdownWrite(b);
  assert.deepEqual(p.poll(0), [[a, POLLIN | POLLRDHUP]]);
});

test('bad masks and fds', (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const p = poll();
  assert.throws(() => p.register(r, 65536), RangeError);
  assert.throws(() => p.register(r, -1), RangeError);
  assert.throws(() => p.register(r, 1.5), RangeError);
  assert.throws(() => p.register(r, 'x'), TypeError);
  assert.throws(() => p.register(-1), RangeError);
  assert.throws(() => p.register('3'), TypeError);
  assert.throws(() => p.register({ fileno: () => 'x' }), TypeError);
  assert.throws(() => p.poll('1'), TypeError);
  assert.throws(() => p.poll(2 ** 40), RangeError);
  p.register(r, 0xffff);
  p.register(r, POLLPRI);
});

test('timeouts: milliseconds, fractions rounded up, negative/null block until an event', async (t) => {
  const [r, w] = os.pipe();
  t.after(() => closeAll(r, w));
  const p = poll();
  p.register(r, POLLIN);
  let t0 = performance.now();
  assert.deepEqual(p.poll(100), []);
  let took = performance.now() - t0;
  assert.ok(took >= 95 && took < 2000, `poll(100) took ${took} ms`);
  t0 = performance.now();
  assert.deepEqual(p.poll(0.01), []);
  took = performance.now() - t0;
  assert.ok(took >= 0.9, `poll(0.01) must wait at least 1 ms, took ${took}`);
  for (const timeout of [null, undefined, -1, -5.5]) {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(3, "x"), 60)'], {
      stdio: ['ignore', 'ignore', 'inherit', w],
    });
    const exited = new Promise((res) => child.on('exit', res));
    t0 = performance.now();
    assert.deepEqual(p.poll(timeout), [[r, POLLIN]]);
    assert.ok(performance.now() - t0 >= 30, `poll(${timeout}) returned early`);
    os.read(r, 10);
    await exited;
  }
});

test('more than 1024 fds', (t) => {
  const pipes = [];
  t.after(() => closeAll(pipes));
  for (let i = 0; i < 600; i++) pipes.push(os.pipe());
  const p = poll();
  for (const [r] of pipes) p.register(r, POLLIN);
  const [lastR, lastW] = pipes.at(-1);
  assert.ok(lastR > 1024, `highest fd ${lastR}`);
  assert.deepEqual(p.poll(0), []);
  os.write(lastW, 'x');
  assert.deepEqual(p.poll(0), [[lastR, POLLIN]]);
});
