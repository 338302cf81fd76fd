/**
 * Python's `os` fd functions that iomux users need around a selector: pipes, eventfds,
 * raw read/write/close, blocking mode. Exported from the package root as `os`.
 */
import * as libc from './sys/libc.js';
import { check, raise, sysret } from './sys/call.js';
import { F_GETFL, F_SETFL, F_GETFD, F_SETFD, FD_CLOEXEC, O_NONBLOCK, O_CLOEXEC, EFD_CLOEXEC } from './sys/constants.js';
import { toFd, toInteger, type FileLike } from './select/args.js';

const EINTR = 4;

/**
 * An integer argument for a C parameter of range `min..max`: checked here, since koffi
 * would silently truncate it (`eventfd(-1)` became 4294967295, `eventfd(2 ** 32)` 0).
 */
function cInteger(v: unknown, what: string, min: number, max: number): number {
  const n = toInteger(v, what);
  if (n < min || n > max) throw new RangeError(`${what} ${n} is out of range: expected an integer from ${min} to ${max}`);
  return n;
}

/** Closes `fd`; EINTR is not retried (Linux closes the fd before returning EINTR). */
export function close(fd: number): void {
  const n = toFd(fd);
  const r = sysret(libc.close(n));
  // EINTR: the fd is already released on Linux; retrying could close a reused number.
  if (r < 0 && r !== -EINTR) raise(r, 'close', `fd ${n}`);
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
  const f = cInteger(flags, 'flags', -0x80000000, 0x7fffffff);
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
  const init = cInteger(initval, 'initval', 0, 0xffffffff);
  const f = cInteger(flags, 'flags', -0x80000000, 0x7fffffff);
  return check(libc.eventfd(init, f | EFD_CLOEXEC), 'eventfd');
}

/**
 * Reads up to `n` bytes, as Python's `os.read`: an empty Buffer at EOF.
 * @throws BlockingIOError when the fd is non-blocking and has nothing to read.
 */
export function read(fileobj: FileLike, n: number): Buffer {
  const fd = toFd(fileobj);
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`read size must be a non-negative integer, got ${n}`);
  const buf = Buffer.allocUnsafe(n);
  for (;;) {
    const r = sysret(libc.read(fd, buf, n));
    if (r === -EINTR) continue; // EINTR: retry (PEP 475).
    if (r < 0) raise(r, 'read', `fd ${fd}`);
    return r === n ? buf : buf.subarray(0, r);
  }
}

/** Reads into `buf`, returning the count (0 at EOF), as Python's `os.readv` with one buffer. */
export function readInto(fileobj: FileLike, buf: Uint8Array): number {
  const fd = toFd(fileobj);
  for (;;) {
    const r = sysret(libc.read(fd, buf, buf.length));
    if (r === -EINTR) continue; // EINTR: retry (PEP 475).
    if (r < 0) raise(r, 'read', `fd ${fd}`);
    return r;
  }
}

/**
 * Writes `data` (a string is UTF-8), returning the count written, as Python's `os.write`.
 * @throws BlockingIOError when the fd is non-blocking and full; BrokenPipeError (EPIPE).
 */
export function write(fileobj: FileLike, data: Uint8Array | string): number {
  const fd = toFd(fileobj);
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  for (;;) {
    const r = sysret(libc.write(fd, buf, buf.length));
    if (r === -EINTR) continue; // EINTR: retry (PEP 475).
    if (r < 0) raise(r, 'write', `fd ${fd}`);
    return r;
  }
}

export { O_NONBLOCK, O_CLOEXEC, EFD_NONBLOCK, EFD_CLOEXEC } from './sys/constants.js';
