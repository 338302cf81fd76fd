// The `os` helpers: pipes, eventfd, read/write, blocking and inheritable flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { os, BlockingIOError, BrokenPipeError, select } from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

test('pipe: close-on-exec, read/write, EOF', () => {
  const [r, w] = os.pipe();
  try {
    assert.equal(os.getInheritable(r), false);
    assert.equal(os.getInheritable(w), false);
    assert.equal(os.write(w, 'hello'), 5);
    assert.equal(os.write(w, Buffer.from([1, 2])), 2);
    assert.deepEqual(os.read(r, 100), Buffer.from([104, 101, 108, 108, 111, 1, 2]));
    os.write(w, 'abc');
    const buf = Buffer.alloc(2);
    assert.equal(os.readInto(r, buf), 2);
    assert.equal(buf.toString(), 'ab');
    os.setInheritable(r, true);
    assert.equal(os.getInheritable(r), true);
    os.setInheritable(r, false);
  } finally {
    os.close(w);
  }
  assert.equal(os.read(r, 10).toString(), 'c');
  assert.equal(os.read(r, 10).length, 0);
  os.close(r);
});

test('non-blocking read and full pipe throw BlockingIOError; closed reader is BrokenPipeError', () => {
  const [r, w] = os.pipe(os.O_NONBLOCK);
  assert.equal(os.getBlocking(r), false);
  assert.throws(() => os.read(r, 1), BlockingIOError);
  const chunk = Buffer.alloc(65536);
  assert.throws(() => { for (;;) os.write(w, chunk); }, (e) => e instanceof BlockingIOError && e.code === 'EAGAIN');
  os.setBlocking(r, true);
  assert.equal(os.getBlocking(r), true);
  os.close(r);
  assert.throws(() => os.write(w, 'x'), BrokenPipeError);
  os.close(w);
});

test('eventfd wakes a selector', () => {
  const efd = os.eventfd(0, os.EFD_NONBLOCK);
  try {
    assert.deepEqual(select([efd], [], [], 0)[0], []);
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    os.write(efd, one);
    assert.deepEqual(select([efd], [], [], 0)[0], [efd]);
    assert.equal(os.read(efd, 8).readBigUInt64LE(), 1n);
  } finally {
    os.close(efd);
  }
});

test('bad input', () => {
  assert.throws(() => os.read(-1, 1), RangeError);
  assert.throws(() => os.read(0, -1), RangeError);
  assert.throws(() => os.close('x'), TypeError);
});

// Regression: koffi truncated these silently (eventfd(-1) counted 4294967295, eventfd(2 ** 32)
// counted 0, pipe('x') was pipe(0)): checked before the call now.
test('eventfd/pipe arguments outside their C type are errors, not truncated', () => {
  for (const bad of [-1, 2 ** 32, 1.5, NaN]) {
    assert.throws(() => os.eventfd(bad), { name: 'RangeError', message: new RegExp(`initval .*${bad}`) });
  }
  assert.throws(() => os.eventfd('1'), { name: 'TypeError', message: /initval must be an integer, got "1"/ });
  assert.throws(() => os.eventfd(0, 2 ** 40), { name: 'RangeError', message: /flags 1099511627776 is out of range/ });
  assert.throws(() => os.pipe('x'), { name: 'TypeError', message: /flags must be an integer, got "x"/ });
  assert.throws(() => os.pipe(2 ** 40), RangeError);
  const fd = os.eventfd(2 ** 32 - 1, os.EFD_NONBLOCK);
  try {
    assert.equal(os.read(fd, 8).readBigUInt64LE(), 2n ** 32n - 1n);
  } finally {
    os.close(fd);
  }
});

// Regression: os.write counted elements instead of bytes (a Uint16Array(3) wrote 3 of its
// 6 bytes and returned 3), and os.readInto accepted a string (koffi copied it into a
// temporary: the call returned 6 and the bytes were gone).
test('write and readInto count bytes of any ArrayBufferView', () => {
  const [r, w] = os.pipe();
  try {
    const u16 = new Uint16Array([0x0201, 0x0403, 0x0605]);
    assert.equal(os.write(w, u16), 6);
    assert.deepEqual([...os.read(r, 100)], [1, 2, 3, 4, 5, 6]);
    const dv = new DataView(new ArrayBuffer(8), 2, 4);
    dv.setUint32(0, 0x0a0b0c0d);
    assert.equal(os.write(w, dv), 4, 'a DataView by its bytes');
    assert.deepEqual([...os.read(r, 100)], [10, 11, 12, 13]);
    assert.equal(os.write(w, new Uint8Array([7, 8, 9]).buffer), 3, 'an ArrayBuffer');
    assert.deepEqual([...os.read(r, 100)], [7, 8, 9]);

    os.write(w, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    const into = new Uint32Array(2);
    assert.equal(os.readInto(r, into), 8, 'readInto fills all 8 bytes of a Uint32Array(2)');
    assert.deepEqual([...new Uint8Array(into.buffer)], [1, 2, 3, 4, 5, 6, 7, 8]);
    os.write(w, 'xyz');
    const window = new Uint16Array(new ArrayBuffer(8), 2, 2); // bytes 2..5 of the buffer
    assert.equal(os.readInto(r, window), 3);
    assert.deepEqual([...new Uint8Array(window.buffer)], [0, 0, 0x78, 0x79, 0x7a, 0, 0, 0]);
  } finally {
    os.close(r);
    os.close(w);
  }
});

test('buffers that are not byte views are TypeErrors naming the argument; nothing is read', () => {
  const [r, w] = os.pipe(os.O_NONBLOCK);
  try {
    os.write(w, 'abcdef');
    assert.throws(() => os.readInto(r, 'abcdef'), { name: 'TypeError', message: /^buf must be a writable Buffer.*got "abcdef"$/ });
    for (const bad of [[1, 2], 6, null, undefined, {}]) {
      assert.throws(() => os.readInto(r, bad), { name: 'TypeError', message: /^buf must be/ });
      assert.throws(() => os.write(w, bad), { name: 'TypeError', message: /^data must be/ });
    }
    assert.equal(os.read(r, 100).toString(), 'abcdef', 'the rejected calls consumed nothing');
  } finally {
    os.close(r);
    os.close(w);
  }
});

test('read sizes: a non-integer or negative size is a RangeError, a non-number a TypeError', () => {
  assert.throws(() => os.read(0, 1.5), { name: 'RangeError', message: /1\.5/ });
  assert.throws(() => os.read(0, NaN), RangeError);
  assert.throws(() => os.read(0, -1), RangeError);
  assert.throws(() => os.read(0, '1'), { name: 'TypeError', message: /"1"/ });
});
