// SPEC "Sockets: the socket module", sentence by sentence, against the built package;
// CPython 3.12's socket module where SPEC is silent. Each test is named after the SPEC
// sentence (or the CPython behaviour) it holds the package to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as iomux from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, listener, streamPair } from './helpers/net.mjs';

const {
  socket, socketpair, Socket, os, OSError, BlockingIOError, ConnectionRefusedError, BrokenPipeError,
  AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC,
  SOL_SOCKET, SO_REUSEADDR, SO_ERROR, SO_RCVBUF, SO_LINGER, IPPROTO_TCP, TCP_NODELAY,
  SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_DONTWAIT,
} = iomux;

guardFds();

const dir = mkdtempSync(join(tmpdir(), 'iomux-spec-net-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const unixPath = () => join(dir, `s${++seq}.sock`);
const abstractName = () => `\0iomux-spec-${process.pid}-${++seq}`;

const isErrno = (cls, code) => (e) => e instanceof cls && e.code === code && e.errno === iomux.errno[code] && e.errno > 0;

test('Constants: every SPEC socket constant is exported at the root with its Linux value', () => {
  const linux = {
    AF_INET: 2, AF_INET6: 10, AF_UNIX: 1, SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_SEQPACKET: 5,
    SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000, SOL_SOCKET: 1, SO_REUSEADDR: 2, SO_REUSEPORT: 15,
    SO_ERROR: 4, SO_RCVBUF: 8, SO_SNDBUF: 7, IPPROTO_TCP: 6, TCP_NODELAY: 1, SHUT_RD: 0, SHUT_WR: 1,
    SHUT_RDWR: 2, MSG_PEEK: 2, MSG_DONTWAIT: 0x40,
  };
  for (const [name, value] of Object.entries(linux)) assert.equal(iomux[name], value, name);
  for (const name of ['Socket', 'socket', 'socketpair']) assert.equal(typeof iomux[name], 'function', name);
});

test('Addresses: AF_INET is [host: string, port: number] everywhere an address comes back', (t) => {
  const { l, c, s, peer } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
  const [host, port] = l.getsockname();
  assert.deepEqual(l.getsockname(), ['127.0.0.1', port]);
  assert.ok(Number.isInteger(port) && port > 0);
  assert.equal(typeof host, 'string');
  assert.deepEqual(c.getpeername(), ['127.0.0.1', port]);
  assert.deepEqual(s.getsockname(), ['127.0.0.1', port]);
  assert.deepEqual(peer, c.getsockname());
  assert.equal(peer.length, 2);
  const u = socket();
  closer(t, u);
  assert.deepEqual(u.getsockname(), ['0.0.0.0', 0], 'an unbound socket');
  // '' is INADDR_ANY, as in Python.
  const any = socket();
  closer(t, any);
  any.bind(['', 0]);
  assert.equal(any.getsockname()[0], '0.0.0.0');
});

test('Addresses: AF_INET6 is [host, port, flowinfo, scopeId], the last two optional on input', (t) => {
  const l = socket(AF_INET6);
  closer(t, l);
  l.bind(['::1', 0]); // two parts
  l.listen();
  const name = l.getsockname();
  assert.equal(name.length, 4);
  assert.deepEqual(name, ['::1', name[1], 0, 0]);
  for (const addr of [['::1', name[1]], ['::1', name[1], 0], ['::1', name[1], 0, 0]]) {
    const c = socket(AF_INET6);
    closer(t, c);
    c.connect(addr);
    const [s, peer] = l.accept();
    closer(t, s);
    assert.deepEqual(c.getpeername(), name);
    assert.equal(peer.length, 4);
    assert.deepEqual(peer, c.getsockname());
  }
  const u = socket(AF_INET6);
  closer(t, u);
  assert.deepEqual(u.getsockname(), ['::', 0, 0, 0]);
  assert.throws(() => u.bind(['::1', 0, 0, 0, 0]), TypeError, 'five parts');
  assert.throws(() => u.bind(['::1', 0, 2 ** 20]), RangeError, 'flowinfo beyond 20 bits (Python OverflowError)');
});

test("Addresses: AF_UNIX is a path, a '\\0'-prefixed abstract name, or '' when unnamed", (t) => {
  const path = unixPath();
  const p = streamPair(t, AF_UNIX, path);
  assert.equal(p.l.getsockname(), path);
  assert.equal(p.c.getpeername(), path);
  assert.equal(p.peer, '', 'accept() of an unbound client');
  assert.equal(p.c.getsockname(), '');
  assert.equal(p.s.getpeername(), '');
  const abs = abstractName();
  const a = streamPair(t, AF_UNIX, abs);
  assert.equal(a.l.getsockname(), abs);
  assert.equal(a.c.getpeername(), abs);
  assert.ok(a.l.getsockname().startsWith('\0'));
  const [x, y] = closer(t, ...socketpair());
  assert.equal(x.getsockname(), '');
  assert.equal(y.getpeername(), '');
  const b = socket(AF_UNIX);
  closer(t, b);
  b.bind(Buffer.from(abstractName())); // bytes are accepted too
  assert.ok(b.getsockname().startsWith('\0'));
});

test("Addresses: recvfrom from an unnamed AF_UNIX peer gives '' (SPEC), a named one its name", (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  a.send('x');
  assert.deepEqual(b.recvfrom(10), [Buffer.from('x'), '']);
  const named = socket(AF_UNIX, SOCK_DGRAM);
  const anon = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, named, anon);
  const n = abstractName();
  named.bind(n);
  anon.sendto('from nobody', n);
  assert.deepEqual(named.recvfrom(100), [Buffer.from('from nobody'), '']);
  anon.sendto('again', n);
  assert.deepEqual(named.recvfromInto(Buffer.alloc(10)), [5, '']);
  const back = abstractName();
  anon.bind(back);
  anon.sendto('named now', n);
  assert.deepEqual(named.recvfrom(100), [Buffer.from('named now'), back]);
});

test('socket(family = AF_INET, type = SOCK_STREAM, proto = 0): defaults, a Socket, close-on-exec', (t) => {
  for (const s of [socket(), new Socket(), socket(undefined, undefined), socket(null, null, null)]) {
    closer(t, s);
    assert.ok(s instanceof Socket);
    assert.equal(s.family, AF_INET);
    assert.equal(s.type, SOCK_STREAM);
    assert.equal(s.proto, 0);
    assert.ok(Number.isInteger(s.fileno()) && s.fileno() >= 0);
    assert.equal(os.getInheritable(s.fileno()), false);
    assert.equal(s.getblocking(), true);
  }
  const d = socket(AF_INET6, SOCK_DGRAM);
  closer(t, d);
  assert.deepEqual([d.family, d.type], [AF_INET6, SOCK_DGRAM]);
});

test('socketpair(family = AF_UNIX, type = SOCK_STREAM): a connected pair of close-on-exec Sockets', (t) => {
  const pair = socketpair();
  closer(t, ...pair);
  assert.ok(Array.isArray(pair) && pair.length === 2);
  for (const s of pair) {
    assert.ok(s instanceof Socket);
    assert.deepEqual([s.family, s.type, s.getblocking()], [AF_UNIX, SOCK_STREAM, true]);
    assert.equal(os.getInheritable(s), false);
  }
  pair[0].sendall('ping');
  assert.equal(pair[1].recv(10).toString(), 'ping');
  pair[1].sendall('pong');
  assert.equal(pair[0].recv(10).toString(), 'pong');
  const [d] = closer(t, ...socketpair(undefined, SOCK_SEQPACKET));
  assert.deepEqual([d.family, d.type], [AF_UNIX, SOCK_SEQPACKET]);
  assert.throws(() => socketpair(AF_INET), isErrno(OSError, 'EOPNOTSUPP'));
});

test('type never carries SOCK_NONBLOCK / SOCK_CLOEXEC (CPython 3.7+); SOCK_NONBLOCK starts non-blocking', (t) => {
  const s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
  closer(t, s);
  assert.equal(s.type, SOCK_STREAM);
  assert.equal(s.getblocking(), false);
  assert.equal(os.getBlocking(s), false);
  s.setblocking(true);
  assert.equal(s.type, SOCK_STREAM, 'mode changes leave type alone');
  const [a] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK));
  assert.deepEqual([a.type, a.getblocking()], [SOCK_DGRAM, false]);
  const w = socket(undefined, undefined, undefined, socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK).detach());
  closer(t, w);
  assert.equal(w.type, SOCK_DGRAM, 'a wrapped fd: the kernel never reports the flags');
});

