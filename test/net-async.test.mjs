// The Reactor's socket operations (asyncio's loop.sock_*): connect/accept/sendall/recv over
// loopback inside Node's event loop, megabytes with nothing lost, timeouts, aborts, EOF,
// refused connects, resets, bad arguments and options, yielding to the event loop against
// a fast peer, and a socket closed while an operation waits on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import {
  Reactor, OSError, socket, socketpair, os, TimeoutError, ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
  ClosedError, GaiError, AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_NONBLOCK, SOL_SOCKET, SO_LINGER,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, reactorFor, asyncListener, connectPair } from './helpers/net.mjs';

guardFds();

const sha = (b) => createHash('sha256').update(b).digest('hex');

for (const [name, family] of [['AF_INET', AF_INET], ['AF_INET6', AF_INET6], ['AF_UNIX', AF_UNIX]]) {
  test(`${name}: sockConnect/sockAccept, 8 MB both ways with sockSendall/sockRecv (SHA-256)`, async (t) => {
    const r = reactorFor(t);
    const l = asyncListener(t, family);
    const { c, s, peer } = await connectPair(t, r, l);
    assert.equal(s.getblocking(), false, 'accepted sockets are non-blocking');
    assert.equal(os.getBlocking(s), false);
    assert.equal(os.getInheritable(s), false);
    assert.deepEqual(peer, c.getsockname());
    const data = randomFillSync(Buffer.allocUnsafe(8 * 1024 * 1024));
    const recvAll = async (sock, n) => {
      const h = createHash('sha256');
      let got = 0;
      while (got < n) {
        const d = await r.sockRecv(sock, 65536);
        assert.ok(d.length > 0, 'no early EOF');
        h.update(d);
        got += d.length;
      }
      return h.digest('hex');
    };
    const [, back] = await Promise.all([r.sockSendall(c, data), recvAll(s, data.length)]);
    assert.equal(back, sha(data));
    // The other way, into a reused buffer with sockRecvInto.
    const buf = Buffer.allocUnsafe(40000);
    const h = createHash('sha256');
    let got = 0;
    const reader = (async () => {
      while (got < data.length) {
        const n = await r.sockRecvInto(c, buf);
        assert.ok(n > 0);
        h.update(buf.subarray(0, n));
        got += n;
      }
    })();
    await Promise.all([r.sockSendall(s, data), reader]);
    assert.equal(h.digest('hex'), sha(data));
    s.close();
    assert.equal((await r.sockRecv(c, 10)).length, 0, 'EOF');
  });
}

test('sockConnect resolves host names asynchronously; an unresolvable one rejects with GaiError', async (t) => {
  const r = reactorFor(t);
  const l = asyncListener(t);
  const c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => c.close());
  const accepted = r.sockAccept(l);
  await r.sockConnect(c, ['localhost', l.getsockname()[1]]);
  const [s] = await accepted;
  t.after(() => s.close());
  await r.sockSendall(c, 'named');
  assert.equal((await r.sockRecv(s, 10)).toString(), 'named');
  const d = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => d.close());
  await assert.rejects(r.sockConnect(d, ['no-such-host.invalid', 80]), (e) => e instanceof GaiError && e.message.includes('no-such-host.invalid'));
});

test('sockConnect to a closed port rejects with ConnectionRefusedError', async (t) => {
  const r = reactorFor(t);
  const probe = socket();
  probe.bind(['127.0.0.1', 0]);
  const addr = probe.getsockname();
  probe.close();
  const c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => c.close());
  await assert.rejects(r.sockConnect(c, addr), (e) => e instanceof ConnectionRefusedError && e.errno === 111
    && e.syscall === 'connect' && e.message.includes(String(addr[1])));
});

