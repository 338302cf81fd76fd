// Socket helpers shared by the socket suites: cleanup, listeners, connected pairs, fresh
// AF_UNIX names, an errno matcher, and a Reactor closed with the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socket, errno, Reactor, AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_NONBLOCK } from 'iomux';

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

let dir = null;
let seq = 0;

/** A fresh AF_UNIX path in a directory removed when the process exits. */
export function unixPath() {
  if (dir === null) {
    const made = mkdtempSync(join(tmpdir(), 'iomux-net-'));
    process.on('exit', () => rmSync(made, { recursive: true, force: true }));
    dir = made;
  }
  return join(dir, `s${++seq}.sock`);
}

/** A fresh AF_UNIX abstract name ('\0' + a name unique to this process). */
export function abstractName() {
  return `\0iomux-test-${process.pid}-${++seq}`;
}

/** An assert.throws/rejects matcher: an instance of `cls` whose errno is `code` (positive). */
export const isErrno = (cls, code) => (e) => e instanceof cls && e.code === code && e.errno === errno[code] && e.errno > 0;

/** A Reactor closed when the test ends. */
export function reactorFor(t) {
  const r = new Reactor();
  t.after(() => r.close());
  return r;
}

/** A non-blocking listener on loopback (an autobound abstract name for AF_UNIX). */
export function asyncListener(t, family = AF_INET) {
  const l = socket(family, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, l);
  l.bind(family === AF_UNIX ? '' : [family === AF_INET6 ? '::1' : '127.0.0.1', 0]);
  l.listen();
  return l;
}

/** Connects a new non-blocking client to `l` through the reactor `r`: `{ c, s, peer }`. */
export async function connectPair(t, r, l) {
  const c = socket(l.family, SOCK_STREAM | SOCK_NONBLOCK);
  closer(t, c);
  const [[s, peer]] = await Promise.all([r.sockAccept(l), r.sockConnect(c, l.getsockname())]);
  closer(t, s);
  return { c, s, peer };
}

/** A loopback address nothing listens on: a port just bound and released again. */
export function closedAddress(family = AF_INET) {
  const s = socket(family);
  try {
    s.bind([family === AF_INET6 ? '::1' : '127.0.0.1', 0]);
    return s.getsockname();
  } finally {
    s.close();
  }
}
