/**
 * Sending a file over a stream socket, as Python's `socket.sendfile`: `sendfile(2)` from
 * the file's page cache straight to the socket, and read-and-send for files it cannot
 * send that way (pipes, character devices: EINVAL/ESPIPE before any byte went out).
 */
import * as libc from '../sys/libc.js';
import { raise, retry, sysret } from '../sys/call.js';
import { POLLOUT, SEEK_SET, MSG_NOSIGNAL } from '../sys/constants.js';
import { errno } from '../sys/errno.js';
import { describe, toFd, toSize } from '../validate.js';
import { again } from './transfer.js';
import { where } from './scratch.js';

/** A file to send: an fd, an object with `fileno()`, or a `FileHandle` (its `fd`). */
export type FileArg = number | { fileno(): number } | { fd: number };

/** Largest count one `sendfile(2)` moves (Linux's MAX_RW_COUNT). */
export const SENDFILE_CHUNK = 0x7ffff000;
const OFF = Buffer.allocUnsafeSlow(8);
/** Bytes read per step of the read-and-send fallback. */
const FALLBACK_CHUNK = 64 * 1024;
let fallbackBuf: Buffer | null = null;

/** The fd of a file argument. */
export function fileFd(file: unknown): number {
  if (file !== null && typeof file === 'object' && typeof (file as { fileno?: unknown }).fileno !== 'function'
    && typeof (file as { fd?: unknown }).fd === 'number') {
    return toFd((file as { fd: number }).fd);
  }
  try {
    return toFd(file);
  } catch (e) {
    if (e instanceof TypeError) {
      throw new TypeError(`file must be a file descriptor, an object with fileno() or a FileHandle, got ${describe(file)}`);
    }
    throw e;
  }
}

/** Checks `offset` (>= 0) and `count` (`null`/`undefined`: to the end; else > 0) as CPython. */
export function sendfileRange(offset: unknown, count: unknown): [number, number] {
  const off = toSize(offset ?? 0, 'offset');
  if (count === null || count === undefined) return [off, -1];
  const n = toSize(count, 'count');
  if (n === 0) throw new RangeError('count must be a positive integer, got 0');
  return [off, n];
}

/** One `sendfile(2)` step: up to `want` bytes of `inFd` at `pos`; the count or -errno. */
export function sendfileStep(outFd: number, inFd: number, pos: number, want: number): number {
  OFF.writeBigInt64LE(BigInt(pos), 0);
  return retry(libc.sendfile, outFd, inFd, OFF, Math.min(want, SENDFILE_CHUNK));
}

/** Whether a failed first `sendfile` means "use read and send instead". */
export function needsFallback(r: number): boolean {
  return r === -errno.EINVAL || r === -errno.ESPIPE || r === -errno.ENOSYS || r === -errno.EOVERFLOW;
}

/** Leaves the file position after the last byte sent (as CPython's `file.seek`); ignores unseekable files. */
export function seekAfter(inFd: number, pos: number): void {
  libc.lseek(inFd, pos, SEEK_SET);
}

/** Reads up to `n` bytes of `inFd` into the shared fallback buffer: the count (0 at EOF). */
export function readChunk(inFd: number, n: number): [Buffer, number] {
  fallbackBuf ??= Buffer.allocUnsafeSlow(FALLBACK_CHUNK);
  const r = retry(libc.read, inFd, fallbackBuf, Math.min(n, FALLBACK_CHUNK));
  if (r < 0) raise(r, 'read', `fd ${inFd}`);
  return [fallbackBuf, r];
}

/**
 * `Socket#sendfile` on a blocking socket or one with a timeout (`timeout` seconds > 0):
 * returns the bytes sent.
 */
export function sendfile(fd: number, timeout: number, file: unknown, offset: unknown, count: unknown): number {
  const inFd = fileFd(file);
  const [off, cnt] = sendfileRange(offset, count);
  let total = 0;
  let deadline = timeout > 0 ? performance.now() + timeout * 1000 : -1;
  for (;;) {
    const want = cnt < 0 ? SENDFILE_CHUNK : cnt - total;
    if (want <= 0) break;
    const r = sendfileStep(fd, inFd, off + total, want);
    if (r === 0) break; // end of file
    if (r > 0) {
      total += r;
      continue;
    }
    if (total === 0 && needsFallback(r)) return sendWithRead(fd, timeout, inFd, off, cnt);
    deadline = again(fd, timeout, r, POLLOUT, deadline, 'sendfile', `fd ${inFd} to ${where(fd)}`);
  }
  if (total > 0) seekAfter(inFd, off + total);
  return total;
}

/** The fallback: read-and-send `cnt` bytes (-1: to the end) from `off` (seeked to when > 0). */
function sendWithRead(fd: number, timeout: number, inFd: number, off: number, cnt: number): number {
  const s = off > 0 ? sysret(libc.lseek(inFd, off, SEEK_SET)) : 0;
  if (s < 0) raise(s, 'lseek', `fd ${inFd}`);
  let total = 0;
  let deadline = timeout > 0 ? performance.now() + timeout * 1000 : -1;
  while (cnt < 0 || total < cnt) {
    const [buf, n] = readChunk(inFd, cnt < 0 ? FALLBACK_CHUNK : cnt - total);
    if (n === 0) break;
    let sent = 0;
    while (sent < n) {
      const r = retry(libc.send, fd, sent === 0 ? buf : buf.subarray(sent), n - sent, MSG_NOSIGNAL);
      if (r >= 0) sent += r;
      else deadline = again(fd, timeout, r, POLLOUT, deadline, 'send');
    }
    total += n;
  }
  return total;
}
