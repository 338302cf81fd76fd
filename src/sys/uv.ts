/**
 * The koffi binding to the libuv that runs Node's event loop (the node binary exports
 * libuv's and N-API's symbols, reachable with `koffi.load(null)`): what a poll handle
 * needs, and what makes one safe when the JS thread that owns it is torn down.
 *
 * A worker thread's teardown runs no JavaScript (Node forbids it by then) and ends with
 * `uv_loop_close()`, which aborts the whole process if any handle is still open. So a
 * handle is prepared to survive that without JavaScript: see {@link guardHandle}.
 * Pointers are BigInt values (koffi 3).
 */
import { readFileSync } from 'node:fs';
import koffi from 'koffi';

/** The running node binary (and so its libuv and N-API). */
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

export const uv_default_loop = fn('void *uv_default_loop(void)');
/** N-API: the loop of the thread that owns `env` (a worker thread has its own loop). */
export const napi_get_uv_event_loop = fn('int napi_get_uv_event_loop(void *env, _Out_ void **loop)');
export const uv_handle_size = fn('size_t uv_handle_size(int type)');
export const uv_poll_init = fn('int uv_poll_init(void *loop, void *handle, int fd)');
export const uv_poll_start = fn('int uv_poll_start(void *handle, int events, iomux_uv_poll_cb *cb)');
export const uv_poll_stop = fn('int uv_poll_stop(void *handle)');
/** `uv_close` with a native close callback (an address): see {@link FREE}. */
export const uv_close = fn('void uv_close(void *handle, void *cb)');
export const uv_ref = fn('void uv_ref(void *handle)');
export const uv_unref = fn('void uv_unref(void *handle)');
export const uv_strerror = fn('const char *uv_strerror(int err)');
const napi_add_env_cleanup_hook = fn('int napi_add_env_cleanup_hook(void *env, void *fun, void *arg)');
const napi_remove_env_cleanup_hook = fn('int napi_remove_env_cleanup_hook(void *env, void *fun, void *arg)');
const dlsym = fn('void *dlsym(void *handle, const char *symbol)');
const dlopen = fn('void *dlopen(const char *file, int mode)');
/** Handle memory: libc's allocator, so that a native close callback can free it. */
export const malloc = fn('void *malloc(size_t size)');
export const free = fn('void free(void *ptr)');

const RTLD_DEFAULT = null;
/** `dlopen` flags (glibc and musl agree on these values). */
const RTLD_LAZY = 0x1;
const RTLD_NOLOAD = 0x4;
const RTLD_NODELETE = 0x1000;

/** The address of a C function of the running process. */
function address(symbol: string): bigint {
  const p = dlsym(RTLD_DEFAULT, symbol) as bigint | null;
  if (p === null || p === 0n) throw new Error(`${symbol} not found in the running process`);
  return p;
}

/**
 * libc's `free`, as a `uv_close` callback: `void free(void *)` has the shape of
 * `void uv_close_cb(uv_handle_t *)`, so closing a handle frees its memory natively, with
 * no JavaScript, whenever libuv gets to it (even during a thread's teardown).
 */
export const FREE = address('free');
/** `uv_poll_stop`, as an environment cleanup hook `void (*)(void *arg)` with the handle as arg. */
const POLL_STOP = address('uv_poll_stop');

/** The napi_env of the calling JS thread (koffi 3 exposes it as `koffi.node.env`). */
export function currentEnv(): unknown {
  return (koffi as unknown as { node: { env: unknown } }).node.env;
}

/**
 * The libuv loop of the calling JS thread: the main thread's is `uv_default_loop()`,
 * a worker thread's is its own.
 */
export function currentLoop(): unknown {
  const out: unknown[] = [null];
  if (napi_get_uv_event_loop(currentEnv(), out) !== 0 || out[0] === null) return uv_default_loop();
  return out[0];
}

// ---- surviving a thread's teardown -----------------------------------------------------

/** Byte offsets in `uv_handle_t` on LP64 Linux (uv.h: data, loop, type, ..., flags). */
const OFF_LOOP = 8;
const OFF_TYPE = 16;
const OFF_FLAGS = 88;
/** libuv's handle flags: referenced, and internal (not counted by `uv_loop_close`). */
const UV_HANDLE_REF = 0x8;
const UV_HANDLE_INTERNAL = 0x10;

let pinned = false;
let layoutOk: boolean | null = null;

/**
 * Keeps koffi's native module mapped until the process ends. A thread's teardown may
 * still run libuv callbacks (koffi's trampolines, code in that module) after Node has
 * unloaded the thread's addons; when no other thread loaded koffi, the callback would
 * jump into unmapped memory. `RTLD_NOLOAD | RTLD_NODELETE` on the loaded module marks it
 * never to be unloaded.
 */
function pinKoffi(): void {
  pinned = true;
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'latin1');
  } catch {
    return;
  }
  for (const line of maps.split('\n')) {
    if (line.endsWith('/koffi.node')) {
      dlopen(line.slice(line.indexOf('/')), RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
      return;
    }
  }
}

/**
 * Whether `handle` (a poll handle just initialised on `loop`, unreferenced once) has the
 * `uv_handle_t` layout this module expects: loop and type where uv.h puts them, and the
 * REF flag bit where libuv keeps it. Checked once, on the first handle.
 */
function checkLayout(handle: bigint, loop: unknown): boolean {
  const view = (off: number, len: number): Buffer => Buffer.from(koffi.view(handle as never, off + len) as ArrayBuffer, off, len);
  if (view(OFF_LOOP, 8).readBigUInt64LE() !== BigInt(loop as bigint)) return false;
  if (view(OFF_TYPE, 4).readInt32LE() !== UV_POLL) return false;
  const flags = view(OFF_FLAGS, 4);
  if ((flags.readUInt32LE() & UV_HANDLE_REF) === 0) return false;
  uv_unref(handle);
  const ok = (flags.readUInt32LE() & UV_HANDLE_REF) === 0;
  uv_ref(handle);
  return ok;
}

/**
 * Makes a freshly initialised poll handle safe at the teardown of its JS thread, where no
 * JavaScript can run: the handle is marked internal, so `uv_loop_close()` does not count
 * it (the only thing left of it is its memory, a few hundred bytes, lost with the thread),
 * and an environment cleanup hook calls `uv_poll_stop` on it natively before koffi's own
 * state for the thread goes away, so no callback can fire after that. Returns the token
 * Call {@link releaseHandle} before closing the handle normally.
 */
export function guardHandle(handle: bigint, loop: unknown): void {
  if (!pinned) pinKoffi();
  if (layoutOk === null) layoutOk = checkLayout(handle, loop);
  if (layoutOk) {
    const flags = Buffer.from(koffi.view(handle as never, OFF_FLAGS + 4) as ArrayBuffer, OFF_FLAGS, 4);
    flags.writeUInt32LE(flags.readUInt32LE() | UV_HANDLE_INTERNAL);
  }
  napi_add_env_cleanup_hook(currentEnv(), POLL_STOP, handle);
}

/** Undoes the cleanup hook of {@link guardHandle} (the handle is about to be closed). */
export function releaseHandle(handle: bigint): void {
  napi_remove_env_cleanup_hook(currentEnv(), POLL_STOP, handle);
}

export { koffi };
