/**
 * `select()`: Python's `select.select` over select(2), with glibc's fixed 1024-bit
 * `fd_set`s preallocated once per thread (module instance).
 */
import { raise } from '../sys/call.js';
import { FD_SETSIZE } from '../sys/constants.js';
import { SelectCall, fdSet, fdIsSet } from '../sys/select.js';
import { FD_SET_SIZE } from '../sys/structs.js';
import { toFd, describe, secondsToMs, type FileLike } from '../validate.js';

// Scratch memory: three fd_sets, reused by every call (one module instance per thread).
const scratch = Buffer.alloc(FD_SET_SIZE * 3);
const rset = scratch.subarray(0, FD_SET_SIZE);
const wset = scratch.subarray(FD_SET_SIZE, FD_SET_SIZE * 2);
const xset = scratch.subarray(FD_SET_SIZE * 2, FD_SET_SIZE * 3);
/** The fds of the current call, read, write and exceptional lists one after the other. */
let fdScratch = new Int32Array(64);
/** Where each list ends in fdScratch, and how many fd_set bytes the kernel reads. */
let rEnd = 0;
let wEnd = 0;
let xEnd = 0;
let used = 0;

const caller = new SelectCall(() => {
  for (let i = 0; i < used; i++) rset[i] = wset[i] = xset[i] = 0;
  fill(rset, 0, rEnd);
  fill(wset, rEnd, wEnd);
  fill(xset, wEnd, xEnd);
});

/** The list as an array; anything not iterable (a number, a plain object) is a TypeError. */
function asArray<T>(list: Iterable<T>, which: string): readonly T[] {
  if (Array.isArray(list)) return list as T[];
  if (list === null || list === undefined || typeof (list as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new TypeError(`select() ${which} must be an iterable of file-likes, got ${describe(list)}`);
  }
  return Array.from(list);
}

/** Converts every object of `list` to its fd, checked against FD_SETSIZE, into fdScratch. */
function collect(list: readonly FileLike[], at: number): number {
  if (at + list.length > fdScratch.length) {
    const bigger = new Int32Array(Math.max(fdScratch.length * 2, at + list.length));
    bigger.set(fdScratch.subarray(0, at));
    fdScratch = bigger;
  }
  for (let i = 0; i < list.length; i++) {
    const fd = toFd(list[i]);
    if (fd >= FD_SETSIZE) throw new RangeError(`fd ${fd} is out of range in select(): fds must be below FD_SETSIZE (${FD_SETSIZE})`);
    fdScratch[at + i] = fd;
  }
  return at + list.length;
}

function fill(set: Buffer, from: number, to: number): void {
  for (let i = from; i < to; i++) fdSet(set, fdScratch[i]!);
}

function maxFd(to: number): number {
  let max = -1;
  for (let i = 0; i < to; i++) if (fdScratch[i]! > max) max = fdScratch[i]!;
  return max;
}

function ready<T>(list: readonly T[], set: Buffer, from: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) {
    if (fdIsSet(set, fdScratch[from + i]!)) out.push(list[i]!);
  }
  return out;
}

/**
 * Waits until some of the given file-likes are ready (Python's `select.select`).
 *
 * @param rlist   objects to wait on for reading.
 * @param wlist   objects to wait on for writing.
 * @param xlist   objects to wait on for an "exceptional condition" (out-of-band data).
 * A signal does not end the wait early (PEP 475): the call goes on with the time left.
 * A JS signal handler (`process.on('SIGINT', ...)`) runs only when Node's event loop
 * turns, so never while a synchronous select() (or a loop of them) holds the main
 * thread: with a handler installed, Ctrl-C seems ignored until the loop returns. Ways
 * out: run the blocking loop in a worker thread and have the main thread's handler write
 * to an eventfd in that loop's `rlist`; or, on the main thread, wait in slices and yield
 * to the event loop between them (`await new Promise(setImmediate)`), so the handler
 * can run and set a flag; or use the Reactor. See docs/design.md, "Blocking calls and
 * signals".
 *
 * @param timeout seconds (fractions allowed, rounded up to whole milliseconds);
 *   `null`/`undefined` blocks until an event.
 * @returns three new arrays with the given objects that are ready, in input order.
 * @throws RangeError for a negative timeout or an fd >= FD_SETSIZE; TypeError for a
 *   non-file-like or a list that is not iterable; `OSError` (EBADF) for a closed fd.
 */
export function select<R extends FileLike, W extends FileLike, X extends FileLike>(
  rlist: Iterable<R>,
  wlist: Iterable<W>,
  xlist: Iterable<X>,
  timeout?: number | null,
): [R[], W[], X[]] {
  const rs = asArray(rlist, 'rlist');
  const ws = asArray(wlist, 'wlist');
  const xs = asArray(xlist, 'xlist');
  const ms = secondsToMs(timeout, 'error');
  // Every fd is checked against FD_SETSIZE before any fd_set byte is touched.
  rEnd = collect(rs, 0);
  wEnd = collect(ws, rEnd);
  xEnd = collect(xs, wEnd);
  const nfds = maxFd(xEnd) + 1;
  used = (nfds + 7) >> 3; // only these bytes of each fd_set are read by the kernel
  const n = caller.select(nfds, rEnd ? rset : null, wEnd > rEnd ? wset : null, xEnd > wEnd ? xset : null, ms);
  if (n < 0) raise(n, 'select');
  if (n === 0) return [[], [], []];
  return [ready(rs, rset, 0), ready(ws, wset, rEnd), ready(xs, xset, wEnd)];
}
