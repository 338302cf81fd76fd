/**
 * The memory of one Proactor sendmsg: its `msghdr`, `iovec` array, control messages and
 * destination address, laid out in one off-heap buffer of its own (the kernel may read
 * any of it until the operation completes, and several sendmsgs can be queued at once),
 * plus the caller's views the iovecs point at. A short send on a stream socket is
 * continued by pointing the iovecs past the bytes sent and dropping the control messages,
 * which went with the first part.
 */
import { koffi } from '../sys/libc.js';
import { MSG_NOSIGNAL } from '../sys/constants.js';
import {
  CMSGHDR_SIZE, IOVEC_SIZE, MSGHDR_CONTROL, MSGHDR_CONTROLLEN, MSGHDR_IOV, MSGHDR_IOVLEN, MSGHDR_NAME,
  MSGHDR_NAMELEN, MSGHDR_SIZE, SOCKADDR_STORAGE_SIZE, UIO_MAXIOV, cmsgLen, cmsgSpace,
} from '../sys/structs.js';
import { INT_MAX, describe, toBytes, toCInt, toOptions } from '../validate.js';
import type { SendmsgOptions } from './types.js';

/** Largest control part accepted (the kernel's own limit, `optmem_max`, is lower). */
const ANCBUF_MAX = 1 << 20;
const TWO32 = 2 ** 32;

/** A view's native address (0 for an empty one, which the kernel never reads). */
const addrOf = (v: Uint8Array): number => (v.length > 0 ? Number(koffi.address(v) as bigint) : 0);

/** Writes a 64-bit little-endian field (pointer, `size_t`) from a number. */
function put64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32LE(n % TWO32, off);
  buf.writeUInt32LE(Math.floor(n / TWO32), off + 4);
}

/** The byte views of `buffers` (any iterable of byte views), each moved off V8's heap for good. */
function viewsOf(buffers: unknown): Uint8Array[] {
  if (buffers === null || typeof buffers !== 'object' || typeof (buffers as Iterable<unknown>)[Symbol.iterator] !== 'function'
    || ArrayBuffer.isView(buffers) || buffers instanceof ArrayBuffer) {
    throw new TypeError(`buffers must be an array (iterable) of buffers, got ${describe(buffers)}`);
  }
  const out: Uint8Array[] = [];
  let total = 0;
  for (const b of buffers as Iterable<unknown>) {
    const v = toBytes(b, `buffers[${out.length}]`);
    void v.buffer; // an on-heap typed array moves off the heap here, so its address stays
    out.push(v);
    total += v.length;
  }
  if (out.length > UIO_MAXIOV) throw new RangeError(`buffers: ${out.length} buffers, at most ${UIO_MAXIOV} (IOV_MAX) in one message`);
  if (total > INT_MAX) throw new RangeError(`buffers: ${total} bytes in all, at most ${INT_MAX} in one sendmsg`);
  return out;
}

/** The checked `[level, type, data]` items of `ancdata`, and the control space they take. */
function ancdataOf(ancdata: unknown): { items: Array<[number, number, Uint8Array]>; space: number } {
  const items: Array<[number, number, Uint8Array]> = [];
  if (ancdata === undefined || ancdata === null) return { items, space: 0 };
  if (typeof ancdata !== 'object' || typeof (ancdata as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`options.ancdata must be an array of [level, type, data] items, got ${describe(ancdata)}`);
  }
  let space = 0;
  for (const item of ancdata as Iterable<unknown>) {
    const i = items.length;
    if (!Array.isArray(item) || item.length !== 3) {
      throw new TypeError(`options.ancdata[${i}] must be a [level, type, data] item, got ${describe(item)}`);
    }
    const level = toCInt(item[0], `options.ancdata[${i}] level`);
    const type = toCInt(item[1], `options.ancdata[${i}] type`);
    const data = toBytes(item[2], `options.ancdata[${i}] data`);
    space += cmsgSpace(data.length);
    if (space > ANCBUF_MAX) throw new RangeError(`options.ancdata too large: more than ${ANCBUF_MAX} bytes of control messages`);
    items.push([level, type, data]);
  }
  return { items, space };
}

