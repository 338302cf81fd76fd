// sendmsg/recvmsg/recvmsgInto with scatter/gather buffers and ancillary data (SCM_RIGHTS,
// SCM_CREDENTIALS, IP_PKTINFO, IP_TOS, SO_TIMESTAMPNS), truncation flags, credentials
// options (SO_PEERCRED), and the errors of bad input: the behaviours of CPython's
// test_socket SendmsgTests/RecvmsgTests/SCMRightsTest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  socket, socketpair, os, OSError, BlockingIOError, TimeoutError, CMSG_LEN, CMSG_SPACE, decodeUcred, encodeUcred,
  encodeSockaddr, decodeSockaddr,
  AF_INET, AF_INET6, AF_UNIX, SOCK_DGRAM, SOCK_STREAM, SOCK_SEQPACKET, SOL_SOCKET, SCM_RIGHTS, SCM_CREDENTIALS,
  SO_PASSCRED, SO_PEERCRED, SO_TIMESTAMPNS, SCM_TIMESTAMPNS, IPPROTO_IP, IP_PKTINFO, IP_RECVTOS, IP_TOS,
  IPPROTO_IPV6, IPV6_RECVPKTINFO, IPV6_PKTINFO, MSG_TRUNC, MSG_CTRUNC, MSG_PEEK, MSG_DONTWAIT,
} from 'iomux';
import { guardFds, fdCount } from './helpers/fds.mjs';
import { closer } from './helpers/net.mjs';

guardFds();

const closeFds = (fds) => { for (const f of fds) os.close(f); };
const fdsOf = (anc) => anc.filter(([l, t]) => l === SOL_SOCKET && t === SCM_RIGHTS)
  .flatMap(([, , d]) => Array.from({ length: Math.floor(d.length / 4) }, (_, i) => d.readInt32LE(4 * i)));

test('CMSG_LEN and CMSG_SPACE are the kernel macros; bad lengths are RangeError/TypeError', () => {
  assert.equal(CMSG_LEN(0), 16);
  assert.equal(CMSG_LEN(4), 20);
  assert.equal(CMSG_LEN(12), 28);
  assert.equal(CMSG_SPACE(0), 16);
  assert.equal(CMSG_SPACE(4), 24);
  assert.equal(CMSG_SPACE(12), 32);
  assert.throws(() => CMSG_LEN(-1), RangeError);
  assert.throws(() => CMSG_SPACE(1.5), RangeError);
  assert.throws(() => CMSG_LEN('4'), TypeError);
});

test('sendmsg gathers several buffers into one datagram; recvmsg returns [data, [], 0, address]', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  assert.equal(a.sendmsg([Buffer.from('he'), new Uint8Array([0x6c, 0x6c]), Buffer.from('o')]), 5);
  const [data, anc, flags, addr] = b.recvmsg(100);
  assert.equal(data.toString(), 'hello');
  assert.deepEqual(anc, []);
  assert.equal(flags, 0);
  assert.equal(addr, '');
  assert.equal(a.sendmsg([]), 0, 'an empty message');
  assert.deepEqual(b.recvmsg(10)[0], Buffer.alloc(0));
  assert.equal(a.sendmsg([new Uint16Array([1, 2])]), 4, 'views are sent by their bytes');
  assert.equal(b.recvmsg(10)[0].length, 4);
});

test('recvmsgInto scatters one message over several buffers in order', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  a.send('abcdefghij');
  const x = Buffer.alloc(3);
  const y = new Uint8Array(4);
  const z = Buffer.alloc(10);
  const [n, anc, flags, addr] = b.recvmsgInto([x, y, z]);
  assert.equal(n, 10);
  assert.deepEqual([x.toString(), Buffer.from(y).toString(), z.subarray(0, 3).toString()], ['abc', 'defg', 'hij']);
  assert.deepEqual([anc, flags, addr], [[], 0, '']);
});

