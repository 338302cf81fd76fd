// The io_uring Proactor: echo correctness, resets, cancellation, timeouts, a full SQ
// ring, CQ overflow, closing with operations in flight, both modes, worker teardown, and
// the fallback where io_uring is unavailable. Every test skips, saying why, where the
// kernel or a seccomp profile refuses io_uring.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import net from 'node:net';
import {
  Proactor, uringSupport, socketpair, socket, os, OSError, TimeoutError, ClosedError, errno,
  AF_INET, AF_UNIX, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const support = uringSupport();
const skip = support.supported ? false : `io_uring unavailable here: ${support.reason}`;
const root = new URL('..', import.meta.url).pathname;

function proactor(t, options) {
  const p = new Proactor(options);
  t.after(() => p.close());
  return p;
}

function pair(t) {
  const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
  t.after(() => { a.close(); b.close(); });
  return [a, b];
}

/** A listener on 127.0.0.1 and an echo service on `p`; returns the port and the open conns. */
function echoServer(t, p) {
  const l = socket(AF_INET, SOCK_STREAM);
  t.after(() => l.close());
  l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  l.bind(['127.0.0.1', 0]);
  l.listen(128);
  const conns = new Map();
  const results = { resets: 0, eof: 0 };
  // Connections are raw fds (detached from their Socket) closed through the ring, after
  // the echoes queued on them.
  const drop = (fd) => {
    if (conns.delete(fd)) p.close(fd);
  };
  const onSent = (r, fd) => { if (r < 0 && r !== -errno.ECANCELED) drop(fd); };
  const onRecv = (n, _buf, bid, fd) => {
    if (n > 0) {
      p.sendBuffer(fd, bid, 0, n, onSent);
      return true;
    }
    if (n === 0) results.eof++;
    else if (n !== -errno.ECANCELED) results.resets++;
    drop(fd);
    return false;
  };
  const op = p.accept(l.fileno(), (fd) => {
    if (fd < 0) return;
    conns.set(fd, true);
    p.recv(fd, onRecv);
  });
  t.after(() => { for (const fd of conns.keys()) os.close(fd); });
  return { port: l.getsockname()[1], conns, results, op };
}

describe('Proactor', { skip }, () => {
  test('echo: 40 connections, 256 KiB each, pipelined, SHA-256 equal both ways (small buffers: the ring runs dry)', async (t) => {
    const p = proactor(t, { buffers: 16, bufferSize: 4096 });
    const { port, results } = echoServer(t, p);
    const one = (i) => new Promise((resolve, reject) => {
      const data = randomBytes(256 * 1024 + i);
      const want = createHash('sha256').update(data).digest('hex');
      const got = createHash('sha256');
      let n = 0;
      const c = net.connect(port, '127.0.0.1', () => c.end(data));
      c.on('data', (d) => { got.update(d); n += d.length; });
      c.on('error', reject);
      c.on('close', () => {
        try {
          assert.equal(n, data.length, `connection ${i}: bytes echoed`);
          assert.equal(got.digest('hex'), want, `connection ${i}: SHA-256`);
          resolve();
        } catch (e) { reject(e); }
      });
    });
    await Promise.all(Array.from({ length: 40 }, (_, i) => one(i)));
    assert.equal(results.eof, 40);
    assert.equal(p.stats.inFlight, 1, 'only the multishot accept is left');
  });

  test('peer resets: the receive ends with ECONNRESET (or end of stream) and the server goes on', async (t) => {
    const p = proactor(t);
    const { port, results, conns } = echoServer(t, p);
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => c.write('x'.repeat(100)));
        c.once('data', () => { c.resetAndDestroy(); resolve(); });
      });
    }
    const until = Date.now() + 5000;
    while (results.resets + results.eof < 10 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(results.resets + results.eof, 10);
    assert.ok(results.resets > 0, 'at least one reset seen as an error');
    assert.equal(conns.size, 0);
    // Still serving.
    const echoed = await new Promise((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => c.end('still here'));
      let s = '';
      c.on('data', (d) => { s += d; });
      c.on('close', () => resolve(s));
      c.on('error', reject);
    });
    assert.equal(echoed, 'still here');
  });

  test('cancel: a pending receive ends with -ECANCELED; an unknown operation is refused', async (t) => {
    const p = proactor(t);
    const [a] = pair(t);
    let op;
    const got = await new Promise((resolve) => {
      op = p.recv(a.fileno(), (n) => resolve(n));
      setTimeout(() => assert.equal(p.cancel(op), true), 20);
    });
    assert.equal(got, -errno.ECANCELED);
    assert.equal(p.cancel(12345), false);
    // The ended operation's slot is taken again: its old id must not cancel the new one.
    const again = new Promise((resolve) => p.recv(a.fileno(), (n) => resolve(n)));
    assert.equal(p.cancel(op), false, 'a stale id matches nothing');
    await p.sleep(5);
    assert.equal(p.stats.inFlight, 1, 'the new receive is still in flight');
    p.close(); // ends it
    assert.equal(await again, -errno.ECANCELED);
  });

  test('linked timeouts: recvAsync and acceptAsync fail with TimeoutError; data before the timeout wins', async (t) => {
    const p = proactor(t);
    const [a, b] = pair(t);
    const t0 = performance.now();
    await assert.rejects(p.recvAsync(a.fileno(), { timeoutMs: 50 }), (e) => e instanceof TimeoutError && e.errno === errno.ETIMEDOUT);
    assert.ok(performance.now() - t0 >= 40);
    const l = socket(AF_INET, SOCK_STREAM);
    t.after(() => l.close());
    l.bind(['127.0.0.1', 0]);
    l.listen(1);
    await assert.rejects(p.acceptAsync(l.fileno(), { timeoutMs: 30 }), TimeoutError);
    b.send(Buffer.from('hello'));
    const data = await p.recvAsync(a.fileno(), { timeoutMs: 5000 });
    assert.equal(data.toString(), 'hello');
    const sent = await p.sendAsync(b.fileno(), Buffer.from('world'), { timeoutMs: 5000 });
    assert.equal(sent, 5);
    assert.equal((await p.recvAsync(a.fileno())).toString(), 'world');
    await p.sleep(5);
    assert.equal(p.stats.inFlight, 0);
  });

  test('recvInto: single-shot receives into caller buffers (a small on-heap one too), end of stream, timeout', async (t) => {
    const p = proactor(t);
    const [a, b] = pair(t);
    const small = new Uint8Array(16); // small typed arrays start on V8's heap
    const pending = p.recvIntoAsync(a.fileno(), small);
    await p.sleep(5);
    for (let i = 0; i < 1000; i++) new Array(100).fill(i); // give the collector a reason to move things
    b.send(Buffer.from('0123456789abcdefXYZ'));
    assert.equal(await pending, 16);
    assert.equal(Buffer.from(small).toString(), '0123456789abcdef');
    const big = Buffer.alloc(100);
    assert.equal(await p.recvIntoAsync(a.fileno(), big), 3);
    assert.equal(big.subarray(0, 3).toString(), 'XYZ');
    await assert.rejects(p.recvIntoAsync(a.fileno(), big, { timeoutMs: 30 }), TimeoutError);
    b.shutdown(1); // SHUT_WR
    assert.equal(await p.recvIntoAsync(a.fileno(), big), 0);
    assert.throws(() => p.recvInto(a.fileno(), 'text', () => {}), TypeError);
  });

  test('ring full: 200 operations on a 4-entry ring are submitted in batches and all complete in order', async (t) => {
    const p = proactor(t, { entries: 4 });
    const order = [];
    await new Promise((resolve) => {
      for (let i = 0; i < 200; i++) p.nop(() => { order.push(i); if (order.length === 200) resolve(); });
    });
    assert.deepEqual(order, Array.from({ length: 200 }, (_, i) => i));
    assert.ok(p.stats.sqFull > 0, 'the SQ ring filled up');
  });

  test('CQ overflow: 256 completions into an 8-entry CQ are all delivered (none dropped)', (t) => {
    const p = proactor(t, { entries: 4, completionEntries: 8, mode: 'blocking' });
    let n = 0;
    for (let i = 0; i < 256; i++) p.nop(() => { n++; });
    p.run(5000);
    assert.equal(n, 256);
    assert.ok(p.stats.overflows > 0, `overflow flushes: ${p.stats.overflows}`);
  });

  test('blocking run(): echo over a socketpair until stop(), timeouts, and run(timeoutMs) returning', (t) => {
    const p = proactor(t, { mode: 'blocking' });
    const [a, b] = pair(t);
    const data = randomBytes(60000);
    b.send(data);
    let echoed = 0;
    p.recv(a.fileno(), (n, _buf, bid, fd) => {
      if (n <= 0) return false;
      p.sendBuffer(fd, bid, 0, n, (r) => {
        echoed += r;
        if (echoed === data.length) p.stop();
      });
      return true;
    });
    p.run(5000);
    assert.equal(echoed, data.length);
    const back = [];
    let got = 0;
    while (got < data.length) {
      const chunk = b.recv(65536);
      back.push(chunk);
      got += chunk.length;
    }
    assert.ok(Buffer.concat(back).equals(data));
    let fired = 0;
    p.timeout(10, (r) => { fired++; assert.equal(r, 0); p.stop(); });
    p.run(2000);
    assert.equal(fired, 1);
    const t0 = performance.now();
    p.run(50); // only the recv is left: returns after the time limit
    assert.ok(performance.now() - t0 >= 40);
    assert.throws(() => p.accept(a.fileno(), 'nope'), TypeError);
  });

  test('sendBuffer and cancel check their fd and callback at the call, not when the operation completes', (t) => {
    // Regression: a non-function callback was stored and thrown later from inside the
    // completion dispatch, and a bad fd reached the SQE unchecked.
    const p = proactor(t, { mode: 'blocking' });
    const [a, b] = pair(t);
    b.send(Buffer.from('x'));
    let held = -1;
    p.recv(a.fileno(), (n, _buf, bid) => {
      if (n <= 0) return false;
      held = bid;
      p.stop();
      return true; // keep the buffer
    });
    p.run(5000);
    assert.ok(held >= 0);
    const before = p.stats.inFlight;
    assert.throws(() => p.sendBuffer(a.fileno(), held, 0, 1, 'done'), /cb must be a function/);
    assert.throws(() => p.sendBuffer(-1, held, 0, 1), /fd -1 is out of range/);
    assert.throws(() => p.sendBuffer('3', held, 0, 1), /fd must be an integer, got "3"/);
    assert.throws(() => p.cancel(0, 42), /cb must be a function/);
    assert.equal(p.stats.inFlight, before, 'nothing queued by a refused call');
    let sent = -1;
    p.sendBuffer(a.fileno(), held, 0, 1, (r) => { sent = r; p.stop(); });
    p.run(5000);
    assert.equal(sent, 1);
    assert.equal(b.recv(10).toString(), 'x');
  });

  test('close(fd) through the ring cancels the fd\'s receive, then closes it', async (t) => {
    const p = proactor(t);
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
    t.after(() => b.close());
    const fd = a.detach();
    const recvResult = new Promise((resolve) => p.recv(fd, (n) => resolve(n)));
    await p.closeAsync(fd);
    assert.equal(await recvResult, -errno.ECANCELED);
    assert.equal(b.recv(10).length, 0, 'the peer sees end of stream');
  });

  test('a Socket closed while a receive is in flight: the receive is cancelled and the peer sees the close', async (t) => {
    const p = proactor(t);
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
    t.after(() => b.close());
    const recvResult = new Promise((resolve) => p.recv(a.fileno(), (n) => resolve(n)));
    await p.sleep(5);
    a.close();
    assert.equal(await recvResult, -errno.ECANCELED);
    assert.equal(b.recv(10).length, 0);
  });

  test('closing the Proactor with operations in flight: callbacks get -ECANCELED, promises reject, sockets stay open', async (t) => {
    const p = new Proactor();
    const [a, b] = pair(t);
    const l = socket(AF_INET, SOCK_STREAM);
    t.after(() => l.close());
    l.bind(['127.0.0.1', 0]);
    l.listen(1);
    const results = [];
    p.accept(l.fileno(), (r) => results.push(['accept', r]));
    p.recv(a.fileno(), (n) => { results.push(['recv', n]); });
    p.timeout(60000, (r) => results.push(['timeout', r]));
    const pending = p.recvAsync(b.fileno());
    await p.sleep(5);
    p.close();
    p.close(); // idempotent
    assert.equal(p.closed, true);
    await assert.rejects(pending, (e) => e instanceof OSError && e.errno === errno.ECANCELED);
    assert.deepEqual(results.map((r) => r[0]).sort(), ['accept', 'recv', 'timeout']);
    for (const [, r] of results) assert.equal(r, -errno.ECANCELED);
    assert.throws(() => p.nop(() => {}), ClosedError);
    const q = new Proactor();
    q[Symbol.dispose]();
    assert.equal(q.closed, true);
    b.send(Buffer.from('ok'));
    assert.equal(a.recv(10).toString(), 'ok');
  });

  test('a callback may close the Proactor; what it had not reported yet is reported cancelled', async (t) => {
    const p = new Proactor();
    t.after(() => p.close());
    const second = [];
    await new Promise((resolve) => {
      p.nop(() => { p.close(); resolve(); });
      p.nop((r) => second.push(r));
    });
    assert.equal(p.closed, true);
    assert.deepEqual(second, [-errno.ECANCELED]);
  });

  test('100 Proactors created and closed (with operations in flight) leave no mapping, fd or watcher behind', async () => {
    const { readFileSync } = await import('node:fs');
    const lines = () => readFileSync('/proc/self/maps', 'utf8').split('\n');
    const maps = () => lines().length;
    const ringMaps = () => lines().filter((l) => l.includes('io_uring')).length;
    const cycle = async () => {
      const p = new Proactor({ buffers: 64, bufferSize: 4096 });
      const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
      p.recv(a.fileno(), () => {});
      p.timeout(60000, () => {});
      await p.sleep(1);
      p.close();
      a.close();
      b.close();
    };
    for (let i = 0; i < 5; i++) await cycle(); // warm-up: koffi, libuv and V8 map what they need once
    const before = maps();
    const ringsBefore = ringMaps(); // libuv may map rings of its own (Node 24's does)
    for (let i = 0; i < 100; i++) await cycle();
    assert.equal(ringMaps(), ringsBefore, 'ring mappings left');
    // Each Proactor maps three anonymous regions: 100 leaked ones would add 300 lines.
    assert.ok(maps() - before < 60, `mappings grew from ${before} to ${maps()}`);
  });

  test('argument errors name the argument and the value', (t) => {
    assert.throws(() => new Proactor({ entries: 0 }), /options\.entries/);
    assert.throws(() => new Proactor({ buffers: 3 }), /options\.buffers must be a power of two, got 3/);
    assert.throws(() => new Proactor({ mode: 'fast' }), /options\.mode must be 'loop' or 'blocking', got "fast"/);
    const p = proactor(t);
    assert.throws(() => p.recv(-1, () => {}), RangeError);
    assert.throws(() => p.timeout(-5, () => {}), /ms must be >= 0, got -5/);
    assert.throws(() => p.sendBuffer(0, 3, 0, 10), /provided buffer 3 is not held/);
    assert.throws(() => p.run(), /mode 'blocking'/);
  });

  test('a worker thread that exits with a Proactor open does not abort the process, and its ring fd is closed', () => {
    const code = `
      const { Worker } = require('node:worker_threads');
      const fs = require('node:fs');
      // libuv may hold io_uring fds of its own (Node 24's does): count ours as the change.
      const ringFds = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
        try { return fs.readlinkSync('/proc/self/fd/' + fd).includes('io_uring'); } catch { return false; }
      }).length;
      const before = ringFds();
      const w = new Worker(\`
        import(${JSON.stringify(root + 'dist/index.js')}).then((m) => {
          const p = new m.Proactor();
          const [a] = m.socketpair(m.AF_UNIX, m.SOCK_STREAM);
          p.recv(a.fileno(), () => {});
          p.timeout(60000, () => {});
          setTimeout(() => process.exit(0), 20);
        });\`, { eval: true });
      w.on('exit', (c) => {
        setTimeout(() => console.log('worker exit ' + c + ', ring fds left ' + (ringFds() - before)), 50);
      });
    `;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 20000, env: { ...process.env, FORCE_COLOR: '0' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /worker exit 0, ring fds left 0/);
  });
});

