// select(): modeled on CPython's test_select, against real pipes and socketpairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { select, os, OSError, FD_SETSIZE } from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { socketpairFds, closeAll, FileObj } from './helpers/sys.mjs';

guardFds();

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
  const { spawn } = await import('node:child_process');
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
