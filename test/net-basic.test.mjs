// Socket basics: every family (INET, INET6 on ::1, UNIX path and abstract) and type
// (STREAM, DGRAM, SEQPACKET) over loopback, addresses both ways, blocking mode, EOF and
// half-close, refused connects, options, wrapping an existing fd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  socket, socketpair, Socket, os, select, OSError, BlockingIOError, ConnectionRefusedError,
  AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC,
  SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_ERROR, SO_RCVBUF, SO_SNDBUF, SO_LINGER, SO_TYPE, IPPROTO_TCP,
  TCP_NODELAY, SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_DONTWAIT,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, listener, streamPair } from './helpers/net.mjs';

guardFds();

const dir = mkdtempSync(join(tmpdir(), 'iomux-net-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const unixPath = () => join(dir, `s${++seq}.sock`);
const abstractName = () => `\0iomux-test-${process.pid}-${++seq}`;

test('SPEC constants have their Linux values', () => {
  assert.deepEqual(
    [AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC],
    [2, 10, 1, 1, 2, 5, 0o4000, 0o2000000]);
  assert.deepEqual([SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_ERROR, SO_RCVBUF, SO_SNDBUF], [1, 2, 15, 4, 8, 7]);
  assert.deepEqual([IPPROTO_TCP, TCP_NODELAY, SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_DONTWAIT], [6, 1, 0, 1, 2, 2, 0x40]);
});

test('socket() defaults to AF_INET SOCK_STREAM, close-on-exec, blocking', (t) => {
  const s = socket();
  closer(t, s);
  assert.ok(s instanceof Socket);
  assert.equal(s.family, AF_INET);
  assert.equal(s.type, SOCK_STREAM);
  assert.equal(s.proto, 0);
  assert.equal(typeof s.fileno(), 'number');
  assert.equal(s.getblocking(), true);
  assert.equal(os.getBlocking(s), true);
  assert.equal(os.getInheritable(s), false);
  assert.deepEqual(s.getsockname(), ['0.0.0.0', 0]);
  const n = new Socket();
  closer(t, n);
  assert.equal(n.family, AF_INET, 'new Socket() works too');
});

test('SOCK_NONBLOCK in type: non-blocking, and type reports the bare type', (t) => {
  const s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, s);
  assert.equal(s.type, SOCK_STREAM);
  assert.equal(s.getblocking(), false);
  assert.equal(os.getBlocking(s), false);
  s.setblocking(true);
  assert.equal(s.getblocking(), true);
  assert.equal(os.getBlocking(s), true);
  s.setblocking(false);
  assert.equal(os.getBlocking(s), false);
});

test('AF_INET stream over 127.0.0.1: addresses, data both ways, EOF', (t) => {
  const { l, c, s, peer } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
  const [host, port] = l.getsockname();
  assert.equal(host, '127.0.0.1');
  assert.ok(port > 0 && port < 65536);
  assert.deepEqual(c.getpeername(), ['127.0.0.1', port]);
  assert.deepEqual(peer, c.getsockname());
  assert.deepEqual(s.getpeername(), peer);
  assert.equal(s.getblocking(), true, 'accepted sockets are blocking');
  assert.equal(os.getInheritable(s), false, 'accepted sockets are close-on-exec');
  assert.equal(c.send(Buffer.from('ping')), 4);
  assert.equal(s.recv(100).toString(), 'ping');
  s.sendall('pong');
  assert.equal(c.recv(100).toString(), 'pong');
  s.close();
  assert.equal(c.recv(100).length, 0, 'EOF is an empty Buffer');
});

test('AF_INET dgram: sendto/recvfrom with addresses; send/recv when connected', (t) => {
  const a = socket(AF_INET, SOCK_DGRAM);
  const b = socket(AF_INET, SOCK_DGRAM);
  closer(t, a, b);
  a.bind(['127.0.0.1', 0]);
  b.bind(['127.0.0.1', 0]);
  assert.equal(b.sendto(Buffer.from('one'), a.getsockname()), 3);
  const [data, from] = a.recvfrom(100);
  assert.equal(data.toString(), 'one');
  assert.deepEqual(from, b.getsockname());
  assert.equal(b.sendto('two', 0, a.getsockname()), 3, 'sendto(data, flags, addr)');
  assert.equal(a.recv(100).toString(), 'two');
  a.connect(b.getsockname());
  a.send('three');
  const buf = Buffer.alloc(10);
  const [n, addr] = b.recvfromInto(buf);
  assert.equal(buf.subarray(0, n).toString(), 'three');
  assert.deepEqual(addr, a.getsockname());
  a.send('truncated message');
  assert.equal(b.recv(5).toString(), 'trunc', 'a datagram is cut to bufsize');
});

test('AF_INET6 on ::1: four-part addresses, stream and dgram', (t) => {
  const { l, c, s, peer } = streamPair(t, AF_INET6, ['::1', 0]);
  const name = l.getsockname();
  assert.equal(name.length, 4);
  assert.equal(name[0], '::1');
  assert.deepEqual(name.slice(2), [0, 0]);
  assert.deepEqual(peer, c.getsockname());
  assert.deepEqual(c.getpeername(), name);
  c.sendall('v6');
  assert.equal(s.recv(10).toString(), 'v6');
  const d = socket(AF_INET6, SOCK_DGRAM);
  const e = socket(AF_INET6, SOCK_DGRAM);
  closer(t, d, e);
  d.bind(['::1', 0, 0, 0]);
  e.sendto('x', d.getsockname().slice(0, 2));
  const [data, from] = d.recvfrom(10);
  assert.equal(data.toString(), 'x');
  assert.equal(from[0], '::1');
  assert.equal(from[1], e.getsockname()[1]);
});

test('AF_INET6 wildcard and IPv4-mapped addresses print as inet_ntop does', (t) => {
  const s = socket(AF_INET6, SOCK_DGRAM);
  closer(t, s);
  s.bind(['', 0]);
  assert.equal(s.getsockname()[0], '::');
  const m = socket(AF_INET6, SOCK_DGRAM);
  closer(t, m);
  m.bind(['::ffff:127.0.0.1', 0]);
  assert.equal(m.getsockname()[0], '::ffff:127.0.0.1');
});

for (const [kind, name] of [['path', unixPath], ['abstract', abstractName]]) {
  test(`AF_UNIX ${kind} names: stream, unnamed peer is ''`, (t) => {
    const addr = name();
    const { l, c, s, peer } = streamPair(t, AF_UNIX, addr);
    assert.equal(l.getsockname(), addr);
    assert.equal(c.getpeername(), addr);
    assert.equal(peer, '', 'an unbound client is unnamed');
    assert.equal(c.getsockname(), '');
    c.sendall('unix');
    assert.equal(s.recv(10).toString(), 'unix');
  });

  test(`AF_UNIX ${kind} names: dgram with sender addresses`, (t) => {
    const a = socket(AF_UNIX, SOCK_DGRAM);
    const b = socket(AF_UNIX, SOCK_DGRAM);
    closer(t, a, b);
    const an = name();
    const bn = name();
    a.bind(an);
    b.bind(bn);
    b.sendto('hello', an);
    const [data, from] = a.recvfrom(100);
    assert.equal(data.toString(), 'hello');
    assert.equal(from, bn);
  });

  test(`AF_UNIX ${kind} names: seqpacket keeps message boundaries`, (t) => {
    const { c, s } = streamPair(t, AF_UNIX, name(), SOCK_SEQPACKET);
    assert.equal(c.type, SOCK_SEQPACKET);
    c.send('first');
    c.send('second message');
    assert.equal(s.recv(100).toString(), 'first');
    assert.equal(s.recv(3).toString(), 'sec', 'the rest of a record is discarded');
    c.close();
    assert.equal(s.recv(100).length, 0);
  });
}

test('AF_UNIX: binding "" autobinds an abstract name; a full 108-byte abstract name works', (t) => {
  const a = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, a);
  a.bind('');
  const got = a.getsockname();
  assert.ok(got.startsWith('\0') && got.length > 1, JSON.stringify(got));
  const b = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, b);
  const long = '\0' + `iomux${process.pid}`.padEnd(107, 'z');
  b.bind(long);
  assert.equal(b.getsockname(), long);
});

