// Helpers of the Reactor suites: a Reactor and a pipe that the test closes for itself.
import { Reactor, os } from 'iomux';

/** A Reactor (on `selector` if given) closed after the test `t`. */
export function reactor(t, selector) {
  const r = new Reactor(selector);
  t.after(() => r.close());
  return r;
}

/** A pipe `[r, w, closeEnd]`; the ends still open are closed after the test, `closeEnd(fd)` closes one early. */
export function pipe(t) {
  const p = os.pipe();
  const open = new Set(p);
  t.after(() => { for (const fd of open) os.close(fd); });
  return [p[0], p[1], (fd) => { open.delete(fd); os.close(fd); }];
}
