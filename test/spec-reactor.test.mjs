// SPEC "Inside Node's event loop: Reactor", sentence by sentence. Behaviour already
// pinned exactly by reactor.test.mjs (microtask order, uncaughtException, ref/unref exit
// modes, worker threads, leaks) is not repeated here.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as iomux from 'iomux';
import { guardFds } from './helpers/fds.mjs';

const {
  Reactor, EpollSelector, PollSelector, SelectSelector, EVENT_READ, TimeoutError, OSError, ClosedError,
  ConnectionRefusedError, os, socket, socketpair, AF_INET, SOCK_STREAM,
} = iomux;

guardFds();

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

function reactor(t, selector) {
  const r = new Reactor(selector);
  t.after(() => r.close());
  return r;
}

function pipe(t) {
  const [a, b] = os.pipe();
  t.after(() => { os.close(a); os.close(b); });
  return [a, b];
}

function pair(t) {
  const [x, y] = socketpair();
  t.after(() => { x.close(); y.close(); });
  x.setblocking(false);
  y.setblocking(false);
  return [x, y];
}

/** A non-blocking listening TCP socket on 127.0.0.1. */
function listener(t) {
  const s = socket(AF_INET, SOCK_STREAM);
  t.after(() => s.close());
  s.setblocking(false);
  s.bind(['127.0.0.1', 0]);
  s.listen(8);
  return s;
}

async function until(cond, ms = 5000) {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

/** Whether `p` is still pending after the current macrotask turn. */
async function pending(p, ms = 20) {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await sleep(ms);
  return !settled;
}

describe('new Reactor(selector?)', () => {
  test('exported from the package root as a class', () => {
    assert.equal(typeof Reactor, 'function');
    const r = new Reactor();
    assert.ok(r instanceof Reactor);
    r.close();
  });

  test('default: a new EpollSelector, whatever IOMUX_SELECTOR forces DefaultSelector to be', () => {
    for (const forced of ['epoll', 'poll', 'select']) {
      const out = spawnSync(process.execPath, [fixture('spec-reactor-child.mjs')],
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

describe('addReader / addWriter / removeReader / removeWriter', () => {
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
  test('return a Promise<void> that resolves once the fd is ready', async (t) => {
    const r = reactor(t);
    const [a, b] = pipe(t);
    const p = r.readable(a);
    assert.ok(p instanceof Promise);
    assert.equal(await pending(p), true, 'not ready yet');
    os.write(b, 'x');
    assert.equal(await p, undefined);
    const w = r.writable(b);
    assert.ok(w instanceof Promise);
    assert.equal(await w, undefined);
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
      assert.equal(await p, undefined, `timeout ${timeout}`);
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

describe('sock* helpers', () => {
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

describe('ref() / unref()', () => {
  test('return the reactor (chainable) and work before and after close()', () => {
    const r = new Reactor();
    assert.equal(r.unref(), r);
    assert.equal(r.ref(), r);
    r.close();
    assert.equal(r.unref(), r);
    assert.equal(r.ref(), r);
  });
});

describe('types', () => {
  test('dist/index.d.ts exports Reactor and its option types; no any in the Reactor API', () => {
    const loop = readFileSync(new URL('../dist/loop/index.d.ts', import.meta.url), 'utf8');
    assert.match(loop, /export \{ Reactor \}/);
    assert.match(loop, /ReactorWaitOptions/);
    const d = readFileSync(new URL('../dist/loop/reactor.d.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(d.replace(/\/\*[\s\S]*?\*\//g, ''), /\bany\b/);
    assert.match(d, /readable\(fileobj: FileLike, opts\?: ReactorWaitOptions\): Promise<void>/);
    assert.match(d, /removeReader\(fileobj: FileLike\): boolean/);
    // The package's Reactor adds the socket operations (declared beside the sockets).
    const net = readFileSync(new URL('../dist/net/async.d.ts', import.meta.url), 'utf8');
    assert.match(net, /sockRecv\(sock: Socket, n: number, options\?: SockOpOptions\): Promise<Buffer>/);
    assert.match(net, /sockAccept\(sock: Socket, options\?: SockOpOptions\): Promise<\[Socket, SocketAddress\]>/);
    void EVENT_READ;
  });
});
