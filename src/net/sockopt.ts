/**
 * Socket options, as Python's `setsockopt`/`getsockopt`: an `int` by default, raw bytes
 * when given a buffer (set) or a `buflen` (get).
 */
import * as libc from '../sys/libc.js';
import { check } from '../sys/call.js';
import { SOL_SOCKET } from '../sys/constants.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../errors.js';
import { INT_MIN, UINT_MAX, describe, toBytes, toCInt, toInteger } from '../validate.js';
import { ADDRLEN, OPT } from './scratch.js';

/**
 * `setsockopt(fd, level, opt, value)`: a number is a C `int` (a boolean is 1 or 0, as
 * Python's `True`/`False`), bytes go as they are.
 */
export function setOption(fd: number, level: number, opt: number, value: unknown, where: string): void {
  toCInt(level, 'level');
  toCInt(opt, 'option');
  const what = `level ${level}, option ${opt} (${where})`;
  if (typeof value === 'boolean') value = value ? 1 : 0;
  if (typeof value === 'number') {
    OPT.writeInt32LE(toInteger(value, 'setsockopt value', INT_MIN, UINT_MAX) | 0, 0);
    check(libc.setsockopt(fd, level, opt, OPT, 4), 'setsockopt', what);
    return;
  }
  if (!(value instanceof Uint8Array || ArrayBuffer.isView(value) || value instanceof ArrayBuffer)) {
    throw new TypeError(`setsockopt value must be an integer or a Buffer, got ${describe(value)}`);
  }
  const b = toBytes(value, 'setsockopt value');
  check(libc.setsockopt(fd, level, opt, b, b.length), 'setsockopt', what);
}

/** `getsockopt(fd, level, opt)`: a C `int` without `buflen`, else up to `buflen` (0-1024) bytes. */
export function getOption(fd: number, level: number, opt: number, buflen: unknown, where: string): number | Buffer {
  toCInt(level, 'level');
  toCInt(opt, 'option');
  const what = `level ${level}, option ${opt} (${where})`;
  if (buflen === undefined || buflen === null || buflen === 0) {
    OPT.writeInt32LE(0, 0);
    ADDRLEN.writeUInt32LE(4, 0);
    check(libc.getsockopt(fd, level, opt, OPT, ADDRLEN), 'getsockopt', what);
    return OPT.readInt32LE(0);
  }
  const n = toInteger(buflen, 'buflen');
  if (n < 0 || n > 1024) throw new OSError(errno.EINVAL, `getsockopt buflen ${n} out of range 0-1024`, 'getsockopt');
  const out = Buffer.alloc(n);
  ADDRLEN.writeUInt32LE(n, 0);
  check(libc.getsockopt(fd, level, opt, out, ADDRLEN), 'getsockopt', what);
  return out.subarray(0, ADDRLEN.readUInt32LE(0));
}

/** `getsockopt(fd, SOL_SOCKET, opt)` as an int. */
export function sockoptInt(fd: number, opt: number, what: string): number {
  OPT.writeInt32LE(0, 0);
  ADDRLEN.writeUInt32LE(4, 0);
  check(libc.getsockopt(fd, SOL_SOCKET, opt, OPT, ADDRLEN), 'getsockopt', what);
  return OPT.readInt32LE(0);
}