describe('iomux echo --mode uring', { skip }, () => {
  test('echoes 20 clients (SHA-256), then SIGTERM closes everything and exits 0', async () => {
    const { spawn } = await import('node:child_process');
    const c = spawn(process.execPath, [root + 'dist/cli/main.js', 'echo', '--port', '0', '--mode', 'uring'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stderr.on('data', (d) => { err += d; });
    const port = await new Promise((resolve, reject) => {
      c.stdout.on('data', (d) => { out += d; const m = /listening on 127\.0\.0\.1:(\d+) \(mode uring, backend io_uring/.exec(out); if (m) resolve(Number(m[1])); });
      c.on('exit', () => reject(new Error(`exited early: ${err}`)));
    });
    const one = (i) => new Promise((resolve, reject) => {
      const data = randomBytes(100000 + i);
      const got = createHash('sha256');
      const cl = net.connect(port, '127.0.0.1', () => cl.end(data));
      cl.on('data', (d) => got.update(d));
      cl.on('error', reject);
      cl.on('close', () => (got.digest('hex') === createHash('sha256').update(data).digest('hex') ? resolve() : reject(new Error(`client ${i}: echo differs`))));
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => one(i)));
    const exited = new Promise((resolve) => c.on('exit', (code) => resolve(code)));
    c.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(out, /SIGTERM: closed 0 open connections; served 20 connections, echoed \d+ bytes/);
  });
});

describe('iomux echo --mode uring, a peer that sends but never reads', { skip }, () => {
  test('does not hold every buffer: another client is still answered at once', async () => {
    const { spawn } = await import('node:child_process');
    const c = spawn(process.execPath, [root + 'dist/cli/main.js', 'echo', '--port', '0', '--mode', 'uring'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const port = await new Promise((resolve, reject) => {
      c.stdout.on('data', (d) => { out += d; const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out); if (m) resolve(Number(m[1])); });
      c.on('exit', () => reject(new Error('exited early')));
    });
    const exited = new Promise((resolve) => c.on('exit', (code) => resolve(code)));
    const a = net.connect(port, '127.0.0.1');
    a.pause(); // never reads its echoes
    a.on('error', () => {});
    const chunk = Buffer.alloc(64 << 10, 'x');
    let flooding = true;
    const pump = () => { while (flooding && a.write(chunk)); };
    a.on('drain', pump);
    a.on('connect', pump);
    await new Promise((r) => setTimeout(r, 1000)); // long enough to fill every buffer of the ring
    const b = net.connect(port, '127.0.0.1');
    b.on('error', () => {});
    await new Promise((r) => b.on('connect', r));
    const reply = await Promise.race([
      new Promise((r) => { b.once('data', (d) => r(String(d))); b.write('ping'); }),
      new Promise((r) => setTimeout(() => r('no reply within 3 s'), 3000)),
    ]);
    flooding = false;
    a.destroy();
    b.destroy();
    c.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(reply, 'ping');
  });
});

describe('where io_uring is unavailable', () => {
  test('uringSupport() says why, the constructor throws with that reason, iomux echo falls back with one line', () => {
    const env = { ...process.env, IOMUX_URING: 'off', FORCE_COLOR: '0' };
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', `
      const m = await import(${JSON.stringify(root + 'dist/index.js')});
      const s = m.uringSupport();
      let err = '';
      try { new m.Proactor(); } catch (e) { err = e.constructor.name + ': ' + e.message; }
      process.stdout.write(JSON.stringify({ s, supported: m.Proactor.isSupported(), err }));`], { encoding: 'utf8', env });
    assert.equal(probe.status, 0, probe.stderr);
    const out = JSON.parse(probe.stdout);
    assert.equal(out.s.supported, false);
    assert.equal(out.supported, false);
    assert.match(out.s.reason, /IOMUX_URING=off/);
    assert.match(out.err, /OSError.*IOMUX_URING=off/);
    const cli = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { spawn } from 'node:child_process';
      const c = spawn(process.execPath, [${JSON.stringify(root + 'dist/cli/main.js')}, 'echo', '--port', '0', '--mode', 'uring'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '', err = '';
      let killed = false;
      c.stdout.on('data', (d) => { out += d; if (!killed && out.includes('listening')) { killed = true; c.kill('SIGTERM'); } });
      c.stderr.on('data', (d) => { err += d; });
      c.on('close', (code) => process.stdout.write(JSON.stringify({ code, out, err })));`], { encoding: 'utf8', env, timeout: 20000 });
    assert.equal(cli.status, 0, cli.stderr);
    const r = JSON.parse(cli.stdout);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /^iomux echo: io_uring unavailable \(io_uring is switched off by IOMUX_URING=off\); serving with --mode reactor \(epoll\)\n$/);
    assert.match(r.out, /mode reactor, backend epoll/);
  });
});
