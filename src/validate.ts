/**
 * The argument rules of the whole package, in one place. Every public function checks
 * its arguments with these helpers, so the same mistake gets the same error everywhere:
 *
 * - A value of the wrong type is a `TypeError`: `"3"` where an integer is expected, a
 *   number where an options object or a buffer is expected.
 * - A number of the right type but a bad value is a `RangeError`: `1.5`, `NaN`,
 *   `Infinity` or `-1` for a count or a size, a C int out of 32 bits, a timeout too large.
 * - Every message names the argument and shows the value: `size must be an integer,
 *   got 1.5`, `options must be an object like { timeout, signal }, got 5000`.
 *
 * The helpers return the checked value (converted where the kernel needs another form, as
 * a timeout in milliseconds) and allocate nothing on the success path of a hot call.
 * This module imports nothing from the rest of the package.
 */

/** Anything with a `fileno()` method, like a Python file object or an iomux `Socket`. */
export interface HasFileno {
  fileno(): number;
}

/** A non-negative integer fd, or an object with `fileno()`. */
export type FileLike = number | HasFileno;

/** The smallest C `int`. */
export const INT_MIN = -0x80000000;
/** The largest C `int`. */
export const INT_MAX = 0x7fffffff;
/** The largest C `unsigned int` (and 32-bit mask). */
export const UINT_MAX = 0xffffffff;
/**
 * The longest timeout, in milliseconds, anywhere in the package: the kernel's `int`
 * milliseconds (poll, epoll_wait) and Node's timers share this limit (about 24.8 days).
 */
export const TIMER_MAX = 0x7fffffff;

const MAX_STRING = 40;
const MAX_ITEMS = 5;

/**
 * Shows a value in an error message: `1.5`, `-0`, `12n`, `null`, `undefined`, a string
 * quoted (`"abc"`, cut after 40 characters), an array by its first items (`[1, "x"]`), a
 * byte view with its length (`Uint16Array(3)`), a function by its name, and any other
 * object by its class (`Object`, `Socket`, `Map`).
 */
export function describe(v: unknown): string {
  return describeAt(v, 0);
}

function describeAt(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return v.length > MAX_STRING ? `${JSON.stringify(v.slice(0, MAX_STRING)).slice(0, -1)}..."` : JSON.stringify(v);
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'symbol':
      return v.toString();
    case 'function':
      return v.name ? `function ${v.name}` : 'a function';
    case 'object': {
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        if (depth > 0) return `Array(${v.length})`;
        const items = v.slice(0, MAX_ITEMS).map((x) => describeAt(x, depth + 1));
        if (v.length > MAX_ITEMS) items.push(`... ${v.length - MAX_ITEMS} more`);
        return `[${items.join(', ')}]`;
      }
      const name = className(v);
      if (ArrayBuffer.isView(v)) return `${name}(${(v as unknown as { length?: number }).length ?? v.byteLength})`;
      if (v instanceof ArrayBuffer) return `${name}(${v.byteLength})`;
      return name;
    }
    default:
      return String(v); // undefined, booleans
  }
}

