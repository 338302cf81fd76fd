// The bench's own iomux echo server, written only against iomux's public API (what a
// user would write): Socket objects and a selector in a blocking loop, or a Reactor.
// Usage: node bench/echo/iomux-server.mjs PORT MODE [BACKEND]
//   MODE blocking  : while (true) selector.select(), BACKEND epoll|poll|select
//   MODE reactor   : Reactor.addReader callbacks, inside Node's event loop
//   MODE async     : Reactor with `await sockRecvInto` / `await sockSendall` per connection
// Killed with SIGTERM by the bench (the blocking loop never returns to Node's loop).
import * as iomux from 'iomux';

const { AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, IPPROTO_TCP, TCP_NODELAY, EVENT_READ, EVENT_WRITE } = iomux;
const port = Number(process.argv[2]);
const mode = process.argv[3] ?? 'blocking';
const backend = process.argv[4] ?? 'epoll';

const listener = iomux.socket(AF_INET, SOCK_STREAM);
listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
listener.bind(['127.0.0.1', port]);
listener.listen(511);
listener.setblocking(false);
const buf = Buffer.alloc(65536);

/** Accepts every pending connection; calls `add` with each (non-blocking, no Nagle). */
function acceptAll(add) {
  for (;;) {
    let sock;
    try {
      [sock] = listener.accept();
    } catch (e) {
      if (e instanceof iomux.BlockingIOError) return; // nothing more pending
      throw e;
    }
    sock.setblocking(false);
    sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    add(sock);
  }
}

/**
 * Echoes what `sock` has; returns null when done, a Buffer of unsent bytes when the
 * peer's window is full, or false when the connection is finished.
 */
function echo(sock) {
  let n;
  try {
    n = sock.recvInto(buf);
  } catch (e) {
    if (e instanceof iomux.BlockingIOError) return null; // spurious wakeup
    return false;
  }
  if (n === 0) return false;
  let sent = 0;
  try {
    sent = sock.send(buf.subarray(0, n));
  } catch (e) {
    if (!(e instanceof iomux.BlockingIOError)) return false;
  }
  return sent === n ? null : Buffer.from(buf.subarray(sent, n));
}

if (mode === 'blocking') {
  const Sel = { epoll: iomux.EpollSelector, poll: iomux.PollSelector, select: iomux.SelectSelector }[backend];
  if (!Sel) throw new Error(`unknown backend ${backend}: expected epoll, poll or select`);
  const sel = new Sel();
  sel.register(listener, EVENT_READ, null);
  for (;;) {
    const events = sel.select();
    for (let i = 0; i < events.length; i++) {
      const key = events[i][0];
      if (key.data === null) {
        acceptAll((sock) => sel.register(sock, EVENT_READ, { rest: null }));
        continue;
      }
      const sock = key.fileobj;
      const conn = key.data;
      let r;
      if (conn.rest) {
        // Finishing an earlier echo the peer had no room for.
        try {
          const w = sock.send(conn.rest);
          r = w === conn.rest.length ? null : conn.rest.subarray(w);
        } catch (e) {
          r = e instanceof iomux.BlockingIOError ? conn.rest : false;
        }
        if (r === null) {
          conn.rest = null;
          sel.modify(sock, EVENT_READ, conn);
          continue;
        }
      } else {
        r = echo(sock);
        if (r === null) continue;
      }
      if (r === false) {
        sel.unregister(sock);
        sock.close();
      } else {
        conn.rest = r;
        sel.modify(sock, EVENT_WRITE, conn);
      }
    }
  }
} else if (mode === 'reactor') {
  const reactor = new iomux.Reactor();
  const onReadable = (sock) => {
    const r = echo(sock);
    if (r === null) return;
    reactor.removeReader(sock);
    if (r === false) {
      sock.close();
      return;
    }
    let rest = r;
    reactor.addWriter(sock, () => {
      try {
        const w = sock.send(rest);
        if (w < rest.length) {
          rest = rest.subarray(w);
          return;
        }
      } catch (e) {
        if (e instanceof iomux.BlockingIOError) return;
        reactor.removeWriter(sock);
        sock.close();
        return;
      }
      reactor.removeWriter(sock);
      reactor.addReader(sock, onReadable);
    });
  };
  reactor.addReader(listener, () => acceptAll((sock) => reactor.addReader(sock, onReadable)));
} else if (mode === 'async') {
  const reactor = new iomux.Reactor();
  const serve = async (sock) => {
    const mine = Buffer.alloc(65536);
    try {
      for (;;) {
        const n = await reactor.sockRecvInto(sock, mine);
        if (n === 0) break;
        await reactor.sockSendall(sock, mine.subarray(0, n));
      }
    } catch {
      // reset by the peer: just close
    } finally {
      sock.close();
    }
  };
  (async () => {
    for (;;) {
      const [sock] = await reactor.sockAccept(listener);
      sock.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      serve(sock);
    }
  })();
} else {
  throw new Error(`unknown mode ${mode}: expected blocking, reactor or async`);
}
