/**
 * Python's `os` fd functions that iomux users need around a selector: pipes, eventfds,
 * raw read/write/close, blocking mode. Exported from the package root as `os`.
 *
 * Buffers: `write` takes a `Buffer`/`Uint8Array`, any other `ArrayBufferView` or an
 * `ArrayBuffer` (counted in bytes, never elements) or a string (UTF-8); `readInto` takes
 * the same views but never a string (bytes read into an immutable string would be lost).
 */
import * as libc from './sys/libc.js';
import { check, closeFd, raise, retry } from './sys/call.js';
import { fdClosing } from './sys/closing.js';
import { F_GETFL, F_SETFL, F_GETFD, F_SETFD, FD_CLOEXEC, O_NONBLOCK, O_CLOEXEC, EFD_CLOEXEC } from './sys/constants.js';
import { toFd, toCInt, toInteger, toSize, toBytesOrUtf8, toWritableBytes, UINT_MAX, type FileLike } from './validate.js';

/**
 * Closes `fd`. A signal during close(2) is not an error and is never retried: Linux
 * releases the fd first, so a retry could close a number reused meanwhile.
 * @throws OSError (EBADF for an fd that is not open).
 */
export function close(fd: number): void {
  const n = toFd(fd);
  fdClosing(n);
  const r = closeFd(n);
  if (r < 0) raise(r, 'close', `fd ${n}`);
}

/** Clears (`true`) or sets (`false`) O_NONBLOCK, as Python's `os.set_blocking`. */
export function setBlocking(fileobj: FileLike, blocking: boolean): void {
  const fd = toFd(fileobj);
  const on = !blocking;
  const flags = check(libc.fcntl(fd, F_GETFL, 'int', 0), 'fcntl', `fd ${fd}`);
  const next = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (next !== flags) check(libc.fcntl(fd, F_SETFL, 'int', next), 'fcntl', `fd ${fd}`);
}

/** Whether the fd is in blocking mode (O_NONBLOCK clear), as Python's `os.get_blocking`. */
export function getBlocking(fileobj: FileLike): boolean {
  const fd = toFd(fileobj);
  return (check(libc.fcntl(fd, F_GETFL, 'int', 0), 'fcntl', `fd ${fd}`) & O_NONBLOCK) === 0;
}

/** Whether FD_CLOEXEC is clear, as Python's `os.get_inheritable`. */
export function getInheritable(fileobj: FileLike): boolean {
  const fd = toFd(fileobj);
  return (check(libc.fcntl(fd, F_GETFD, 'int', 0), 'fcntl', `fd ${fd}`) & FD_CLOEXEC) === 0;
}

/** Sets or clears FD_CLOEXEC, as Python's `os.set_inheritable`. */
export function setInheritable(fileobj: FileLike, inheritable: boolean): void {
  const fd = toFd(fileobj);
  const flags = check(libc.fcntl(fd, F_GETFD, 'int', 0), 'fcntl', `fd ${fd}`);
  const next = inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC;
  if (next !== flags) check(libc.fcntl(fd, F_SETFD, 'int', next), 'fcntl', `fd ${fd}`);
}

/**
 * Creates a close-on-exec pipe, as Python's `os.pipe2`.
 * @param flags extra `pipe2` flags, e.g. `O_NONBLOCK`.
 * @returns `[readEnd, writeEnd]`.
 * @throws TypeError / RangeError when `flags` is not a C int.
 */
export function pipe(flags = 0): [number, number] {
  const f = toCInt(flags, 'flags');
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, f | O_CLOEXEC), 'pipe2');
  return [fds[0]!, fds[1]!];
}

/**
 * Creates a close-on-exec eventfd (`EFD_NONBLOCK` etc. in `flags`), as Python's `os.eventfd`.
 * @throws RangeError when `initval` is not an integer from 0 to 2^32-1 or `flags` not a
 *   C int; TypeError for a non-number.
 */
