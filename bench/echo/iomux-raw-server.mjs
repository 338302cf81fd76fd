// A low-level iomux echo server for bench/echo: the `select` module's objects (select(),
// Poll, Epoll) over libc socket calls made straight through iomux's koffi binding (no
// Socket objects, no selectors). It shows the floor under the public API's servers.
// Usage: node bench/echo/iomux-raw-server.mjs PORT epoll|poll|select
// Blocks its thread in the wait call; killed with SIGTERM by the bench.
import * as iomux from 'iomux';
import * as libc from '../../dist/sys/libc.js';

const port = Number(process.argv[2]);
const backend = process.argv[3] ?? 'epoll';
const AF_INET = 2, SOCK_STREAM = 1, SOCK_NONBLOCK = 0o4000, SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1, SO_REUSEADDR = 2, IPPROTO_TCP = 6, TCP_NODELAY = 1;
const EAGAIN = 11, EINTR = 4, MSG_NOSIGNAL = 0x4000;

function fail(what) {
  throw new Error(`${what} failed: errno ${libc.errno()}`);
}
const one = new Int32Array([1]);
const lfd = libc.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
if (lfd < 0) fail('socket');
libc.setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, one, 4);
const sa = Buffer.alloc(16);
sa.writeUInt16LE(AF_INET, 0);
sa.writeUInt16BE(port, 2);
sa.set([127, 0, 0, 1], 4);
if (libc.bind(lfd, sa, 16) < 0) fail('bind');
if (libc.listen(lfd, 511) < 0) fail('listen');

const buf = Buffer.alloc(65536);
const pending = new Map(); // fd -> unsent Buffer

/** Echoes what is readable on fd; returns false when the connection is gone. */
function serve(fd) {
  const rest = pending.get(fd);
  if (rest) return flush(fd, rest);
  const n = libc.recv(fd, buf, buf.length, 0);
  if (n < 0) {
    const e = libc.errno();
    return e === EAGAIN || e === EINTR; // spurious wakeup: nothing to read yet
  }
  if (n === 0) return false;
  const sent = libc.send(fd, buf, n, MSG_NOSIGNAL);
  if (sent === n) return true;
  if (sent < 0 && libc.errno() !== EAGAIN) return false;
  pending.set(fd, Buffer.from(buf.subarray(Math.max(sent, 0), n)));
  watch(fd, true);
  return true;
}
function flush(fd, rest) {
  const sent = libc.send(fd, rest, rest.length, MSG_NOSIGNAL);
  if (sent < 0) return libc.errno() === EAGAIN;
  if (sent < rest.length) pending.set(fd, rest.subarray(sent));
  else {
    pending.delete(fd);
    watch(fd, false);
  }
  return true;
}
function acceptAll(add) {
  for (;;) {
    const fd = libc.accept4(lfd, null, null, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; // EAGAIN: nothing more pending
    libc.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4);
    add(fd);
  }
}

let watch;
if (backend === 'epoll' || backend === 'poll') {
  const ep = backend === 'epoll' ? new iomux.Epoll() : new iomux.Poll();
  const IN = backend === 'epoll' ? iomux.EPOLLIN : iomux.POLLIN;
  const OUT = backend === 'epoll' ? iomux.EPOLLOUT : iomux.POLLOUT;
  watch = (fd, out) => ep.modify(fd, out ? OUT : IN);
  ep.register(lfd, IN);
  for (;;) {
    const events = backend === 'epoll' ? ep.poll() : ep.poll();
    for (let i = 0; i < events.length; i++) {
      const fd = events[i][0];
      if (fd === lfd) acceptAll((c) => ep.register(c, IN));
      else if (!serve(fd)) {
        ep.unregister(fd);
        pending.delete(fd);
        libc.close(fd);
      }
    }
  }
} else if (backend === 'select') {
  const readers = new Set([lfd]);
  const writers = new Set();
  watch = (fd, out) => {
    if (out) { readers.delete(fd); writers.add(fd); } else { writers.delete(fd); readers.add(fd); }
  };
  for (;;) {
    const [r, w] = iomux.select([...readers], [...writers], [], null);
    for (const fd of r.concat(w)) {
      if (fd === lfd) acceptAll((c) => readers.add(c));
      else if (!serve(fd)) {
        readers.delete(fd);
        writers.delete(fd);
        pending.delete(fd);
        libc.close(fd);
      }
    }
  }
} else {
  throw new Error(`unknown backend ${backend}: expected epoll, poll or select`);
}