test('socketpair: defaults, dgram and seqpacket', (t) => {
  const [a, b] = socketpair();
  closer(t, a, b);
  assert.equal(a.family, AF_UNIX);
  assert.equal(a.type, SOCK_STREAM);
  assert.equal(os.getInheritable(a), false);
  a.sendall('x');
  assert.equal(b.recv(1).toString(), 'x');
  for (const type of [SOCK_DGRAM, SOCK_SEQPACKET]) {
    const [c, d] = socketpair(AF_UNIX, type);
    closer(t, c, d);
    assert.equal(c.type, type);
    c.send('ab');
    c.send('cd');
    assert.equal(d.recv(10).toString(), 'ab');
    assert.equal(d.recv(10).toString(), 'cd');
  }
  const [e, f] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, e, f);
  assert.equal(e.getblocking(), false);
  assert.equal(e.type, SOCK_STREAM);
});

test('recvInto fills the caller\'s buffer (nbytes limits it); MSG_PEEK leaves data', (t) => {
  const [a, b] = socketpair();
  closer(t, a, b);
  a.sendall('0123456789');
  assert.equal(b.recv(4, MSG_PEEK).toString(), '0123');
  const buf = Buffer.alloc(8, 0x2e);
  assert.equal(b.recvInto(buf, 3), 3);
  assert.equal(buf.toString(), '012.....');
  const u16 = new Uint16Array(2);
  assert.equal(b.recvInto(u16), 4, 'any ArrayBufferView, counted in bytes');
  assert.equal(Buffer.from(u16.buffer).toString(), '3456');
  assert.equal(b.recvInto(buf.subarray(5)), 3, 'subarray offsets are honoured');
  assert.equal(buf.toString(), '012..789');
});