function className(o: object): string {
  const ctor = (o as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
}

// ---- numbers --------------------------------------------------------------------------

/**
 * An integer argument within `min..max` (defaults: any safe integer).
 * @throws TypeError when `v` is not a number; RangeError when it is not an integer
 *   (`1.5`, `NaN`, `Infinity`) or is outside `min..max`.
 */
export function toInteger(v: unknown, what: string, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number') throw new TypeError(`${what} must be an integer, got ${describe(v)}`);
  if (!Number.isInteger(v)) throw new RangeError(`${what} must be an integer, got ${describe(v)}`);
  if (v < min || v > max) throw new RangeError(`${what} ${describe(v)} is out of range: expected an integer from ${min} to ${max}`);
  return v;
}

/**
 * An integer that fits a C `int` (-2^31..2^31-1). koffi would truncate a larger value
 * silently (`2 ** 32` would become 0), so every int passed to C goes through this.
 * @throws TypeError for a non-number; RangeError for a non-integer or out of range.
 */
export function toCInt(v: unknown, what: string): number {
  return toInteger(v, what, INT_MIN, INT_MAX);
}

/**
 * A count or a size: an integer from 0 to `max` (default: any safe integer).
 * @throws TypeError for a non-number; RangeError for a negative or non-integer value
 *   (`1.5`, `NaN`) or one above `max`.
 */
export function toSize(v: unknown, what: string, max = Number.MAX_SAFE_INTEGER): number {
  return toInteger(v, what, 0, max);
}

/**
 * A 32-bit event mask (epoll): any integer from -2^31 to 2^32-1, returned unsigned
 * (`mask >>> 0`), so `EPOLLIN | EPOLLET` (negative in JS) is accepted.
 * @throws TypeError for a non-number; RangeError for a non-integer or out of range.
 */
export function toMask32(v: unknown, what = 'eventmask'): number {
  return toInteger(v, what, INT_MIN, UINT_MAX) >>> 0;
}

/**
 * A 16-bit event mask (poll's `short events`): an integer from 0 to 65535.
 * @throws TypeError for a non-number; RangeError for a non-integer or out of range.
 */
export function toMask16(v: unknown, what = 'eventmask'): number {
  return toInteger(v, what, 0, 0xffff);
}

// ---- timeouts -------------------------------------------------------------------------

/**
 * What a negative timeout in seconds means: `'error'` a RangeError (`select.select`,
 * `Socket#settimeout`), `'block'` wait forever (`epoll.poll`), `'poll'` do not wait
 * (selectors).
 */
export type NegativeTimeout = 'error' | 'block' | 'poll';

/**
 * A timeout in seconds (the Python-style APIs) as whole kernel milliseconds, rounded up
 * so a wait is never shorter than asked (a tiny positive timeout waits 1 ms rather than
 * spinning). `null`/`undefined` give -1: block.
 * @param negative what a negative value means (see {@link NegativeTimeout}).
 * @throws TypeError for a non-number; RangeError for NaN, a value above
 *   {@link TIMER_MAX} ms (Infinity included), or a negative value under `'error'`.
 */
export function secondsToMs(t: unknown, negative: NegativeTimeout = 'error', what = 'timeout'): number {
  if (t === null || t === undefined) return -1;
  if (typeof t !== 'number') throw new TypeError(`${what} must be a number of seconds or null, got ${describe(t)}`);
  if (t < 0) {
    if (negative === 'block') return -1;
    if (negative === 'poll') return 0;
    throw new RangeError(`${what} must be non-negative, got ${describe(t)}`);
  }
  const ms = Math.ceil(t * 1000);
  if (!(ms <= TIMER_MAX)) {
    throw new RangeError(`${what} ${describe(t)} s is out of range: expected a number of seconds from 0 to ${TIMER_MAX / 1000} or null`);
  }
  return ms | 0; // -0 becomes 0
}

/**
 * A timeout in milliseconds for the kernel in poll(2)'s style (`Poll#poll`): fractions
 * rounded up; `null`, `undefined` and any negative value give -1 (block).
 * @throws TypeError for a non-number; RangeError for NaN or above {@link TIMER_MAX}.
 */
export function millisToMs(t: unknown, what = 'timeout'): number {
  if (t === null || t === undefined) return -1;
  if (typeof t !== 'number') throw new TypeError(`${what} must be a number of milliseconds or null, got ${describe(t)}`);
  if (t < 0) return -1;
  const ms = Math.ceil(t);
  if (!(ms <= TIMER_MAX)) {
    throw new RangeError(`${what} ${describe(t)} ms is out of range: expected a number of milliseconds up to ${TIMER_MAX} or null`);
  }
  return ms | 0; // -0 becomes 0
}

/**
 * A timeout option in milliseconds in Node's style (`{ timeout }` of the asynchronous
 * APIs): `null`, `undefined` and `Infinity` mean none and give -1; otherwise a number
 * from 0 to {@link TIMER_MAX}, returned as is (fractions kept).
 * @throws TypeError for a non-number; RangeError for NaN, a negative value or one
 *   above {@link TIMER_MAX}.
 */
export function toTimeoutMs(t: unknown, what = 'timeout'): number {
  if (t === null || t === undefined || t === Infinity) return -1;
  if (typeof t !== 'number') throw new TypeError(`${what} must be a number of milliseconds or null, got ${describe(t)}`);
  if (!(t >= 0 && t <= TIMER_MAX)) {
    throw new RangeError(`${what} must be from 0 to ${TIMER_MAX} milliseconds (or null for none), got ${describe(t)}`);
  }
  return t;
}

// ---- signals, callbacks, options ---------------------------------------------------------

/**
 * An `AbortSignal` (or an object that behaves as one: `aborted`, `addEventListener`,
 * `removeEventListener`); `null`/`undefined` give `null`.
 * @throws TypeError for anything else.
 */
export function toSignal(s: unknown, what = 'signal'): AbortSignal | null {
  if (s === null || s === undefined) return null;
  if (s instanceof AbortSignal) return s;
  const o = s as Partial<AbortSignal>;
  if (typeof s !== 'object' || typeof o.aborted !== 'boolean' || typeof o.addEventListener !== 'function'
    || typeof o.removeEventListener !== 'function') {
    throw new TypeError(`${what} must be an AbortSignal, got ${describe(s)}`);
  }
  return s as AbortSignal;
}

/**
 * A boolean flag (`setblocking(flag)`, boolean options): `true` or `false` only, so a
 * `0`, `1` or `"false"` given by mistake is never taken for its truthiness.
 * @throws TypeError for anything else.
 */
export function toBoolean(v: unknown, what: string): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`${what} must be true or false, got ${describe(v)}`);
  return v;
}

/**
 * A function argument (a callback).
 * @throws TypeError for anything else.
 */
export function toFunction<F extends (...args: never[]) => unknown>(f: unknown, what = 'callback'): F {
  if (typeof f !== 'function') throw new TypeError(`${what} must be a function, got ${describe(f)}`);
  return f as F;
}