test('setblocking(flag) / getblocking(): the fd mode follows, as Python (0/1 count as booleans)', (t) => {
  const s = socket();
  closer(t, s);
  s.setblocking(false);
  assert.equal(s.getblocking(), false);
  assert.equal(os.getBlocking(s), false);
  assert.equal(s.gettimeout(), 0);
  s.setblocking(true);
  assert.equal(s.getblocking(), true);
  assert.equal(os.getBlocking(s), true);
  assert.equal(s.gettimeout(), null);
  s.setblocking(0);
  assert.equal(s.getblocking(), false);
  s.setblocking(1);
  assert.equal(s.getblocking(), true);
  for (const bad of [undefined, null, 'no', {}]) assert.throws(() => s.setblocking(bad), TypeError, String(bad));
});

test('socket(family, type, proto, fileno) wraps that fd: family/type/proto detected when not given', (t) => {
  const specs = [[AF_INET, SOCK_STREAM, 6], [AF_INET6, SOCK_DGRAM, 17], [AF_UNIX, SOCK_SEQPACKET, 0]];
  for (const [family, type, proto] of specs) {
    const orig = socket(family, type);
    const fd = orig.detach();
    assert.equal(orig.fileno(), -1, 'detach leaves the original closed');
    const w = socket(undefined, undefined, undefined, fd);
    closer(t, w);
    assert.equal(w.fileno(), fd, 'the same fd, not a dup');
    assert.deepEqual([w.family, w.type, w.proto], [family, type, proto]);
  }
  const o = socket(AF_INET, SOCK_DGRAM);
  const w = new Socket(AF_INET, SOCK_DGRAM, 0, o.detach());
  closer(t, w);
  assert.deepEqual([w.family, w.type, w.proto], [AF_INET, SOCK_DGRAM, 0], 'given values win');
  // The wrapped socket owns the fd: closing it closes the fd.
  const fd = w.fileno();
  w.close();
  assert.throws(() => os.getBlocking(fd), isErrno(OSError, 'EBADF'));
  const [r, wr] = os.pipe();
  t.after(() => { os.close(r); os.close(wr); });
  assert.throws(() => socket(undefined, undefined, undefined, r), isErrno(OSError, 'ENOTSOCK'));
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, r), isErrno(OSError, 'ENOTSOCK'), 'checked even when all are given');
  const gone = socket();
  const goneFd = gone.fileno();
  gone.close();
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, goneFd), isErrno(OSError, 'EBADF'));
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, -1), RangeError, 'negative fd: Python ValueError');
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, 1.5), TypeError);
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, '3'), TypeError);
});

