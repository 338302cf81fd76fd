/**
 * The `msghdr` bytes that every socket-module `sendmsg(2)`/`recvmsg(2)` goes through:
 * one off-heap `msghdr` scratch and the SCM_RIGHTS encoding. Both the throwing
 * Python-style calls (msg.ts) and the non-throwing fast forms (trymsg.ts) fill it here.
 * JS runs one call at a time and each use ends before its function returns, so one
 * scratch serves every socket; the struct layout is in sys/structs.ts and the 64-bit
 * field writers and control-message encoding in sys/cmsg.ts.
 */
import * as libc from '../sys/libc.js';
import { putSize, getSize } from '../sys/cmsg.js';
import { SOL_SOCKET, SCM_RIGHTS } from '../sys/constants.js';
import {
  CMSGHDR_SIZE, MSGHDR_CONTROL, MSGHDR_CONTROLLEN, MSGHDR_FLAGS, MSGHDR_IOV, MSGHDR_IOVLEN, MSGHDR_NAME,
  MSGHDR_NAMELEN, MSGHDR_SIZE, cmsgLen, cmsgSpace,
} from '../sys/structs.js';

/** The one `msghdr` scratch. */
export const MSG = Buffer.allocUnsafeSlow(MSGHDR_SIZE);

/** A buffer's native address as a number (user-space addresses are far below 2^53). */
export const addrOf = (b: Uint8Array): number => Number(libc.koffi.address(b) as bigint);


/** A growable off-heap scratch and its native address. */
export class Scratch {
  buf: Buffer;
  addr: number;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafeSlow(size);
    this.addr = addrOf(this.buf);
  }
  /** The buffer, replaced by a larger one first when it holds fewer than `n` bytes. */
  reserve(n: number): Buffer {
    if (n > this.buf.length) { // bounded by the callers (IOV_MAX iovecs, their control limits)
      this.buf = Buffer.allocUnsafeSlow(Math.max(n, this.buf.length * 2));
      this.addr = addrOf(this.buf);
    }
    return this.buf;
  }
}

/**
 * Fills {@link MSG}: the name (`nameLen` 0: none), `iovlen` iovecs at `iovAddr`, and
 * `controlLen` control bytes at `controlAddr` (0: none); flags zero.
 */
export function fillMsghdr(nameAddr: number, nameLen: number, iovAddr: number, iovlen: number,
  controlAddr: number, controlLen: number): void {
  MSG.fill(0);
  if (nameLen > 0) {
    putSize(MSG, MSGHDR_NAME, nameAddr);
    MSG.writeUInt32LE(nameLen, MSGHDR_NAMELEN);
  }
  putSize(MSG, MSGHDR_IOV, iovAddr);
  putSize(MSG, MSGHDR_IOVLEN, iovlen);
  if (controlLen > 0) {
    putSize(MSG, MSGHDR_CONTROL, controlAddr);
    putSize(MSG, MSGHDR_CONTROLLEN, controlLen);
  }
}

/** `msg_flags` of the last `recvmsg`, as the kernel set it. */
export function msgFlags(): number {
  return MSG.readInt32LE(MSGHDR_FLAGS);
}

/** `msg_namelen` of the last `recvmsg`. */
export function msgNameLen(): number {
  return MSG.readUInt32LE(MSGHDR_NAMELEN);
}

/** `msg_controllen` of the last `recvmsg`: the control bytes received. */
export function msgControlLen(): number {
  return getSize(MSG, MSGHDR_CONTROLLEN);
}

/** Writes one SCM_RIGHTS control message carrying `fds` at the start of `ctrl`; returns its space (0: no fds). */
export function putRights(ctrl: Buffer, fds: readonly number[] | null): number {
  if (fds === null || fds.length === 0) return 0;
  const space = cmsgSpace(4 * fds.length);
  ctrl.fill(0, 0, space);
  putSize(ctrl, 0, cmsgLen(4 * fds.length));
  ctrl.writeInt32LE(SOL_SOCKET, 8);
  ctrl.writeInt32LE(SCM_RIGHTS, 12);
  for (let i = 0; i < fds.length; i++) ctrl.writeInt32LE(fds[i]!, CMSGHDR_SIZE + 4 * i);
  return space;
}

/**
 * Walks the first `clen` control bytes of `ctrl` (as the last `recvmsg` left them),
 * calling `each(level, type, start, end)` for every control message's data.
 */
export function eachCmsg(ctrl: Buffer, clen: number, each: (level: number, type: number, start: number, end: number) => void): void {
  let off = 0;
  while (off + CMSGHDR_SIZE <= clen) {
    const len = getSize(ctrl, off);
    if (len < CMSGHDR_SIZE) break;
    each(ctrl.readInt32LE(off + 8), ctrl.readInt32LE(off + 12), off + CMSGHDR_SIZE, Math.min(off + len, clen));
    off += (len + 7) & ~7;
  }
}
