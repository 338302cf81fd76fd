// The selectors (Python's `selectors` module, CPython's BaseSelector behaviour): the
// module's exports, SelectorKey, then one set of tests run against every selector
// class, then what is particular to epoll and to DefaultSelector. Real pipes and
// socketpairs throughout.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, closeSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import * as io from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { pipeFor as pipe, selectorFor as selector } from './helpers/sys.mjs';

guardFds();

const {
  SelectSelector, PollSelector, EpollSelector, DefaultSelector, SelectorKey, BaseSelector, SelectResult,
  EVENT_READ, EVENT_WRITE, KeyError, ClosedError, OSError, PermissionError, os, socketpair,
} = io;
const READ = EVENT_READ;
const WRITE = EVENT_WRITE;
const CLASSES = [SelectSelector, PollSelector, EpollSelector, DefaultSelector];
const cwd = new URL('..', import.meta.url).pathname;

const fileobj = (fd) => ({ fileno: () => fd });
/** [fd, events] of a select() result, sorted by fd. */
const fds = (events) => [...events].map(([k, e]) => [k.fd, e]).sort((a, b) => a[0] - b[0]);
const sorted = fds;

test('EVENT_READ = 1, EVENT_WRITE = 2', () => {
  assert.equal(EVENT_READ, 1);
  assert.equal(EVENT_WRITE, 2);
});

test('the selector classes are exported: SelectSelector, PollSelector, EpollSelector, DefaultSelector', () => {
  for (const Cls of CLASSES) {
    assert.equal(typeof Cls, 'function');
    const s = new Cls();
    assert.ok(s instanceof BaseSelector);
    for (const m of ['register', 'unregister', 'modify', 'select', 'getKey', 'getMap', 'close']) {
      assert.equal(typeof s[m], 'function', `${Cls.name}#${m}`);
    }
    assert.equal(typeof s[Symbol.dispose], 'function');
    s.close();
  }
});

test('DefaultSelector is the best one the platform has: epoll on Linux (unless IOMUX_SELECTOR forces another)', () => {
  const forced = (process.env.IOMUX_SELECTOR ?? '').trim().toLowerCase();
  const expected = { '': EpollSelector, epoll: EpollSelector, poll: PollSelector, select: SelectSelector }[forced];
  assert.equal(DefaultSelector, expected);
  const s = new DefaultSelector();
  assert.ok(s instanceof expected);
  s.close();
});

test('IOMUX_SELECTOR=epoll|poll|select forces the choice; any other value fails when a selector is made', () => {
  const script = `import { DefaultSelector } from 'iomux';
    try { const s = new DefaultSelector(); console.log(DefaultSelector.name + ' ' + s.constructor.name); s.close(); }
    catch (e) { console.log(e.constructor.name + ': ' + e.message); }`;
  const run = (v) => {
    const env = { ...process.env };
    if (v === undefined) delete env.IOMUX_SELECTOR;
    else env.IOMUX_SELECTOR = v;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, encoding: 'utf8', cwd });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(run(undefined), 'EpollSelector EpollSelector');
  assert.equal(run('select'), 'SelectSelector SelectSelector');
  assert.equal(run('POLL'), 'PollSelector PollSelector', 'case does not matter');
  assert.match(run('kqueue'), /^RangeError: IOMUX_SELECTOR="kqueue".*epoll, poll, select/);
  assert.match(run('toString'), /^RangeError: /, 'inherited property names are not backends');
});

describe('SelectorKey', () => {
  test('a frozen { fileobj, fd, events, data }', (t) => {
    const s = selector(t, PollSelector);
    const [r] = pipe(t);
    const obj = { fileno: () => r };
    const data = { any: 'thing' };
    const key = s.register(obj, READ, data);
    assert.ok(Object.isFrozen(key));
    assert.deepEqual(Object.keys(key), ['fileobj', 'fd', 'events', 'data']);
    assert.deepEqual(key, { fileobj: obj, fd: r, events: READ, data });
    assert.equal(key.fileobj, obj);
    assert.equal(key.data, data);
    assert.ok(key instanceof SelectorKey);
    assert.throws(() => { key.fd = 99; }, TypeError);
    assert.throws(() => { key.extra = 1; }, TypeError);
    assert.equal(key.fd, r);
    const k2 = s.modify(obj, READ | WRITE);
    assert.deepEqual(k2, { fileobj: obj, fd: r, events: READ | WRITE, data: undefined });
    assert.ok(Object.isFrozen(k2) && k2 instanceof SelectorKey);
    assert.ok(!({ fileobj: r, fd: r, events: 1, data: 0 } instanceof SelectorKey));
  });
});