test('bind(addr), listen(backlog?), accept() → [Socket, addr]: a new blocking, close-on-exec Socket', (t) => {
  const l = socket();
  closer(t, l);
  l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  l.bind(['127.0.0.1', 0]);
  l.listen();
  l.setblocking(false); // the accepted socket is still blocking, as Python's
  const c = socket();
  closer(t, c);
  c.connect(l.getsockname());
  const got = l.accept();
  assert.ok(Array.isArray(got) && got.length === 2);
  const [s, addr] = got;
  closer(t, s);
  assert.ok(s instanceof Socket);
  assert.deepEqual([s.family, s.type], [AF_INET, SOCK_STREAM]);
  assert.equal(s.getblocking(), true);
  assert.equal(os.getBlocking(s), true);
  assert.equal(os.getInheritable(s), false);
  assert.deepEqual(addr, c.getsockname());
  assert.notEqual(s.fileno(), l.fileno());
  assert.throws(() => l.accept(), isErrno(BlockingIOError, 'EAGAIN'), 'nothing pending, non-blocking');
});

test('connect(addr) / connectEx(addr) → errno: 0 on success, the errno instead of throwing', (t) => {
  const l = listener(t, AF_INET, ['127.0.0.1', 0]);
  const port = l.getsockname()[1];
  const c = socket();
  closer(t, c);
  assert.equal(c.connectEx(['127.0.0.1', port]), 0);
  const [s] = l.accept();
  closer(t, s);
  const free = socket();
  free.bind(['127.0.0.1', 0]);
  const dead = free.getsockname();
  free.close(); // nothing listens on that port now
  const r = socket();
  closer(t, r);
  assert.equal(r.connectEx(dead), iomux.errno.ECONNREFUSED);
  const r2 = socket();
  closer(t, r2);
  assert.throws(() => r2.connect(dead), (e) => isErrno(ConnectionRefusedError, 'ECONNREFUSED')(e)
    && e.syscall === 'connect' && e.message.includes(String(dead[1])));
  const nb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, nb);
  const e = nb.connectEx(['127.0.0.1', port]);
  assert.ok(e === iomux.errno.EINPROGRESS || e === 0, `non-blocking connectEx: ${e}`);
  assert.throws(() => c.connectEx(['127.0.0.1', 'x']), TypeError, 'address errors still throw');
});

