// The module helpers of Python's socket module: createConnection, createServer
// (reusePort, dualstackIpv6), dup, fromfd, setdefaulttimeout/getdefaulttimeout; and
// sock.sendfile / os.sendfile (sendfile(2), with the read-and-send fallback for pipes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, openSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  socket, socketpair, os, createConnection, createServer, fromfd, hasDualstackIpv6, setdefaulttimeout,
  getdefaulttimeout, OSError, ConnectionRefusedError, AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM,
  SOL_SOCKET, SO_REUSEPORT, SO_REUSEADDR, SO_SNDBUF, SO_RCVBUF,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, closedAddress, abstractName } from './helpers/net.mjs';

guardFds();

const dir = mkdtempSync(join(tmpdir(), 'iomux-sendfile-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const DATA = Buffer.from(Array.from({ length: 100000 }, (_, i) => (i * 7) % 251));
const FILE = join(dir, 'data.bin');
writeFileSync(FILE, DATA);

/** Reads everything from `s` until EOF. */
function readAll(s) {
  const parts = [];
  for (;;) {
    const b = s.recv(65536);
    if (b.length === 0) return Buffer.concat(parts);
    parts.push(b);
  }
}

test('createServer + createConnection: a listening socket and a connected client (SO_REUSEADDR set)', (t) => {
  const srv = createServer(['127.0.0.1', 0]);
  closer(t, srv);
  assert.equal(srv.getsockopt(SOL_SOCKET, SO_REUSEADDR), 1);
  assert.equal(srv.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
  const [, port] = srv.getsockname();
  const c = createConnection(['127.0.0.1', port]);
  closer(t, c);
  assert.equal(c.gettimeout(), null, 'the default timeout: blocking');
  const [s] = srv.accept();
  closer(t, s);
  c.sendall('hello');
  assert.equal(s.recv(10).toString(), 'hello');
  const c2 = createConnection(['localhost', port], 2.5, ['127.0.0.1', 0]);
  closer(t, c2);
  assert.equal(c2.gettimeout(), 2.5);
  assert.equal(c2.getsockname()[0], '127.0.0.1');
  const [s2] = srv.accept();
  s2.close();
});

test('createConnection to a closed port is ConnectionRefusedError; bad arguments are TypeError', () => {
  assert.throws(() => createConnection(closedAddress()), ConnectionRefusedError);
  assert.throws(() => createConnection('127.0.0.1:80'), TypeError);
  assert.throws(() => createConnection(['127.0.0.1', 'eighty']), (e) => e instanceof TypeError || e instanceof OSError);
});

test('createServer reusePort: two servers share one port; without it the second bind fails', (t) => {
  const a = createServer(['127.0.0.1', 0], { reusePort: true });
  closer(t, a);
  assert.equal(a.getsockopt(SOL_SOCKET, SO_REUSEPORT), 1);
  const addr = a.getsockname();
  const b = createServer(addr, { reusePort: true });
  closer(t, b);
  assert.deepEqual(b.getsockname(), addr);
  assert.throws(() => createServer(addr), (e) => e instanceof OSError && e.code === 'EADDRINUSE'
    && e.message.includes('while attempting to bind'));
});

test('createServer dualstackIpv6 accepts IPv4 clients; options are checked', (t) => {
  assert.throws(() => createServer(['127.0.0.1', 0], { dualstackIpv6: true }), RangeError);
  assert.throws(() => createServer(['127.0.0.1', 0], 5), TypeError);
  assert.throws(() => createServer(['127.0.0.1', 0], { reusePort: 'yes' }), TypeError);
  if (!hasDualstackIpv6()) { t.skip('no IPv6 here'); return; }
  const srv = createServer(['::', 0], { family: AF_INET6, dualstackIpv6: true, backlog: 5 });
  closer(t, srv);
  const port = srv.getsockname()[1];
  const c = createConnection(['127.0.0.1', port]);
  closer(t, c);
  const [s, peer] = srv.accept();
  closer(t, s);
  assert.equal(peer[0], '::ffff:127.0.0.1');
});

test('createServer on AF_UNIX', (t) => {
  const name = abstractName();
  const srv = createServer(name, { family: AF_UNIX });
  closer(t, srv);
  const c = socket(AF_UNIX, SOCK_STREAM);
  closer(t, c);
  c.connect(name);
  srv.accept()[0].close();
});

test('dup() and fromfd(): new close-on-exec fds on the same socket', (t) => {
  const [a, b] = closer(t, ...socketpair());
  a.settimeout(1.5);
  const d = a.dup();
  closer(t, d);
  assert.notEqual(d.fileno(), a.fileno());
  assert.equal(d.gettimeout(), 1.5);
  assert.equal(os.getInheritable(d), false);
  d.sendall('via dup');
  assert.equal(b.recv(20).toString(), 'via dup');
  const f = fromfd(b.fileno(), AF_UNIX, SOCK_STREAM);
  closer(t, f);
  assert.notEqual(f.fileno(), b.fileno());
  assert.equal(os.getInheritable(f), false);
  a.sendall('to the copy');
  assert.equal(f.recv(20).toString(), 'to the copy');
  const c = socket();
  c.close();
  assert.throws(() => c.dup(), (e) => e instanceof OSError && e.code === 'EBADF');
  assert.throws(() => fromfd(-1, AF_UNIX, SOCK_STREAM), RangeError);
});

test('setdefaulttimeout: new, wrapped and accepted sockets start with it; null restores blocking', (t) => {
  t.after(() => setdefaulttimeout(null));
  assert.equal(getdefaulttimeout(), null);
  assert.throws(() => setdefaulttimeout(-1), RangeError);
  assert.throws(() => setdefaulttimeout('1'), TypeError);
  setdefaulttimeout(2.5);
  assert.equal(getdefaulttimeout(), 2.5);
  const l = createServer(['127.0.0.1', 0]);
  closer(t, l);
  assert.equal(l.gettimeout(), 2.5);
  const c = createConnection(l.getsockname());
  closer(t, c);
  assert.equal(c.gettimeout(), 2.5);
  const [s] = l.accept();
  closer(t, s);
  assert.equal(s.gettimeout(), 2.5);
  setdefaulttimeout(0);
  const n = socket(AF_INET, SOCK_DGRAM);
  closer(t, n);
  assert.equal(n.getblocking(), false);
  setdefaulttimeout(null);
  const m = socket();
  closer(t, m);
  assert.equal(m.gettimeout(), null);
});

test('sock.sendfile sends a regular file (whole, with offset and count) and leaves its position after', (t) => {
  const fd = openSync(FILE, 'r');
  t.after(() => closeSync(fd));
  const [a, b] = closer(t, ...socketpair());
  assert.equal(a.sendfile(fd, 1000, 5000), 5000);
  a.shutdown(1);
  assert.deepEqual(readAll(b), DATA.subarray(1000, 6000));
  const srv = createServer(['127.0.0.1', 0]);
  closer(t, srv);
  const c = createConnection(srv.getsockname());
  closer(t, c);
  const [s] = srv.accept();
  closer(t, s);
  // The reader drains only afterwards: buffers with room for the whole file.
  c.setsockopt(SOL_SOCKET, SO_SNDBUF, 1 << 20);
  s.setsockopt(SOL_SOCKET, SO_RCVBUF, 1 << 20);
  assert.equal(c.sendfile({ fileno: () => fd }), DATA.length);
  c.shutdown(1);
  assert.deepEqual(readAll(s), DATA);
  assert.equal(os.read(fd, 5).length, 0, 'the position is at the end');
});

test('sock.sendfile falls back to read-and-send for a pipe; FileHandle objects work', async (t) => {
  const [a, b] = closer(t, ...socketpair());
  const [r, w] = os.pipe();
  t.after(() => { os.close(r); os.close(w); });
  os.write(w, 'from a pipe');
  assert.equal(a.sendfile(r, 0, 11), 11);
  assert.equal(b.recv(20).toString(), 'from a pipe');
  const fh = await openAsync(FILE, 'r');
  t.after(() => fh.close());
  assert.equal(a.sendfile(fh, 10, 100), 100);
  let got = Buffer.alloc(0);
  while (got.length < 100) got = Buffer.concat([got, b.recv(200)]);
  assert.deepEqual(got, DATA.subarray(10, 110));
});

test('sendfile rejects what CPython rejects: datagram or non-blocking sockets, bad offset/count', (t) => {
  const fd = openSync(FILE, 'r');
  t.after(() => closeSync(fd));
  const [a] = closer(t, ...socketpair());
  const [d] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  assert.throws(() => d.sendfile(fd), /only SOCK_STREAM/);
  a.setblocking(false);
  assert.throws(() => a.sendfile(fd), /non-blocking/);
  a.setblocking(true);
  assert.throws(() => a.sendfile(fd, -1), RangeError);
  assert.throws(() => a.sendfile(fd, 0, 0), RangeError);
  assert.throws(() => a.sendfile('file'), TypeError);
  assert.throws(() => a.sendfile(99999, 0, 10), (e) => e instanceof OSError && e.code === 'EBADF');
});

test('os.sendfile(outFd, inFd, offset, count) → bytes sent; offset null uses and moves the file position', (t) => {
  const fd = openSync(FILE, 'r');
  t.after(() => closeSync(fd));
  const [a, b] = closer(t, ...socketpair());
  assert.equal(os.sendfile(a.fileno(), fd, 5, 10), 10);
  assert.deepEqual(b.recv(100), DATA.subarray(5, 15));
  assert.equal(os.sendfile(a, fd, null, 4), 4);
  assert.deepEqual(b.recv(100), DATA.subarray(0, 4));
  assert.equal(os.sendfile(a, fd, null, 4), 4);
  assert.deepEqual(b.recv(100), DATA.subarray(4, 8));
  assert.equal(os.sendfile(a, fd, DATA.length, 10), 0, 'at the end: 0');
  assert.throws(() => os.sendfile(a, fd, -1, 1), RangeError);
});
