/**
 * Passing file descriptors over AF_UNIX sockets (SCM_RIGHTS), as Python's
 * `socket.send_fds` / `socket.recv_fds`, with `sendmsg(2)`/`recvmsg(2)` over hand-built
 * `msghdr`/`iovec`/`cmsghdr` bytes. The structs live in off-heap scratch whose addresses
 * never move; data goes through a scratch copy so no pointer to a JS-heap array is kept.
 * Received fds are close-on-exec (MSG_CMSG_CLOEXEC).
 */
import * as libc from '../sys/libc.js';
import { raise, retry } from '../sys/call.js';
import { SOL_SOCKET, SCM_RIGHTS, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC, POLLIN, POLLOUT } from '../sys/constants.js';
import {
  MSGHDR_SIZE, MSGHDR_IOV, MSGHDR_IOVLEN, MSGHDR_CONTROL, MSGHDR_CONTROLLEN, IOVEC_SIZE,
  CMSGHDR_SIZE, cmsgSpace, cmsgLen,
} from '../sys/structs.js';
import { errno } from '../sys/errno.js';
import { INT_MAX, describe, toBytesOrUtf8, toCInt, toInteger, toSize } from '../validate.js';
import { where } from './scratch.js';

const EAGAIN = errno.EAGAIN;

/** Called on EAGAIN by a socket with a timeout: waits for `events` or throws TimeoutError. */
export type WaitAgain = (events: number) => void;

const MSG = Buffer.allocUnsafeSlow(MSGHDR_SIZE);
const IOV = Buffer.allocUnsafeSlow(IOVEC_SIZE);
const addrOf = (b: Buffer): bigint => libc.koffi.address(b) as bigint;

/** A growable off-heap scratch and its native address. */
class Scratch {
  buf = Buffer.allocUnsafeSlow(256);
  addr = addrOf(this.buf);
  reserve(n: number): Buffer {
    if (n > this.buf.length) {
      this.buf = Buffer.allocUnsafeSlow(Math.max(n, this.buf.length * 2));
      this.addr = addrOf(this.buf);
    }
    return this.buf;
  }
}
const DATA = new Scratch();
const CTRL = new Scratch();

function fillMsghdr(dataLen: number, controlLen: number): void {
  MSG.fill(0);
  IOV.writeBigUInt64LE(DATA.addr, 0);
  IOV.writeBigUInt64LE(BigInt(dataLen), 8);
  MSG.writeBigUInt64LE(addrOf(IOV), MSGHDR_IOV);
  MSG.writeBigUInt64LE(1n, MSGHDR_IOVLEN);
  if (controlLen > 0) {
    MSG.writeBigUInt64LE(CTRL.addr, MSGHDR_CONTROL);
    MSG.writeBigUInt64LE(BigInt(controlLen), MSGHDR_CONTROLLEN);
  }
}

/**
 * The message bytes: one buffer or string, or (as Python's `send_fds(sock, buffers, ...)`)
 * an array of them, sent as one.
 */
function payload(data: unknown): Uint8Array {
  if (!Array.isArray(data)) return toBytesOrUtf8(data, 'data');
  return Buffer.concat(data.map((d, i) => toBytesOrUtf8(d, `data[${i}]`)));
}

/** Most fds the kernel passes in one message (Linux's SCM_MAX_FD). */
const SCM_MAX_FD = 253;

/** `sendmsg` of `data` with `fds` attached; returns the byte count sent. */
export function sendFds(fd: number, data: unknown, fds: readonly number[], flags: unknown = 0, again?: WaitAgain): number {
  const bytes = payload(data);
  if (!Array.isArray(fds)) throw new TypeError(`fds must be an array of file descriptors, got ${describe(fds)}`);
  for (let i = 0; i < fds.length; i++) toInteger(fds[i], `fds[${i}]`, 0, INT_MAX);
  const f = toCInt(flags, 'flags');
  DATA.reserve(bytes.length).set(bytes, 0);
  const control = fds.length > 0 ? cmsgSpace(4 * fds.length) : 0;
  if (control > 0) {
    const c = CTRL.reserve(control);
    c.fill(0, 0, control);
    c.writeBigUInt64LE(BigInt(cmsgLen(4 * fds.length)), 0);
    c.writeInt32LE(SOL_SOCKET, 8);
    c.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((f, i) => c.writeInt32LE(f, CMSGHDR_SIZE + 4 * i));
  }
  for (;;) {
    fillMsghdr(bytes.length, control);
    const r = retry(libc.sendmsg, fd, MSG, f | MSG_NOSIGNAL);
    if (r >= 0) return r;
    if (r === -EAGAIN && again) {
      again(POLLOUT); // a socket with a timeout: wait (or throw TimeoutError), then retry
      continue;
    }
    raise(r, 'sendmsg', `${where(fd)}, fds ${describe(fds)}`);
  }
}

/**
 * `recvmsg` of up to `bufsize` bytes and up to `maxfds` fds: `[data, fds]`. Every fd the
 * kernel delivered is returned (and owned by the caller), even when the message's data
 * or control part was truncated.
 */
export function recvFds(fd: number, bufsize: number, maxfds: number, flags: unknown = 0, again?: WaitAgain): [Buffer, number[]] {
  toSize(bufsize, 'bufsize');
  toInteger(maxfds, 'maxfds', 0, INT_MAX);
  const f = toCInt(flags, 'flags');
  DATA.reserve(bufsize);
  // The control length is CMSG_LEN(4 * maxfds), as Python's recv_fds: the kernel
  // delivers as many fds as fit (CMSG_SPACE would have room for one more when odd). It
  // never passes more than SCM_MAX_FD in one message, so a larger maxfds needs no room.
  const room = Math.min(maxfds, SCM_MAX_FD);
  const control = room > 0 ? cmsgLen(4 * room) : 0;
  if (control > 0) CTRL.reserve(cmsgSpace(4 * room));
  let n: number;
  for (;;) {
    fillMsghdr(bufsize, control);
    const r = retry(libc.recvmsg, fd, MSG, f | MSG_CMSG_CLOEXEC);
    if (r >= 0) {
      n = r;
      break;
    }
    if (r === -EAGAIN && again) {
      again(POLLIN); // a socket with a timeout: wait (or throw TimeoutError), then retry
      continue;
    }
    raise(r, 'recvmsg', where(fd));
  }
  const data = Buffer.allocUnsafe(n);
  DATA.buf.copy(data, 0, 0, n);
  const fds: number[] = [];
  const clen = Number(MSG.readBigUInt64LE(MSGHDR_CONTROLLEN));
  const c = CTRL.buf;
  let off = 0;
  while (control > 0 && off + CMSGHDR_SIZE <= clen) {
    const len = Number(c.readBigUInt64LE(off));
    if (len < CMSGHDR_SIZE || off + len > clen) break;
    if (c.readInt32LE(off + 8) === SOL_SOCKET && c.readInt32LE(off + 12) === SCM_RIGHTS) {
      for (let p = off + CMSGHDR_SIZE; p + 4 <= off + len; p += 4) fds.push(c.readInt32LE(p));
    }
    off += (len + 7) & ~7;
  }
  return [data, fds];
}
