// The Proactor's sendmsg: gathered buffers, SCM_RIGHTS fd passing, a large stream message
// continued after short sends (control data only once), call order with interleaved
// sends and a close behind them, datagrams to an address on unconnected sockets, errors
// as negated errnos (and rejected promises), timeouts, cancel, and argument checks. Both
// modes. Every test skips, saying why, where the kernel or a seccomp profile refuses
// io_uring.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  Proactor, uringSupport, encodeSockaddr, socketpair, socket, os, errno, BrokenPipeError, TimeoutError, ClosedError, BlockingIOError,
  AF_INET, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SCM_RIGHTS, SO_SNDBUF, CMSG_SPACE,
} from 'iomux';
import { guardFds, openFds } from './helpers/fds.mjs';

guardFds();

const support = uringSupport();
const skip = support.supported ? false : `io_uring unavailable here: ${support.reason}`;

function proactor(t, options) {
  const p = new Proactor(options);
  t.after(() => p.close());
  return p;
}

function pair(t, type = SOCK_STREAM) {
  const [a, b] = socketpair(AF_UNIX, type);
  t.after(() => { a.close(); b.close(); });
  return [a, b];
}

/** SCM_RIGHTS data for `fds`. */
function rights(...fds) {
  const b = Buffer.alloc(4 * fds.length);
  fds.forEach((fd, i) => b.writeInt32LE(fd, 4 * i));
  return [SOL_SOCKET, SCM_RIGHTS, b];
}

/** `struct sockaddr_un` for the abstract name `name` (given without its leading NUL). */
function sockaddrAbstract(name) {
  const n = Buffer.from(name);
  const a = Buffer.alloc(3 + n.length);
  a.writeUInt16LE(AF_UNIX, 0);
  n.copy(a, 3);
  return a;
}

/** Reads everything from non-blocking `sock` until `n` bytes: their SHA-256 and every fd passed with them. */
function drain(sock, n) {
  sock.setblocking(false);
  const hash = createHash('sha256');
  const fds = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const step = () => {
      try {
        for (;;) {
          const [data, anc] = sock.recvmsg(1 << 16, CMSG_SPACE(4 * 4));
          for (const [level, type, d] of anc) {
            if (level === SOL_SOCKET && type === SCM_RIGHTS) for (let i = 0; i < d.length; i += 4) fds.push(d.readInt32LE(i));
          }
          if (data.length === 0) break;
          hash.update(data);
          got += data.length;
          if (got >= n) break;
        }
      } catch (e) {
        if (!(e instanceof BlockingIOError)) { reject(e); return; }
      }
      if (got >= n) resolve({ got, sha: hash.digest('hex'), fds });
      else setTimeout(step, 0);
    };
    step();
  });
}

const sha = (...bufs) => { const h = createHash('sha256'); for (const b of bufs) h.update(b); return h.digest('hex'); };

