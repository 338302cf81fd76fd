// Uses the package as an ES module: one round trip through each readiness API.
import {
  DefaultSelector, EVENT_READ, Epoll, EPOLLIN, OSError, POLLIN, Reactor, errno, poll, select,
  socketpair, type Socket,
} from 'iomux';

const [a, b] = socketpair();
try {
  a.sendall(Buffer.from('ping'));

  const [readable] = select([b], [], [], 1);
  if (readable.length !== 1 || readable[0] !== b) throw new Error('select: b not readable');

  const p = poll();
  p.register(b, POLLIN);
  const polled = p.poll(1000);
  if (polled.length !== 1 || polled[0]?.[0] !== b.fileno()) throw new Error('poll: no event');

  const ep = new Epoll();
  try {
    ep.register(b, EPOLLIN);
    if (ep.poll(1).length !== 1) throw new Error('epoll: no event');
  } finally {
    ep.close();
  }

  const sel = new DefaultSelector<unknown, Socket>();
  try {
    sel.register(b, EVENT_READ);
    const events = sel.select(1);
    if (events.length !== 1) throw new Error('selector: no event');
    for (const [key, mask] of events) {
      const sock = key.fileobj;
      if (!(mask & EVENT_READ)) throw new Error('selector: not readable');
      const data = sock.recv(16);
      if (data.toString() !== 'ping') throw new Error(`recv: ${JSON.stringify(data.toString())}`);
    }
  } finally {
    sel.close();
  }

  const reactor = new Reactor();
  try {
    a.sendall(Buffer.from('pong'));
    await reactor.readable(b, { timeout: 1000 });
    if (b.recv(16).toString() !== 'pong') throw new Error('reactor: wrong data');
  } finally {
    reactor.close();
  }

  b.setblocking(false);
  try {
    b.recv(16);
    throw new Error('recv on an empty non-blocking socket returned');
  } catch (err) {
    if (!(err instanceof OSError) || err.errno !== errno.EAGAIN) throw err;
  }
} finally {
  a.close();
  b.close();
}
console.log('esm consumer: ok');