export function eventfd(initval = 0, flags = 0): number {
  const init = toInteger(initval, 'initval', 0, UINT_MAX);
  const f = toCInt(flags, 'flags');
  return check(libc.eventfd(init, f | EFD_CLOEXEC), 'eventfd');
}

/**
 * Reads up to `n` bytes, as Python's `os.read`: an empty Buffer at EOF. A signal does
 * not interrupt it (PEP 475).
 * @throws RangeError when `n` is negative or not an integer; TypeError for a
 *   non-number; BlockingIOError when the fd is non-blocking and has nothing to read.
 */
export function read(fileobj: FileLike, n: number): Buffer {
  const fd = toFd(fileobj);
  const size = toSize(n, 'n', 0x7fffffff);
  const buf = Buffer.allocUnsafe(size);
  const r = retry(libc.read, fd, buf, size);
  if (r < 0) raise(r, 'read', `fd ${fd}`);
  return r === size ? buf : buf.subarray(0, r);
}

/**
 * Reads into `buf`, returning the number of bytes read (0 at EOF), as Python's
 * `os.readv` with one buffer. `buf` is a `Buffer`/`Uint8Array`, another
 * `ArrayBufferView` (filled by bytes, whatever its element size) or an `ArrayBuffer`.
 * @throws TypeError when `buf` is not one of those (a string, say).
 */
export function readInto(fileobj: FileLike, buf: ArrayBufferView | ArrayBuffer): number {
  const fd = toFd(fileobj);
  const bytes = toWritableBytes(buf, 'buf');
  const r = retry(libc.read, fd, bytes, bytes.byteLength);
  if (r < 0) raise(r, 'read', `fd ${fd}`);
  return r;
}

/**
 * Writes `data`, returning the number of bytes written, as Python's `os.write`. `data`
 * is a `Buffer`/`Uint8Array`, another `ArrayBufferView` or an `ArrayBuffer` (all of
 * their bytes), or a string (UTF-8).
 * @throws TypeError when `data` is none of those; BlockingIOError when the fd is
 *   non-blocking and full; BrokenPipeError (EPIPE).
 */
export function write(fileobj: FileLike, data: ArrayBufferView | ArrayBuffer | string): number {
  const fd = toFd(fileobj);
  const bytes = toBytesOrUtf8(data, 'data');
  const r = retry(libc.write, fd, bytes, bytes.byteLength);
  if (r < 0) raise(r, 'write', `fd ${fd}`);
  return r;
}


const SENDFILE_OFF = Buffer.allocUnsafeSlow(8);

/**
 * Python's `os.sendfile(out_fd, in_fd, offset, count)`: copies up to `count` bytes of
 * `inFd` from `offset` to `outFd` in the kernel (`sendfile(2)`) and returns how many.
 * With `offset` `null` it reads from the file's position and moves it; with a number the
 * position is untouched. 0 at the end of the file.
 * @throws RangeError for a negative offset or count; OSError (EAGAIN on a full
 *   non-blocking socket, EINVAL when `inFd` cannot be sent from, e.g. a pipe).
 */
export function sendfile(outFd: FileLike, inFd: FileLike, offset: number | null, count: number): number {
  const out = toFd(outFd);
  const inp = toFd(inFd);
  const n = toSize(count, 'count');
  let off: Buffer | null = null;
  if (offset !== null && offset !== undefined) {
    off = SENDFILE_OFF;
    off.writeBigInt64LE(BigInt(toSize(offset, 'offset')), 0);
  }
  const r = retry(libc.sendfile, out, inp, off, Math.min(n, 0x7ffff000));
  if (r < 0) raise(r, 'sendfile', `fd ${inp} to fd ${out}`);
  return r;
}

export { O_NONBLOCK, O_CLOEXEC, EFD_NONBLOCK, EFD_CLOEXEC } from './sys/constants.js';
