/**
 * `FdWatcher`: one fd watched for readability by Node's own event loop, through a
 * libuv `uv_poll_t` handle driven over koffi: the Reactor's epoll fd and the Proactor's
 * ring fd. This is the only module that drives libuv handles (uv.ts declares the
 * functions); see docs/design.md ("Watching the selector from libuv") for why this route.
 *
 * Rules kept here: one registered koffi callback (the poll callback) is shared by every
 * handle (the handle is found by its address); handle memory comes from `malloc` and is
 * freed by libc's `free` as the native `uv_close` callback; every handle is guarded for
 * its thread's teardown (sys/uv.ts `guardHandle`); the poll callback never throws into
 * libuv.
 */
import * as uv from './uv.js';
import { OSError } from './oserror.js';

const { koffi } = uv;

/** Open watchers of this thread by handle address. */
const byHandle = new Map<bigint, FdWatcher>();
let pollCb: unknown = null;
let loop: unknown = null;
let handleSize = 0;

function onPoll(handle: bigint, status: number): void {
  const w = byHandle.get(handle);
  // Never let an exception unwind into libuv: the watcher's owner only schedules work.
  if (w !== undefined) {
    try {
      // libuv stops the handle before it reports a negative status (POLLERR on the fd).
      if (status < 0) w.markStopped();
      w.onReady(status);
    } catch (err) {
      process.nextTick(() => { throw err; }); // as Node reports a throwing callback
    }
  }
}

function init(): void {
  if (pollCb !== null) return;
  loop = uv.currentLoop(); // this thread's loop: a worker thread has its own
  handleSize = Number(uv.uv_handle_size(uv.UV_POLL));
  pollCb = koffi.register(onPoll, koffi.pointer(uv.UvPollCb));
}

function uvCheck(ret: number, what: string): void {
  if (ret < 0) throw OSError.fromErrno(-ret, what, String(uv.uv_strerror(ret)));
}

/**
 * Watches `fd` for readability in Node's loop and calls `onReady(status)` from the
 * loop's poll phase (outside any JS callback scope: the owner must hop with
 * `setImmediate` before running user code, so microtasks drain as after any I/O
 * callback). Created stopped and unreferenced.
 */
export class FdWatcher {
  /**
   * Called from libuv's poll phase with the poll status: 0, or a negative UV error
   * (UV_EBADF when the fd reported POLLERR without POLLPRI; libuv has stopped the handle
   * then, and {@link FdWatcher.active} is false).
   */
  readonly onReady: (status: number) => void;
  /** The fd watched. */
  readonly fd: number;
  #handle: bigint | null;
  #active = false;
  #refed = false;

  /**
   * @param fd      the fd to watch (libuv makes it non-blocking).
   * @param onReady called on readiness; must not throw.
   * @throws OSError when libuv refuses the fd.
   */
  constructor(fd: number, onReady: (status: number) => void) {
    init();
    this.fd = fd;
    this.onReady = onReady;
    const handle = uv.malloc(handleSize) as bigint | null;
    if (handle === null || handle === 0n) throw new Error('out of memory for a libuv poll handle');
    const r = uv.uv_poll_init(loop, handle, fd) as number;
    if (r < 0) {
      uv.free(handle); // never initialised: no uv_close needed
      uvCheck(r, 'uv_poll_init');
    }
    uv.guardHandle(handle, loop);
    uv.uv_unref(handle);
    this.#handle = handle;
    byHandle.set(handle, this);
  }

  /** Whether the handle is watching. */
  get active(): boolean {
    return this.#active;
  }

  /** Starts watching (idempotent). */
  start(): void {
    if (this.#active || this.#handle === null) return;
    uvCheck(uv.uv_poll_start(this.#handle, uv.UV_READABLE, pollCb) as number, 'uv_poll_start');
    this.#active = true;
  }

  /** Stops watching (idempotent). */
  stop(): void {
    if (!this.#active || this.#handle === null) return;
    uv.uv_poll_stop(this.#handle);
    this.#active = false;
  }

  /** Notes that libuv stopped the handle itself (a negative status); start() re-arms it. */
  markStopped(): void {
    this.#active = false;
  }

  /** libuv's message for a (negative) status. */
  strerror(status: number): string {
    return String(uv.uv_strerror(status));
  }

  /** Whether an active handle keeps the process alive. */
  setRef(on: boolean): void {
    if (on === this.#refed || this.#handle === null) return;
    this.#refed = on;
    if (on) uv.uv_ref(this.#handle);
    else uv.uv_unref(this.#handle);
  }

  /** Stops and closes the handle; libuv frees its memory once closed. Idempotent. */
  close(): void {
    const h = this.#handle;
    if (h === null) return;
    this.#handle = null;
    this.#active = false;
    byHandle.delete(h);
    uv.releaseHandle(h);
    uv.uv_close(h, uv.FREE); // uv_close stops the poll handle itself
  }
}

/** Watchers open in this thread (for leak tests). */
export function watcherStats(): { open: number } {
  return { open: byHandle.size };
}
