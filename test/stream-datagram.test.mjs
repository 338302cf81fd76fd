// DatagramSocket: the EventEmitter over AF_UNIX datagram and UDP sockets, on real
// sockets: bind/connect/send/close and their events, congestion driven for real (a
// receiver that does not read until the sender's queue fills, then drains), the bounded
// queue, the unix-dgram call forms, and fd passing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  DatagramSocket, DatagramQueueFullError, createDatagramSocket, defaultReactor, socket, os, OSError, errno,
  AF_UNIX, AF_INET, AF_INET6, SOCK_DGRAM, SOCK_STREAM,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, reactorFor, unixPath } from './helpers/net.mjs';

after(() => defaultReactor().close());
guardFds();

/** A DatagramSocket closed when the test ends. */
function dgram(t, type, opts) {
  const s = new DatagramSocket(type, opts);
  t.after(() => s.close());
  return s;
}

/** Resolves with the next `count` 'message' events as [data, address] pairs. */
function messages(s, count) {
  return new Promise((resolve) => {
    const got = [];
    const on = (data, address) => {
      got.push([data, address]);
      if (got.length === count) {
        s.off('message', on);
        resolve(got);
      }
    };
    s.on('message', on);
  });
}

const closedEvent = (s) => new Promise((resolve) => s.once('close', resolve));

test('unix_dgram: bind emits listening; send to the path; message carries the data and the sender', async (t) => {
  const path = unixPath();
  const server = dgram(t, 'unix_dgram');
  server.bind(path);
  await once(server, 'listening');
  assert.equal(server.address(), path);
  const clientPath = unixPath();
  const client = dgram(t, 'unix_dgram');
  client.bind(clientPath);
  const anon = dgram(t, 'unix_dgram');
  const got = messages(server, 3);
  assert.equal(client.send(Buffer.from('hello'), path), true);
  client.send('a string', path);
  anon.send(Buffer.from('from an unnamed socket'), path);
  const m = await got;
  assert.deepEqual(m.map(([d]) => d.toString()), ['hello', 'a string', 'from an unnamed socket']);
  assert.equal(m[0][1], clientPath);
  assert.equal(m[2][1], ''); // an unbound AF_UNIX sender has no address
});

test('unix_dgram: connect sets the default peer; connect and send callbacks', async (t) => {
  const path = unixPath();
  const server = dgram(t, 'unix_dgram');
  server.bind(path);
  const client = dgram(t, 'unix_dgram');
  await new Promise((resolve, reject) => client.connect(path, (err) => (err ? reject(err) : resolve())));
  const got = messages(server, 1);
  const [err, bytes] = await new Promise((resolve) => client.send(Buffer.from('to the peer'), (...a) => resolve(a)));
  assert.equal(err, null);
  assert.equal(bytes, 11);
  assert.equal((await got)[0][0].toString(), 'to the peer');
});

test('the unix-dgram call forms: createSocket(type, listener), send(buf, offset, length, path, cb)', async (t) => {
  const path = unixPath();
  const got = [];
  const server = createDatagramSocket('unix_dgram', (buf) => got.push(buf.toString()));
  t.after(() => server.close());
  server.bind(path);
  const client = createDatagramSocket('unix_dgram');
  t.after(() => client.close());
  const message = Buffer.from('xxping!yy');
  await new Promise((resolve, reject) => client.send(message, 2, 5, path, (err) => (err ? reject(err) : resolve())));
  while (got.length === 0) await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual(got, ['ping!']);
});

test('errors: bind to a used path is an error event; a send to a missing path fails its callback (ENOENT)', async (t) => {
  const path = unixPath();
  const a = dgram(t, 'unix_dgram');
  a.bind(path);
  const b = dgram(t, 'unix_dgram');
  b.bind(path);
  const [err] = await once(b, 'error');
  assert.ok(err instanceof OSError && err.errno === errno.EADDRINUSE, String(err));
  const [sendErr] = await new Promise((resolve) => b.send('x', `${path}.missing`, (...r) => resolve(r)));
  assert.ok(sendErr instanceof OSError && sendErr.errno === errno.ENOENT, String(sendErr));
  // Without a callback the failure is an 'error' event.
  b.send('x', `${path}.missing`);
  const [err2] = await once(b, 'error');
  assert.equal(err2.errno, errno.ENOENT);
});

test('UDP over IPv4 and IPv6: bind to loopback, send to the address, reply to the sender', async (t) => {
  for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']]) {
    const server = dgram(t, type);
    server.bind([host, 0]);
    await once(server, 'listening');
    const [, port] = server.address();
    assert.ok(port > 0);
    // The server echoes to whoever sent.
    server.on('message', (data, from) => server.send(Buffer.concat([Buffer.from('echo: '), data]), from));
    const client = dgram(t, type);
    const reply = messages(client, 1); // an unbound UDP socket is bound by its first send, then receives
    client.send(`hi over ${type}`, [host, port]);
    const [[data, from]] = await reply;
    assert.equal(data.toString(), `echo: hi over ${type}`);
    assert.equal(from[0], host);
    assert.equal(from[1], port);
  }
});

