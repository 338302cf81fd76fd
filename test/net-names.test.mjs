// AF_UNIX names as bytes: bind/connect/sendto take a Buffer, and every call that returns
// a name gives a Buffer when the name is not valid UTF-8 (abstract and path names alike),
// so names round-trip byte for byte; valid UTF-8 names stay strings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { socket, AF_UNIX, SOCK_DGRAM, SOCK_STREAM } from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, unixPath } from './helpers/net.mjs';

guardFds();

const nonUtf8Abstract = () => Buffer.concat([Buffer.from([0]), Buffer.from(`iomux-${process.pid}-`), Buffer.from([0xff, 0xfe, 0x80, 0])]);

test('an abstract name that is not UTF-8: getsockname, getpeername and accept return its exact bytes', (t) => {
  const name = nonUtf8Abstract();
  const l = socket(AF_UNIX, SOCK_STREAM);
  closer(t, l);
  l.bind(name);
  l.listen();
  const got = l.getsockname();
  assert.ok(Buffer.isBuffer(got), `a Buffer, got ${JSON.stringify(got)}`);
  assert.deepEqual(got, name);
  const c = socket(AF_UNIX, SOCK_STREAM);
  closer(t, c);
  c.connect(got); // the name as returned connects
  assert.deepEqual(c.getpeername(), name);
  const [s, peer] = l.accept();
  closer(t, s);
  assert.equal(peer, '', 'an unbound client has no name');
  assert.deepEqual(s.getsockname(), name);
});

test('a path name that is not UTF-8 round-trips as bytes; a UTF-8 path stays a string', (t) => {
  const base = unixPath();
  const path = Buffer.concat([Buffer.from(base), Buffer.from([0xe9, 0xff])]);
  const l = socket(AF_UNIX, SOCK_STREAM);
  closer(t, l);
  l.bind(path);
  l.listen();
  assert.ok(existsSync(path), 'the file has exactly those bytes');
  assert.deepEqual(l.getsockname(), path);
  const c = socket(AF_UNIX, SOCK_STREAM);
  closer(t, c);
  c.connect(l.getsockname());
  assert.deepEqual(c.getpeername(), path);
  const utf = `${unixPath()}-é`;
  const u = socket(AF_UNIX, SOCK_STREAM);
  closer(t, u);
  u.bind(Buffer.from(utf));
  assert.equal(u.getsockname(), utf, 'bytes that are valid UTF-8 come back as the string');
});

test('datagrams: sendto a Buffer name; recvfrom and recvmsg give the sender as bytes', (t) => {
  const rname = nonUtf8Abstract();
  const sname = Buffer.concat([rname, Buffer.from([0xc3])]);
  const [r, s] = closer(t, socket(AF_UNIX, SOCK_DGRAM), socket(AF_UNIX, SOCK_DGRAM));
  r.bind(rname);
  s.bind(sname);
  assert.equal(s.sendto(Buffer.from('hi'), rname), 2);
  const [data, from] = r.recvfrom(10);
  assert.equal(data.toString(), 'hi');
  assert.deepEqual(from, sname);
  r.sendto('back', from); // reply to the name as received
  assert.equal(s.recv(10).toString(), 'back');
  s.sendmsg([Buffer.from('m')], [], 0, rname);
  const [, , , addr] = r.recvmsg(10);
  assert.deepEqual(addr, sname);
  const buf = Buffer.alloc(4);
  s.sendto('x', rname);
  assert.deepEqual(r.recvfromInto(buf), [1, sname]);
});

test('a valid UTF-8 abstract name stays a string with its leading NUL', (t) => {
  const name = `\0iomux-names-${process.pid}`;
  const l = socket(AF_UNIX, SOCK_STREAM);
  closer(t, l);
  l.bind(Buffer.from(name));
  assert.equal(l.getsockname(), name);
});