test('a datagram larger than the buffer sets MSG_TRUNC (recvmsg and recvmsgInto)', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  a.send('0123456789');
  const [data, , flags] = b.recvmsg(4);
  assert.equal(data.toString(), '0123');
  assert.equal(flags & MSG_TRUNC, MSG_TRUNC);
  a.send('0123456789');
  const buf = Buffer.alloc(6);
  const [n, , f2] = b.recvmsgInto([buf]);
  assert.equal(n, 6);
  assert.equal(f2 & MSG_TRUNC, MSG_TRUNC);
  a.send('xy');
  assert.equal(b.recvmsg(10, 0, MSG_PEEK)[0].toString(), 'xy', 'flags reach the kernel');
  assert.equal(b.recvmsg(10)[0].toString(), 'xy');
});

test('SCM_RIGHTS through sendmsg/recvmsg: fds arrive close-on-exec and work', (t) => {
  for (const type of [SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET]) {
    const [a, b] = closer(t, ...socketpair(AF_UNIX, type));
    const [r, w] = os.pipe();
    t.after(() => closeFds([r, w]));
    assert.equal(a.sendmsg([Buffer.from('fds')], [[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(r, w)]]), 3);
    const [data, anc, flags] = b.recvmsg(10, CMSG_SPACE(8));
    const fds = fdsOf(anc);
    t.after(() => closeFds(fds));
    assert.equal(data.toString(), 'fds');
    assert.equal(flags, 0);
    assert.equal(anc.length, 1);
    assert.equal(anc[0][2].length, 8);
    assert.equal(fds.length, 2);
    for (const f of fds) assert.equal(os.getInheritable(f), false);
    os.write(fds[1], 'via copy');
    assert.equal(os.read(r, 20).toString(), 'via copy');
  }
});

test('two SCM_RIGHTS items in one sendmsg arrive (as one or two items) with all fds', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  const [r, w] = os.pipe();
  t.after(() => closeFds([r, w]));
  a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(r)], [SOL_SOCKET, SCM_RIGHTS, Int32Array.of(w)]]);
  const [, anc] = b.recvmsg(10, CMSG_SPACE(4) * 2);
  const fds = fdsOf(anc);
  t.after(() => closeFds(fds));
  assert.equal(fds.length, 2);
});

test('control data that does not fit sets MSG_CTRUNC; the fds that did not fit are closed, none leaks', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  const [r, w] = os.pipe();
  t.after(() => closeFds([r, w]));
  const before = fdCount();
  // Room for one fd of three.
  a.sendmsg([Buffer.from('3')], [[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(r, w, r)]]);
  const [, anc, flags] = b.recvmsg(10, CMSG_LEN(4));
  const fds = fdsOf(anc);
  assert.equal(flags & MSG_CTRUNC, MSG_CTRUNC);
  assert.equal(fds.length, 1);
  assert.equal(fdCount(), before + 1, 'only the fd returned is open');
  closeFds(fds);
  // No room at all: nothing returned, nothing left open.
  a.sendmsg([Buffer.from('2')], [[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(r, w)]]);
  const [data, anc2, flags2] = b.recvmsg(10);
  assert.equal(data.toString(), '2');
  assert.deepEqual(anc2, []);
  assert.equal(flags2 & MSG_CTRUNC, MSG_CTRUNC);
  // Room for less than a header.
  a.sendmsg([Buffer.from('1')], [[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(r)]]);
  const [, anc3, flags3] = b.recvmsg(10, 5);
  assert.deepEqual(anc3, []);
  assert.equal(flags3 & MSG_CTRUNC, MSG_CTRUNC);
  assert.equal(fdCount(), before, 'no received fd is left open');
});

test('sendFds/recvFds are built on sendmsg/recvmsg and keep their shapes', (t) => {
  const [a, b] = closer(t, ...socketpair());
  const [r, w] = os.pipe();
  t.after(() => closeFds([r, w]));
  assert.equal(a.sendFds(['a', Buffer.from('b')], [w]), 2);
  const [data, fds] = b.recvFds(10, 1);
  t.after(() => closeFds(fds));
  assert.equal(data.toString(), 'ab');
  assert.equal(fds.length, 1);
});

