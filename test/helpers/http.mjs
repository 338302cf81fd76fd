// HTTP client test helpers shared by the http-* suites: servers and clients closed when
// the test ends, and the callback form of request() as a promise.
import { HttpClient } from 'iomux';
import { startHttp, startRaw } from '../fixtures/http-servers.mjs';

/** A Node http server (see startHttp), closed when the test ends. */
export async function server(t, handler, opts) {
  const srv = await startHttp(handler, opts);
  t.after(() => srv.close());
  return srv;
}

/** A raw TCP server (see startRaw), closed when the test ends. */
export async function raw(t, onRequest) {
  const srv = await startRaw(onRequest);
  t.after(() => srv.close());
  return srv;
}

/** A new HttpClient (with no arguments when `opts` is undefined), closed when the test ends. */
export function ownClient(t, opts) {
  const c = opts === undefined ? new HttpClient() : new HttpClient(opts);
  t.after(() => c.close());
  return c;
}

/** Calls `c.request(...args, cb)` and resolves with its return value and the callback's arguments. */
export function viaCallback(c, ...args) {
  return new Promise((resolve) => {
    const ret = c.request(...args, (...cbArgs) => resolve({ ret, cbArgs }));
  });
}
