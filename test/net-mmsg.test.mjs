// Batched datagrams (Linux's recvmmsg/sendmmsg): the zero-allocation DatagramBatch form
// (lengths, senders, echo back as is), the fast-path variants, the allocating forms,
// blocking modes, truncation and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  socket, socketpair, DatagramBatch, OSError, BlockingIOError, TimeoutError, NEG_EAGAIN, AF_INET, AF_UNIX,
  SOCK_DGRAM, SOCK_NONBLOCK,
} from 'iomux';
import { guardFds, fdCount } from './helpers/fds.mjs';
import { closer } from './helpers/net.mjs';

guardFds();

function udp(t, flags = 0) {
  const s = socket(AF_INET, SOCK_DGRAM | flags);
  closer(t, s);
  s.bind(['127.0.0.1', 0]);
  return s;
}

test('recvmmsgInto fills a batch: count, lengths, buffers and each sender; sendmmsgFrom echoes it back as is', (t) => {
  const srv = udp(t);
  const c1 = udp(t);
  const c2 = udp(t);
  c1.sendto('one', srv.getsockname());
  c2.sendto('two!', srv.getsockname());
  c1.sendto('three', srv.getsockname());
  const batch = new DatagramBatch(8, 2048);
  assert.equal(batch.capacity, 8);
  assert.equal(batch.size, 2048);
  const n = srv.recvmmsgInto(batch);
  assert.equal(n, 3);
  assert.deepEqual([...batch.lengths.subarray(0, 3)], [3, 4, 5]);
  assert.deepEqual([0, 1, 2].map((i) => batch.buffers[i].subarray(0, batch.lengths[i]).toString()), ['one', 'two!', 'three']);
  assert.deepEqual(batch.address(0), c1.getsockname());
  assert.deepEqual(batch.address(1), c2.getsockname());
  assert.equal(srv.sendmmsgFrom(batch, n), 3);
  assert.equal(c1.recv(10).toString(), 'one');
  assert.equal(c2.recv(10).toString(), 'two!');
  assert.equal(c1.recv(10).toString(), 'three');
});

test('sendmmsgFrom with addresses set by hand; lengths set by the caller; 0 messages is 0', (t) => {
  const s = udp(t);
  const r = udp(t);
  const batch = new DatagramBatch(4, 16);
  for (let i = 0; i < 4; i++) {
    batch.buffers[i].write(`m${i}`);
    batch.lengths[i] = 2;
    batch.setAddress(i, AF_INET, r.getsockname());
  }
  assert.equal(s.sendmmsgFrom(batch, 4), 4);
  assert.equal(s.sendmmsgFrom(batch, 0), 0);
  const got = r.recvmmsg(10, 100);
  assert.deepEqual(got.map(([d]) => d.toString()), ['m0', 'm1', 'm2', 'm3']);
  assert.deepEqual(got[0][1], s.getsockname());
  batch.lengths[0] = 17;
  assert.throws(() => s.sendmmsgFrom(batch, 1), RangeError, 'a length past the buffer');
});

test('the fast path: tryRecvmmsgInto returns NEG_EAGAIN when empty, never throws for the outcome', (t) => {
  const srv = udp(t);
  const c = udp(t);
  const batch = new DatagramBatch(4, 64);
  assert.equal(srv.tryRecvmmsgInto(batch), NEG_EAGAIN, 'even on a blocking socket');
  c.sendto('x', srv.getsockname());
  assert.equal(srv.tryRecvmmsgInto(batch), 1);
  assert.equal(srv.trySendmmsgFrom(batch, 1), 1);
  assert.equal(c.recv(4).toString(), 'x');
  const closed = socket(AF_INET, SOCK_DGRAM);
  closed.close();
  assert.ok(closed.tryRecvmmsgInto(batch) < 0);
});

test('allocating forms on a connected AF_UNIX pair; truncation; blocking modes', (t) => {
  const [a, b] = closer(t, ...socketpair(AF_UNIX, SOCK_DGRAM));
  assert.equal(a.sendmmsg(['a', Buffer.from('bb'), new Uint8Array(3)]), 3);
  const got = b.recvmmsg(8, 2);
  assert.deepEqual(got.map(([d]) => d.length), [1, 2, 2], 'a longer datagram is cut to bufsize');
  assert.equal(got[0][1], '');
  b.setblocking(false);
  assert.throws(() => b.recvmmsgInto(new DatagramBatch(2, 8)), BlockingIOError);
  b.settimeout(0.05);
  assert.throws(() => b.recvmmsg(2, 8), TimeoutError);
});

test('bad input: clear errors, nothing leaks', (t) => {
  const before = fdCount();
  const s = udp(t, SOCK_NONBLOCK);
  assert.throws(() => new DatagramBatch(0, 10), RangeError);
  assert.throws(() => new DatagramBatch(1025, 10), RangeError);
  assert.throws(() => new DatagramBatch(2, 0), RangeError);
  assert.throws(() => new DatagramBatch(2, 1.5), RangeError);
  assert.throws(() => new DatagramBatch('2', 10), TypeError);
  assert.throws(() => s.recvmmsgInto({}), /batch must be a DatagramBatch/);
  assert.throws(() => s.sendmmsgFrom(new DatagramBatch(2, 8), 3), RangeError);
  assert.throws(() => s.sendmmsg('x'), TypeError);
  assert.throws(() => s.sendmmsg(Array(1025).fill('x')), RangeError);
  assert.throws(() => s.recvmmsg(0, 10), RangeError);
  const batch = new DatagramBatch(2, 8);
  assert.throws(() => batch.address(2), RangeError);
  assert.throws(() => batch.setAddress(0, AF_INET, 'nope'), TypeError);
  assert.throws(() => s.sendmmsg([['x', ['127.0.0.1', 70000]]]), RangeError);
  const c = socket(AF_INET, SOCK_DGRAM);
  c.close();
  assert.throws(() => c.recvmmsgInto(batch), (e) => e instanceof OSError && e.code === 'EBADF');
  assert.throws(() => c.sendmmsg(['x']), (e) => e instanceof OSError && e.code === 'EBADF');
  s.close();
  assert.equal(fdCount(), before);
});
