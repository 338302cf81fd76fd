// Socket errors: bad addresses and arguments (TypeError/RangeError/OSError naming the
// value), operations on a closed socket (OSError EBADF, as Python), and a peer that
// resets mid-transfer (ConnectionResetError, never a hang).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import * as iomux from 'iomux';
import {
  socket, socketpair, OSError, GaiError, ConnectionResetError, BrokenPipeError, BlockingIOError,
  getaddrinfoSync, getaddrinfo, AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOL_SOCKET, SO_LINGER,
  SO_REUSEADDR, SHUT_RDWR, ConnectionRefusedError, SOCK_NONBLOCK, SO_ERROR, MSG_DONTWAIT, select, os,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, listener, isErrno, closedAddress } from './helpers/net.mjs';

guardFds();

const isErr = (Cls, ...parts) => (e) => {
  assert.ok(e instanceof Cls, `expected ${Cls.name}, got ${e?.name}: ${e?.message}`);
  for (const p of parts) assert.ok(e.message.includes(p), `message ${JSON.stringify(e.message)} should name ${JSON.stringify(p)}`);
  return true;
};

test('AF_INET addresses: wrong shape or types are TypeErrors naming the value', (t) => {
  const s = socket();
  closer(t, s);
  assert.throws(() => s.bind(['127.0.0.1']), isErr(TypeError, 'AF_INET', '"127.0.0.1"'));
  assert.throws(() => s.bind(['127.0.0.1', 0, 0]), isErr(TypeError, 'AF_INET'));
  assert.throws(() => s.bind('127.0.0.1:80'), isErr(TypeError, '"127.0.0.1:80"'));
  assert.throws(() => s.bind(null), isErr(TypeError, 'null'));
  assert.throws(() => s.bind([127, 0]), isErr(TypeError, 'host', '127'));
  assert.throws(() => s.bind(['127.0.0.1', '80']), isErr(TypeError, 'port', '"80"'));
  assert.throws(() => s.bind(['127.0.0.1', 1.5]), isErr(RangeError, 'port', '1.5'), 'a number, but not an integer');
  assert.throws(() => s.connect({ host: '127.0.0.1', port: 80 }), TypeError);
});

test('ports out of range are RangeErrors naming the port', (t) => {
  const s = socket();
  const s6 = socket(AF_INET6);
  closer(t, s, s6);
  assert.throws(() => s.bind(['127.0.0.1', 65536]), isErr(RangeError, '65536', '0 to 65535'));
  assert.throws(() => s.connect(['127.0.0.1', -1]), isErr(RangeError, '-1'));
  assert.throws(() => s.sendto('x', ['127.0.0.1', 70000]), isErr(RangeError, '70000'));
  assert.throws(() => s6.bind(['::1', 99999]), isErr(RangeError, '99999'));
  assert.throws(() => s6.bind(['::1', 0, 0x100000]), isErr(RangeError, 'flowinfo', String(0x100000)));
  assert.throws(() => s6.bind(['::1', 0, 0, -1]), isErr(RangeError, 'scopeId'));
  assert.throws(() => s6.bind(['::1', 0, 0, 0, 0]), isErr(TypeError, 'AF_INET6'));
  assert.throws(() => s6.bind(['::1']), isErr(TypeError, 'AF_INET6'));
});

test('an unresolvable name is an OSError (GaiError) naming the host', (t) => {
  const s = socket();
  closer(t, s);
  const host = 'no-such-host.invalid';
  assert.throws(() => s.connect([host, 80]), (e) => {
    assert.ok(e instanceof OSError && e instanceof GaiError);
    assert.ok(e.message.includes(host), e.message);
    assert.equal(e.syscall, 'getaddrinfo');
    assert.ok(e.errno > 0, 'errno is positive, as for every OSError');
    assert.ok(e.eai < 0 && e.eai === -e.errno, 'eai is glibc\'s EAI code, as Python\'s gaierror.errno');
    assert.ok(e.code.startsWith('EAI_'), e.code);
    return true;
  });
  assert.throws(() => s.connectEx([host, 80]), GaiError, 'connectEx still raises for address errors');
  assert.throws(() => getaddrinfoSync(host, 80), GaiError);
});

test('getaddrinfo hints past a C int are RangeErrors naming the hint, not Buffer errors', async () => {
  // Regression: they reached Buffer#writeInt32LE, whose message names only "value".
  assert.throws(() => getaddrinfoSync('127.0.0.1', 80, 2 ** 32), { name: 'RangeError', message: /getaddrinfo family 4294967296 is out of range/ });
  assert.throws(() => getaddrinfoSync('127.0.0.1', 80, 0, 0, 0, 1.5), { name: 'RangeError', message: /getaddrinfo flags must be an integer, got 1\.5/ });
  assert.throws(() => getaddrinfoSync('127.0.0.1', 80, 0, 0, 0, '1'), { name: 'TypeError', message: /getaddrinfo flags must be an integer, got "1"/ });
  await assert.rejects(getaddrinfo('127.0.0.1', 80, 0, 2 ** 31), { name: 'RangeError', message: /getaddrinfo type 2147483648 is out of range/ });
});

