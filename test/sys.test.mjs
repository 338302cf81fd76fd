// The platform core (src/sys): the pollfd array, single-fd waits, the epoll instance,
// the retry helpers. What the select/selectors suites do not reach directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PollFds, pollOne } from '../dist/sys/pollfd.js';
import { EpollFd } from '../dist/sys/epoll.js';
import { retry, retryWait, closeFd, sysret, sysretStarted } from '../dist/sys/call.js';
import * as libc from '../dist/sys/libc.js';
import { POLLIN, POLLOUT, POLLNVAL, POLLHUP, EPOLLIN, EPOLL_CTL_ADD, EPOLL_CTL_DEL } from '../dist/sys/constants.js';
import { errno } from '../dist/sys/errno.js';
import { os } from 'iomux';
import { guardFds } from './helpers/fds.mjs';
import { pipeFor } from './helpers/sys.mjs';

guardFds();

test('PollFds: add, setEvents, removeAt moves the last entry, grows past its capacity', (t) => {
  const fds = new PollFds(2);
  const pipes = [pipeFor(t), pipeFor(t), pipeFor(t)];
  for (const [r] of pipes) fds.add(r, POLLIN);
  assert.equal(fds.length, 3);
  assert.equal(fds.poll(0), 0);
  os.write(pipes[2][1], 'x');
  assert.equal(fds.poll(0), 1);
  assert.deepEqual([0, 1, 2].map((i) => fds.revents(i)), [0, 0, POLLIN]);
  assert.equal(fds.removeAt(0), pipes[2][0], 'the last entry moved into slot 0');
  assert.deepEqual([fds.fd(0), fds.fd(1)], [pipes[2][0], pipes[1][0]]);
  assert.equal(fds.removeAt(1), -1, 'removing the last entry moves nothing');
  fds.setEvents(0, POLLOUT);
  assert.equal(fds.poll(0), 0, 'a read end is never writable');
  fds.clear();
  assert.equal(fds.length, 0);
  assert.equal(fds.poll(0), 0, 'an empty array polls fine');
});

test('pollOne: revents, 0 on timeout, POLLNVAL for a closed fd, the timeout honoured', (t) => {
  const [r, w] = pipeFor(t);
  assert.equal(pollOne(r, POLLIN, 0), 0);
  assert.equal(pollOne(w, POLLOUT, 0), POLLOUT);
  const t0 = performance.now();
  assert.equal(pollOne(r, POLLIN, 50), 0);
  assert.ok(performance.now() - t0 >= 45);
  os.write(w, 'x');
  assert.equal(pollOne(r, POLLIN, -1), POLLIN);
  const [r2, w2] = os.pipe();
  os.close(w2);
  assert.equal(pollOne(r2, POLLIN, 0) & POLLHUP, POLLHUP);
  os.close(r2);
  assert.equal(pollOne(r2, POLLIN, 0), POLLNVAL);
});

test('EpollFd: ctl and wait into its own buffer, grown on demand; -errno results; close once', (t) => {
  const ep = EpollFd.create();
  t.after(() => ep.close());
  const pipes = Array.from({ length: 70 }, () => pipeFor(t));
  for (const [r, w] of pipes) {
    assert.equal(ep.ctl(EPOLL_CTL_ADD, r, EPOLLIN), 0);
    os.write(w, 'x');
  }
  assert.equal(ep.ctl(EPOLL_CTL_ADD, pipes[0][0], EPOLLIN), -errno.EEXIST);
  const n = ep.wait(100, 0);
  assert.equal(n, 70, 'the buffer grew past its first capacity');
  const seen = new Set();
  for (let i = 0; i < n; i++) {
    assert.equal(ep.events(i), EPOLLIN);
    seen.add(ep.eventFd(i));
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), pipes.map(([r]) => r).sort((a, b) => a - b));
  assert.equal(ep.wait(5, 0), 5, 'maxevents bounds the count');
  assert.equal(ep.ctl(EPOLL_CTL_DEL, pipes[0][0], 0), 0);
  assert.equal(ep.ctl(EPOLL_CTL_DEL, pipes[0][0], 0), -errno.ENOENT);
  const fd = ep.fd;
  assert.equal(ep.close(), 0);
  assert.equal(ep.fd, -1);
  assert.equal(ep.close(), 0, 'closing again does nothing');
  assert.equal(sysret(libc.fcntl(fd, 1, 'int', 0)), -errno.EBADF, 'the fd is closed');
  const adopted = EpollFd.adopt(-1);
  assert.equal(adopted.wait(1, 0), -errno.EBADF);
});

test('retry, retryWait, closeFd, sysretStarted: results and -errno', (t) => {
  const [r, w] = pipeFor(t);
  os.write(w, 'abc');
  const buf = Buffer.alloc(8);
  assert.equal(retry(libc.read, r, buf, 8), 3);
  os.setBlocking(r, false);
  assert.equal(retry(libc.read, r, buf, 8), -errno.EAGAIN);
  let calls = 0;
  assert.equal(retryWait(0, (ms) => { calls++; assert.equal(ms, 0); return 2; }), 2);
  assert.equal(calls, 1);
  assert.equal(retryWait(-1, () => libc.close(-1)), -errno.EBADF);
  const [a, b] = os.pipe();
  assert.equal(closeFd(a), 0);
  assert.equal(closeFd(a), -errno.EBADF);
  os.close(b);
  assert.equal(sysretStarted(0), 0);
  assert.equal(sysretStarted(libc.close(-1)), -errno.EBADF);
});