test('SCM_CREDENTIALS: with SO_PASSCRED the receiver gets the sender\'s pid/uid/gid; sending them explicitly works', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  b.setsockopt(SOL_SOCKET, SO_PASSCRED, 1);
  assert.equal(b.getsockopt(SOL_SOCKET, SO_PASSCRED), 1);
  a.send('who');
  const [data, anc] = b.recvmsg(10, CMSG_SPACE(12));
  assert.equal(data.toString(), 'who');
  assert.equal(anc.length, 1);
  const [level, type, cred] = anc[0];
  assert.deepEqual([level, type, cred.length], [SOL_SOCKET, SCM_CREDENTIALS, 12]);
  assert.deepEqual(decodeUcred(cred), { pid: process.pid, uid: process.getuid(), gid: process.getgid() });
  const mine = encodeUcred({ pid: process.pid, uid: process.getuid(), gid: process.getgid() });
  a.sendmsg([Buffer.from('me')], [[SOL_SOCKET, SCM_CREDENTIALS, mine]]);
  const [, anc2] = b.recvmsg(10, CMSG_SPACE(12));
  assert.deepEqual(decodeUcred(anc2[0][2]).pid, process.pid);
  // Another pid is refused unless privileged.
  if (process.getuid() !== 0) {
    const other = encodeUcred({ pid: 1, uid: process.getuid(), gid: process.getgid() });
    assert.throws(() => a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_CREDENTIALS, other]]),
      (e) => e instanceof OSError && e.code === 'EPERM');
  }
  assert.throws(() => decodeUcred(Buffer.alloc(8)), RangeError);
});

test('SO_PEERCRED of a socketpair is this process: getsockopt returns the struct bytes', (t) => {
  const [a] = closer(t, ...socketpair());
  const raw = a.getsockopt(SOL_SOCKET, SO_PEERCRED, 12);
  assert.ok(Buffer.isBuffer(raw));
  assert.equal(raw.length, 12);
  assert.deepEqual(decodeUcred(raw), { pid: process.pid, uid: process.getuid(), gid: process.getgid() });
});

test('IP_PKTINFO, IP_RECVTOS and SO_TIMESTAMPNS on UDP loopback: control messages with each datagram', (t) => {
  const [r, s] = closer(t, socket(AF_INET, SOCK_DGRAM), socket(AF_INET, SOCK_DGRAM));
  r.bind(['127.0.0.1', 0]);
  s.bind(['127.0.0.1', 0]);
  r.setsockopt(IPPROTO_IP, IP_PKTINFO, 1);
  r.setsockopt(IPPROTO_IP, IP_RECVTOS, 1);
  r.setsockopt(SOL_SOCKET, SO_TIMESTAMPNS, 1);
  s.setsockopt(IPPROTO_IP, IP_TOS, 0x10);
  assert.equal(s.sendmsg([Buffer.from('pkt')], [], 0, r.getsockname()), 3, 'sendmsg to an address');
  const [data, anc, flags, addr] = r.recvmsg(10, 256);
  assert.equal(data.toString(), 'pkt');
  assert.equal(flags, 0);
  assert.deepEqual(addr, s.getsockname());
  const find = (level, type) => anc.find(([l, ty]) => l === level && ty === type)?.[2];
  const pktinfo = find(IPPROTO_IP, IP_PKTINFO);
  assert.ok(pktinfo && pktinfo.length === 12, `IP_PKTINFO in ${JSON.stringify(anc)}`);
  assert.ok(pktinfo.readInt32LE(0) > 0, 'an interface index');
  assert.deepEqual([...pktinfo.subarray(8, 12)], [127, 0, 0, 1], 'the destination address');
  const tos = find(IPPROTO_IP, IP_TOS);
  assert.ok(tos && tos.length === 1 && tos[0] === 0x10, 'the TOS byte');
  const ts = find(SOL_SOCKET, SCM_TIMESTAMPNS);
  assert.ok(ts && ts.length === 16, 'a struct timespec');
  assert.ok(Math.abs(Number(ts.readBigInt64LE(0)) - Date.now() / 1000) < 60, 'the time of arrival');
});