describe('Proactor sendmsg', { skip }, () => {
  for (const mode of ['loop', 'blocking']) {
    test(`${mode}: gathered buffers of every kind arrive in order and intact`, async (t) => {
      const p = proactor(t, { mode });
      const [a, b] = pair(t);
      const small = new Uint8Array([104, 105]); // on V8's heap until its buffer is touched
      const words = new Uint16Array([0x4241, 0x4443]); // counted in bytes: 'ABCD'
      const parts = [Buffer.from('start:'), small, new Uint8Array(0), words, new TextEncoder().encode(':end').buffer];
      const results = [];
      p.sendmsg(a.fileno(), parts, (r, fd) => results.push([r, fd]));
      const second = mode === 'loop' ? p.sendmsgAsync(a.fileno(), [Buffer.from('|2')]) : null;
      if (mode === 'blocking') p.sendmsg(a.fileno(), [Buffer.from('|2')], (r) => results.push([r]));
      for (let i = 0; i < 1000; i++) new Array(100).fill(i); // give the collector a reason to move things
      if (mode === 'blocking') p.run(5000);
      else {
        assert.equal(await second, 2);
        await p.sleep(1);
      }
      assert.deepEqual(results[0], [16, a.fileno()]);
      assert.equal(b.recv(100).toString(), 'start:hiABCD:end|2');
      assert.equal(p.stats.inFlight, 0);
    });

    test(`${mode}: SCM_RIGHTS passes a working fd (received through Socket.recvFds)`, async (t) => {
      const p = proactor(t, { mode });
      const [a, b] = pair(t);
      const [c, d] = pair(t);
      let result;
      p.sendmsg(a.fileno(), [Buffer.from('fd')], (r) => { result = r; }, { ancdata: [rights(c.fileno())] });
      if (mode === 'blocking') p.run(5000);
      else await p.sleep(5);
      assert.equal(result, 2);
      const [data, fds] = b.recvFds(10, 4);
      assert.equal(data.toString(), 'fd');
      assert.equal(fds.length, 1);
      assert.notEqual(fds[0], c.fileno());
      try {
        os.write(fds[0], Buffer.from('through the passed fd'));
        assert.equal(d.recv(100).toString(), 'through the passed fd');
      } finally {
        os.close(fds[0]);
      }
    });
  }

  test('8 MiB in 5 buffers with an fd, small SO_SNDBUF: continued after short sends, SHA-256 equal, the fd passed once', async (t) => {
    const p = proactor(t);
    const [a, b] = pair(t);
    const [c] = pair(t);
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, 16384);
    const total = 8 << 20;
    const cuts = [0, 1, 100003, 3 << 20, (5 << 20) + 7, total];
    const data = randomBytes(total);
    const parts = cuts.slice(1).map((end, i) => data.subarray(cuts[i], end));
    const before = p.stats.submitted;
    const sent = p.sendmsgAsync(a.fileno(), parts, { ancdata: [rights(c.fileno())] });
    const got = await drain(b, total);
    assert.equal(await sent, total);
    assert.equal(got.got, total);
    assert.equal(got.sha, sha(data));
    assert.equal(got.fds.length, 1, 'the control data went with the first part only');
    for (const fd of got.fds) os.close(fd);
    assert.ok(p.stats.submitted - before > 2, `one sendmsg took ${p.stats.submitted - before} SQEs (short sends continued)`);
  });

  test('order: sends and sendmsgs interleaved on one fd go out in call order, the close after them', async (t) => {
    const p = proactor(t);
    const [x, b] = socketpair(AF_UNIX, SOCK_STREAM);
    t.after(() => b.close());
    x.setsockopt(SOL_SOCKET, SO_SNDBUF, 16384);
    const fd = x.detach();
    const chunks = [];
    const done = [];
    for (let i = 0; i < 12; i++) {
      const size = 50000 + i * 9973;
      if (i % 3 === 0) {
        const d = randomBytes(size);
        chunks.push(d);
        p.send(fd, d, (r) => done.push([i, r]));
      } else {
        const parts = [randomBytes(size >> 1), randomBytes(7), randomBytes(size - (size >> 1) - 7)];
        chunks.push(...parts);
        p.sendmsg(fd, parts, (r) => done.push([i, r]));
      }
    }
    const closed = p.closeAsync(fd);
    const n = chunks.reduce((s, c) => s + c.length, 0);
    const got = await drain(b, n);
    await closed;
    assert.equal(got.sha, sha(...chunks));
    assert.deepEqual(done.map(([i]) => i), Array.from({ length: 12 }, (_, i) => i), 'callbacks in call order');
    for (const [i, r] of done) assert.equal(r, 50000 + i * 9973);
    b.setblocking(true);
    assert.equal(b.recv(10).length, 0, 'end of stream after every byte');
  });

  test('datagrams: sendmsg with an address to unbound UDP and unix-dgram receivers', async (t) => {
    const p = proactor(t);
    const udpIn = socket(AF_INET, SOCK_DGRAM);
    const udpOut = socket(AF_INET, SOCK_DGRAM);
    t.after(() => { udpIn.close(); udpOut.close(); });
    udpIn.bind(['127.0.0.1', 0]);
    const port = udpIn.getsockname()[1];
    const n = await p.sendmsgAsync(udpOut.fileno(), [Buffer.from('dgram '), Buffer.from('one')], { address: encodeSockaddr(AF_INET, ['127.0.0.1', port]) });
    assert.equal(n, 9);
    const [data, from] = udpIn.recvfrom(100);
    assert.equal(data.toString(), 'dgram one');
    assert.deepEqual(from, ['127.0.0.1', udpOut.getsockname()[1]]);

    const name = `iomux-sendmsg-${process.pid}`;
    const unIn = socket(AF_UNIX, SOCK_DGRAM);
    const unOut = socket(AF_UNIX, SOCK_DGRAM);
    t.after(() => { unIn.close(); unOut.close(); });
    unIn.bind(`\0${name}`);
    const addr = sockaddrAbstract(name);
    const r1 = await p.sendmsgAsync(unOut.fileno(), [Buffer.from('to '), Buffer.from('unix')], { address: addr });
    addr.fill(0); // copied at the call: the next message has its own
    const r2 = await p.sendmsgAsync(unOut.fileno(), [Buffer.from('again')], { address: sockaddrAbstract(name), flags: 0 });
    assert.deepEqual([r1, r2], [7, 5]);
    assert.equal(unIn.recv(100).toString(), 'to unix');
    assert.equal(unIn.recv(100).toString(), 'again', 'one datagram per sendmsg');
    // No address on an unconnected datagram socket: the kernel's error.
    assert.equal(await new Promise((resolve) => p.sendmsg(unOut.fileno(), [Buffer.from('x')], resolve)), -errno.ENOTCONN);
  });

  test('errors are negated errnos: EBADF, EPIPE (no SIGPIPE; the promise rejects with BrokenPipeError)', async (t) => {
    const p = proactor(t);
    const dead = Math.max(...openFds()) + 64; // far from any fd this process opens meanwhile
    assert.equal(await new Promise((resolve) => p.sendmsg(dead, [Buffer.from('x')], resolve)), -errno.EBADF);
    const [a, b] = pair(t);
    b.close();
    assert.equal(await new Promise((resolve) => p.sendmsg(a.fileno(), [Buffer.from('x')], resolve)), -errno.EPIPE);
    await assert.rejects(p.sendmsgAsync(a.fileno(), [Buffer.from('x')]), BrokenPipeError);
    assert.equal(p.stats.inFlight, 0);
  });

  test('a sendmsg stuck on a full socket: its linked timeout gives ETIMEDOUT, cancel gives ECANCELED, closing the Socket ends the next', async (t) => {
    const p = proactor(t);
    const [a, b] = socketpair(AF_UNIX, SOCK_STREAM);
    t.after(() => b.close());
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, 16384);
    const big = randomBytes(1 << 20);
    await assert.rejects(p.sendmsgAsync(a.fileno(), [big], { timeoutMs: 50 }), (e) => e instanceof TimeoutError && e.errno === errno.ETIMEDOUT);
    let op;
    let next = null;
    const cancelled = new Promise((resolve) => { op = p.sendmsg(a.fileno(), [big], resolve); });
    const queued = new Promise((resolve) => p.sendmsg(a.fileno(), [big], (r) => { next = r; resolve(r); }));
    await p.sleep(5);
    assert.equal(p.cancel(op), true);
    assert.equal(await cancelled, -errno.ECANCELED);
    await p.sleep(5);
    assert.equal(next, null, 'the next one is now in flight');
    a.close(); // an fd closed through iomux: its operations are cancelled first
    assert.equal(await queued, -errno.ECANCELED);
    assert.equal(p.stats.inFlight, 0);
  });

  test('closing the Proactor with sendmsgs queued reports them cancelled', async (t) => {
    const p = new Proactor();
    const [a, b] = pair(t);
    a.setsockopt(SOL_SOCKET, SO_SNDBUF, 16384);
    const big = randomBytes(1 << 20);
    const first = p.sendmsgAsync(a.fileno(), [big]);
    const second = p.sendmsgAsync(a.fileno(), [big], { ancdata: [rights(b.fileno())] });
    await p.sleep(5);
    p.close();
    await assert.rejects(first, (e) => e.errno === errno.ECANCELED);
    await assert.rejects(second, (e) => e.errno === errno.ECANCELED);
    assert.throws(() => p.sendmsg(a.fileno(), [big]), ClosedError);
  });

  test('argument errors name the argument and the value', (t) => {
    const p = proactor(t);
    const [a] = pair(t);
    const fd = a.fileno();
    const x = Buffer.from('x');
    assert.throws(() => p.sendmsg(-1, [x]), /fd -1 is out of range/);
    assert.throws(() => p.sendmsg(fd, 'text'), /buffers must be an array \(iterable\) of buffers, got "text"/);
    assert.throws(() => p.sendmsg(fd, x), TypeError);
    assert.throws(() => p.sendmsg(fd, [x, 'y']), /buffers\[1\] must be a Buffer/);
    assert.throws(() => p.sendmsg(fd, [x], 'cb'), /cb/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, 5), /options must be an object/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { flags: 'x' }), /options\.flags/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { ancdata: 5 }), /options\.ancdata must be an array of \[level, type, data\] items, got 5/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { ancdata: [[1, 2]] }), /options\.ancdata\[0\] must be a \[level, type, data\] item/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { ancdata: [[1.5, 2, x]] }), /options\.ancdata\[0\] level/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { ancdata: [[1, 2, 'd']] }), /options\.ancdata\[0\] data must be a Buffer/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { address: ['127.0.0.1', 80] }), /options\.address must be the bytes of a struct sockaddr/);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { address: Buffer.alloc(129) }), (e) => e instanceof RangeError && /options\.address/.test(e.message));
    assert.throws(() => p.sendmsg(fd, [x], undefined, { address: Buffer.alloc(0) }), RangeError);
    assert.throws(() => p.sendmsg(fd, [x], undefined, { timeoutMs: -1 }), /options\.timeoutMs must be >= 0/);
    assert.throws(() => p.sendmsg(fd, new Array(1025).fill(x)), (e) => e instanceof RangeError && /1025 buffers, at most 1024/.test(e.message));
    assert.equal(p.stats.inFlight, 0, 'nothing queued by a call that threw');
  });
});
