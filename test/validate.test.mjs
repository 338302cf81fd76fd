// The one argument rule set (src/validate.ts): wrong type TypeError, bad number RangeError,
// messages naming the argument and the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from '../dist/validate.js';
import { errno } from '../dist/sys/errno.js';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const throwsT = (f, re) => assert.throws(f, (e) => e instanceof TypeError && (!re || re.test(e.message)));
const throwsR = (f, re) => assert.throws(f, (e) => e instanceof RangeError && (!re || re.test(e.message)));

test('describe shows the value, not just its type', () => {
  assert.equal(v.describe(1.5), '1.5');
  assert.equal(v.describe(-0), '-0');
  assert.equal(v.describe(12n), '12n');
  assert.equal(v.describe(null), 'null');
  assert.equal(v.describe(undefined), 'undefined');
  assert.equal(v.describe(true), 'true');
  assert.equal(v.describe('3'), '"3"');
  assert.equal(v.describe('x'.repeat(100)), `"${'x'.repeat(40)}..."`);
  assert.equal(v.describe(Symbol('s')), 'Symbol(s)');
  assert.equal(v.describe([1, 'a', [2]]), '[1, "a", Array(1)]');
  assert.equal(v.describe([1, 2, 3, 4, 5, 6, 7]), '[1, 2, 3, 4, 5, ... 2 more]');
  assert.equal(v.describe(new Uint16Array(3)), 'Uint16Array(3)');
  assert.equal(v.describe(Buffer.alloc(2)), 'Buffer(2)');
  assert.equal(v.describe(new DataView(new ArrayBuffer(4))), 'DataView(4)');
  assert.equal(v.describe(new ArrayBuffer(8)), 'ArrayBuffer(8)');
  assert.equal(v.describe({}), 'Object');
  assert.equal(v.describe(Object.create(null)), 'Object');
  assert.equal(v.describe(new Map()), 'Map');
  assert.equal(v.describe(function named() {}), 'function named');
  assert.equal(v.describe(() => {}), 'a function');
});

test('integers, C ints, sizes: TypeError for a wrong type, RangeError for a bad number', () => {
  assert.equal(v.toInteger(5, 'n'), 5);
  throwsT(() => v.toInteger('5', 'n'), /^n must be an integer, got "5"$/);
  throwsT(() => v.toInteger(5n, 'n'), /got 5n/);
  for (const bad of [1.5, NaN, Infinity, -Infinity]) throwsR(() => v.toInteger(bad, 'n'), /^n must be an integer/);
  throwsR(() => v.toInteger(11, 'n', 0, 10), /^n 11 is out of range: expected an integer from 0 to 10$/);
  assert.equal(v.toCInt(-0x80000000, 'flags'), -0x80000000);
  assert.equal(v.toCInt(0x7fffffff, 'flags'), 0x7fffffff);
  throwsR(() => v.toCInt(2 ** 31, 'flags'), /flags 2147483648 is out of range/);
  throwsR(() => v.toCInt(2 ** 32, 'how'), /how/);
  assert.equal(v.toSize(0, 'size'), 0);
  throwsR(() => v.toSize(-1, 'size'), /size -1 is out of range/);
  throwsR(() => v.toSize(1.5, 'size'), /size must be an integer, got 1.5/);
  throwsT(() => v.toSize(null, 'size'), /size must be an integer, got null/);
  throwsR(() => v.toSize(11, 'size', 10), /from 0 to 10/);
});

test('masks', () => {
  assert.equal(v.toMask32(-1), 0xffffffff);
  assert.equal(v.toMask32(0x80000001 | 0), 0x80000001);
  throwsR(() => v.toMask32(2 ** 32), /eventmask/);
  throwsT(() => v.toMask32('1', 'events'), /^events must be an integer, got "1"$/);
  assert.equal(v.toMask16(0xffff), 0xffff);
  throwsR(() => v.toMask16(0x10000));
  throwsR(() => v.toMask16(-1));
});

test('timeouts in seconds: rounded up to whole ms, negative per API, one maximum', () => {
  assert.equal(v.secondsToMs(null), -1);
  assert.equal(v.secondsToMs(undefined), -1);
  assert.equal(v.secondsToMs(0), 0);
  assert.ok(Object.is(v.secondsToMs(-0), 0));
  assert.equal(v.secondsToMs(0.0001), 1);
  assert.equal(v.secondsToMs(1.0001), 1001);
  throwsR(() => v.secondsToMs(-1), /timeout must be non-negative, got -1/);
  assert.equal(v.secondsToMs(-1, 'block'), -1);
  assert.equal(v.secondsToMs(-1, 'poll'), 0);
  throwsR(() => v.secondsToMs(NaN, 'poll'), /NaN/);
  throwsR(() => v.secondsToMs(Infinity), /out of range/);
  assert.equal(v.secondsToMs(v.TIMER_MAX / 1000), v.TIMER_MAX);
  throwsR(() => v.secondsToMs(v.TIMER_MAX / 1000 + 0.001), /out of range/);
  throwsT(() => v.secondsToMs('1'), /timeout must be a number of seconds or null, got "1"/);
});