test('AF_UNIX: a path too long for sun_path is OSError ENAMETOOLONG naming it; bad types', (t) => {
  const s = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, s);
  const long = '/tmp/' + 'p'.repeat(104);
  assert.throws(() => s.bind(long), (e) => e instanceof OSError && e.code === 'ENAMETOOLONG' && e.message.includes(long));
  assert.throws(() => s.connect('\0' + 'a'.repeat(108)), (e) => e instanceof OSError && e.code === 'ENAMETOOLONG');
  assert.throws(() => s.bind(['/tmp/x', 0]), isErr(TypeError, 'AF_UNIX'));
  assert.throws(() => s.bind(5), isErr(TypeError, '5'));
  assert.throws(() => s.connect('/nonexistent/dir/sock'), (e) => e.code === 'ENOENT' && e.name === 'FileNotFoundError');
});

test('bad arguments: sizes, buffers, data, options, families', (t) => {
  const [a, b] = socketpair();
  closer(t, a, b);
  assert.throws(() => a.recv(-1), isErr(RangeError, '-1'));
  assert.throws(() => a.recv(1.5), isErr(RangeError, 'bufsize', '1.5'), 'a non-integer size is a RangeError, as os.read');
  assert.throws(() => a.shutdown(1.5), isErr(RangeError, 'how', '1.5'));
  assert.throws(() => a.recv('10'), TypeError);
  assert.throws(() => a.recvInto(Buffer.alloc(4), 10), isErr(RangeError, '10'));
  assert.throws(() => a.recvInto(Buffer.alloc(4), -1), RangeError);
  assert.throws(() => a.recvInto('buffer'), TypeError);
  assert.throws(() => a.send(123), isErr(TypeError, '123'));
  assert.throws(() => a.sendall({}), TypeError);
  assert.throws(() => a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 'yes'), TypeError);
  assert.throws(() => a.setsockopt(SOL_SOCKET, SO_REUSEADDR, 2 ** 40), RangeError);
  assert.throws(() => a.getsockopt(SOL_SOCKET, SO_REUSEADDR, 4096), OSError);
  assert.throws(() => a.sendFds('x', [1.5]), isErr(RangeError, 'fds[0]', '1.5'));
  assert.throws(() => a.sendFds('x', ['1']), isErr(TypeError, 'fds[0]'));
  assert.throws(() => a.sendFds('x', [-1]), RangeError);
  assert.throws(() => a.sendFds('x', 3), TypeError);
  assert.throws(() => a.shutdown('both'), TypeError);
  assert.throws(() => socket(12345), (e) => e instanceof OSError && e.code === 'EAFNOSUPPORT');
  assert.throws(() => socket('inet'), TypeError);
  assert.throws(() => socket(AF_INET, SOCK_STREAM, 0, -3), RangeError);
  assert.throws(() => socket(AF_INET, 99), OSError);
});

test('a peer reset (SO_LINGER 0 close) with data in flight: recv is ConnectionResetError', (t) => {
  const l = listener(t, AF_INET, ['127.0.0.1', 0]);
  const c = socket();
  closer(t, c);
  c.connect(l.getsockname());
  const [s] = l.accept();
  c.sendall(Buffer.alloc(50_000, 1));
  s.recv(1000);
  const linger = Buffer.alloc(8);
  linger.writeInt32LE(1, 0); // on, 0 s: close sends RST
  s.setsockopt(SOL_SOCKET, SO_LINGER, linger);
  s.close();
  assert.throws(() => c.recv(100), (e) => e instanceof ConnectionResetError && e.errno === 104 && e.code === 'ECONNRESET');
  assert.throws(() => c.send('x'), (e) => e instanceof BrokenPipeError || e instanceof ConnectionResetError);
});

test('a peer reset while a blocking sendall is stuck on a full buffer: it throws, no hang', async (t) => {
  const l = listener(t, AF_INET, ['127.0.0.1', 0]);
  // The peer runs in a worker thread: reads a little, then resets the connection.
  const worker = new Worker(`
    import { socket, SOL_SOCKET, SO_LINGER } from 'iomux';
    import { workerData } from 'node:worker_threads';
    const l = socket(undefined, undefined, undefined, workerData.fd);
    const [s] = l.accept();
    l.detach();
    let got = 0;
    while (got < 200000) got += s.recv(65536).length;
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    s.setsockopt(SOL_SOCKET, SO_LINGER, linger);
    s.close();
  `, { eval: true, workerData: { fd: l.fileno() } });
  const exited = new Promise((resolve) => worker.on('exit', resolve));
  worker.on('error', (e) => console.error('peer worker failed:', e));
  const c = socket();
  closer(t, c);
  // A send timeout (SO_SNDTIMEO = 21) turns a hang into a failure should the peer die.
  const tv = Buffer.alloc(16);
  tv.writeBigInt64LE(20n, 0);
  c.setsockopt(SOL_SOCKET, 21, tv);
  c.connect(l.getsockname());
  const started = Date.now();
  assert.throws(() => c.sendall(Buffer.alloc(64 * 1024 * 1024, 2)),
    (e) => e instanceof ConnectionResetError || e instanceof BrokenPipeError);
  assert.ok(Date.now() - started < 30000);
  assert.equal(await exited, 0);
});

