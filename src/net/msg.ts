/**
 * `sendmsg(2)`/`recvmsg(2)` with scatter/gather buffers and ancillary data, as Python's
 * `socket.sendmsg`, `recvmsg` and `recvmsg_into`, over hand-built `msghdr`/`iovec`/
 * `cmsghdr` bytes in preallocated off-heap scratch (nothing is allocated per call beyond
 * the results).
 *
 * Buffers are passed to the kernel by address: each view's `ArrayBuffer` is touched
 * first, which moves a small on-heap typed array's bytes off the heap for good, so no
 * address handed to the kernel can move. Received fds are close-on-exec (MSG_CMSG_CLOEXEC);
 * sends never raise SIGPIPE (MSG_NOSIGNAL).
 */
import * as libc from '../sys/libc.js';
import { retry } from '../sys/call.js';
import { AF_UNIX, MSG_CMSG_CLOEXEC, MSG_NOSIGNAL, POLLIN, POLLOUT, SCM_RIGHTS, SOL_SOCKET } from '../sys/constants.js';
import { CMSGHDR_SIZE, IOVEC_SIZE, UIO_MAXIOV, cmsgLen, cmsgSpace } from '../sys/structs.js';
import { ANCBUF_MAX, checkAncdata, putSize, writeCmsgs } from '../sys/cmsg.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../errors.js';
import { INT_MAX, describe, toBytes, toCInt, toInteger, toSize, toWritableBytes } from '../validate.js';
import { encodeAddress } from './address.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';
import { ADDR } from './scratch.js';
import { again } from './transfer.js';
import { MSG, Scratch, addrOf, fillMsghdr, msgFlags as rawMsgFlags, msgNameLen, msgControlLen, eachCmsg } from './msghdr.js';

/** One ancillary data item: `[level, type, data]`, as Python's `(cmsg_level, cmsg_type, cmsg_data)`. */
export type AncData = [level: number, type: number, data: Buffer];
/** What `recvmsg` returns: `[data, ancdata, msgFlags, address]`. */
export type RecvmsgResult = [data: Buffer, ancdata: AncData[], msgFlags: number, address: SocketAddress | null];
/** What `recvmsgInto` returns: `[nbytes, ancdata, msgFlags, address]`. */
export type RecvmsgIntoResult = [nbytes: number, ancdata: AncData[], msgFlags: number, address: SocketAddress | null];


const IOV = new Scratch(IOVEC_SIZE * 8);
const DATA = new Scratch(64 * 1024);
const CTRL = new Scratch(256);
const NAME_ADDR = addrOf(ADDR);

/** `CMSG_LEN(length)`: a control message's length for `length` bytes of data (no trailing padding). */
export function CMSG_LEN(length: number): number {
  return cmsgLen(toInteger(length, 'length', 0, INT_MAX - CMSGHDR_SIZE));
}

/** `CMSG_SPACE(length)`: the buffer space one control message of `length` data bytes takes, padding included. */
export function CMSG_SPACE(length: number): number {
  return cmsgSpace(toInteger(length, 'length', 0, INT_MAX - CMSGHDR_SIZE - 8));
}

/** The views of an iterable of buffers (`what` names it in messages). */
function viewsOf(buffers: unknown, what: string, writable: boolean): Uint8Array[] {
  if (buffers === null || typeof buffers !== 'object' || typeof (buffers as Iterable<unknown>)[Symbol.iterator] !== 'function'
    || ArrayBuffer.isView(buffers) || buffers instanceof ArrayBuffer) {
    throw new TypeError(`${what} must be an array (iterable) of buffers, got ${describe(buffers)}`);
  }
  const out: Uint8Array[] = [];
  let i = 0;
  for (const b of buffers as Iterable<unknown>) {
    out.push(writable ? toWritableBytes(b, `${what}[${i}]`) : toBytes(b, `${what}[${i}]`));
    i++;
  }
  if (out.length > UIO_MAXIOV) {
    throw new OSError(errno.EMSGSIZE, `${what}: ${out.length} buffers, at most ${UIO_MAXIOV} (IOV_MAX) in one message`);
  }
  return out;
}