test('IPV6_RECVPKTINFO on ::1 gives IPV6_PKTINFO (address and interface)', (t) => {
  let r;
  try {
    r = socket(AF_INET6, SOCK_DGRAM);
    r.bind(['::1', 0]);
  } catch (e) {
    r?.close();
    t.skip(`no IPv6 loopback here: ${e.message}`);
    return;
  }
  const s = socket(AF_INET6, SOCK_DGRAM);
  closer(t, r, s);
  r.setsockopt(IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
  s.sendto('six', r.getsockname());
  const [data, anc] = r.recvmsg(10, CMSG_SPACE(20));
  assert.equal(data.toString(), 'six');
  assert.equal(anc.length, 1);
  const [level, type, info] = anc[0];
  assert.deepEqual([level, type, info.length], [IPPROTO_IPV6, IPV6_PKTINFO, 20]);
  assert.equal(info[15], 1, '::1');
});

test('blocking modes: non-blocking recvmsg is BlockingIOError, a timeout is TimeoutError', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  b.setblocking(false);
  assert.throws(() => b.recvmsg(10), BlockingIOError);
  assert.throws(() => b.recvmsgInto([Buffer.alloc(4)]), BlockingIOError);
  b.settimeout(0.05);
  const t0 = performance.now();
  assert.throws(() => b.recvmsg(10), TimeoutError);
  assert.ok(performance.now() - t0 >= 40);
  a.send('late');
  assert.equal(b.recvmsg(10)[0].toString(), 'late');
  a.send('more');
  assert.equal(b.recvmsg(10, 0, MSG_DONTWAIT)[0].toString(), 'more');
});

test('bad input: clear TypeError/RangeError/OSError, and nothing leaks', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  const before = fdCount();
  assert.throws(() => a.sendmsg('text'), /buffers must be an array/);
  assert.throws(() => a.sendmsg(Buffer.from('x')), TypeError, 'a single buffer is not an iterable of buffers');
  assert.throws(() => a.sendmsg(['text']), /buffers\[0\] must be a Buffer/);
  assert.throws(() => a.sendmsg([Buffer.from('x')], 5), /ancdata must be an array/);
  assert.throws(() => a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS]]), /ancdata\[0\] must be a \[level, type, data\]/);
  assert.throws(() => a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, 'fd']]), /ancdata\[0\] data must be/);
  assert.throws(() => a.sendmsg([Buffer.from('x')], [['1', SCM_RIGHTS, Buffer.alloc(4)]]), TypeError);
  assert.throws(() => a.sendmsg([Buffer.from('x')], [[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(-5)]]),
    (e) => e instanceof OSError && e.code === 'EBADF');
  assert.throws(() => a.sendmsg(Array(1025).fill(Buffer.alloc(1))), (e) => e instanceof OSError && e.code === 'EMSGSIZE');
  assert.throws(() => a.sendmsg([Buffer.from('x')], [], 1.5), RangeError);
  assert.throws(() => b.recvmsg(-1), RangeError);
  assert.throws(() => b.recvmsg(1.5), RangeError);
  assert.throws(() => b.recvmsg('10'), TypeError);
  assert.throws(() => b.recvmsg(10, -1), RangeError);
  assert.throws(() => b.recvmsg(10, 2 ** 40), RangeError);
  assert.throws(() => b.recvmsgInto(['str']), /buffers\[0\] must be a writable/);
  assert.throws(() => b.recvmsgInto(Buffer.alloc(4)), TypeError);
  const c = socket(AF_UNIX, SOCK_DGRAM);
  c.close();
  assert.throws(() => c.sendmsg([Buffer.from('x')]), (e) => e instanceof OSError && e.code === 'EBADF');
  assert.throws(() => c.recvmsg(10), (e) => e instanceof OSError && e.code === 'EBADF');
  assert.throws(() => c.recvmsgInto([Buffer.alloc(1)]), (e) => e instanceof OSError && e.code === 'EBADF');
  assert.equal(fdCount(), before);
});

