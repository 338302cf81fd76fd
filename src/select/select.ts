/**
 * `select()`: Python's `select.select` over select(2), with glibc's fixed 1024-bit
 * `fd_set`s preallocated once per thread (module instance).
 */
import * as libc from '../sys/libc.js';
import { raise, sysret } from '../sys/call.js';
import { FD_SETSIZE } from '../sys/constants.js';
import { FD_SET_SIZE, TIMEVAL_SIZE } from '../sys/structs.js';
import { toFd, describeValue, type FileLike } from './args.js';

const EINTR = 4;

// Scratch memory: three fd_sets and a timeval, reused by every call.
const scratch = Buffer.alloc(FD_SET_SIZE * 3 + TIMEVAL_SIZE);
const rset = scratch.subarray(0, FD_SET_SIZE);
const wset = scratch.subarray(FD_SET_SIZE, FD_SET_SIZE * 2);
const xset = scratch.subarray(FD_SET_SIZE * 2, FD_SET_SIZE * 3);
const tv = scratch.subarray(FD_SET_SIZE * 3);
const tvWords = new Int32Array(scratch.buffer, scratch.byteOffset + FD_SET_SIZE * 3, 4);
let fdScratch = new Int32Array(64);

/**
 * Converts a timeout in seconds to microseconds for the timeval, first rounded up to whole
 * milliseconds (SPEC: fractional milliseconds round up, so a tiny positive timeout waits
 * at least 1 ms rather than spinning); -1 blocks.
 */
function timeoutMicros(timeout: number | null | undefined): number {
  if (timeout === null || timeout === undefined) return -1;
  if (typeof timeout !== 'number') throw new TypeError(`timeout must be a number of seconds or null, got ${describeValue(timeout)}`);
  if (Number.isNaN(timeout)) throw new RangeError('timeout is NaN: expected a number of seconds or null');
  if (timeout < 0) throw new RangeError(`timeout must be non-negative, got ${timeout}`);
  if (!Number.isFinite(timeout) || timeout > 0x7fffffff) throw new RangeError(`timeout ${timeout} s is too large`);
  return Math.ceil(timeout * 1000) * 1000;
}

/** The list as an array; anything not iterable (a number, a plain object) is a TypeError. */
function asArray<T>(list: Iterable<T>, which: string): readonly T[] {
  if (Array.isArray(list)) return list as T[];
  if (list === null || list === undefined || typeof (list as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new TypeError(`select() ${which} must be an iterable of file-likes, got ${describeValue(list)}`);
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
  for (let i = from; i < to; i++) {
    const fd = fdScratch[i]!;
    set[fd >> 3]! |= 1 << (fd & 7);
  }
}

function maxFd(to: number): number {
  let max = -1;
  for (let i = 0; i < to; i++) if (fdScratch[i]! > max) max = fdScratch[i]!;
  return max;
}

function ready<T>(list: readonly T[], set: Buffer, from: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < list.length; i++) {
    const fd = fdScratch[from + i]!;
    if (set[fd >> 3]! & (1 << (fd & 7))) out.push(list[i]!);
  }
  return out;
}

/**
 * Waits until some of the given file-likes are ready (Python's `select.select`).
 *
 * @param rlist   objects to wait on for reading.
 * @param wlist   objects to wait on for writing.
 * @param xlist   objects to wait on for an "exceptional condition" (out-of-band data).
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
  const us = timeoutMicros(timeout);
  // Every fd is checked against FD_SETSIZE before any fd_set byte is touched.
  const rEnd = collect(rs, 0);
  const wEnd = collect(ws, rEnd);
  const xEnd = collect(xs, wEnd);
  const deadline = us > 0 ? performance.now() + us / 1000 : 0;
  let waitUs = us;
  const nfds = maxFd(xEnd) + 1;
  const used = (nfds + 7) >> 3; // only these bytes of each fd_set are read by the kernel
  for (;;) {
    for (let i = 0; i < used; i++) rset[i] = wset[i] = xset[i] = 0;
    fill(rset, 0, rEnd);
    fill(wset, rEnd, wEnd);
    fill(xset, wEnd, xEnd);
    let tvArg: Buffer | null = null;
    if (waitUs >= 0) {
      // Two little-endian longs; both values fit the low word (seconds < 2^31).
      tvWords[0] = Math.floor(waitUs / 1e6);
      tvWords[1] = 0;
      tvWords[2] = waitUs % 1e6;
      tvWords[3] = 0;
      tvArg = tv;
    }
    const n = sysret(libc.select(nfds, rEnd ? rset : null, wEnd > rEnd ? wset : null, xEnd > wEnd ? xset : null, tvArg));
    if (n === -EINTR) {
      // EINTR: retry with the remaining time recomputed (PEP 475).
      if (us > 0) waitUs = Math.max(0, Math.ceil((deadline - performance.now()) * 1000));
      continue;
    }
    if (n < 0) raise(n, 'select');
    if (n === 0) return [[], [], []];
    return [ready(rs, rset, 0), ready(ws, wset, rEnd), ready(xs, xset, wEnd)];
  }
}
