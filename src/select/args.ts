/**
 * Argument checks shared by the readiness objects and the selectors: file-likes,
 * event masks and timeouts, with Python's rules and SPEC.md's error classes.
 */

/** Anything with a `fileno()` method, like a Python file object or an iomux `Socket`. */
export interface HasFileno {
  fileno(): number;
}

/** A non-negative integer fd, or an object with `fileno()`. */
export type FileLike = number | HasFileno;

/** Names a bad argument in a message: `"3"`, `null`, `12n`, `Object`, `1.5`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol') return v.toString();
  if (typeof v === 'object' || typeof v === 'function') return (v as object).constructor?.name ?? typeof v;
  return String(v);
}

/**
 * Returns the fd of a file-like (Python's `PyObject_AsFileDescriptor`): a number must be
 * a non-negative integer; otherwise `fileno()` is called and must return one.
 * @throws TypeError when `obj` is not a file-like; RangeError for a negative fd.
 */
export function toFd(obj: unknown): number {
  let fd: unknown = obj;
  if (typeof obj !== 'number') {
    const f = obj !== null && (typeof obj === 'object' || typeof obj === 'function')
      ? (obj as { fileno?: unknown }).fileno : undefined;
    if (typeof f !== 'function') {
      throw new TypeError(`expected a file descriptor or an object with fileno(), got ${describeValue(obj)}`);
    }
    fd = f.call(obj);
    if (typeof fd !== 'number') {
      throw new TypeError(`fileno() returned ${describeValue(fd)}, expected an integer`);
    }
  }
  const n = fd as number;
  if (!Number.isInteger(n)) throw new TypeError(`file descriptor must be an integer, got ${n}`);
  if (n < 0) throw new RangeError(`file descriptor cannot be a negative integer (${n})`);
  if (n > 0x7fffffff) throw new RangeError(`file descriptor ${n} is out of range`);
  return n;
}

/**
 * A 32-bit event mask: any integer from -2^31 to 2^32-1, returned as `mask >>> 0`.
 * @throws TypeError for a non-number; RangeError for anything else out of range.
 */
export function toMask32(mask: unknown, what = 'eventmask'): number {
  if (typeof mask !== 'number') throw new TypeError(`${what} must be an integer, got ${describeValue(mask)}`);
  if (!Number.isInteger(mask) || mask < -0x80000000 || mask > 0xffffffff) {
    throw new RangeError(`${what} ${mask} is out of range: expected an integer from -2^31 to 2^32-1`);
  }
  return mask >>> 0;
}

/** A poll(2) mask (`unsigned short` in Python): 0..65535. */
export function toMask16(mask: unknown, what = 'eventmask'): number {
  if (typeof mask !== 'number') throw new TypeError(`${what} must be an integer, got ${describeValue(mask)}`);
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xffff) {
    throw new RangeError(`${what} ${mask} is out of range: expected an integer from 0 to 65535`);
  }
  return mask;
}

const INT_MAX = 0x7fffffff;

/**
 * An integer argument (sizehint, maxevents): a non-number is a TypeError; a number that
 * is not an integer (1.5, NaN, Infinity) is a bad number, so a RangeError (SPEC "Errors").
 */
export function toInteger(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`${what} must be an integer, got ${describeValue(v)}`);
  if (!Number.isInteger(v)) throw new RangeError(`${what} must be an integer, got ${v}`);
  return v;
}

function checkNumber(t: unknown, unit: string): number {
  if (typeof t !== 'number') throw new TypeError(`timeout must be a number of ${unit} or null, got ${describeValue(t)}`);
  if (Number.isNaN(t)) throw new RangeError('timeout is NaN: expected a number or null');
  return t;
}

/**
 * A timeout in seconds (select, epoll, selectors) as whole milliseconds for the kernel,
 * rounded up so a wait is never shorter than asked. `null`/`undefined` → -1 (block).
 * With `negativeBlocks` (epoll) any negative value blocks; otherwise it is a RangeError.
 */
export function secondsToMs(t: unknown, negativeBlocks: boolean): number {
  if (t === null || t === undefined) return -1;
  const s = checkNumber(t, 'seconds');
  if (s < 0) {
    if (negativeBlocks) return -1;
    throw new RangeError(`timeout must be non-negative, got ${s}`);
  }
  const ms = Math.ceil(s * 1000);
  if (ms > INT_MAX) throw new RangeError(`timeout ${s} s is too large (at most ${INT_MAX / 1000} s)`);
  return ms;
}

/** A poll(2) timeout in milliseconds, rounded up; `null`/`undefined`/negative → -1 (block). */
export function millisToMs(t: unknown): number {
  if (t === null || t === undefined) return -1;
  const ms = checkNumber(t, 'milliseconds');
  if (ms < 0) return -1;
  const r = Math.ceil(ms);
  if (r > INT_MAX) throw new RangeError(`timeout ${ms} ms is too large (at most ${INT_MAX} ms)`);
  return r;
}

/**
 * The timeout for the retry after EINTR (PEP 475): a positive wait resumes with the time
 * left before `deadline` (never negative); 0 (poll) and -1 (block) stay as they are.
 */
export function remainingMs(ms: number, deadline: number): number {
  return ms > 0 ? Math.max(0, Math.ceil(deadline - performance.now())) : ms;
}

/** The deadline of a wait of `ms` milliseconds; only a positive wait needs the clock. */
export function deadlineFor(ms: number): number {
  return ms > 0 ? performance.now() + ms : 0;
}
