// Socket basics: the constants, every family (INET, INET6 on ::1, UNIX path and abstract)
// and type (STREAM, DGRAM, SEQPACKET) over loopback, addresses both ways, blocking mode,
// EOF and half-close, connects, options, wrapping an existing fd, close and its
// announcement, close-on-exec, and the TypeScript types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as iomux from 'iomux';
import {
  socket, socketpair, Socket, os, select, OSError, BlockingIOError, ConnectionRefusedError, AF_INET,
  AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC, SOL_SOCKET,
  SO_REUSEADDR, SO_REUSEPORT, SO_ERROR, SO_RCVBUF, SO_SNDBUF, SO_LINGER, SO_TYPE, IPPROTO_TCP, TCP_NODELAY,
  SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_DONTWAIT, BrokenPipeError,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, listener, streamPair, isErrno, unixPath, abstractName } from './helpers/net.mjs';

guardFds();

test('socket constants have their Linux values, exported at the root with Socket, socket and socketpair', () => {
  assert.deepEqual(
    [AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_NONBLOCK, SOCK_CLOEXEC],
    [2, 10, 1, 1, 2, 5, 0o4000, 0o2000000]);
  assert.deepEqual([SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_ERROR, SO_RCVBUF, SO_SNDBUF], [1, 2, 15, 4, 8, 7]);
  assert.deepEqual([IPPROTO_TCP, TCP_NODELAY, SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_DONTWAIT], [6, 1, 0, 1, 2, 2, 0x40]);
  const linux = {
    AF_INET: 2, AF_INET6: 10, AF_UNIX: 1, SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_SEQPACKET: 5,
    SOCK_NONBLOCK: 0o4000, SOCK_CLOEXEC: 0o2000000, SOL_SOCKET: 1, SO_REUSEADDR: 2, SO_REUSEPORT: 15,
    SO_ERROR: 4, SO_RCVBUF: 8, SO_SNDBUF: 7, IPPROTO_TCP: 6, TCP_NODELAY: 1, SHUT_RD: 0, SHUT_WR: 1,
    SHUT_RDWR: 2, MSG_PEEK: 2, MSG_DONTWAIT: 0x40,
  };
  for (const [name, value] of Object.entries(linux)) assert.equal(iomux[name], value, name);
  for (const name of ['Socket', 'socket', 'socketpair']) assert.equal(typeof iomux[name], 'function', name);
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

test("Addresses: recvfrom from an unnamed AF_UNIX peer gives '', a named one its name", (t) => {
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
  // The same defaults through socket() alone, with the kernel's view of the fd.
  {
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
  }
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
  // Datagram and seqpacket pairs keep message boundaries; SOCK_NONBLOCK starts non-blocking.
  {
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
  }
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
  // setblocking() flips the fd's O_NONBLOCK both ways.
  {
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
  }
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
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, 1.5), RangeError);
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, '3'), TypeError);
  // A wrapped fd carries data, and its blocking mode is read from the kernel.
  {
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
  }
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
  // The same over AF_INET, the accepted side seeing the client's address.
  {
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
  }
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
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1.5), RangeError);
  assert.throws(() => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 2 ** 40), RangeError);
  assert.throws(() => s.setsockopt(2 ** 40 + SOL_SOCKET, SO_REUSEADDR, 1), RangeError, 'level fits a C int');
  assert.throws(() => s.setsockopt(SOL_SOCKET, 12345, 1), isErrno(OSError, 'ENOPROTOOPT'));
  // More: an int 1 as well as true, SO_TYPE reads back, the linger fields, SO_RCVBUF grows.
  s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  assert.equal(s.getsockopt(IPPROTO_TCP, TCP_NODELAY), 1);
  assert.equal(s.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
  assert.equal(raw.length, 8);
  assert.deepEqual([raw.readInt32LE(0), raw.readInt32LE(4)], [1, 7]);
  s.setsockopt(SOL_SOCKET, SO_RCVBUF, 65536);
  assert.ok(s.getsockopt(SOL_SOCKET, SO_RCVBUF) >= 65536);
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
  // Once more for an AF_INET socket.
  {
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
  }
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
  // A stream by name carries data.
  {
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
  }
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

test('TypeScript: the socket API in dist/index.d.ts is typed without any', () => {
  // Socket's message, batch and file methods are declared in socket-msg.d.ts, its address,
  // option and description methods in socket-info.d.ts.
  const dts = ['socket', 'socket-msg', 'socket-info'].map((f) => readFileSync(new URL(`../dist/net/${f}.d.ts`, import.meta.url), 'utf8')).join('\n');
  assert.ok(!/\bany\b/.test(dts.replace(/\/\*[\s\S]*?\*\//g, '')), 'no any in socket.d.ts, socket-msg.d.ts or socket-info.d.ts');
  for (const m of ['fileno', 'setblocking', 'getblocking', 'bind', 'listen', 'accept', 'connect', 'connectEx',
    'recv', 'recvInto', 'send', 'sendall', 'recvfrom', 'sendto', 'sendFds', 'recvFds', 'shutdown', 'getsockname',
    'getpeername', 'setsockopt', 'getsockopt', 'close', '[Symbol.dispose]', 'tryRecvInto', 'trySend', 'tryAccept',
    'sendmsg', 'recvmsg', 'recvmsgInto', 'recvmmsg', 'sendmmsg', 'recvmmsgInto', 'sendmmsgFrom', 'tryRecvmmsgInto',
    'trySendmmsgFrom', 'sendfile', 'dup']) {
    assert.ok(dts.includes(`${m}(`), m);
  }
  assert.match(dts, /get family\(\): number/);
  assert.match(dts, /get type\(\): number/);
  assert.match(dts, /accept\(\): \[Socket<A>, A\]/);
  assert.match(dts, /recvFds\([^)]*\): \[Buffer, number\[\]\]/);
  assert.match(dts, /tryAccept\(\): Socket<A> \| number/);
});

test('TypeScript: a user program compiles against the socket types (strict), and a wrong type does not', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const proj = mkdtempSync(join(tmpdir(), 'iomux-net-ts-'));
  try {
    mkdirSync(join(proj, 'node_modules'));
    symlinkSync(root, join(proj, 'node_modules', 'iomux'));
    symlinkSync(join(root, 'node_modules', '@types'), join(proj, 'node_modules', '@types'));
    writeFileSync(join(proj, 'ok.ts'), `
      import { socket, socketpair, Socket, Reactor, NEG_EAGAIN, SOL_SOCKET, SO_ERROR, SO_LINGER, AF_INET6 } from 'iomux';
      import type { SocketAddress, SockOpOptions } from 'iomux';
      const s: Socket = socket();
      const n: number = s.getsockopt(SOL_SOCKET, SO_ERROR);
      const b: Buffer = s.getsockopt(SOL_SOCKET, SO_LINGER, 8);
      const [c, addr]: [Socket, SocketAddress] = s.accept();
      const [x, y]: [Socket, Socket] = socketpair();
      const [data, fds]: [Buffer, number[]] = x.recvFds(10, 1);
      const [m, anc, mflags, maddr] = x.recvmsg(10, 64);
      const ancBuf: Buffer = anc[0]![2];
      const nsent: number = x.sendmsg([Buffer.from('a')], [[1, 1, Int32Array.of(0)]]) + mflags;
      const fsent: number = x.sendfile(0, 0, 10);
      const r: Buffer = y.recv(10);
      const k: number = y.recvInto(new Uint8Array(4), 2);
      const [d2, from] = y.recvfrom(10);
      const e: number = s.connectEx(['::1', 80, 0, 0]);
      const sent: number = s.send('x') + s.sendto(Buffer.from('y'), ['127.0.0.1', 9]);
      s.bind(['127.0.0.1', 0]);
      s.setsockopt(SOL_SOCKET, SO_ERROR, Buffer.alloc(4));
      socket(AF_INET6, undefined, undefined, 3).connect(['::1', 80]);
      const dispose: () => void = s[Symbol.dispose];
      const rx = new Reactor();
      const opts: SockOpOptions = { timeout: 5 };
      const got: Promise<Buffer> = rx.sockRecv(x, 10, opts);
      const done: Promise<void> = rx.sockSendall(y, new Uint16Array(3));
      const acc: Socket | number = s.tryAccept();
      const fast: number = x.tryRecvInto(new Uint8Array(4), 0, 2) + y.trySend(Buffer.from('a'));
      const again: boolean = fast === NEG_EAGAIN;
      void [n, b, c, addr, data, fds, r, k, d2, from, e, sent, dispose, got, done, acc, again];
    `);
    writeFileSync(join(proj, 'bad.ts'), `
      import { socket, Reactor, SOL_SOCKET, SO_ERROR } from 'iomux';
      const b: Buffer = socket().getsockopt(SOL_SOCKET, SO_ERROR);
      socket().bind(42);
      void new Reactor().sockRecv(socket(), 10, 5000);
      socket().tryRecvInto('text');
      void b;
    `);
    // --pretty false: the messages are matched below, and a terminal's FORCE_COLOR (which
    // Node's test runner passes on) would otherwise colour and reformat them.
    const tsc = (file) => spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--strict', '--noEmit',
      '--pretty', 'false', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--lib', 'es2022,esnext.disposable', '--types', 'node', file],
    { encoding: 'utf8', cwd: proj, env: { ...process.env, FORCE_COLOR: '1' } });
    const ok = tsc('ok.ts');
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const bad = tsc('bad.ts');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /bad\.ts\(3,[0-9]+\).*TS2322/);
    assert.match(bad.stdout, /bad\.ts\(4,[0-9]+\)/);
    assert.match(bad.stdout, /bad\.ts\(5,[0-9]+\)/, 'a bare number where the options belong');
    assert.match(bad.stdout, /bad\.ts\(6,[0-9]+\)/, 'a string where the fast path takes bytes');
  } finally {
    rmSync(proj, { recursive: true, force: true });
  }
});

test('close() announces the fd to close watchers just before closing it (detach does not)', async (t) => {
  const { onFdClosing } = await import('../dist/sys/closing.js');
  const seen = [];
  const stop = onFdClosing((fd) => seen.push([fd, os.getBlocking(fd)])); // still open: no EBADF
  t.after(stop);
  const [a, b] = closer(t, ...socketpair());
  const fa = a.fileno();
  a.close();
  assert.deepEqual(seen, [[fa, true]]);
  a.close();
  assert.equal(seen.length, 1, 'an idempotent close announces once');
  const fd = b.detach();
  assert.equal(seen.length, 1, 'detach gives the fd away without closing it');
  os.close(fd);
});
