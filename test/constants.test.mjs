// The select module's constants have Linux's values (the same as CPython's select module).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as io from 'iomux';
import { guardFds } from './helpers/fds.mjs';

guardFds();

test('select, poll and epoll constants', () => {
  const expected = {
    POLLIN: 1, POLLPRI: 2, POLLOUT: 4, POLLERR: 8, POLLHUP: 16, POLLNVAL: 32, POLLRDNORM: 64,
    POLLRDBAND: 128, POLLWRNORM: 256, POLLWRBAND: 512, POLLMSG: 1024, POLLRDHUP: 8192,
    EPOLLIN: 1, EPOLLPRI: 2, EPOLLOUT: 4, EPOLLERR: 8, EPOLLHUP: 16, EPOLLRDNORM: 64, EPOLLRDBAND: 128,
    EPOLLWRNORM: 256, EPOLLWRBAND: 512, EPOLLMSG: 1024, EPOLLRDHUP: 8192, EPOLLEXCLUSIVE: 268435456,
    EPOLLONESHOT: 1073741824, EPOLLET: 2147483648, EPOLL_CLOEXEC: 524288, FD_SETSIZE: 1024, PIPE_BUF: 4096,
  };
  for (const [name, value] of Object.entries(expected)) assert.equal(io[name], value, name);
});