test('non-blocking connect throws BlockingIOError with errno EINPROGRESS, then completes (SO_ERROR 0)', (t) => {
  const l = socket(AF_INET6);
  closer(t, l);
  l.bind(['::1', 0]);
  l.listen();
  const c = socket(AF_INET6);
  closer(t, c);
  c.setblocking(false);
  let threw;
  try {
    c.connect(l.getsockname());
  } catch (e) {
    threw = e;
  }
  // Loopback may finish at once; Linux reports EINPROGRESS for TCP all the same.
  assert.ok(threw instanceof BlockingIOError && threw instanceof OSError && threw instanceof Error);
  assert.equal(threw.errno, 115);
  assert.equal(threw.code, 'EINPROGRESS');
  assert.equal(threw.syscall, 'connect');
  const [, w] = iomux.select([], [c], [], 5);
  assert.deepEqual(w, [c]);
  assert.equal(c.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  const [s] = l.accept();
  closer(t, s);
  assert.deepEqual(c.getpeername(), l.getsockname());
});

test('recv(bufsize, flags?) → Buffer, an empty Buffer at EOF; recv(0) is empty', (t) => {
  const [a, b] = closer(t, ...socketpair());
  a.sendall('hello world');
  const got = b.recv(5);
  assert.ok(Buffer.isBuffer(got));
  assert.equal(got.toString(), 'hello');
  assert.equal(b.recv(3, MSG_PEEK).toString(), ' wo');
  assert.equal(b.recv(100).toString(), ' world');
  const zero = b.recv(0); // nothing buffered: CPython returns b'' at once, no syscall
  assert.ok(Buffer.isBuffer(zero) && zero.length === 0);
  assert.equal(b.recvInto(Buffer.alloc(0)), 0);
  const [g, h] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  g.send('keep');
  assert.equal(h.recv(0).length, 0, 'recv(0) leaves the datagram');
  assert.equal(h.recv(10).toString(), 'keep');
  a.shutdown(SHUT_WR);
  const eof = b.recv(100);
  assert.ok(Buffer.isBuffer(eof) && eof.length === 0, 'EOF');
  assert.equal(b.recv(100).length, 0, 'EOF again');
  // Two results never share memory with each other (no scratch leaks out).
  const [c, d] = closer(t, ...socketpair());
  c.sendall('aaaa');
  const x = d.recv(2);
  const y = d.recv(2);
  x[0] = 0x7a;
  assert.equal(y.toString(), 'aa');
  c.setblocking(false);
  const total = 300000;
  let sent = 0;
  let n = 0;
  while (n < total) {
    try {
      if (sent < total) sent += c.send(Buffer.alloc(Math.min(65536, total - sent), 1));
    } catch (e) {
      if (!(e instanceof BlockingIOError)) throw e;
    }
    const got = d.recv(200000); // larger than the receive scratch
    assert.ok(got.every((v) => v === 1));
    n += got.length;
  }
  assert.equal(n, total);
  assert.throws(() => d.recv(-1), RangeError);
  assert.throws(() => d.recv(1.5), TypeError);
  assert.throws(() => d.recv('10'), TypeError);
});

test('recvInto(buf, nbytes?, flags?) → count: into the caller\'s buffer, 0 at EOF', (t) => {
  const [a, b] = closer(t, ...socketpair());
  a.sendall('0123456789');
  const buf = Buffer.alloc(4);
  assert.equal(b.recvInto(buf), 4);
  assert.equal(buf.toString(), '0123');
  const big = Buffer.alloc(8, 0x2e);
  assert.equal(b.recvInto(big, 2), 2, 'nbytes limits the read');
  assert.equal(big.toString(), '45......');
  assert.equal(b.recvInto(big, 0, MSG_PEEK), 4, 'nbytes 0 is the whole buffer');
  const u16 = new Uint16Array(1);
  assert.equal(b.recvInto(u16), 2, 'any ArrayBufferView, counted in bytes');
  assert.equal(Buffer.from(u16.buffer).toString(), '67');
  assert.equal(b.recvInto(new Uint8Array(10)), 2);
  assert.throws(() => b.recvInto(Buffer.alloc(2), 3), RangeError, 'nbytes beyond the buffer');
  assert.throws(() => b.recvInto(Buffer.alloc(2), -1), RangeError);
  assert.throws(() => b.recvInto('nope'), TypeError);
  a.close();
  assert.equal(b.recvInto(Buffer.alloc(4)), 0, 'EOF');
});

test('send(data, flags?) → count; sendall(data) → undefined, every byte delivered', async (t) => {
  const [a, b] = closer(t, ...socketpair());
  assert.equal(a.send(Buffer.from('abc')), 3);
  assert.equal(a.send('héllo'), 6, 'a string is sent as UTF-8');
  assert.equal(a.send(new Uint8Array([1, 2])), 2);
  assert.equal(a.send(Buffer.alloc(0)), 0);
  assert.equal(b.recv(100).length, 11);
  assert.equal(a.sendall('x'), undefined);
  assert.equal(b.recv(1).toString(), 'x');
  // sendall past the socket buffer: a worker thread reads while this thread is blocked.
  const size = 4 * 1024 * 1024;
  const w = new Worker(`
    import { socket } from 'iomux';
    import { workerData, parentPort } from 'node:worker_threads';
    const s = socket(undefined, undefined, undefined, workerData.fd);
    let n = 0, sum = 0;
    for (;;) { const d = s.recv(65536); if (d.length === 0) break; n += d.length; for (const x of d) sum = (sum + x) % 65521; }
    s.close();
    parentPort.postMessage([n, sum]);
  `, { eval: true, workerData: { fd: b.detach() } });
  const result = new Promise((resolve, reject) => { w.on('message', resolve); w.on('error', reject); });
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7) & 0xff;
  let sum = 0;
  for (const x of data) sum = (sum + x) % 65521;
  assert.equal(a.sendall(data), undefined);
  a.shutdown(SHUT_WR);
  assert.deepEqual(await result, [size, sum]);
  const [c, d] = closer(t, ...socketpair());
  d.close();
  assert.throws(() => c.send('x'), isErrno(BrokenPipeError, 'EPIPE'), 'a closed peer: EPIPE, no SIGPIPE');
  assert.throws(() => c.send(42), TypeError);
});