/** The bytes of `options.address` (a `struct sockaddr`), or null for none. */
function addressOf(address: unknown): Uint8Array | null {
  if (address === undefined || address === null) return null;
  if (!ArrayBuffer.isView(address) && !(address instanceof ArrayBuffer)) {
    throw new TypeError(`options.address must be the bytes of a struct sockaddr (a Uint8Array), got ${describe(address)}`);
  }
  const a = toBytes(address, 'options.address');
  if (a.length < 1 || a.length > SOCKADDR_STORAGE_SIZE) {
    throw new RangeError(`options.address must be 1..${SOCKADDR_STORAGE_SIZE} bytes of struct sockaddr, got ${a.length}`);
  }
  return a;
}

/** One sendmsg's native memory and the views it points at; kept in its slot's `ref`. */
export class SendMsg {
  /** msghdr, then the iovecs, the control messages and the address. */
  readonly mem: Buffer;
  /** The msghdr's native address. */
  readonly addr: number;
  /** The caller's buffers (kept alive with the memory that points at them). */
  readonly views: Uint8Array[];
  /** Bytes in all the buffers. */
  readonly total: number;
  /** `msg_flags` of the SQE (MSG_NOSIGNAL added). */
  readonly flags: number;

  /**
   * Checks `buffers` and the options' `ancdata`, `flags` and `address`, and lays the
   * message out (the address and control data are copied; the buffers are not).
   * @throws TypeError / RangeError naming the argument at fault.
   */
  constructor(buffers: unknown, options: SendmsgOptions | undefined) {
    const views = viewsOf(buffers);
    const o = toOptions<SendmsgOptions>(options, 'options');
    this.flags = (o.flags === undefined ? 0 : toCInt(o.flags, 'options.flags')) | MSG_NOSIGNAL;
    const { items, space } = ancdataOf(o.ancdata);
    const name = addressOf(o.address);
    const iovOff = MSGHDR_SIZE;
    const ctrlOff = iovOff + views.length * IOVEC_SIZE;
    const nameOff = ctrlOff + space;
    const m = Buffer.allocUnsafeSlow(nameOff + (name === null ? 0 : name.length));
    m.fill(0, 0, nameOff);
    this.mem = m;
    this.addr = Number(koffi.address(m) as bigint);
    this.views = views;
    let total = 0;
    for (let i = 0; i < views.length; i++) {
      const v = views[i]!;
      put64(m, iovOff + i * IOVEC_SIZE, addrOf(v));
      put64(m, iovOff + i * IOVEC_SIZE + 8, v.length);
      total += v.length;
    }
    this.total = total;
    put64(m, MSGHDR_IOV, this.addr + iovOff);
    put64(m, MSGHDR_IOVLEN, views.length);
    if (space > 0) {
      let off = ctrlOff;
      for (const [level, type, data] of items) {
        put64(m, off, cmsgLen(data.length));
        m.writeInt32LE(level, off + 8);
        m.writeInt32LE(type, off + 12);
        m.set(data, off + CMSGHDR_SIZE);
        off += cmsgSpace(data.length);
      }
      put64(m, MSGHDR_CONTROL, this.addr + ctrlOff);
      put64(m, MSGHDR_CONTROLLEN, space);
    }
    if (name !== null) {
      m.set(name, nameOff);
      put64(m, MSGHDR_NAME, this.addr + nameOff);
      m.writeUInt32LE(name.length, MSGHDR_NAMELEN);
    }
  }

  /**
   * Points the message past its first `done` bytes (0 < `done` < {@link total}) for the
   * rest of a short send, without the control messages (they went with the first part).
   */
  advance(done: number): void {
    const v = this.views;
    let i = 0;
    let skip = done;
    while (i < v.length - 1 && skip >= v[i]!.length) skip -= v[i++]!.length;
    const m = this.mem;
    const at = MSGHDR_SIZE + i * IOVEC_SIZE;
    put64(m, at, addrOf(v[i]!) + skip);
    put64(m, at + 8, v[i]!.length - skip);
    put64(m, MSGHDR_IOV, this.addr + at);
    put64(m, MSGHDR_IOVLEN, v.length - i);
    put64(m, MSGHDR_CONTROL, 0);
    put64(m, MSGHDR_CONTROLLEN, 0);
  }
}