for (const Cls of CLASSES) {
  const name = Cls === DefaultSelector ? `DefaultSelector (${process.env.IOMUX_SELECTOR || 'default'})` : Cls.name;
  describe(name, () => {
    test('register returns a frozen key holding the same object', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      const obj = fileobj(r);
      const data = { tag: 1 };
      const key = s.register(obj, READ, data);
      assert.ok(key instanceof SelectorKey);
      assert.ok(Object.isFrozen(key));
      assert.equal(key.fileobj, obj);
      assert.equal(key.fd, r);
      assert.equal(key.events, READ);
      assert.equal(key.data, data);
      assert.throws(() => { 'use strict'; key.events = 3; }, TypeError);
      const k2 = s.register(w, WRITE);
      assert.equal(k2.fileobj, w);
      assert.equal(k2.data, undefined);
      assert.equal(s.getKey(obj), key);
      assert.equal(s.getKey(r), key);
    });

    test('register checks events first, then the file object, then duplicates', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      for (const bad of [0, 4, 7, -1, 1.5, NaN, 2 ** 32 + 1]) {
        assert.throws(() => s.register(r, bad), RangeError, `events ${bad}`);
        assert.throws(() => s.register('not a file', bad), RangeError, 'events are checked first');
      }
      assert.throws(() => s.register(r, '1'), TypeError);
      for (const bad of ['3', {}, null, undefined, { fileno: 3 }, { fileno: () => '3' }, 1.5]) {
        assert.throws(() => s.register(bad, READ), TypeError, String(bad));
      }
      assert.throws(() => s.register(-1, READ), RangeError);
      assert.throws(() => s.register(fileobj(-1), READ), RangeError);
      assert.equal(s.getMap().size, 0, 'nothing registered by the failures');
      assert.equal(s.register(w, WRITE).events, WRITE);
    });

    test('the same fd twice is a KeyError, whatever the object', (t) => {
      const s = selector(t, Cls);
      const [r] = pipe(t);
      s.register(r, READ);
      assert.throws(() => s.register(r, READ), (e) => e instanceof KeyError && /already registered/.test(e.message) && e.message.includes(String(r)));
      assert.throws(() => s.register(fileobj(r), WRITE), KeyError);
      assert.equal(s.getMap().size, 1);
    });

    test('unregister returns the key; unknown is a KeyError', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      const key = s.register(r, READ, 'd');
      assert.throws(() => s.unregister(w), KeyError);
      assert.throws(() => s.unregister('x'), TypeError);
      assert.equal(s.unregister(r), key);
      assert.throws(() => s.unregister(r), KeyError);
      assert.throws(() => s.getKey(r), KeyError);
      assert.equal(s.getMap().size, 0);
      // Registering again after unregister works.
      s.register(r, WRITE);
      assert.equal(s.getKey(r).events, WRITE);
    });

    test('unregister works after the fd was closed, and after its number was reused', (t) => {
      const s = selector(t, Cls);
      const [r, w, closeEnd] = pipe(t);
      s.register(r, READ);
      s.register(w, WRITE);
      closeEnd(r);
      assert.equal(s.unregister(r).fd, r);
      closeEnd(w);
      // Reuse w's number: the new pipe's read end takes the lowest free fds.
      const [r2, w2] = pipe(t);
      assert.ok([r2, w2].includes(w), 'the kernel reuses the lowest free number');
      assert.equal(s.unregister(w).fd, w);
      const k = s.register(r2, READ);
      os.write(w2, 'x');
      assert.deepEqual(sorted(s.select(0)), [[r2, READ]]);
      assert.equal(s.unregister(r2), k);
    });

    test('an object whose fileno() now fails is found by identity', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      let fd = r;
      const a = { fileno: () => fd };
      let broken = false;
      const b = { fileno: () => { if (broken) throw new Error('closed'); return w; } };
      const ka = s.register(a, READ, 'a');
      const kb = s.register(b, WRITE, 'b');
      fd = -1;
      broken = true;
      assert.equal(s.getKey(a), ka);
      assert.equal(s.getMap().get(a), ka);
      assert.ok(s.getMap().has(b));
      assert.equal(s.modify(a, READ, 'a2').data, 'a2');
      assert.equal(s.unregister(a).fd, r);
      assert.equal(s.unregister(b), kb);
      assert.throws(() => s.unregister(a), RangeError, 'not registered any more: fileno() error propagates');
      assert.throws(() => s.getKey(b), /closed/);
    });

    test('modify: events, data, and their defaults', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      const k1 = s.register(w, READ, 'x');
      assert.throws(() => s.modify(r, READ), KeyError);
      assert.throws(() => s.modify(w, 0), RangeError);
      assert.throws(() => s.modify(w, 8), RangeError);
      assert.equal(s.getKey(w), k1, 'a failed check changes nothing');
      assert.equal(s.modify(w, READ, 'x'), k1, 'no change: the same key');
      const k2 = s.modify(w, READ);
      assert.notEqual(k2, k1);
      assert.equal(k2.data, undefined, 'omitting data sets it to undefined');
      assert.equal(k2.events, READ);
      assert.deepEqual([...s.select(0)], []);
      const k3 = s.modify(w, READ | WRITE, 'y');
      assert.equal(k3.events, READ | WRITE);
      assert.equal(k3.fileobj, w);
      assert.equal(s.getKey(w), k3);
      const ready = s.select(0);
      assert.equal(ready.length, 1);
      assert.equal(ready[0][0], k3);
      assert.equal(ready[0][1], WRITE);
      assert.equal(s.getMap().size, 1);
    });

    test('a change of data alone makes no system call', (t) => {
      const s = selector(t, Cls);
      const [r, , closeEnd] = pipe(t);
      s.register(r, READ, 1);
      closeEnd(r); // any syscall on r would now fail with EBADF
      const k = s.modify(r, READ, 2);
      assert.equal(k.data, 2);
      assert.equal(s.getKey(r), k);
      s.unregister(r);
    });

    test('getMap: live, read-only, keyed by fd, accepts file objects; null after close', (t) => {
      const s = new Cls();
      const [r, w] = pipe(t);
      const obj = fileobj(w);
      const m = s.getMap();
      assert.equal(s.getMap(), m);
      assert.equal(m.size, 0);
      const kr = s.register(r, READ);
      const kw = s.register(obj, WRITE);
      assert.equal(m.size, 2);
      assert.equal(m.get(r), kr);
      assert.equal(m.get(obj), kw);
      assert.equal(m.get(w), kw);
      assert.ok(m.has(obj) && m.has(r));
      assert.equal(m.get(12345), undefined);
      assert.equal(m.has('x'), false);
      assert.equal(m.get(-1), undefined);
      assert.deepEqual([...m.keys()].sort(), [r, w].sort());
      assert.deepEqual(new Set(m.values()), new Set([kr, kw]));
      assert.deepEqual(new Map(m), new Map([[r, kr], [w, kw]]));
      assert.deepEqual(new Map([...m.entries()]), new Map([[r, kr], [w, kw]]));
      const seen = [];
      m.forEach((v, k, map) => { seen.push([k, v]); assert.equal(map, m); });
      assert.equal(seen.length, 2);
      assert.equal(typeof m.set, 'undefined');
      assert.equal(typeof m.delete, 'undefined');
      s.unregister(r);
      assert.equal(m.size, 1);
      s.close();
      assert.equal(s.getMap(), null);
      assert.equal(m.size, 0, 'a map taken before close() is then empty');
      assert.equal(m.get(obj), undefined);
    });

    test('select: readiness, masking and the timeout', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      const kr = s.register(r, READ | WRITE, 'r');
      const kw = s.register(w, WRITE, 'w');
      assert.deepEqual(sorted(s.select(0)), [[w, WRITE]]);
      assert.deepEqual(sorted(s.select(-1)), [[w, WRITE]], 'a negative timeout polls');
      s.unregister(w);
      let t0 = performance.now();
      assert.deepEqual([...s.select(0)], []);
      assert.ok(performance.now() - t0 < 500);
      t0 = performance.now();
      assert.deepEqual([...s.select(0.06)], []);
      const waited = performance.now() - t0;
      assert.ok(waited >= 55 && waited < 3000, `select(0.06) waited ${waited} ms`);
      t0 = performance.now();
      assert.deepEqual([...s.select(0.0001)], [], 'a tiny timeout still waits (rounded up), without error');
      os.write(w, 'abc');
      const ready = s.select(null);
      assert.equal(ready.length, 1);
      assert.equal(ready[0][0], kr);
      assert.equal(ready[0][1], READ);
      assert.equal(s.select(undefined).length, 1);
      assert.equal(s.select(5).length, 1, 'level-triggered: still ready');
      assert.ok(kw.events === WRITE);
      for (const bad of ['1', {}, true]) assert.throws(() => s.select(bad), TypeError);
      assert.throws(() => s.select(NaN), RangeError);
    });

    test('a hang-up reports READ; a write end without reader reports WRITE', (t) => {
      const s = selector(t, Cls);
      const [r, w, closeEnd] = pipe(t);
      s.register(r, READ, 'r');
      assert.deepEqual([...s.select(0)], []);
      closeEnd(w);
      assert.deepEqual(sorted(s.select(0)), [[r, READ]]);
      const [r2, w2, closeEnd2] = pipe(t);
      s.register(w2, WRITE);
      closeEnd2(r2);
      assert.deepEqual(sorted(s.select(0)), [[r, READ], [w2, WRITE]]);
    });

    test('a hang-up on a socket registered for READ|WRITE reports both', (t) => {
      const s = selector(t, Cls);
      const [a, b] = socketpair();
      t.after(() => { a.close(); b.close(); });
      s.register(a, READ | WRITE);
      assert.deepEqual(sorted(s.select(0)), [[a.fileno(), WRITE]]);
      b.close();
      assert.deepEqual(sorted(s.select(0)), [[a.fileno(), READ | WRITE]]);
    });

    test("callbacks in key.data, dispatched from the select loop", (t) => {
      const s = selector(t, Cls);
      const [r1, w1] = pipe(t);
      const [r2, w2] = pipe(t);
      const got = [];
      const reader = (fd, mask) => { got.push([fd, mask, os.read(fd, 100).toString()]); };
      s.register(r1, READ, reader);
      s.register(r2, READ, reader);
      os.write(w1, 'one');
      os.write(w2, 'two');
      for (const [key, mask] of s.select(1)) key.data(key.fileobj, mask);
      assert.deepEqual(got.sort(), [[r1, READ, 'one'], [r2, READ, 'two']].sort());
      assert.deepEqual([...s.select(0)], []);
    });

    test('keys unregistered by a callback are not reported later in that batch', (t) => {
      const s = selector(t, Cls);
      const [r1, w1] = pipe(t);
      const [r2, w2] = pipe(t);
      const [r3, w3] = pipe(t);
      const called = [];
      const cb = (fd) => {
        called.push(fd);
        // Whichever comes first unregisters the other two.
        for (const other of [r1, r2, r3]) if (other !== fd) s.unregister(other);
      };
      for (const fd of [r1, r2, r3]) s.register(fd, READ, cb);
      for (const fd of [w1, w2, w3]) os.write(fd, 'x');
      const batch = s.select(0);
      assert.equal(batch.length, 3);
      for (const [key] of batch) key.data(key.fd);
      assert.equal(called.length, 1);
      // length, indexing, spread and forEach agree with the iteration.
      assert.equal(batch.length, 1);
      assert.equal(batch[0][0].fd, called[0]);
      assert.equal(batch[1], undefined);
      assert.deepEqual([...batch].map(([k]) => k.fd), called);
      const seen = [];
      batch.forEach(([k], i) => seen.push([k.fd, i]));
      assert.deepEqual(seen, [[called[0], 0]]);
    });

    test('a select() result: a callback that unregisters its own file object does not hide the next one', (t) => {
      const s = selector(t, Cls);
      const pipes = [pipe(t), pipe(t), pipe(t), pipe(t)];
      for (const [r, w] of pipes) {
        s.register(r, READ);
        os.write(w, 'x');
      }
      const batch = s.select(0);
      assert.equal(batch.length, 4);
      const got = [];
      for (const [key] of batch) {
        got.push(key.fd);
        s.unregister(key.fd); // the current pair leaves the result
      }
      assert.deepEqual(got.sort((a, b) => a - b), pipes.map(([r]) => r).sort((a, b) => a - b));
      assert.equal(batch.length, 0);
      // The same through forEach, unregistering the current pair and the one after it.
      for (const [r] of pipes) s.register(r, READ);
      const again = s.select(0);
      const order = again.map(([k]) => k.fd);
      const visited = [];
      again.forEach(([key], i) => {
        visited.push([key.fd, i]);
        s.unregister(key.fd);
        const next = order[order.indexOf(key.fd) + 1];
        if (next !== undefined && s.getMap().has(next)) s.unregister(next);
      });
      assert.deepEqual(visited, [[order[0], 0], [order[2], 0]]);
      assert.equal(again.length, 0);
    });

    test('a select() result: only the latest one follows unregistrations; close() empties it', (t) => {
      const s = selector(t, Cls);
      const [r1, w1] = pipe(t);
      const [r2, w2] = pipe(t);
      s.register(r1, READ);
      s.register(r2, READ);
      os.write(w1, 'x');
      os.write(w2, 'x');
      const first = s.select(0);
      const second = s.select(0);
      assert.ok(first instanceof SelectResult && Array.isArray(first));
      assert.equal(first.length, 2);
      s.unregister(r1);
      assert.equal(first.length, 2, 'an older result stays as it was');
      assert.deepEqual(second.map(([k]) => k.fd), [r2], 'derived arrays are plain arrays');
      assert.equal(Object.getPrototypeOf(first.filter(() => true)), Array.prototype);
      s.close();
      assert.equal(second.length, 0);
      assert.deepEqual([...second], []);
    });

    test('more than 1024 fds', (t) => {
      const s = selector(t, Cls);
      const pipes = [];
      t.after(() => { for (const [a, b] of pipes) { os.close(a); os.close(b); } });
      while (pipes.length === 0 || pipes.at(-1)[1] < 1100) pipes.push(os.pipe());
      for (const [r] of pipes) s.register(r, READ);
      const [lastR, lastW] = pipes.at(-1);
      assert.ok(lastR > 1024);
      os.write(lastW, 'x');
      if (s instanceof SelectSelector) {
        // As in CPython: registering is accepted, select() refuses (fd >= FD_SETSIZE).
        assert.throws(() => s.select(0), (e) => e instanceof RangeError && /FD_SETSIZE/.test(e.message));
        for (const [r] of pipes) if (r >= 1024) s.unregister(r);
        assert.deepEqual([...s.select(0)], []);
        return;
      }
      assert.deepEqual(sorted(s.select(0)), [[lastR, READ]]);
      os.write(pipes[0][1], 'y');
      assert.deepEqual(sorted(s.select(0)), [[pipes[0][0], READ], [lastR, READ]]);
      for (const [r] of pipes.slice(1, -1)) s.unregister(r);
      assert.equal(s.getMap().size, 2);
      assert.deepEqual(sorted(s.select(0)), [[pipes[0][0], READ], [lastR, READ]]);
    });

    test('a regular file', (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'iomux-sel-'));
      const path = join(dir, 'f');
      writeFileSync(path, 'data');
      const fd = openSync(path, 'r');
      t.after(() => { closeSync(fd); rmSync(dir, { recursive: true }); });
      const s = selector(t, Cls);
      if (s instanceof EpollSelector) {
        // epoll refuses regular files (EPERM): the error propagates, nothing stays registered.
        assert.throws(() => s.register(fd, READ), (e) => e instanceof PermissionError && e instanceof OSError
          && e.errno === 1 && e.code === 'EPERM' && e.syscall === 'epoll_ctl');
        assert.equal(s.getMap().size, 0);
        assert.throws(() => s.getKey(fd), KeyError);
        assert.throws(() => s.register(fd, READ), PermissionError, 'still refused, not a KeyError');
      } else {
        s.register(fd, READ | WRITE);
        assert.deepEqual(sorted(s.select(0)), [[fd, READ | WRITE]]);
      }
    });

    test('close(): idempotent, then ClosedError everywhere but getMap()', (t) => {
      const s = new Cls();
      const [r] = pipe(t);
      s.register(r, READ);
      s.close();
      s.close();
      assert.equal(s.closed, true);
      assert.equal(s.getMap(), null);
      for (const f of [() => s.register(r, READ), () => s.unregister(r), () => s.modify(r, READ),
        () => s.select(0), () => s.getKey(r)]) {
        assert.throws(f, (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED');
      }
      if (typeof s.fileno === 'function') assert.throws(() => s.fileno(), ClosedError);
      const s2 = new Cls();
      s2.register(r, READ);
      s2[Symbol.dispose]();
      assert.equal(s2.getMap(), null);
    });

    test('register(fileobj, events, data?) → key', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      const k = s.register(r, READ);
      assert.deepEqual(k, { fileobj: r, fd: r, events: READ, data: undefined });
      const obj = { fileno: () => w };
      const k2 = s.register(obj, WRITE, 'd');
      assert.equal(k2.fileobj, obj);
      assert.equal(k2.data, 'd');
      assert.equal(s.getKey(obj), k2);
      assert.equal(s.getKey(w), k2);
    });

    test('register: events 0 or with bits beyond READ|WRITE → RangeError, checked first', (t) => {
      const s = selector(t, Cls);
      const [r] = pipe(t);
      for (const bad of [0, 4, 5, 7, 8, 0x100, -1, -3, 2 ** 31, 1.5, NaN, Infinity]) {
        assert.throws(() => s.register(r, bad), RangeError, `events ${bad}`);
        for (const notFile of ['x', {}, null, -1, { fileno: () => -1 }]) {
          assert.throws(() => s.register(notFile, bad), RangeError, 'events are checked before the file object');
        }
      }
      assert.equal(s.getMap().size, 0);
    });

    test('register: not a file-like → TypeError; a negative fd → RangeError', (t) => {
      const s = selector(t, Cls);
      for (const bad of ['3', {}, null, undefined, [], 1.5, NaN, 3n, { fileno: 3 }, { fileno: () => '3' }, { fileno: () => 1.5 }]) {
        assert.throws(() => s.register(bad, READ), TypeError);
      }
      for (const bad of [-1, -100, { fileno: () => -1 }, { fileno: () => -7 }]) {
        assert.throws(() => s.register(bad, READ), RangeError);
      }
      assert.equal(s.getMap().size, 0);
    });

    test('register: the same fd already registered (by any object) → KeyError', (t) => {
      const s = selector(t, Cls);
      const [r] = pipe(t);
      const k = s.register({ fileno: () => r }, READ);
      assert.throws(() => s.register(r, WRITE), KeyError);
      assert.throws(() => s.register({ fileno: () => r }, READ), KeyError);
      assert.equal(s.getKey(r), k);
      assert.equal(s.getMap().size, 1);
    });

    test('register: a kernel refusal (epoll and a regular file: EPERM) propagates and nothing stays registered', (t) => {
      const s = selector(t, Cls);
      const file = openSync(new URL(import.meta.url), 'r');
      t.after(() => closeSync(file));
      if (!(s instanceof EpollSelector)) {
        s.register(file, READ); // poll and select accept regular files (always ready)
        assert.equal(s.unregister(file).fd, file);
        return;
      }
      assert.throws(() => s.register(file, READ), (e) => e instanceof PermissionError && e instanceof OSError && e.code === 'EPERM');
      assert.equal(s.getMap().size, 0);
      assert.equal(s.getMap().get(file), undefined);
      assert.throws(() => s.getKey(file), KeyError);
      assert.throws(() => s.unregister(file), KeyError);
      assert.throws(() => s.register(file, READ), PermissionError);
    });

    test('unregister(fileobj) → the key; not registered → KeyError', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      const obj = { fileno: () => r };
      const k = s.register(obj, READ);
      assert.throws(() => s.unregister(w), KeyError);
      assert.equal(s.unregister(r), k, 'found by fd for an object registered as an object');
      assert.throws(() => s.unregister(obj), KeyError);
      assert.throws(() => s.unregister(r), KeyError);
      const k2 = s.register(w, WRITE);
      assert.equal(s.unregister({ fileno: () => w }), k2);
    });

    test('unregister works after the fd was closed, and after the number was reused by another file', (t) => {
      const s = selector(t, Cls);
      const [r, w, closeEnd] = pipe(t);
      const kr = s.register(r, READ);
      const kw = s.register(w, WRITE);
      closeEnd(r);
      assert.equal(s.unregister(r), kr);
      closeEnd(w);
      // Open eventfds until one takes w's number (the kernel hands out the lowest free).
      const extra = [];
      t.after(() => { for (const fd of extra) os.close(fd); });
      while (extra.length < 200 && extra.at(-1) !== w) extra.push(os.eventfd(0));
      assert.equal(extra.at(-1), w, 'the number was reused');
      assert.equal(s.unregister(w), kw);
      assert.equal(s.getMap().size, 0);
      // The new file registers and works normally afterwards.
      const kn = s.register(w, READ | WRITE);
      assert.deepEqual(fds(s.select(0)), [[w, WRITE]]);
      assert.equal(s.unregister(w), kn);
    });

    test('an object whose fileno() now returns -1 is still found by identity', (t) => {
      const s = selector(t, Cls);
      const [a, b] = socketpair();
      t.after(() => { a.close(); b.close(); });
      const k = s.register(a, READ, 'sock');
      a.close();
      assert.equal(a.fileno(), -1);
      assert.equal(s.getKey(a), k);
      assert.equal(s.getMap().get(a), k);
      assert.ok(s.getMap().has(a));
      assert.equal(s.unregister(a), k);
      assert.throws(() => s.unregister(a), RangeError, 'no longer registered: the -1 itself is the error');
    });

    test('modify(fileobj, events, data?) → the new key; not registered → KeyError; omitting data sets undefined', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      assert.throws(() => s.modify(r, READ), KeyError);
      assert.throws(() => s.modify(r, READ, 'x'), KeyError);
      const k1 = s.register(w, READ, 'one');
      const k2 = s.modify(w, WRITE, 'two');
      assert.notEqual(k2, k1);
      assert.deepEqual(k2, { fileobj: w, fd: w, events: WRITE, data: 'two' });
      assert.equal(s.getKey(w), k2);
      assert.deepEqual(fds(s.select(0)), [[w, WRITE]]);
      const k3 = s.modify(w, WRITE);
      assert.equal(k3.data, undefined, 'omitting data sets it to undefined, as in CPython');
      assert.ok('data' in k3);
      assert.equal(s.getKey(w), k3);
      assert.equal(s.modify(w, WRITE), k3, 'no change at all: the same key back');
      for (const bad of [0, 4, -1, 1.5]) assert.throws(() => s.modify(w, bad), RangeError);
      assert.equal(s.getKey(w), k3, 'a rejected modify changes nothing');
    });

    test('modify: a change of data alone makes no syscall', (t) => {
      const s = selector(t, Cls);
      const [r, , closeEnd] = pipe(t);
      s.register(r, READ, 'a');
      closeEnd(r); // from now on any epoll_ctl on r fails (EBADF)
      const k = s.modify(r, READ, 'b');
      assert.deepEqual(k, { fileobj: r, fd: r, events: READ, data: 'b' });
      assert.equal(s.getKey(r), k);
      if (s instanceof EpollSelector) {
        // A change of events does reach the kernel, which refuses now.
        assert.throws(() => s.modify(r, WRITE, 'c'), (e) => e instanceof OSError && e.code === 'EBADF');
        assert.equal(s.getMap().size, 0, 'as CPython: a refused modify drops the registration');
      } else {
        s.unregister(r);
      }
    });

    test('select(timeout?) → Array<[key, events]>, events masked to key.events; level-triggered', (t) => {
      const s = selector(t, Cls);
      const [a, b] = socketpair();
      t.after(() => { a.close(); b.close(); });
      const ka = s.register(a, READ, 'a');
      const kb = s.register(b, READ | WRITE, 'b');
      let res = s.select(0);
      assert.ok(Array.isArray(res));
      assert.deepEqual([...res], [[kb, WRITE]], 'b is writable; a, READ only, is not reported for writability');
      a.send(Buffer.from('hi'));
      res = s.select(0);
      assert.deepEqual([...res], [[kb, READ | WRITE]]);
      for (const [key, ev] of res) assert.equal(ev & ~key.events, 0);
      // Level-triggered: still ready until read.
      assert.deepEqual([...s.select(0)], [[kb, READ | WRITE]]);
      assert.deepEqual([...s.select(0.01)], [[kb, READ | WRITE]]);
      b.recv(10);
      assert.deepEqual([...s.select(0)], [[kb, WRITE]]);
      b.send(Buffer.from('x'));
      assert.deepEqual(fds(s.select(0)), [[a.fileno(), READ], [b.fileno(), WRITE]].sort((x, y) => x[0] - y[0]));
      assert.equal(s.select(0).find(([k]) => k === ka)[1], READ);
    });

    test('select: seconds; null/undefined block; <= 0 polls', async (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      s.register(r, READ);
      for (const timeout of [0, -1, -0.5, -Infinity]) {
        const t0 = performance.now();
        assert.deepEqual([...s.select(timeout)], []);
        assert.ok(performance.now() - t0 < 500, `select(${timeout}) polls`);
      }
      let t0 = performance.now();
      assert.deepEqual([...s.select(0.08)], []);
      let ms = performance.now() - t0;
      assert.ok(ms >= 75 && ms < 3000, `select(0.08) waited ${ms} ms`);
      t0 = performance.now();
      assert.deepEqual([...s.select(1e-6)], []);
      ms = performance.now() - t0;
      assert.ok(ms >= 0.9, `select(1e-6) waited only ${ms} ms: fractions of a ms round up`);
      for (const timeout of [null, undefined, 'omitted']) {
        const child = spawn(process.execPath, ['-e', 'setTimeout(() => require("fs").writeSync(3, "x"), 60)'], {
          stdio: ['ignore', 'ignore', 'inherit', w],
        });
        const exited = new Promise((res) => child.on('exit', res));
        t0 = performance.now();
        const res = timeout === 'omitted' ? s.select() : s.select(timeout);
        ms = performance.now() - t0;
        await exited;
        assert.ok(ms >= 30, `select(${timeout}) returned after ${ms} ms`);
        assert.deepEqual(fds(res), [[r, READ]]);
        os.read(r, 10);
      }
    });

    test('select: error/hang-up conditions report as READ|WRITE before masking', (t) => {
      const s = selector(t, Cls);
      const pairs = [socketpair(), socketpair(), socketpair()];
      t.after(() => { for (const [x, y] of pairs) { x.close(); y.close(); } });
      const [[a1, b1], [a2, b2], [a3, b3]] = pairs;
      s.register(a1, READ);
      s.register(a2, WRITE);
      s.register(a3, READ | WRITE);
      b1.close(); b2.close(); b3.close();
      const got = new Map(fds(s.select(0)));
      assert.equal(got.get(a1.fileno()), READ);
      assert.equal(got.get(a2.fileno()), WRITE);
      assert.equal(got.get(a3.fileno()), READ | WRITE);
      // A pipe's read end after its writer closed (POLLHUP alone) is readable.
      const [r, w, closeEnd] = pipe(t);
      s.register(r, READ);
      closeEnd(w);
      assert.equal(new Map(fds(s.select(0))).get(r), READ);
    });

    test('getKey(fileobj) → key; not registered → KeyError; after close() → ClosedError', (t) => {
      const s = new Cls();
      const [r, w] = pipe(t);
      const k = s.register(r, READ);
      assert.equal(s.getKey(r), k);
      assert.equal(s.getKey({ fileno: () => r }), k);
      assert.throws(() => s.getKey(w), KeyError);
      s.close();
      assert.throws(() => s.getKey(r), (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED');
      assert.throws(() => s.getKey(w), ClosedError);
    });

    test('getMap(): a read-only ReadonlyMap<number, SelectorKey> keyed by fd, get/has also accept the file-like', (t) => {
      const s = selector(t, Cls);
      const [r, w] = pipe(t);
      const obj = { fileno: () => w };
      const m = s.getMap();
      assert.equal(m.size, 0);
      const kr = s.register(r, READ);
      const kw = s.register(obj, WRITE);
      assert.equal(m.size, 2, 'live');
      assert.equal(m.get(r), kr);
      assert.equal(m.get(w), kw);
      assert.equal(m.get(obj), kw);
      assert.equal(m.get({ fileno: () => r }), kr);
      assert.equal(m.has(r), true);
      assert.equal(m.has(obj), true);
      assert.equal(m.has(w + 1000), false);
      assert.equal(m.get(w + 1000), undefined);
      for (const bad of ['x', null, undefined, -1, {}, 1.5]) {
        assert.equal(m.get(bad), undefined);
        assert.equal(m.has(bad), false);
      }
      assert.deepEqual([...m], [[r, kr], [w, kw]]);
      assert.deepEqual([...m.keys()], [r, w]);
      assert.deepEqual([...m.values()], [kr, kw]);
      assert.deepEqual([...m.entries()], [[r, kr], [w, kw]]);
      assert.deepEqual(new Map(m), new Map([[r, kr], [w, kw]]));
      const seen = [];
      m.forEach((v, k, map) => seen.push([k, v, map === m]));
      assert.deepEqual(seen, [[r, kr, true], [w, kw, true]]);
      for (const mut of ['set', 'delete', 'clear']) assert.equal(typeof m[mut], 'undefined', `no ${mut}()`);
      assert.throws(() => { 'use strict'; m.size = 5; }, TypeError);
      assert.equal(m.size, 2);
      s.unregister(obj);
      assert.equal(m.size, 1);
      assert.equal(m.has(w), false);
    });

    test('getMap(): null after close(); a map taken before close() is then empty', (t) => {
      const s = new Cls();
      const [r] = pipe(t);
      const k = s.register(r, READ);
      const m = s.getMap();
      assert.equal(m.get(r), k);
      s.close();
      assert.equal(s.getMap(), null);
      assert.equal(m.size, 0);
      assert.equal(m.get(r), undefined);
      assert.equal(m.has(r), false);
      assert.deepEqual([...m], []);
      assert.deepEqual([...m.keys()], []);
    });

    test('close() and [Symbol.dispose](): idempotent; afterwards every method but getMap() → ClosedError', (t) => {
      const [r, w] = pipe(t);
      for (const how of ['close', 'dispose']) {
        const s = new Cls();
        s.register(r, READ);
        if (how === 'close') { s.close(); s.close(); } else { s[Symbol.dispose](); s[Symbol.dispose](); s.close(); }
        assert.equal(s.getMap(), null);
        const calls = [() => s.register(w, WRITE), () => s.unregister(r), () => s.modify(r, WRITE), () => s.select(0),
          () => s.select(), () => s.getKey(r)];
        if (typeof s.fileno === 'function') calls.push(() => s.fileno());
        for (const call of calls) assert.throws(call, (e) => e instanceof ClosedError && e.code === 'ERR_CLOSED', `${how}: ${call}`);
      }
    });
  });
}