test('sockConnect on a blocking socket is a TypeError; bad arguments reject', async (t) => {
  const r = reactorFor(t);
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => { a.close(); b.close(); });
  const blocking = socket();
  t.after(() => blocking.close());
  await assert.rejects(r.sockConnect(blocking, ['127.0.0.1', 1]), TypeError);
  await assert.rejects(r.sockRecv(a, -1), RangeError);
  await assert.rejects(r.sockRecv(a, 'x'), TypeError);
  await assert.rejects(r.sockRecv(a, 1, { timeout: -5 }), RangeError);
  await assert.rejects(r.sockRecv(a, 1, { timeout: 'soon' }), TypeError);
  await assert.rejects(r.sockRecv(a, 1, { signal: {} }), TypeError);
  await assert.rejects(r.sockSendall(a, 42), TypeError);
  await assert.rejects(r.sockRecvInto(a, 'nope'), TypeError);
  const nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => nb.close());
  await assert.rejects(r.sockConnect(nb, ['127.0.0.1', 70000]), RangeError);
  await assert.rejects(r.sockConnect(nb, ['127.0.0.1']), TypeError);
});

test('timeout covers the whole operation: TimeoutError (ETIMEDOUT) for recv, accept and a stuck sendall', async (t) => {
  const r = reactorFor(t);
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => { a.close(); b.close(); });
  let start = performance.now();
  await assert.rejects(r.sockRecv(a, 10, { timeout: 50 }), (e) => e instanceof TimeoutError && e.errno === 110);
  let took = performance.now() - start;
  assert.ok(took >= 45 && took < 2000, `took ${took} ms`);
  const l = asyncListener(t);
  await assert.rejects(r.sockAccept(l, { timeout: 20 }), TimeoutError);
  start = performance.now();
  await assert.rejects(r.sockSendall(a, Buffer.alloc(32 * 1024 * 1024), { timeout: 80 }), TimeoutError);
  took = performance.now() - start;
  assert.ok(took >= 75 && took < 3000, `took ${took} ms`);
  // timeout 0 with data ready succeeds at once (the operation is tried first).
  b.send('ready');
  const c = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => { c[0].close(); c[1].close(); });
  c[1].send('now');
  assert.equal((await r.sockRecv(c[0], 10, { timeout: 0 })).toString(), 'now');
});

