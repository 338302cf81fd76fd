// Uses the package from CommonJS: tsc compiles these imports to require('iomux').
import { DefaultSelector, EVENT_READ, Epoll, EPOLLIN, poll, POLLIN, select, socketpair } from 'iomux';

function main(): void {
  const [a, b] = socketpair();
  try {
    a.sendall('ping');
    const [r] = select([b], [], [], 1);
    if (r.length !== 1) throw new Error('select: b not readable');

    const p = poll();
    p.register(b, POLLIN);
    if (p.poll(1000).length !== 1) throw new Error('poll: no event');

    const ep = new Epoll();
    try {
      ep.register(b.fileno(), EPOLLIN);
      if (ep.poll(1).length !== 1) throw new Error('epoll: no event');
    } finally {
      ep.close();
    }

    const sel = new DefaultSelector();
    try {
      sel.register(b, EVENT_READ);
      if (sel.select(1).length !== 1) throw new Error('selector: no event');
    } finally {
      sel.close();
    }
    if (b.recv(16).toString() !== 'ping') throw new Error('recv: wrong data');
  } finally {
    a.close();
    b.close();
  }
  console.log(`cjs consumer (${typeof require === 'function' ? 'require' : '?'}): ok`);
}

main();
