// Raw fd helpers for tests of the low-level objects, built on iomux's libc binding, so the
// select/poll/epoll suites don't depend on the Socket class.
import * as libc from '../../dist/sys/libc.js';
import { check } from '../../dist/sys/call.js';
import { AF_UNIX, SOCK_STREAM, SOCK_CLOEXEC, SHUT_WR } from '../../dist/sys/constants.js';
import { os } from 'iomux';

/** A close-on-exec AF_UNIX stream socketpair: [a, b]. */
export function socketpairFds(type = SOCK_STREAM) {
  const sv = new Int32Array(2);
  check(libc.socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 'socketpair');
  return [sv[0], sv[1]];
}

/** shutdown(fd, SHUT_WR). */
export function shutdownWrite(fd) {
  check(libc.shutdown(fd, SHUT_WR), 'shutdown');
}

/** Closes every fd given, ignoring ones already closed. */
export function closeAll(...fds) {
  for (const fd of fds.flat(Infinity)) {
    try { os.close(fd); } catch { /* already closed */ }
  }
}

/** A file-like wrapper, as a Python file object would be. */
export class FileObj {
  constructor(fd) { this.fd = fd; }
  fileno() { return this.fd; }
}

/**
 * A pipe `[r, w, closeEnd]` whose ends still open are closed after the test `t`;
 * `closeEnd(fd)` closes one end early.
 */
export function pipeFor(t) {
  const p = os.pipe();
  const open = new Set(p);
  t.after(() => { for (const fd of open) os.close(fd); });
  const closeEnd = (fd) => { open.delete(fd); os.close(fd); };
  return [p[0], p[1], closeEnd];
}

/** A new `Cls` selector, closed after the test `t`. */
export function selectorFor(t, Cls) {
  const s = new Cls();
  t.after(() => s.close());
  return s;
}
