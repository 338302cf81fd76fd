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
  IOVEC_SIZE, MSGHDR_CONTROL, MSGHDR_CONTROLLEN, MSGHDR_IOV, MSGHDR_IOVLEN, MSGHDR_NAME,
  MSGHDR_NAMELEN, MSGHDR_SIZE, SOCKADDR_STORAGE_SIZE, UIO_MAXIOV,
} from '../sys/structs.js';
import { checkAncdata, putSize, writeCmsgs } from '../sys/cmsg.js';
import { INT_MAX, describe, toBytes, toCInt, toOptions } from '../validate.js';
import type { SendmsgOptions } from './types.js';


/** A view's native address (0 for an empty one, which the kernel never reads). */
const addrOf = (v: Uint8Array): number => (v.length > 0 ? Number(koffi.address(v) as bigint) : 0);

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
    const { items, space } = checkAncdata(o.ancdata, 'options.ancdata');
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
      putSize(m, iovOff + i * IOVEC_SIZE, addrOf(v));
      putSize(m, iovOff + i * IOVEC_SIZE + 8, v.length);
      total += v.length;
    }
    this.total = total;
    putSize(m, MSGHDR_IOV, this.addr + iovOff);
    putSize(m, MSGHDR_IOVLEN, views.length);
    if (space > 0) {
      writeCmsgs(m, ctrlOff, items);
      putSize(m, MSGHDR_CONTROL, this.addr + ctrlOff);
      putSize(m, MSGHDR_CONTROLLEN, space);
    }
    if (name !== null) {
      m.set(name, nameOff);
      putSize(m, MSGHDR_NAME, this.addr + nameOff);
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
    putSize(m, at, addrOf(v[i]!) + skip);
    putSize(m, at + 8, v[i]!.length - skip);
    putSize(m, MSGHDR_IOV, this.addr + at);
    putSize(m, MSGHDR_IOVLEN, v.length - i);
    putSize(m, MSGHDR_CONTROL, 0);
    putSize(m, MSGHDR_CONTROLLEN, 0);
  }
}