test('timeouts in ms: poll(2) style and Node style', () => {
  assert.equal(v.millisToMs(null), -1);
  assert.equal(v.millisToMs(-5), -1);
  assert.equal(v.millisToMs(0.2), 1);
  throwsR(() => v.millisToMs(NaN));
  throwsR(() => v.millisToMs(v.TIMER_MAX + 1));
  throwsT(() => v.millisToMs({}), /got Object/);
  assert.equal(v.toTimeoutMs(undefined), -1);
  assert.equal(v.toTimeoutMs(Infinity), -1);
  assert.equal(v.toTimeoutMs(0), 0);
  assert.equal(v.toTimeoutMs(1.5), 1.5);
  throwsR(() => v.toTimeoutMs(-1), /timeout must be from 0 to 2147483647 milliseconds/);
  throwsR(() => v.toTimeoutMs(NaN));
  throwsR(() => v.toTimeoutMs(v.TIMER_MAX + 1));
  throwsT(() => v.toTimeoutMs('5', 'readTimeout'), /^readTimeout must be a number of milliseconds or null, got "5"$/);
});

test('signals, callbacks, options objects', () => {
  const ac = new AbortController();
  assert.equal(v.toSignal(ac.signal), ac.signal);
  assert.equal(v.toSignal(null), null);
  assert.equal(v.toSignal(undefined), null);
  const like = { aborted: false, addEventListener() {}, removeEventListener() {} };
  assert.equal(v.toSignal(like), like);
  throwsT(() => v.toSignal({ aborted: false }), /signal must be an AbortSignal, got Object/);
  throwsT(() => v.toSignal(true));
  assert.equal(v.toBoolean(false, 'flag'), false);
  throwsT(() => v.toBoolean(0, 'flag'), /^flag must be true or false, got 0$/);
  throwsT(() => v.toBoolean('false', 'flag'), /got "false"/);
  const f = () => {};
  assert.equal(v.toFunction(f), f);
  throwsT(() => v.toFunction(3, 'onData'), /^onData must be a function, got 3$/);
  const o = { timeout: 1 };
  assert.equal(v.toOptions(o), o);
  assert.deepEqual(v.toOptions(undefined), {});
  assert.ok(Object.isFrozen(v.toOptions(null)));
  throwsT(() => v.toOptions(5000, 'options', '{ timeout, signal }'), /^options must be an object like \{ timeout, signal \}, got 5000$/);
  throwsT(() => v.toOptions('x', 'opts'), /^opts must be an object, got "x"$/);
  throwsT(() => v.toOptions([1]));
  throwsT(() => v.toOptions(() => {}));
});

test('wait options: { timeout, signal } checked, nothing allocated without them', () => {
  assert.equal(v.toWaitOptions(undefined), v.toWaitOptions(null));
  assert.equal(v.toWaitOptions({}), v.toWaitOptions(null));
  assert.deepEqual(v.toWaitOptions({ timeout: 5 }), { timeout: 5, signal: null });
  const ac = new AbortController();
  assert.deepEqual(v.toWaitOptions({ signal: ac.signal }), { timeout: -1, signal: ac.signal });
  throwsT(() => v.toWaitOptions(5000), /options must be an object like \{ timeout, signal \}, got 5000/);
  throwsR(() => v.toWaitOptions({ timeout: -1 }));
  throwsT(() => v.toWaitOptions({ signal: 'x' }), /signal must be an AbortSignal/);
});

test('byte views: counted in bytes; strings only where documented', () => {
  const b = Buffer.from('abc');
  assert.equal(v.toBytes(b), b);
  const u16 = new Uint16Array(3);
  const asBytes = v.toBytes(u16);
  assert.equal(asBytes.length, 6);
  assert.equal(asBytes.buffer, u16.buffer);
  const sub = new Uint32Array(new ArrayBuffer(16), 4, 2);
  const sb = v.toWritableBytes(sub);
  assert.equal(sb.byteOffset, 4);
  assert.equal(sb.length, 8);
  assert.equal(v.toBytes(new DataView(new ArrayBuffer(5))).length, 5);
  assert.equal(v.toBytes(new ArrayBuffer(7)).length, 7);
  throwsT(() => v.toBytes('abc', 'data'), /^data must be a Buffer, a Uint8Array or another ArrayBufferView, got "abc"$/);
  assert.deepEqual([...v.toBytesOrUtf8('é')], [0xc3, 0xa9]);
  throwsT(() => v.toBytesOrUtf8(5, 'data'), /got 5/);
  throwsT(() => v.toWritableBytes('abcdef', 'buf'), /^buf must be a writable Buffer, Uint8Array or other ArrayBufferView, got "abcdef"$/);
  throwsT(() => v.toWritableBytes([1, 2]), /got \[1, 2\]/);
});

test('toFd: fds and file-likes', () => {
  assert.equal(v.toFd(3), 3);
  assert.equal(v.toFd({ fileno: () => 4 }), 4);
  throwsT(() => v.toFd('3'), /expected a file descriptor or an object with fileno\(\), got "3"/);
  throwsT(() => v.toFd({ fileno: () => '3' }), /fileno\(\) returned "3"/);
  throwsT(() => v.toFd(1.5), /file descriptor must be an integer, got 1.5/);
  throwsR(() => v.toFd(-1), /negative/);
  throwsR(() => v.toFd(2 ** 31), /out of range/);
});

test('errno constants are typed numbers, frozen', () => {
  assert.equal(errno.EAGAIN, 11);
  assert.equal(errno.EWOULDBLOCK, 11);
  assert.equal(errno.EINTR, 4);
  assert.ok(Object.isFrozen(errno));
});
