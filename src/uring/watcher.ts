/**
 * The ring fd watched by Node's own event loop: one libuv `uv_poll_t` per Proactor,
 * driven over koffi exactly like the Reactor's watcher (one registered poll callback
 * shared by every handle, handle memory from `malloc` freed by libc's `free` as the
 * native close callback, every handle guarded for its thread's teardown by
 * `guardHandle`, and no exception ever unwinding into libuv).
 */
import * as uv from '../sys/uv.js';
import { OSError } from '../errors.js';

const { koffi } = uv;

const byHandle = new Map<bigint, RingWatcher>();
let pollCb: unknown = null;
let loop: unknown = null;
let handleSize = 0;

function onPoll(handle: bigint, status: number): void {
  const w = byHandle.get(handle);
  if (w === undefined) return;
  try {
    w.onReady(status);
  } catch (err) {
    process.nextTick(() => { throw err; });
  }
}

function init(): void {
  if (pollCb !== null) return;
  loop = uv.currentLoop();
  handleSize = Number(uv.uv_handle_size(uv.UV_POLL));
  pollCb = koffi.register(onPoll, koffi.pointer(uv.UvPollCb));
}

function uvCheck(ret: number, what: string): void {
  if (ret < 0) throw OSError.fromErrno(-ret, what, String(uv.uv_strerror(ret)));
}

/**
 * Watches a ring fd for readability (completions, or deferred work to run) from libuv's
 * poll phase. Created watching and unreferenced; {@link setRef} decides whether it keeps
 * the process alive.
 */
export class RingWatcher {
  /** Called from libuv's poll phase; must only schedule work. */
  readonly onReady: (status: number) => void;
  #handle: bigint | null;
  #refed = false;

  /** @throws OSError when libuv refuses the fd. */
  constructor(fd: number, onReady: (status: number) => void) {
    init();
    this.onReady = onReady;
    const handle = uv.malloc(handleSize) as bigint | null;
    if (handle === null || handle === 0n) throw new Error('out of memory for a libuv poll handle');
    const r = uv.uv_poll_init(loop, handle, fd) as number;
    if (r < 0) {
      uv.free(handle);
      uvCheck(r, 'uv_poll_init');
    }
    uv.guardHandle(handle, loop);
    uv.uv_unref(handle);
    this.#handle = handle;
    byHandle.set(handle, this);
    const s = uv.uv_poll_start(handle, uv.UV_READABLE, pollCb) as number;
    if (s < 0) {
      this.close();
      uvCheck(s, 'uv_poll_start');
    }
  }

  /** Whether the handle keeps the process alive. */
  setRef(on: boolean): void {
    if (on === this.#refed || this.#handle === null) return;
    this.#refed = on;
    if (on) uv.uv_ref(this.#handle);
    else uv.uv_unref(this.#handle);
  }

  /** Stops and closes the handle (its memory is freed natively by libuv). Idempotent. */
  close(): void {
    const h = this.#handle;
    if (h === null) return;
    this.#handle = null;
    byHandle.delete(h);
    uv.releaseHandle(h);
    uv.uv_close(h, uv.FREE);
  }
}

/** Ring watchers open in this thread (for leak tests). */
export function ringWatcherCount(): number {
  return byHandle.size;
}
