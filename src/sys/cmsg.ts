/**
 * What every `sendmsg(2)` of the package writes the same way: the 64-bit fields of
 * `msghdr`, `iovec` and `cmsghdr` (written from numbers, no BigInt), and the control
 * messages of Python's `ancdata` argument, checked and laid out as `cmsghdr` items. The
 * socket module's `sendmsg` (net/) and the Proactor's (uring/) both encode through here.
 */
import { CMSGHDR_SIZE, cmsgLen, cmsgSpace } from './structs.js';
import { describe, toBytes, toCInt } from '../validate.js';

/** Largest control part accepted (the kernel's own limit, `optmem_max`, is lower). */
export const ANCBUF_MAX = 1 << 20;

const TWO32 = 2 ** 32;

/** One control message: `[level, type, data]`. */
export type CmsgItem = [level: number, type: number, data: Uint8Array];

/** Writes a 64-bit little-endian field (`size_t`, pointer) from a number, without a BigInt. */
export function putSize(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32LE(n % TWO32, off);
  buf.writeUInt32LE(Math.floor(n / TWO32), off + 4);
}

/** Reads a 64-bit little-endian field (lengths and counts) as a number. */
export function getSize(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO32;
}

/**
 * Checks `ancdata` (null/undefined, or an iterable of `[level, type, data]` items; `what`
 * names it in errors) and returns its items with the control space they take.
 * @throws TypeError for a wrong shape or type; RangeError for a level or type outside a C
 *   int, or more than {@link ANCBUF_MAX} bytes in all.
 */
export function checkAncdata(ancdata: unknown, what: string): { items: CmsgItem[]; space: number } {
  const items: CmsgItem[] = [];
  if (ancdata === undefined || ancdata === null) return { items, space: 0 };
  if (typeof ancdata !== 'object' || typeof (ancdata as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${what} must be an array of [level, type, data] items, got ${describe(ancdata)}`);
  }
  let space = 0;
  for (const item of ancdata as Iterable<unknown>) {
    const i = items.length;
    if (!Array.isArray(item) || item.length !== 3) {
      throw new TypeError(`${what}[${i}] must be a [level, type, data] item, got ${describe(item)}`);
    }
    const level = toCInt(item[0], `${what}[${i}] level`);
    const type = toCInt(item[1], `${what}[${i}] type`);
    const data = toBytes(item[2], `${what}[${i}] data`);
    space += cmsgSpace(data.length);
    if (space > ANCBUF_MAX) throw new RangeError(`${what} too large: more than ${ANCBUF_MAX} bytes of control messages`);
    items.push([level, type, data]);
  }
  return { items, space };
}

/**
 * Lays `items` out as `cmsghdr` control messages from `buf[off]`, padding included (the
 * caller sized the area with {@link checkAncdata}'s `space`); returns the bytes written.
 */
export function writeCmsgs(buf: Buffer, off: number, items: readonly CmsgItem[]): number {
  const start = off;
  for (const [level, type, data] of items) {
    const space = cmsgSpace(data.length);
    buf.fill(0, off, off + space);
    putSize(buf, off, cmsgLen(data.length));
    buf.writeInt32LE(level, off + 8);
    buf.writeInt32LE(type, off + 12);
    buf.set(data, off + CMSGHDR_SIZE);
    off += space;
  }
  return off - start;
}
