// Passing fds over AF_UNIX sockets (SCM_RIGHTS): a socket and a pipe, received fds are
// close-on-exec and work, truncation keeps what arrived, bad uses fail clearly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { socket, socketpair, os, AF_UNIX, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM, OSError } from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer } from './helpers/net.mjs';

guardFds();

const closeFds = (fds) => { for (const f of fds) os.close(f); };

test('pass a connected socket: the receiver talks through it', (t) => {
  const [a, b] = socketpair();
  const [x, y] = socketpair();
  t.after(() => { for (const s of [a, b, x, y]) s.close(); });
  assert.equal(a.sendFds(Buffer.from('take this'), [x.fileno()]), 9);
  const [data, fds] = b.recvFds(100, 4);
  assert.equal(data.toString(), 'take this');
  assert.equal(fds.length, 1);
  assert.notEqual(fds[0], x.fileno());
  const got = socket(undefined, undefined, undefined, fds[0]);
  t.after(() => got.close());
  assert.equal(got.family, AF_UNIX);
  assert.equal(got.type, SOCK_STREAM);
  assert.equal(os.getInheritable(got), false, 'received fds are close-on-exec');
  got.sendall('via the passed fd');
  assert.equal(y.recv(100).toString(), 'via the passed fd');
});

test('pass both ends of a pipe, with a string payload; fds are close-on-exec', (t) => {
  const [a, b] = socketpair();
  t.after(() => { a.close(); b.close(); });
  const [r, w] = os.pipe();
  t.after(() => closeFds([r, w]));
  a.sendFds('pipe', [r, w]);
  const [data, fds] = b.recvFds(10, 2);
  t.after(() => closeFds(fds));
  assert.equal(data.toString(), 'pipe');
  assert.equal(fds.length, 2);
  for (const f of fds) assert.equal(os.getInheritable(f), false);
  os.write(fds[1], 'through the copy');
  assert.equal(os.read(r, 100).toString(), 'through the copy');
  os.write(w, 'and back');
  assert.equal(os.read(fds[0], 100).toString(), 'and back');
  // A child process does not inherit them (it lists its own open fds).
  const out = spawnSync('sh', ['-c', 'ls /proc/$$/fd'], { encoding: 'utf8' }).stdout.split('\n');
  for (const f of fds) assert.ok(!out.includes(String(f)), `fd ${f} leaked into a child: ${out}`);
});

test('dgram and seqpacket carry fds too; a message without fds gives []', (t) => {
  for (const type of [SOCK_DGRAM, SOCK_SEQPACKET]) {
    const [a, b] = socketpair(AF_UNIX, type);
    t.after(() => { a.close(); b.close(); });
    const [r, w] = os.pipe();
    a.sendFds('m', [w]);
    os.close(w);
    const [, fds] = b.recvFds(10, 1);
    assert.equal(fds.length, 1);
    os.write(fds[0], 'ok');
    assert.equal(os.read(r, 2).toString(), 'ok');
    closeFds([r, ...fds]);
    a.send('plain');
    assert.deepEqual(b.recvFds(10, 3).map((v, i) => (i === 0 ? v.toString() : v)), ['plain', []]);
    a.sendFds('none', []);
    assert.deepEqual(b.recvFds(10, 0)[1], []);
  }
});

test('more fds than maxfds: the ones that fit are returned, the rest closed by the kernel', (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
  t.after(() => { a.close(); b.close(); });
  const pipes = [os.pipe(), os.pipe(), os.pipe()];
  t.after(() => closeFds(pipes.flat()));
  a.sendFds('three', pipes.map(([, w]) => w));
  const [data, fds] = b.recvFds(10, 1);
  t.after(() => closeFds(fds));
  assert.equal(data.toString(), 'three');
  assert.equal(fds.length, 1);
  os.write(fds[0], 'first');
  assert.equal(os.read(pipes[0][0], 10).toString(), 'first');
});

test('sendFds of a closed fd is OSError EBADF', (t) => {
  const [a, b] = socketpair();
  t.after(() => { a.close(); b.close(); });
  const [r, w] = os.pipe();
  os.close(r);
  os.close(w);
  assert.throws(() => a.sendFds('x', [r]), (e) => e instanceof OSError && e.code === 'EBADF');
});

test('a large payload with fds: bytes and fds arrive', (t) => {
  const [a, b] = socketpair();
  t.after(() => { a.close(); b.close(); });
  const [r, w] = os.pipe();
  t.after(() => closeFds([r, w]));
  const big = Buffer.alloc(100000, 9);
  const n = a.sendFds(big, [r]);
  assert.ok(n > 0 && n <= big.length);
  const [data, fds] = b.recvFds(200000, 1);
  t.after(() => closeFds(fds));
  assert.equal(fds.length, 1);
  assert.ok(data.length > 0 && data.every((v) => v === 9));
});

test('sendFds(data, fds) → count; recvFds(bufsize, maxfds) → [Buffer, fds] (SCM_RIGHTS, close-on-exec)', (t) => {
  const [a, b] = closer(t, ...socketpair());
  const [r, w] = os.pipe();
  t.after(() => { os.close(r); os.close(w); });
  assert.equal(a.sendFds(Buffer.from('fds'), [r, w]), 3);
  const got = b.recvFds(100, 4);
  assert.ok(Array.isArray(got) && got.length === 2);
  const [data, fds] = got;
  t.after(() => { for (const f of fds) os.close(f); });
  assert.ok(Buffer.isBuffer(data));
  assert.equal(data.toString(), 'fds');
  assert.equal(fds.length, 2);
  for (const f of fds) {
    assert.ok(Number.isInteger(f) && f !== r && f !== w);
    assert.equal(os.getInheritable(f), false);
  }
  os.write(fds[1], Buffer.from('through'));
  assert.equal(os.read(r, 10).toString(), 'through', 'the received write end is the pipe');
  assert.equal(a.sendFds('none', []), 4);
  assert.deepEqual(b.recvFds(100, 4), [Buffer.from('none'), []]);
  assert.equal(a.sendFds([Buffer.from('a'), 'b'], []), 2, "Python's list of buffers");
  assert.deepEqual(b.recvFds(100, 0), [Buffer.from('ab'), []]);
});