test('non-blocking: recv/accept throw BlockingIOError (EAGAIN), MSG_DONTWAIT too', (t) => {
  const [a, b] = socketpair();
  closer(t, a, b);
  assert.throws(() => a.recv(1, MSG_DONTWAIT), (e) => e instanceof BlockingIOError && e.errno === 11 && e.code === 'EAGAIN');
  a.setblocking(false);
  assert.throws(() => a.recv(1), BlockingIOError);
  assert.throws(() => a.recvInto(Buffer.alloc(1)), BlockingIOError);
  assert.throws(() => a.recvfrom(1), BlockingIOError);
  const l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, l);
  l.bind(['127.0.0.1', 0]);
  l.listen(5);
  assert.throws(() => l.accept(), (e) => e instanceof BlockingIOError && e.syscall === 'accept');
  const c = socket();
  closer(t, c);
  c.connect(l.getsockname());
  assert.deepEqual(select([l], [], [], 5)[0], [l]);
  const [s] = l.accept();
  closer(t, s);
  assert.equal(s.getblocking(), true, 'accepted from a non-blocking listener: still blocking (Linux, as Python)');
  assert.equal(os.getBlocking(s), true);
});

test('shutdown(SHUT_WR) half-closes: the peer sees EOF and can still answer', (t) => {
  const { c, s } = streamPair(t, AF_INET, ['127.0.0.1', 0]);
  c.sendall('request');
  c.shutdown(SHUT_WR);
  assert.equal(s.recv(100).toString(), 'request');
  assert.equal(s.recv(100).length, 0);
  s.sendall('response');
  s.close();
  assert.equal(c.recv(100).toString(), 'response');
  assert.equal(c.recv(100).length, 0);
  assert.throws(() => c.send('more'), (e) => e.name === 'BrokenPipeError' && e.errno === 32);
});

test('refused connects: ConnectionRefusedError, connectEx errno, non-blocking EINPROGRESS then SO_ERROR', (t) => {
  // Find a free port: bind, read the port, close.
  const probe = socket();
  probe.bind(['127.0.0.1', 0]);
  const addr = probe.getsockname();
  probe.close();
  const a = socket();
  const b = socket();
  const c = socket();
  closer(t, a, b, c);
  assert.throws(() => a.connect(addr), (e) => e instanceof ConnectionRefusedError && e.errno === 111
    && e.code === 'ECONNREFUSED' && e.syscall === 'connect' && e.message.includes(String(addr[1])));
  assert.equal(b.connectEx(addr), 111);
  c.setblocking(false);
  const err = c.connectEx(addr);
  if (err === 115) {
    const [, w] = select([], [c], [], 5);
    assert.deepEqual(w, [c]);
    assert.equal(c.getsockopt(SOL_SOCKET, SO_ERROR), 111);
  } else {
    assert.equal(err, 111);
  }
});

