/**
 * The koffi binding to the libuv that runs Node's event loop: the node binary exports
 * libuv's symbols, reachable with `koffi.load(null)`. Only what a poll handle needs.
 * Pointers are BigInt values (koffi 3).
 */
import koffi from 'koffi';

/** The running node binary (and so its libuv). */
export const node = koffi.load(null as unknown as string);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;
const fn = (proto: string): Fn => node.func(proto) as Fn;

/** `uv_handle_type` value of `uv_poll_t`. */
export const UV_POLL = 8;
/** `uv_poll_event` bits. */
export const UV_READABLE = 1;
export const UV_WRITABLE = 2;
export const UV_DISCONNECT = 4;
export const UV_PRIORITIZED = 8;

/** `void uv_poll_cb(uv_poll_t *handle, int status, int events)`. */
export const UvPollCb = koffi.proto('void iomux_uv_poll_cb(void *handle, int status, int events)');
/** `void uv_close_cb(uv_handle_t *handle)`. */
export const UvCloseCb = koffi.proto('void iomux_uv_close_cb(void *handle)');

export const uv_default_loop = fn('void *uv_default_loop(void)');
/** N-API: the loop of the thread that owns `env` (a worker thread has its own loop). */
export const napi_get_uv_event_loop = fn('int napi_get_uv_event_loop(void *env, _Out_ void **loop)');

/**
 * The libuv loop of the calling JS thread: the main thread's is `uv_default_loop()`,
 * a worker thread's is its own.
 */
export function currentLoop(): unknown {
  const out: unknown[] = [null];
  const env = (koffi as unknown as { node: { env: unknown } }).node.env;
  if (napi_get_uv_event_loop(env, out) !== 0 || out[0] === null) return uv_default_loop();
  return out[0];
}
export const uv_handle_size = fn('size_t uv_handle_size(int type)');
export const uv_poll_init = fn('int uv_poll_init(void *loop, void *handle, int fd)');
export const uv_poll_start = fn('int uv_poll_start(void *handle, int events, iomux_uv_poll_cb *cb)');
export const uv_poll_stop = fn('int uv_poll_stop(void *handle)');
export const uv_close = fn('void uv_close(void *handle, iomux_uv_close_cb *cb)');
export const uv_ref = fn('void uv_ref(void *handle)');
export const uv_unref = fn('void uv_unref(void *handle)');
export const uv_strerror = fn('const char *uv_strerror(int err)');

export { koffi };