describe('EpollSelector specifics', () => {
  test('fileno() is a close-on-exec epoll fd, closed by close()', (t) => {
    const s = new EpollSelector();
    const fd = s.fileno();
    assert.ok(Number.isInteger(fd) && fd >= 0);
    assert.equal(os.getInheritable(fd), false);
    s.close();
    assert.throws(() => os.getInheritable(fd), (e) => e instanceof OSError && e.code === 'EBADF');
  });

  test('modify refused by the kernel drops the registration and throws', (t) => {
    const s = new EpollSelector();
    t.after(() => s.close());
    const [r, w] = os.pipe();
    os.close(w);
    s.register(r, READ);
    os.close(r);
    assert.throws(() => s.modify(r, READ | WRITE), (e) => e instanceof OSError && e.code === 'EBADF');
    assert.equal(s.getMap().size, 0);
  });

  test('select asks for at most as many events as there are keys, and returns non-negative masks', (t) => {
    const s = new EpollSelector();
    t.after(() => s.close());
    const fds = [];
    t.after(() => fds.forEach((fd) => os.close(fd)));
    for (let i = 0; i < 100; i++) {
      const e = os.eventfd(1);
      fds.push(e);
      s.register(e, READ | WRITE);
    }
    const ready = s.select(0);
    assert.equal(ready.length, 100);
    for (const [k, ev] of ready) assert.equal(ev, READ | WRITE, `fd ${k.fd}`);
  });

  test('fileno(): its close-on-exec epoll fd, released by close()', () => {
    const s = new EpollSelector();
    const fd = s.fileno();
    assert.ok(Number.isInteger(fd) && fd >= 0);
    assert.equal(s.fileno(), fd);
    assert.equal(os.getInheritable(fd), false);
    s.close();
    assert.throws(() => os.getInheritable(fd), (e) => e instanceof OSError && e.code === 'EBADF');
    assert.equal(typeof new PollSelector().fileno, 'undefined');
    assert.equal(typeof new SelectSelector().fileno, 'undefined');
  });

  test('the epoll fd is readable while select() would report something', (t) => {
    const s = new EpollSelector();
    t.after(() => s.close());
    const [r, w] = pipe(t);
    s.register(r, READ);
    assert.deepEqual(io.select([s.fileno()], [], [], 0)[0], []);
    os.write(w, 'x');
    assert.deepEqual(io.select([s.fileno()], [], [], 0)[0], [s.fileno()]);
  });
});