test('recvfrom(bufsize) → [Buffer, addr] and sendto(data, addr) with AF_INET, AF_INET6 and AF_UNIX', (t) => {
  const cases = [[AF_INET, ['127.0.0.1', 0]], [AF_INET6, ['::1', 0]], [AF_UNIX, abstractName()], [AF_UNIX, unixPath()]];
  for (const [family, bindAddr] of cases) {
    const rx = socket(family, SOCK_DGRAM);
    const tx = socket(family, SOCK_DGRAM);
    closer(t, rx, tx);
    rx.bind(bindAddr);
    if (family === AF_UNIX) tx.bind(typeof bindAddr === 'string' && bindAddr.startsWith('\0') ? abstractName() : unixPath());
    else tx.bind(family === AF_INET ? ['127.0.0.1', 0] : ['::1', 0]);
    assert.equal(tx.sendto(Buffer.from('datagram'), rx.getsockname()), 8, `family ${family}`);
    const [data, from] = rx.recvfrom(100);
    assert.ok(Buffer.isBuffer(data));
    assert.equal(data.toString(), 'datagram');
    assert.deepEqual(from, tx.getsockname(), `family ${family}`);
    assert.equal(tx.sendto('flags form', 0, rx.getsockname()), 10, 'sendto(data, flags, addr)');
    assert.equal(rx.recvfrom(3)[0].toString(), 'fla', 'the rest of a datagram is dropped');
    if (family !== AF_UNIX) assert.equal(from.length, family === AF_INET ? 2 : 4);
  }
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

test('shutdown(how): SHUT_WR gives the peer EOF, SHUT_RD and SHUT_RDWR work; a bad how is OSError EINVAL', (t) => {
  const [a, b] = closer(t, ...socketpair());
  a.shutdown(SHUT_WR);
  assert.equal(b.recv(10).length, 0);
  b.sendall('still open the other way');
  assert.equal(a.recv(100).toString(), 'still open the other way');
  a.shutdown(SHUT_RD);
  b.shutdown(SHUT_RDWR);
  assert.throws(() => b.send('x'), isErrno(BrokenPipeError, 'EPIPE'));
  assert.throws(() => a.shutdown(7), isErrno(OSError, 'EINVAL'));
  assert.throws(() => a.shutdown(2 ** 32), RangeError, 'not silently truncated to SHUT_RD');
  assert.throws(() => a.shutdown('SHUT_RD'), TypeError);
  const lone = socket();
  closer(t, lone);
  assert.throws(() => lone.shutdown(SHUT_RDWR), isErrno(OSError, 'ENOTCONN'));
});

test('getsockname() / getpeername(): the own and the peer address; not connected is OSError ENOTCONN', (t) => {
  const { c, s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
  assert.deepEqual(c.getpeername(), s.getsockname());
  assert.deepEqual(s.getpeername(), c.getsockname());
  const u = socket(AF_INET6);
  closer(t, u);
  assert.throws(() => u.getpeername(), isErrno(OSError, 'ENOTCONN'));
});

test('setsockopt(level, opt, value: number | Buffer) and getsockopt(level, opt, buflen?)', (t) => {
  const s = socket();
  closer(t, s);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
  s.setsockopt(IPPROTO_TCP, TCP_NODELAY, true); // Python's True is an int
  assert.equal(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, Buffer.from([0, 0, 0, 0]));
  assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0);
  linger.writeInt32LE(7, 4);
  s.setsockopt(SOL_SOCKET, SO_LINGER, linger);
  const raw = s.getsockopt(SOL_SOCKET, SO_LINGER, 8);
  assert.ok(Buffer.isBuffer(raw));
  assert.deepEqual(raw, linger);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_LINGER, 16).length, 8, 'cut to what the kernel wrote');
  assert.equal(typeof s.getsockopt(SOL_SOCKET, SO_RCVBUF, 0), 'number', 'buflen 0 is an int (CPython)');
  assert.equal(s.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  assert.throws(() => s.getsockopt(SOL_SOCKET, SO_RCVBUF, 1025), OSError, 'buflen out of range');
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, '1'), TypeError);
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1.5), TypeError);
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 2 ** 40), RangeError);
  assert.throws(() => s.setsockopt(2 ** 40 + SOL_SOCKET, SO_REUSEADDR, 1), RangeError, 'level fits a C int');
  assert.throws(() => s.setsockopt(SOL_SOCKET, 12345, 1), isErrno(OSError, 'ENOPROTOOPT'));
});