test('recvmsgInto with fds: data scattered over the buffers, fds in ancdata; any iterable of buffers', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM));
  const [r, w] = os.pipe();
  t.after(() => closeFds([r, w]));
  function* parts() { yield Buffer.from('ab'); yield new Uint8Array([0x63]); }
  assert.equal(a.sendmsg(parts(), null, 0, null), 3, 'a generator of buffers; null ancdata and address');
  assert.equal(a.sendmsg([Buffer.from('def')], [[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(w)]]), 3);
  const x = Buffer.alloc(2);
  const y = Buffer.alloc(10);
  let got = '';
  let fds = [];
  while (got.length < 6) {
    const [n, anc, flags] = b.recvmsgInto([x, y], CMSG_SPACE(4));
    assert.equal(flags, 0);
    got += Buffer.concat([x, y]).subarray(0, n).toString();
    fds = fds.concat(fdsOf(anc));
  }
  t.after(() => closeFds(fds));
  assert.equal(got, 'abcdef');
  assert.equal(fds.length, 1);
  os.write(fds[0], 'ok');
  assert.equal(os.read(r, 2).toString(), 'ok');
});

test('MSG_PEEK with recvmsg leaves the datagram; an empty ancdata list sends no control data', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  a.sendmsg([Buffer.from('peek')], []);
  const [d1, anc1] = b.recvmsg(10, 64, MSG_PEEK);
  assert.equal(d1.toString(), 'peek');
  assert.deepEqual(anc1, []);
  assert.equal(b.recvmsg(10)[0].toString(), 'peek');
  a.send('xy');
  const [d0, , f0] = b.recvmsg(0, 0, MSG_DONTWAIT);
  assert.equal(d0.length, 0, 'bufsize 0 is allowed');
  assert.equal(f0 & MSG_TRUNC, MSG_TRUNC, 'and the datagram is reported truncated');
});

test('encodeSockaddr/decodeSockaddr: the C structures, round trip, and what the kernel takes', () => {
  const v4 = encodeSockaddr(AF_INET, ['127.0.0.1', 8080]);
  assert.equal(v4.length, 16);
  assert.deepEqual([...v4.subarray(0, 8)], [2, 0, 0x1f, 0x90, 127, 0, 0, 1]); // family LE, port BE, address
  assert.deepEqual(decodeSockaddr(v4), ['127.0.0.1', 8080]);
  const v6 = encodeSockaddr(AF_INET6, ['::1', 443, 0, 0]);
  assert.equal(v6.length, 28);
  assert.deepEqual(decodeSockaddr(v6), ['::1', 443, 0, 0]);
  const un = encodeSockaddr(AF_UNIX, '\0iomux-sockaddr-test');
  assert.deepEqual(decodeSockaddr(un), '\0iomux-sockaddr-test');
  // A name resolves the way Socket#connect resolves it.
  assert.deepEqual(decodeSockaddr(encodeSockaddr(AF_INET, ['localhost', 1])), ['127.0.0.1', 1]);
  const rx = socket(AF_INET, SOCK_DGRAM);
  try {
    rx.bind(['127.0.0.1', 0]);
    const to = encodeSockaddr(AF_INET, rx.getsockname());
    assert.deepEqual(decodeSockaddr(to), rx.getsockname());
    assert.deepEqual(decodeSockaddr(new Uint8Array(to).buffer), rx.getsockname(), 'an ArrayBuffer is taken too');
  } finally {
    rx.close();
  }
  assert.throws(() => encodeSockaddr(AF_INET, ['127.0.0.1', 70000]), RangeError);
  assert.throws(() => encodeSockaddr(AF_INET, '127.0.0.1'), /AF_INET address must be a \[host, port\] pair/);
  assert.throws(() => encodeSockaddr(2 ** 40, ['127.0.0.1', 1]), /family/);
  assert.throws(() => decodeSockaddr('x'), TypeError);
  assert.throws(() => decodeSockaddr(new Uint8Array(1)), /2-byte family/);
});