test('an AbortSignal aborts with its reason; an aborted one rejects at once', async (t) => {
  const r = reactorFor(t);
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => { a.close(); b.close(); });
  const ac = new AbortController();
  const p = r.sockRecv(a, 10, { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(p, (e) => e instanceof DOMException && e.name === 'AbortError');
  const reason = new Error('stop');
  await assert.rejects(r.sockRecvInto(a, Buffer.alloc(4), { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  const d = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => d.close());
  await assert.rejects(r.sockConnect(d, ['localhost', 1], { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  // The socket still works afterwards.
  b.send('after');
  assert.equal((await r.sockRecv(a, 10)).toString(), 'after');
});

test('a peer reset mid-transfer rejects with ConnectionResetError, no hang', async (t) => {
  const r = reactorFor(t);
  const l = asyncListener(t);
  const { c, s } = await connectPair(t, r, l);
  const sending = r.sockSendall(c, Buffer.alloc(64 * 1024 * 1024, 1));
  await r.sockRecv(s, 65536);
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0);
  s.setsockopt(SOL_SOCKET, SO_LINGER, linger);
  s.close();
  await assert.rejects(sending, (e) => e instanceof ConnectionResetError || e instanceof BrokenPipeError);
  // The reset was reported by the send; a later recv sees the reset or EOF, never a hang.
  try {
    assert.equal((await r.sockRecv(c, 10, { timeout: 5000 })).length, 0);
  } catch (e) {
    assert.ok(e instanceof ConnectionResetError, String(e));
  }
});

test('closing the reactor rejects a pending sockRecv with ClosedError', async (t) => {
  const r = new Reactor();
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  t.after(() => { a.close(); b.close(); });
  const p = r.sockRecv(a, 10);
  setTimeout(() => r.close(), 5);
  await assert.rejects(p, ClosedError);
});

test('many concurrent connections echo through one reactor', async (t) => {
  const r = reactorFor(t);
  const l = asyncListener(t);
  const serve = async () => {
    const [s] = await r.sockAccept(l);
    try {
      for (;;) {
        const d = await r.sockRecv(s, 4096);
        if (d.length === 0) return;
        await r.sockSendall(s, d);
      }
    } finally {
      s.close();
    }
  };
  const client = async (i) => {
    const c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
    try {
      await r.sockConnect(c, l.getsockname());
      for (let k = 0; k < 20; k++) {
        const msg = `client ${i} message ${k}`;
        await r.sockSendall(c, msg);
        let got = '';
        while (got.length < msg.length) got += (await r.sockRecv(c, 100)).toString();
        assert.equal(got, msg);
      }
    } finally {
      c.close();
    }
  };
  const n = 30;
  await Promise.all([...Array.from({ length: n }, serve), ...Array.from({ length: n }, (_, i) => client(i))]);
});

test('Reactor sockRecv(sock, 0) / sockRecvInto(sock, empty) resolve at once, as asyncio (sock.recv(0))', async (t) => {
  const r = new Reactor();
  t.after(() => r.close());
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
  const got = await r.sockRecv(a, 0, { timeout: 5000 });
  assert.ok(Buffer.isBuffer(got) && got.length === 0);
  assert.equal(await r.sockRecvInto(a, Buffer.alloc(0)), 0);
  await r.sockSendall(b, 'x');
  assert.equal((await r.sockRecv(a, 10)).toString(), 'x');
});

/** Rejects after `ms` unless `p` settles first: an operation that ignores its arguments would hang. */
const settlesWithin = (p, ms = 2000) => Promise.race([p, new Promise((_, reject) => {
  setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms).unref();
})]);

test('options passed the wrong way are TypeErrors naming the options, never ignored', async (t) => {
  const r = reactorFor(t);
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
  const l = asyncListener(t);
  const c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, c);
  const names = (op) => (e) => e instanceof TypeError && e.message.includes(`${op} options`) && e.message.includes('5000');
  await assert.rejects(settlesWithin(r.sockRecv(a, 10, 5000)), names('sockRecv'));
  await assert.rejects(settlesWithin(r.sockRecvInto(a, Buffer.alloc(4), 5000)), names('sockRecvInto'));
  await assert.rejects(settlesWithin(r.sockSendall(a, 'x', 5000)), names('sockSendall'));
  await assert.rejects(settlesWithin(r.sockAccept(l, 5000)), names('sockAccept'));
  await assert.rejects(settlesWithin(r.sockConnect(c, l.getsockname(), 5000)), names('sockConnect'));
  await assert.rejects(settlesWithin(r.sockRecv(a, 10, 'soon')), (e) => e instanceof TypeError && /sockRecv options .*"soon"/.test(e.message));
  await assert.rejects(settlesWithin(r.sockRecv(a, 10, [50])), TypeError);
  await assert.rejects(r.sockRecv(a, 10, { timeout: 'soon' }), (e) => e instanceof TypeError && /timeout/.test(e.message));
  await assert.rejects(r.sockRecv(a, 1.5), (e) => e instanceof RangeError && /1\.5/.test(e.message));
  // null and undefined are no options, as everywhere.
  b.send('xy');
  assert.equal((await r.sockRecv(a, 1, null)).toString(), 'x');
  assert.equal((await r.sockRecv(a, 1, undefined)).toString(), 'y');
});

test('byte views by their bytes: sockSendall(Uint16Array(3)) sends 6; sockRecvInto of a string is a TypeError naming buf', async (t) => {
  const r = reactorFor(t);
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
  await r.sockSendall(a, new Uint16Array([0x6261, 0x6463, 0x6665]));
  assert.equal((await r.sockRecv(b, 100)).toString(), 'abcdef');
  await r.sockSendall(a, new Float32Array(2).buffer);
  const into = new Uint16Array(8);
  assert.equal(await r.sockRecvInto(b, into), 8, 'a count of bytes');
  for (const bad of ['abc', 42, null]) {
    await assert.rejects(r.sockRecvInto(b, bad), (e) => e instanceof TypeError && /sockRecvInto buf/.test(e.message), String(bad));
  }
  await assert.rejects(r.sockSendall(a, 42), (e) => e instanceof TypeError && /sockSendall data/.test(e.message));
});

/**
 * Runs `body` while a 5 ms interval ticks; returns the longest gap between ticks (ms),
 * the body's own time included.
 */
async function longestTimerGap(body) {
  let last = performance.now();
  let gap = 0;
  const iv = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 5);
  try {
    await body();
  } finally {
    clearInterval(iv);
  }
  return Math.max(gap, performance.now() - last);
}

test('a loop of await sockRecv/sockRecvInto against a peer that keeps the socket full lets timers run', async (t) => {
  const r = reactorFor(t);
  const [a, b] = closer(t, ...socketpair());
  a.setblocking(false);
  const child = spawn('cat', ['/dev/zero'], { stdio: ['ignore', b.fileno(), 'ignore'] });
  t.after(() => child.kill());
  b.close();
  await r.sockRecv(a, 1); // the peer is writing
  // Some work per read keeps the peer ahead, so every read finds data without waiting.
  const work = (ms) => { const end = performance.now() + ms; while (performance.now() < end); };
  let bytes = 0;
  const gap = await longestTimerGap(async () => {
    const until = performance.now() + 400;
    const into = Buffer.alloc(1024);
    while (performance.now() < until) {
      bytes += (await r.sockRecv(a, 1024)).length;
      work(0.05);
      bytes += await r.sockRecvInto(a, into);
      work(0.05);
    }
  });
  assert.ok(bytes > 0);
  assert.ok(gap < 200, `timers waited ${gap.toFixed(0)} ms while ${bytes} bytes came in`);
});

// (The reader empties the socket about as fast as sendall fills it, so sendall also waits
// for writability now and then; this checks the whole call keeps timers running.)
test('sockSendall of a large buffer to a fast reader lets timers run', async (t) => {
  const r = reactorFor(t);
  const [a, b] = closer(t, ...socketpair());
  a.setblocking(false);
  const child = spawn('cat', [], { stdio: [b.fileno(), 'ignore', 'ignore'] });
  t.after(() => child.kill());
  b.close();
  const data = Buffer.alloc(256 * 1024 * 1024);
  const gap = await longestTimerGap(() => r.sockSendall(a, data));
  assert.ok(gap < 200, `timers waited ${gap.toFixed(0)} ms during a 256 MB sendall`);
});

test('closing a socket while sock* operations wait on it rejects them with EBADF; the reactor goes on', async (t) => {
  const r = reactorFor(t);
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
  const l = asyncListener(t);
  const recv = r.sockRecv(a, 10);
  const into = r.sockRecvInto(a, Buffer.alloc(4));
  const accept = r.sockAccept(l);
  const full = Buffer.alloc(8 * 1024 * 1024);
  const send = r.sockSendall(b, full);
  await new Promise((resolve) => setImmediate(resolve));
  a.close();
  l.close();
  b.close();
  const ebadf = (e) => e instanceof OSError && e.code === 'EBADF' && /closed/.test(e.message);
  await assert.rejects(settlesWithin(recv), ebadf);
  await assert.rejects(settlesWithin(into), ebadf);
  await assert.rejects(settlesWithin(accept), ebadf);
  await assert.rejects(settlesWithin(send), ebadf);
  // The reactor still works for other sockets, and a new socket may reuse the numbers.
  const [c, d] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
  const p = r.sockRecv(c, 10);
  d.send('after');
  assert.equal((await settlesWithin(p)).toString(), 'after');
});