test('UDP: a connected socket to a closed port reports ECONNREFUSED as an error event, and keeps working', async (t) => {
  const probe = socket(AF_INET, SOCK_DGRAM);
  probe.bind(['127.0.0.1', 0]);
  const closedPort = probe.getsockname()[1];
  probe.close();
  const c = dgram(t, 'udp4');
  c.connect(['127.0.0.1', closedPort]);
  await once(c, 'connect');
  const errs = [];
  c.on('error', (e) => errs.push(e));
  for (let i = 0; i < 5 && errs.length === 0; i++) {
    c.send('anyone?');
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(errs.length > 0);
  assert.ok(errs.every((e) => e instanceof OSError && e.errno === errno.ECONNREFUSED), errs.map(String).join('; '));
  assert.equal(c.closed, false);
});

/**
 * Congestion for real: a receiver that is a plain Socket nobody reads; the sender sends
 * until the kernel refuses and its own queue holds the rest; then the receiver drains.
 */
async function congestion(t, { connected }) {
  const path = unixPath();
  const receiver = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, receiver);
  receiver.bind(path);
  // Default buffers: the receiver's queue length limit is what refuses datagrams, as
  // with a busy syslog daemon (the sender's own buffer is far from full).
  const sender = dgram(t, 'unix_dgram', { reactor: reactorFor(t), maxQueue: 100000 });
  if (connected) {
    sender.connect(path);
    await once(sender, 'connect');
  }
  const congested = [];
  let writables = 0;
  sender.on('congestion', (d) => congested.push(d));
  sender.on('writable', () => { writables++; });
  const total = 3000;
  let queuedAt = -1;
  const callbacks = [];
  for (let i = 0; i < total; i++) {
    const data = Buffer.from(`message ${i}`);
    const direct = connected ? sender.send(data, (err) => callbacks.push(err)) : sender.send(data, path, (err) => callbacks.push(err));
    if (!direct && queuedAt < 0) queuedAt = i;
  }
  assert.ok(queuedAt > 0, 'the kernel never refused a datagram');
  assert.equal(sender.queueLength, total - queuedAt);
  assert.equal(congested.length, total - queuedAt); // one 'congestion' per queued datagram
  assert.equal(congested[0].toString(), `message ${queuedAt}`);
  // Nothing moves while the receiver does not read, and waiting costs no CPU to speak of
  // (a socket reported writable while its receiver is full must not make the loop spin).
  const cpu0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 200));
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  assert.ok(cpuMs < 100, `${cpuMs} ms of CPU in 200 ms of waiting`);
  assert.equal(sender.queueLength, total - queuedAt);
  assert.equal(writables, 0);
  // Now drain, in order, every datagram.
  const got = [];
  receiver.setblocking(false);
  while (got.length < total) {
    for (;;) {
      let d;
      try { d = receiver.recv(100); } catch { break; }
      got.push(d.toString());
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.deepEqual(got, Array.from({ length: total }, (_, i) => `message ${i}`));
  while (writables === 0) await new Promise((r) => setTimeout(r, 1));
  assert.equal(writables, 1);
  assert.equal(sender.queueLength, 0);
  assert.equal(sender.queueBytes, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(callbacks.length, total);
  assert.ok(callbacks.every((e) => e === null));
}

test('congestion on a connected unix_dgram socket: queued, congestion events, in-order delivery once the receiver reads, then writable', async (t) => {
  await congestion(t, { connected: true });
});

test('congestion on an unconnected unix_dgram socket (send to a path): the same, without spinning', async (t) => {
  await congestion(t, { connected: false });
});

test('the queue is bounded: past maxQueue a send fails with DatagramQueueFullError; the queued ones still go', async (t) => {
  const path = unixPath();
  const receiver = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, receiver);
  receiver.bind(path);
  const sender = dgram(t, 'unix_dgram', { maxQueue: 5, maxQueueBytes: 1 << 20 });
  sender.connect(path);
  let i = 0;
  while (sender.send(`m${i}`)) i++;
  const queued = [];
  for (let k = 0; k < 4; k++) queued.push(sender.send(`q${k}`));
  assert.equal(sender.queueLength, 5);
  const full = await new Promise((resolve) => sender.send('one too many', (err) => resolve(err)));
  assert.ok(full instanceof DatagramQueueFullError, String(full));
  assert.equal(full.code, 'ERR_DATAGRAM_QUEUE_FULL');
  assert.match(full.message, /queue is full \(5 datagrams/);
  sender.send('no callback: an error event');
  const [ev] = await once(sender, 'error');
  assert.ok(ev instanceof DatagramQueueFullError);
  // Byte bound.
  const s2 = dgram(t, 'unix_dgram', { maxQueue: 1000, maxQueueBytes: 10 });
  s2.connect(path); // the receiver is full already: everything queues
  assert.equal(s2.send(Buffer.alloc(8)), false);
  const err = await new Promise((resolve) => s2.send(Buffer.alloc(8), (e) => resolve(e)));
  assert.ok(err instanceof DatagramQueueFullError);
  receiver.setblocking(false);
  let n = 0;
  while (n < i + 5 + 1) {
    try { receiver.recv(100); n++; } catch { await new Promise((r) => setTimeout(r, 1)); }
  }
  assert.ok(n >= i + 5);
});

test('close(): stops receiving, fails queued sends with EBADF, emits close once; later calls throw EBADF', async (t) => {
  const path = unixPath();
  const receiver = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, receiver);
  receiver.bind(path);
  const s = new DatagramSocket('unix_dgram');
  s.connect(path);
  while (s.send('fill'));
  const failed = new Promise((resolve) => s.send('queued', (err) => resolve(err)));
  let closes = 0;
  s.on('close', () => { closes++; });
  s.close();
  s.close();
  const err = await failed;
  assert.ok(err instanceof OSError && err.errno === errno.EBADF);
  await new Promise((r) => setImmediate(r));
  assert.equal(closes, 1);
  assert.equal(s.socket.closed, true);
  assert.throws(() => s.send('x'), (e) => e instanceof OSError && e.errno === errno.EBADF);
});

test('a socket closed under the face (socket.close()) closes the face: queued sends fail, close is emitted', async (t) => {
  const path = unixPath();
  const receiver = socket(AF_UNIX, SOCK_DGRAM);
  closer(t, receiver);
  receiver.bind(path);
  const s = new DatagramSocket('unix_dgram');
  s.connect(path);
  while (s.send('fill'));
  const failed = new Promise((resolve) => s.send('queued', (err) => resolve(err)));
  const closedEv = closedEvent(s);
  s.socket.close();
  assert.equal(s.closed, true);
  const err = await failed;
  assert.ok(err instanceof OSError && err.errno === errno.EBADF);
  await closedEv;
});

test('fd passing on a datagram: sendFds to a path; the receiver gets fds then the message', async (t) => {
  const path = unixPath();
  const server = dgram(t, 'unix_dgram', { fds: true });
  server.bind(path);
  const client = dgram(t, 'unix_dgram');
  const [r, w] = os.pipe();
  t.after(() => { os.close(r); os.close(w); });
  const order = [];
  const got = new Promise((resolve) => {
    server.on('fds', (fds) => order.push(['fds', fds]));
    server.on('message', (data) => { order.push(['message', data.toString()]); resolve(); });
  });
  client.sendFds('here is a pipe', [w], path);
  await got;
  assert.equal(order[0][0], 'fds');
  assert.deepEqual(order[1], ['message', 'here is a pipe']);
  const [fd] = order[0][1];
  os.write(fd, Buffer.from('via the passed fd'));
  os.close(fd);
  assert.equal(os.read(r, 100).toString(), 'via the passed fd');
});

test('an existing SOCK_DGRAM Socket can be wrapped; other types and bad options are refused', (t) => {
  const raw = socket(AF_INET6, SOCK_DGRAM);
  const s = new DatagramSocket(raw);
  s.close();
  assert.equal(raw.closed, true);
  const st = socket(AF_UNIX, SOCK_STREAM);
  closer(t, st);
  assert.throws(() => new DatagramSocket(st), /needs a SOCK_DGRAM socket/);
  assert.throws(() => new DatagramSocket('tcp'), /type must be 'unix_dgram', 'udp4', 'udp6'/);
  assert.throws(() => new DatagramSocket('udp4', { maxQueue: -1 }), RangeError);
  const d = new DatagramSocket('udp4');
  assert.throws(() => d.send(42, ['127.0.0.1', 9]), TypeError);
  assert.throws(() => d.send('x', ['127.0.0.1', 9], 'not a function'), TypeError);
  d.close();
  assert.equal(typeof AF_INET, 'number');
});

test('the notify/syslog example runs: sd_notify with an fd to a $NOTIFY_SOCKET, syslog lines through congestion, all in order', async () => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { join } = await import('node:path');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const built = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'examples')], { encoding: 'utf8' });
  assert.equal(built.status, 0, `tsc -p examples failed:\n${built.stdout}${built.stderr}`);
  const r = spawnSync(process.execPath, [join(root, 'dist/examples/notify-syslog.js'), '300'], {
    encoding: 'utf8', timeout: 30000, env: { ...process.env, NOTIFY_SOCKET: '' },
  });
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /manager: STATUS=starting\n/);
  assert.match(r.stdout, /manager: FDSTORE=1 \| FDNAME=listener \(\+1 fd\)\n/);
  assert.match(r.stdout, /manager: READY=1 \| STATUS=serving\n/);
  assert.match(r.stdout, /manager: keeps a listening socket for the service at \/.*service\.sock\n/);
  assert.match(r.stdout, /service: sent 300 log lines; the daemon took \d+ at once, \d+ are queued \(\d+ congestion events\)/);
  assert.match(r.stdout, /daemon: received 300 lines, all in order; last: <14>.* example\[\d+\]: line 299\n/);
});