const NO_OPTIONS: Readonly<Record<string, never>> = Object.freeze({});

/**
 * An options object: `null`/`undefined` give a shared frozen empty object, so the
 * caller reads fields without checks. A number, string, boolean, function or array where
 * the options belong is a mistake (`sockRecv(sock, n, 5000)`), never silently ignored.
 * @param shape how the message shows the expected object, e.g. `'{ timeout, signal }'`.
 * @throws TypeError for anything but a plain object (or class instance).
 */
export function toOptions<T extends object>(v: unknown, what = 'options', shape?: string): Readonly<Partial<T>> {
  if (v === null || v === undefined) return NO_OPTIONS as Readonly<Partial<T>>;
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new TypeError(`${what} must be an object${shape ? ` like ${shape}` : ''}, got ${describe(v)}`);
  }
  return v as Readonly<Partial<T>>;
}

/** Checked `{ timeout, signal }` of an asynchronous wait: `timeout` -1 for none. */
export interface WaitOptions {
  /** Milliseconds, or -1 for no timeout. */
  readonly timeout: number;
  /** The signal that aborts the wait, or `null`. */
  readonly signal: AbortSignal | null;
}

const NO_WAIT: WaitOptions = Object.freeze({ timeout: -1, signal: null });

/**
 * Checks the options of an asynchronous wait, `{ timeout?: ms, signal?: AbortSignal }`
 * (Node's style): {@link toOptions}, then {@link toTimeoutMs} and {@link toSignal} on
 * the fields. No options give a shared frozen object (nothing allocated).
 * @throws TypeError when `v` is not an object (the message names `what`); TypeError /
 *   RangeError for a bad `timeout` or `signal` field (the message names the field).
 */
export function toWaitOptions(v: unknown, what = 'options'): WaitOptions {
  if (v === null || v === undefined) return NO_WAIT;
  const o = toOptions<{ timeout: unknown; signal: unknown }>(v, what, '{ timeout, signal }');
  const timeout = toTimeoutMs(o.timeout);
  const signal = toSignal(o.signal);
  return timeout < 0 && signal === null ? NO_WAIT : { timeout, signal };
}

// ---- bytes ------------------------------------------------------------------------------

/**
 * Bytes to read from (data to write or send): a `Buffer` or `Uint8Array` as is; any
 * other `ArrayBufferView` (`Uint16Array`, `DataView`, ...) or an `ArrayBuffer` as a
 * `Uint8Array` over the same memory, so counts are always in bytes, never elements.
 * @throws TypeError for anything else, strings included (see {@link toBytesOrUtf8}).
 */
export function toBytes(data: unknown, what = 'data'): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${what} must be a Buffer, a Uint8Array or another ArrayBufferView, got ${describe(data)}`);
}

/**
 * As {@link toBytes}, and a string is encoded as UTF-8 (a new Buffer).
 * @throws TypeError for anything else.
 */
export function toBytesOrUtf8(data: unknown, what = 'data'): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError(`${what} must be a Buffer, a Uint8Array, another ArrayBufferView or a string, got ${describe(data)}`);
}

/**
 * A buffer the kernel writes into (read, recv): as {@link toBytes}. A string is a
 * TypeError here: strings are immutable, so bytes "read into" one would be lost.
 * @throws TypeError for anything but a byte view or an ArrayBuffer.
 */
export function toWritableBytes(buf: unknown, what = 'buffer'): Uint8Array {
  if (buf instanceof Uint8Array) return buf;
  if (ArrayBuffer.isView(buf)) return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  throw new TypeError(`${what} must be a writable Buffer, Uint8Array or other ArrayBufferView, got ${describe(buf)}`);
}

// ---- file descriptors ---------------------------------------------------------------------

/**
 * The fd of a file-like (Python's `PyObject_AsFileDescriptor`): a number must be a
 * non-negative integer that fits a C int; otherwise `fileno()` is called and must
 * return one.
 * @throws TypeError when `obj` is not a file-like, or its fd is not an integer (as
 *   Python's); RangeError for a negative fd or one above 2^31-1.
 */
export function toFd(obj: unknown): number {
  let fd: unknown = obj;
  if (typeof obj !== 'number') {
    const f = obj !== null && (typeof obj === 'object' || typeof obj === 'function')
      ? (obj as { fileno?: unknown }).fileno : undefined;
    if (typeof f !== 'function') {
      throw new TypeError(`expected a file descriptor or an object with fileno(), got ${describe(obj)}`);
    }
    fd = f.call(obj);
    if (typeof fd !== 'number') {
      throw new TypeError(`fileno() returned ${describe(fd)}, expected an integer`);
    }
  }
  const n = fd as number;
  if (!Number.isInteger(n)) throw new TypeError(`file descriptor must be an integer, got ${describe(n)}`);
  if (n < 0) throw new RangeError(`file descriptor cannot be a negative integer (${n})`);
  if (n > INT_MAX) throw new RangeError(`file descriptor ${n} is out of range`);
  return n;
}