test('close() is idempotent, then fileno() is -1; [Symbol.dispose]() closes', (t) => {
  const s = socket();
  const fd = s.fileno();
  s.close();
  assert.equal(s.fileno(), -1);
  assert.equal(s.closed, true);
  s.close();
  s[Symbol.dispose]();
  assert.throws(() => os.getBlocking(fd), isErrno(OSError, 'EBADF'), 'the fd is really closed');
  const d = socket(AF_UNIX);
  const dfd = d.fileno();
  assert.equal(typeof d[Symbol.dispose], 'function');
  d[Symbol.dispose]();
  assert.equal(d.fileno(), -1);
  assert.throws(() => os.getBlocking(dfd), isErrno(OSError, 'EBADF'));
  d.close();
  assert.deepEqual([d.family, d.type], [AF_UNIX, SOCK_STREAM], 'family and type stay readable');
});

test('operations on a closed socket: OSError EBADF (connectEx returns EBADF, as CPython)', () => {
  const s = socket(AF_INET, SOCK_DGRAM);
  s.close();
  const ops = [
    () => s.bind(['127.0.0.1', 0]), () => s.listen(1), () => s.accept(), () => s.connect(['127.0.0.1', 9]),
    () => s.recv(1), () => s.recvInto(Buffer.alloc(1)), () => s.recvfrom(1),
    () => s.recvfromInto(Buffer.alloc(1)), () => s.send('x'), () => s.send(''), () => s.sendall('x'),
    () => s.sendall(''), () => s.sendto('x', ['127.0.0.1', 9]), () => s.sendto('x', 0, ['127.0.0.1', 9]),
    () => s.sendFds('x', []), () => s.recvFds(1, 1), () => s.shutdown(SHUT_RDWR), () => s.getsockname(),
    () => s.getpeername(), () => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1), () => s.getsockopt(SOL_SOCKET, SO_ERROR),
    () => s.getsockopt(SOL_SOCKET, SO_ERROR, 4), () => s.setblocking(true), () => s.settimeout(1),
  ];
  for (const op of ops) {
    assert.throws(op, (e) => isErrno(OSError, 'EBADF')(e) && typeof e.syscall === 'string', op.toString());
  }
  assert.equal(s.connectEx(['127.0.0.1', 9]), iomux.errno.EBADF);
  // CPython's recv(0) makes no syscall, so it gives b'' even on a closed socket.
  assert.deepEqual(s.recv(0), Buffer.alloc(0));
  // Argument errors come first, as in Python.
  assert.throws(() => s.recv(-1), RangeError);
  assert.throws(() => s.bind('nope'), TypeError);
});

test('Host names resolve through the system resolver: "localhost" for bind, connect and sendto', (t) => {
  const l = socket();
  closer(t, l);
  l.bind(['localhost', 0]);
  l.listen();
  assert.equal(l.getsockname()[0], '127.0.0.1');
  const c = socket();
  closer(t, c);
  c.connect(['localhost', l.getsockname()[1]]);
  const [s] = l.accept();
  closer(t, s);
  const rx = socket(AF_INET, SOCK_DGRAM);
  const tx = socket(AF_INET, SOCK_DGRAM);
  closer(t, rx, tx);
  rx.bind(['127.0.0.1', 0]);
  tx.sendto('by name', ['localhost', rx.getsockname()[1]]);
  assert.equal(rx.recv(10).toString(), 'by name');
  const bad = socket();
  closer(t, bad);
  assert.throws(() => bad.connect(['no-such-host.invalid', 80]),
    (e) => e instanceof OSError && e.errno > 0 && e.message.includes('no-such-host.invalid'));
});