test('non-blocking connect throws BlockingIOError EINPROGRESS, then completes', (t) => {
  const l = listener(t, AF_INET, ['127.0.0.1', 0]);
  const c = socket();
  closer(t, c);
  c.setblocking(false);
  try {
    c.connect(l.getsockname());
  } catch (e) {
    assert.ok(e instanceof BlockingIOError);
    assert.equal(e.errno, 115);
    assert.equal(e.code, 'EINPROGRESS');
  }
  assert.deepEqual(select([], [c], [], 5)[1], [c]);
  assert.equal(c.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  const [s] = l.accept();
  closer(t, s);
  assert.deepEqual(s.getpeername(), c.getsockname());
});

test('setsockopt/getsockopt: ints and raw bytes', (t) => {
  const s = socket();
  closer(t, s);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
  s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  assert.equal(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0);
  linger.writeInt32LE(7, 4);
  s.setsockopt(SOL_SOCKET, SO_LINGER, linger);
  const got = s.getsockopt(SOL_SOCKET, SO_LINGER, 8);
  assert.ok(Buffer.isBuffer(got));
  assert.equal(got.length, 8);
  assert.deepEqual([got.readInt32LE(0), got.readInt32LE(4)], [1, 7]);
  s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
  assert.ok(s.getsockopt(SOL_SOCKET, SO_RCVBUF) >= 65536);
});

test('wrapping an existing fd: family/type/proto read from the kernel; explicit ones win', (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
  closer(t, b);
  const fd = a.detach();
  assert.equal(a.fileno(), -1);
  assert.equal(a.closed, true);
  const w = socket(undefined, undefined, undefined, fd);
  closer(t, w);
  assert.equal(w.fileno(), fd);
  assert.equal(w.family, AF_UNIX);
  assert.equal(w.type, SOCK_DGRAM);
  assert.equal(w.proto, 0);
  w.send('wrapped');
  assert.equal(b.recv(10).toString(), 'wrapped');
  const l = socket(AF_INET6);
  const fd2 = l.detach();
  const w2 = new Socket(null, null, null, fd2);
  closer(t, w2);
  assert.equal(w2.family, AF_INET6);
  assert.equal(w2.type, SOCK_STREAM);
  assert.equal(w2.proto, 6, 'TCP');
  const [c, d] = socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, d);
  const w3 = socket(AF_UNIX, SOCK_STREAM, 0, c.detach());
  closer(t, w3);
  assert.equal(w3.getblocking(), false, 'the wrapped fd\'s blocking mode is read');
  const [r, wr] = os.pipe();
  t.after(() => { os.close(r); os.close(wr); });
  assert.throws(() => socket(undefined, undefined, undefined, r), (e) => e instanceof OSError && e.code === 'ENOTSOCK');
});

test('close() is idempotent, fileno() is then -1; Symbol.dispose closes', () => {
  const s = socket();
  const fd = s.fileno();
  assert.ok(fd >= 0);
  s.close();
  assert.equal(s.fileno(), -1);
  assert.equal(s.closed, true);
  s.close();
  const d = socket();
  d[Symbol.dispose]();
  assert.equal(d.fileno(), -1);
});

test('listen() backlog: default, explicit, negative taken as 0', (t) => {
  for (const backlog of [undefined, 1, -5]) {
    const l = socket();
    closer(t, l);
    l.bind(['127.0.0.1', 0]);
    l.listen(backlog);
    const c = socket();
    closer(t, c);
    c.connect(l.getsockname());
  }
});

test('bind to "localhost" and connect to it by name (system resolver)', (t) => {
  const l = socket();
  closer(t, l);
  l.bind(['localhost', 0]);
  l.listen();
  const [host, port] = l.getsockname();
  assert.equal(host, '127.0.0.1');
  const c = socket();
  closer(t, c);
  c.connect(['localhost', port]);
  const [s] = l.accept();
  closer(t, s);
  c.sendall('by name');
  assert.equal(s.recv(10).toString(), 'by name');
});
