// Socket helpers shared by the socket suites: cleanup, a listener, a connected pair.
import { socket, SOCK_STREAM } from 'iomux';

/** Closes every socket given when the test ends, last first (close is idempotent). */
export function closer(t, ...socks) {
  t.after(() => { for (const s of [...socks].reverse()) s.close(); });
  return socks;
}

/** A socket bound to `bindAddr` and listening, closed when the test ends. */
export function listener(t, family, bindAddr, type = SOCK_STREAM) {
  const l = socket(family, type);
  closer(t, l);
  l.bind(bindAddr);
  l.listen();
  return l;
}

/** A listener on `bindAddr` and a connected client `c`, server side `s` and `peer` address. */
export function streamPair(t, family, bindAddr, type = SOCK_STREAM) {
  const l = listener(t, family, bindAddr, type);
  const c = socket(family, type);
  closer(t, c);
  c.connect(l.getsockname());
  const [s, peer] = l.accept();
  closer(t, s);
  return { l, c, s, peer };
}