test('non-blocking: an operation that would block throws BlockingIOError (EAGAIN), as Python', (t) => {
  const [a, b] = closer(t, ...socketpair());
  a.setblocking(false);
  const eagain = isErrno(BlockingIOError, 'EAGAIN');
  assert.throws(() => a.recv(10), eagain);
  assert.throws(() => a.recvInto(Buffer.alloc(4)), eagain);
  assert.throws(() => a.recvfrom(10), eagain);
  assert.throws(() => a.recvFds(10, 1), eagain);
  assert.throws(() => b.recv(10, MSG_DONTWAIT), eagain, 'MSG_DONTWAIT on a blocking socket');
  let sent = 0;
  assert.throws(() => { for (;;) sent += a.send(Buffer.alloc(65536)); }, eagain);
  assert.ok(sent > 0);
  assert.throws(() => a.sendall(Buffer.alloc(65536)), eagain);
  const [d] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK));
  assert.throws(() => d.recvfrom(10), eagain);
});

test('recv on a blocking socket blocks the calling thread until data arrives', async (t) => {
  const [a, b] = closer(t, ...socketpair());
  const w = new Worker(`
    import { socket } from 'iomux';
    import { workerData } from 'node:worker_threads';
    const s = socket(undefined, undefined, undefined, workerData.fd);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    s.sendall('after a while');
    s.close();
  `, { eval: true, workerData: { fd: b.detach() } });
  const exited = new Promise((resolve, reject) => { w.on('exit', resolve); w.on('error', reject); });
  let timerRan = false;
  setTimeout(() => { timerRan = true; }, 0);
  const t0 = performance.now();
  const got = a.recv(100); // no timeout: blocks this thread
  const took = performance.now() - t0;
  assert.equal(got.toString(), 'after a while');
  assert.ok(took >= 200, `recv returned after ${took} ms`);
  assert.equal(timerRan, false, 'the event loop did not run while recv blocked');
  await exited;
});

test('close-on-exec everywhere: a child process inherits none of the sockets', (t) => {
  const l = listener(t, AF_INET, ['127.0.0.1', 0]);
  const c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, c);
  c.connectEx(l.getsockname());
  const [s] = l.accept();
  closer(t, s);
  const pair = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  const [x, y] = closer(t, ...socketpair());
  const [r, w] = os.pipe();
  t.after(() => { os.close(r); os.close(w); });
  x.sendFds('fd', [r]);
  const [, [passed]] = y.recvFds(10, 1);
  t.after(() => os.close(passed));
  const mine = [l, c, s, ...pair, x, y].map((k) => k.fileno()).concat(passed);
  // /bin/ls lists its own fds: anything of ours there leaked through exec.
  const out = spawnSync('/bin/ls', ['/proc/self/fd'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const inherited = out.stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const fd of mine) assert.ok(!inherited.includes(fd), `fd ${fd} survived exec: ${inherited}`);
});

test('C int arguments: non-integers are TypeErrors, out-of-range RangeErrors (never truncated)', (t) => {
  const [a, b] = closer(t, ...socketpair());
  const [u] = closer(t, socket(AF_INET, SOCK_DGRAM));
  for (const [name, f] of [
    ['family', () => socket(2 ** 32 + AF_INET)], ['type', () => socket(AF_INET, 2 ** 32 + SOCK_STREAM)],
    ['flags recv', () => a.recv(1, 2 ** 32)], ['flags send', () => a.send('x', 2 ** 32)],
    ['backlog', () => a.listen(2 ** 31)], ['fileno', () => socket(AF_INET, SOCK_STREAM, 0, 2 ** 32)],
    ['maxfds', () => a.recvFds(1, 2 ** 32)], ['port', () => u.sendto('x', ['127.0.0.1', 65536])],
  ]) assert.throws(f, RangeError, name);
  for (const [name, f] of [
    ['family', () => socket('AF_INET')], ['type', () => socket(AF_INET, 1.5)], ['flags', () => a.recv(1, '0')],
    ['bufsize', () => a.recv(NaN)], ['port', () => u.sendto('x', ['127.0.0.1', '80'])], ['data', () => a.send(null)],
    ['addr', () => u.sendto('x', '127.0.0.1:80')],
  ]) assert.throws(f, TypeError, name);
});