test('sendall on a non-blocking socket raises BlockingIOError when the buffer fills, as Python', (t) => {
  const [a, b] = socketpair();
  closer(t, a, b);
  a.setblocking(false);
  assert.throws(() => a.sendall(Buffer.alloc(16 * 1024 * 1024)), (e) => e instanceof BlockingIOError && e.errno === 11);
  assert.throws(() => a.send(Buffer.alloc(1024 * 1024)), BlockingIOError);
  let drained = 0;
  b.setblocking(false);
  for (;;) {
    try {
      drained += b.recv(1 << 16).length;
    } catch (e) {
      assert.ok(e instanceof BlockingIOError);
      break;
    }
  }
  assert.ok(drained > 0);
});

test('a dgram too large for the socket is OSError EMSGSIZE', (t) => {
  const [a, b] = socketpair(AF_UNIX, SOCK_DGRAM);
  closer(t, a, b);
  assert.throws(() => a.send(Buffer.alloc(8 * 1024 * 1024)), (e) => e instanceof OSError && e.code === 'EMSGSIZE');
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
  // Each operation of a stream socket, with the syscall it names.
  {
    const s = socket();
    s.close();
    const ebadf = (e) => e instanceof OSError && e.errno === 9 && e.code === 'EBADF';
    const ops = {
      bind: () => s.bind(['127.0.0.1', 0]),
      listen: () => s.listen(),
      accept: () => s.accept(),
      connect: () => s.connect(['127.0.0.1', 1]),
      recv: () => s.recv(10),
      recvInto: () => s.recvInto(Buffer.alloc(4)),
      recvfrom: () => s.recvfrom(10),
      send: () => s.send('x'),
      sendall: () => s.sendall('x'),
      sendallEmpty: () => s.sendall(''),
      sendto: () => s.sendto('x', ['127.0.0.1', 9]),
      sendFds: () => s.sendFds('x', [0]),
      recvFds: () => s.recvFds(10, 1),
      shutdown: () => s.shutdown(SHUT_RDWR),
      getsockname: () => s.getsockname(),
      getpeername: () => s.getpeername(),
      setsockopt: () => s.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1),
      getsockopt: () => s.getsockopt(SOL_SOCKET, SO_REUSEADDR),
      setblocking: () => s.setblocking(false),
    };
    for (const [name, op] of Object.entries(ops)) assert.throws(op, ebadf, name);
    assert.equal(s.connectEx(['127.0.0.1', 1]), 9, 'connectEx returns EBADF');
    assert.equal(s.fileno(), -1);
    s.close();
  }
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
  // accept on a non-blocking listener, MSG_DONTWAIT on a blocking socket, and a mode change.
  {
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
  }
});

test('C int arguments: wrong types are TypeErrors; non-integers and out-of-range values RangeErrors (never truncated)', (t) => {
  const [a, b] = closer(t, ...socketpair());
  const [u] = closer(t, socket(AF_INET, SOCK_DGRAM));
  for (const [name, f] of [
    ['family', () => socket(2 ** 32 + AF_INET)], ['type', () => socket(AF_INET, 2 ** 32 + SOCK_STREAM)],
    ['flags recv', () => a.recv(1, 2 ** 32)], ['flags send', () => a.send('x', 2 ** 32)],
    ['backlog', () => a.listen(2 ** 31)], ['fileno', () => socket(AF_INET, SOCK_STREAM, 0, 2 ** 32)],
    ['maxfds', () => a.recvFds(1, 2 ** 32)], ['port', () => u.sendto('x', ['127.0.0.1', 65536])],
    ['type 1.5', () => socket(AF_INET, 1.5)], ['bufsize NaN', () => a.recv(NaN)], ['how 1.5', () => a.shutdown(1.5)],
  ]) assert.throws(f, RangeError, name);
  for (const [name, f] of [
    ['family', () => socket('AF_INET')], ['type', () => socket(AF_INET, '1')], ['flags', () => a.recv(1, '0')],
    ['bufsize', () => a.recv('1')], ['port', () => u.sendto('x', ['127.0.0.1', '80'])], ['data', () => a.send(null)],
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
  const dead = closedAddress();
  assert.throws(() => s.connect(dead), (e) => e instanceof ConnectionRefusedError && /127\.0\.0\.1/.test(e.message)
    && e.message.includes(String(dead[1])));
});