/** Writes one iovec per view (by address); returns the total length. */
function fillIov(views: Uint8Array[]): number {
  const iov = IOV.reserve(views.length * IOVEC_SIZE);
  let total = 0;
  for (let i = 0; i < views.length; i++) {
    const v = views[i]!;
    void v.buffer; // an on-heap typed array moves off the heap here, for good
    putSize(iov, i * IOVEC_SIZE, v.length > 0 ? addrOf(v) : 0);
    putSize(iov, i * IOVEC_SIZE + 8, v.length);
    total += v.length;
  }
  return total;
}

/** Fills the `msghdr` scratch with this module's name, iovec and control scratch. */
function setMsghdr(nameLen: number, iovlen: number, controlLen: number): void {
  fillMsghdr(NAME_ADDR, nameLen, IOV.addr, iovlen, CTRL.addr, controlLen);
}

/** Encodes `ancdata` (an iterable of `[level, type, data]`) into the control scratch; returns its length. */
function encodeAncdata(ancdata: unknown): number {
  const { items, space } = checkAncdata(ancdata, 'ancdata');
  return space === 0 ? 0 : writeCmsgs(CTRL.reserve(space), 0, items);
}

/**
 * `sendmsg(2)`: gathers `buffers` into one message with the control messages `ancdata`
 * and, on an unconnected socket, the destination `address`; returns the bytes sent.
 * Waits on EAGAIN when the socket has a timeout (`timeout` > 0), else throws.
 */
export function sendmsg(fd: number, timeout: number, family: number, buffers: unknown, ancdata: unknown,
  flags: unknown, address: unknown): number {
  const views = viewsOf(buffers, 'buffers', false);
  const f = toCInt(flags ?? 0, 'flags') | MSG_NOSIGNAL;
  const control = encodeAncdata(ancdata);
  const nameLen = address === undefined || address === null ? 0 : encodeAddress(family, address, ADDR);
  let deadline = -1;
  for (;;) {
    // Refilled on every try: a wait in between uses no scratch of this module.
    fillIov(views);
    setMsghdr(nameLen, views.length, control);
    const r = retry(libc.sendmsg, fd, MSG, f);
    if (r >= 0) return r;
    deadline = again(fd, timeout, r, POLLOUT, deadline, 'sendmsg');
  }
}

/** Checks `ancbufsize` and reserves the control scratch for it. */
function ancbufSize(ancbufsize: unknown): number {
  const n = toSize(ancbufsize ?? 0, 'ancbufsize');
  if (n > ANCBUF_MAX) throw new RangeError(`ancbufsize ${n} is too large (at most ${ANCBUF_MAX})`);
  if (n > 0) CTRL.reserve(n);
  return n;
}

/** `recvmsg(2)` with the msghdr already set up but for control/name; returns the count. */
function recvLoop(fd: number, timeout: number, iovlen: number, control: number, flags: number, views?: Uint8Array[]): number {
  let deadline = -1;
  for (;;) {
    if (views) fillIov(views);
    setMsghdr(ADDR.length, iovlen, control);
    const r = retry(libc.recvmsg, fd, MSG, flags | MSG_CMSG_CLOEXEC);
    if (r >= 0) return r;
    deadline = again(fd, timeout, r, POLLIN, deadline, 'recvmsg');
  }
}

/**
 * The control messages the last `recvmsg` left in the scratch. A message cut short by
 * MSG_CTRUNC keeps the bytes that arrived (the kernel passes only whole fds and closes
 * the others itself).
 */
function decodeAncdata(): AncData[] {
  const out: AncData[] = [];
  const c = CTRL.buf;
  eachCmsg(c, msgControlLen(), (level, type, start, end) => {
    out.push([level, type, Buffer.from(c.subarray(start, end))]);
  });
  return out;
}

/** `msg_flags` of the last `recvmsg`, without the MSG_CMSG_CLOEXEC iomux always passes. */
function msgFlags(): number {
  return rawMsgFlags() & ~MSG_CMSG_CLOEXEC;
}

/** The sender of the last `recvmsg` (`''` for an unnamed AF_UNIX peer, as `recvfrom`). */
function senderOf(family: number): SocketAddress | null {
  const addr = decodeAddress(ADDR, msgNameLen());
  return addr === null && family === AF_UNIX ? '' : addr;
}