test('error messages name the bad value', (t) => {
  const s = socket();
  closer(t, s);
  assert.throws(() => s.recv(-7), /-7/);
  assert.throws(() => s.bind(['127.0.0.1', 70000]), /70000/);
  assert.throws(() => s.bind(['127.0.0.1', 'eighty']), /eighty/);
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 'on'), /"on"/);
  assert.throws(() => s.connect(['127.0.0.1', 1]), (e) => e instanceof ConnectionRefusedError && /127\.0\.0\.1/.test(e.message));
});

test('TypeScript: the socket API in dist/index.d.ts is typed without any', () => {
  const dts = readFileSync(new URL('../dist/net/socket.d.ts', import.meta.url), 'utf8');
  assert.ok(!/\bany\b/.test(dts.replace(/\/\*[\s\S]*?\*\//g, '')), 'no any in socket.d.ts');
  for (const m of ['fileno', 'setblocking', 'getblocking', 'bind', 'listen', 'accept', 'connect', 'connectEx',
    'recv', 'recvInto', 'send', 'sendall', 'recvfrom', 'sendto', 'sendFds', 'recvFds', 'shutdown', 'getsockname',
    'getpeername', 'setsockopt', 'getsockopt', 'close', '[Symbol.dispose]']) {
    assert.ok(dts.includes(`${m}(`), m);
  }
  assert.match(dts, /get family\(\): number/);
  assert.match(dts, /get type\(\): number/);
  assert.match(dts, /accept\(\): \[Socket, SocketAddress\]/);
  assert.match(dts, /recvFds\([^)]*\): \[Buffer, number\[\]\]/);
});

test('TypeScript: a user program compiles against the socket types (strict), and a wrong type does not', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const proj = mkdtempSync(join(tmpdir(), 'iomux-spec-net-ts-'));
  try {
    mkdirSync(join(proj, 'node_modules'));
    symlinkSync(root, join(proj, 'node_modules', 'iomux'));
    symlinkSync(join(root, 'node_modules', '@types'), join(proj, 'node_modules', '@types'));
    writeFileSync(join(proj, 'ok.ts'), `
      import { socket, socketpair, Socket, SOL_SOCKET, SO_ERROR, SO_LINGER, AF_INET6, type SocketAddress } from 'iomux';
      const s: Socket = socket();
      const n: number = s.getsockopt(SOL_SOCKET, SO_ERROR);
      const b: Buffer = s.getsockopt(SOL_SOCKET, SO_LINGER, 8);
      const [c, addr]: [Socket, SocketAddress] = s.accept();
      const [x, y]: [Socket, Socket] = socketpair();
      const [data, fds]: [Buffer, number[]] = x.recvFds(10, 1);
      const r: Buffer = y.recv(10);
      const k: number = y.recvInto(new Uint8Array(4), 2);
      const [d2, from] = y.recvfrom(10);
      const e: number = s.connectEx(['::1', 80, 0, 0]);
      const sent: number = s.send('x') + s.sendto(Buffer.from('y'), ['127.0.0.1', 9]);
      s.bind(['127.0.0.1', 0]);
      s.setsockopt(SOL_SOCKET, SO_ERROR, Buffer.alloc(4));
      socket(AF_INET6, undefined, undefined, 3).connect(['::1', 80]);
      const dispose: () => void = s[Symbol.dispose];
      void [n, b, c, addr, data, fds, r, k, d2, from, e, sent, dispose];
    `);
    writeFileSync(join(proj, 'bad.ts'), `
      import { socket, SOL_SOCKET, SO_ERROR } from 'iomux';
      const b: Buffer = socket().getsockopt(SOL_SOCKET, SO_ERROR);
      socket().bind(42);
      void b;
    `);
    const tsc = (file) => spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--strict', '--noEmit',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,esnext.disposable',
      '--types', 'node', file], { encoding: 'utf8', cwd: proj });
    const ok = tsc('ok.ts');
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const bad = tsc('bad.ts');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /bad\.ts\(3,[0-9]+\).*TS2322/);
    assert.match(bad.stdout, /bad\.ts\(4,[0-9]+\)/);
  } finally {
    rmSync(proj, { recursive: true, force: true });
  }
});

test('Reactor sockRecv(sock, 0) / sockRecvInto(sock, empty) resolve at once, as asyncio (sock.recv(0))', async (t) => {
  const r = new iomux.Reactor();
  t.after(() => r.close());
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
  const got = await r.sockRecv(a, 0, { timeout: 5000 });
  assert.ok(Buffer.isBuffer(got) && got.length === 0);
  assert.equal(await r.sockRecvInto(a, Buffer.alloc(0)), 0);
  await r.sockSendall(b, 'x');
  assert.equal((await r.sockRecv(a, 10)).toString(), 'x');
});
