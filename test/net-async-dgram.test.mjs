// The Reactor's datagram and file operations: sockRecvfrom, sockRecvfromInto, sockSendto
// (asyncio 3.11) and sockSendfile, on loopback UDP, AF_UNIX datagrams and TCP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, openSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  socket, socketpair, os, createServer, OSError, TimeoutError, ClosedError, Reactor, AF_INET, AF_UNIX,
  SOCK_DGRAM, SOCK_STREAM, SOCK_NONBLOCK,
} from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { closer, reactorFor } from './helpers/net.mjs';

guardFds();

const dir = mkdtempSync(join(tmpdir(), 'iomux-async-sendfile-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function udpPair(t) {
  const a = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
  const b = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
  closer(t, a, b);
  a.bind(['127.0.0.1', 0]);
  b.bind(['127.0.0.1', 0]);
  return [a, b];
}

test('sockSendto / sockRecvfrom on UDP: waits for the datagram, returns it with the sender', async (t) => {
  const r = reactorFor(t);
  const [a, b] = udpPair(t);
  const pending = r.sockRecvfrom(b, 100);
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(await r.sockSendto(a, 'ping', b.getsockname()), 4);
  const [data, from] = await pending;
  assert.equal(data.toString(), 'ping');
  assert.deepEqual(from, a.getsockname());
  assert.equal(await r.sockSendto(b, Buffer.from('pong'), ['localhost', a.getsockname()[1]]), 4, 'a host name resolves');
  const buf = Buffer.alloc(10);
  const [n, from2] = await r.sockRecvfromInto(a, buf);
  assert.equal(n, 4);
  assert.equal(buf.subarray(0, n).toString(), 'pong');
  assert.deepEqual(from2, b.getsockname());
  await r.sockSendto(a, 'abcdef', b.getsockname());
  const [n3] = await r.sockRecvfromInto(b, buf, 3);
  assert.equal(n3, 3, 'nbytes bounds the receive');
});

test('sockRecvfrom on AF_UNIX datagrams: an unnamed sender is \'\'', async (t) => {
  const r = reactorFor(t);
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK));
  a.send('x');
  assert.deepEqual(await r.sockRecvfrom(b, 10), [Buffer.from('x'), '']);
});

test('timeouts, aborts, closed reactors and bad arguments', async (t) => {
  const r = reactorFor(t);
  const [a, b] = udpPair(t);
  await assert.rejects(r.sockRecvfrom(b, 10, { timeout: 30 }), TimeoutError);
  await assert.rejects(r.sockRecvfromInto(b, Buffer.alloc(4), 0, { signal: AbortSignal.abort() }), { name: 'AbortError' });
  await assert.rejects(r.sockRecvfrom(b, -1), RangeError);
  await assert.rejects(r.sockRecvfromInto(b, 'str'), TypeError);
  await assert.rejects(r.sockRecvfromInto(b, Buffer.alloc(2), 5), RangeError);
  await assert.rejects(r.sockSendto(a, 'x', 'not an address'), TypeError);
  await assert.rejects(r.sockSendto(a, 5, b.getsockname()), TypeError);
  const c = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK);
  c.close();
  await assert.rejects(r.sockSendto(c, 'x', b.getsockname()), (e) => e instanceof OSError && e.code === 'EBADF');
  const r2 = new Reactor();
  r2.close();
  await assert.rejects(r2.sockRecvfrom(b, 10), ClosedError);
  await assert.rejects(r2.sockSendto(a, 'x', b.getsockname()), ClosedError);
  await assert.rejects(r2.sockSendfile(a, 0), ClosedError);
});

test('sockSendfile sends a large file over TCP while the peer reads; offset and count; a pipe falls back', async (t) => {
  const r = reactorFor(t);
  const data = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 13) % 256));
  const file = join(dir, 'big.bin');
  writeFileSync(file, data);
  const fd = openSync(file, 'r');
  t.after(() => closeSync(fd));
  const srv = createServer(['127.0.0.1', 0]);
  closer(t, srv);
  srv.setblocking(false);
  const c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, c);
  const [[s]] = await Promise.all([r.sockAccept(srv), r.sockConnect(c, srv.getsockname())]);
  closer(t, s);
  const reader = (async () => {
    const parts = [];
    for (;;) {
      const b = await r.sockRecv(s, 65536);
      if (b.length === 0) return Buffer.concat(parts);
      parts.push(b);
    }
  })();
  assert.equal(await r.sockSendfile(c, fd), data.length);
  assert.equal(await r.sockSendfile(c, { fd }, 100, 50), 50);
  c.shutdown(1);
  const got = await reader;
  assert.equal(got.length, data.length + 50);
  assert.ok(got.subarray(0, data.length).equals(data));
  assert.ok(got.subarray(data.length).equals(data.subarray(100, 150)));
  const [x, y] = closer(t, ...socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK));
  const [pr, pw] = os.pipe();
  t.after(() => os.close(pr));
  os.write(pw, 'piped');
  os.close(pw);
  assert.equal(await r.sockSendfile(x, pr), 5);
  assert.equal(y.recv(10).toString(), 'piped');
  await assert.rejects(r.sockSendfile(x, fd, 0, 0), RangeError);
  await assert.rejects(r.sockSendfile(x, 'f'), TypeError);
});