describe('DefaultSelector', () => {
  const expected = { epoll: EpollSelector, poll: PollSelector, select: SelectSelector }[process.env.IOMUX_SELECTOR || 'epoll'];

  test('is the platform best (epoll) unless IOMUX_SELECTOR forces another', () => {
    assert.equal(DefaultSelector, expected);
    const s = new DefaultSelector();
    assert.ok(s instanceof expected);
    s.close();
  });

  test('IOMUX_SELECTOR picks each backend; a bad value fails at construction, not import', () => {
    const script = `import { DefaultSelector } from 'iomux';
      try { const s = new DefaultSelector(); console.log(s.constructor.name); s.close(); }
      catch (e) { console.log(e.name + ': ' + e.message); }`;
    const run = (v) => spawnSync(process.execPath, ['--input-type=module', '-e', script],
      { env: { ...process.env, IOMUX_SELECTOR: v }, encoding: 'utf8', cwd: new URL('..', import.meta.url).pathname });
    assert.equal(run('epoll').stdout.trim(), 'EpollSelector');
    assert.equal(run('poll').stdout.trim(), 'PollSelector');
    assert.equal(run('select').stdout.trim(), 'SelectSelector');
    assert.equal(run('').stdout.trim(), 'EpollSelector');
    assert.match(run('kqueue').stdout.trim(), /^RangeError: IOMUX_SELECTOR="kqueue" .*epoll, poll, select/);
  });
});