/** The fds carried by the SCM_RIGHTS items of `ancdata`. */
export function rightsFds(ancdata: readonly AncData[]): number[] {
  const fds: number[] = [];
  for (const [level, type, data] of ancdata) {
    if (level !== SOL_SOCKET || type !== SCM_RIGHTS) continue;
    for (let p = 0; p + 4 <= data.length; p += 4) fds.push(data.readInt32LE(p));
  }
  return fds;
}

/** `recvmsg(2)` of up to `bufsize` bytes: `[data, ancdata, msgFlags, address]`. */
export function recvmsg(fd: number, timeout: number, family: number, bufsize: unknown, ancbufsize: unknown,
  flags: unknown): RecvmsgResult {
  const size = toSize(bufsize, 'bufsize');
  const control = ancbufSize(ancbufsize);
  const f = toCInt(flags ?? 0, 'flags');
  // Up to 64 KiB through the shared scratch; a larger receive gets a buffer of its own
  // (the scratch never grows to the largest bufsize ever asked for).
  const big = size > DATA.buf.length ? Buffer.allocUnsafeSlow(size) : null;
  const data = big ?? DATA.buf;
  const iov = IOV.reserve(IOVEC_SIZE);
  putSize(iov, 0, big ? addrOf(big) : DATA.addr);
  putSize(iov, 8, size);
  const n = recvLoop(fd, timeout, 1, control, f);
  const anc = decodeAncdata();
  let out: Buffer;
  if (big && n * 2 >= size) {
    out = big.subarray(0, n);
  } else {
    out = Buffer.allocUnsafe(n);
    data.copy(out, 0, 0, n);
  }
  return [out, anc, msgFlags(), senderOf(family)];
}

/** `recvmsg(2)` scattering into `buffers` (no copy): `[nbytes, ancdata, msgFlags, address]`. */
export function recvmsgInto(fd: number, timeout: number, family: number, buffers: unknown, ancbufsize: unknown,
  flags: unknown): RecvmsgIntoResult {
  const views = viewsOf(buffers, 'buffers', true);
  const control = ancbufSize(ancbufsize);
  const f = toCInt(flags ?? 0, 'flags');
  const n = recvLoop(fd, timeout, views.length, control, f, views);
  return [n, decodeAncdata(), msgFlags(), senderOf(family)];
}

/** Most fds the kernel passes in one message (Linux's SCM_MAX_FD). */
const SCM_MAX_FD = 253;

/**
 * Python's `send_fds`: `data` (one buffer or string, or an array of them, sent as one)
 * with `fds` attached as one SCM_RIGHTS message; returns the bytes sent.
 */
export function sendFds(fd: number, timeout: number, family: number, data: unknown, fds: unknown, flags: unknown): number {
  const parts = Array.isArray(data) ? data : [data];
  const views = parts.map((d, i) => (typeof d === 'string' ? Buffer.from(d, 'utf8') : toBytes(d, Array.isArray(data) ? `data[${i}]` : 'data')));
  if (!Array.isArray(fds)) throw new TypeError(`fds must be an array of file descriptors, got ${describe(fds)}`);
  const ints = Buffer.allocUnsafe(4 * fds.length);
  fds.forEach((v, i) => ints.writeInt32LE(toInteger(v, `fds[${i}]`, 0, INT_MAX), 4 * i));
  const anc = fds.length > 0 ? [[SOL_SOCKET, SCM_RIGHTS, ints]] : undefined;
  return sendmsg(fd, timeout, family, views, anc, flags, undefined);
}

/**
 * Python's `recv_fds`, as `[data, fds]`: up to `bufsize` bytes and up to `maxfds` fds.
 * Every fd the kernel delivered is returned (and owned by the caller), even when the
 * message's data or control part was truncated.
 */
export function recvFds(fd: number, timeout: number, family: number, bufsize: unknown, maxfds: unknown, flags: unknown): [Buffer, number[]] {
  toSize(bufsize, 'bufsize');
  const max = toInteger(maxfds, 'maxfds', 0, INT_MAX);
  // CMSG_LEN(4 * maxfds), as Python's recv_fds: the kernel delivers as many fds as fit.
  // It never passes more than SCM_MAX_FD in one message, so a larger maxfds needs no room.
  const room = Math.min(max, SCM_MAX_FD);
  const [data, anc] = recvmsg(fd, timeout, family, bufsize, room > 0 ? cmsgLen(4 * room) : 0, flags);
  return [data, rightsFds(anc)];
}
