/**
 * Non-throwing `sendmsg(2)`/`recvmsg(2)`/`recvfrom(2)` for the stream and datagram faces:
 * gathered writes (several buffers in one system call), file descriptors attached to data
 * (SCM_RIGHTS) and datagram addresses, each returning a count or `-errno` so that EAGAIN
 * costs no exception. The `msghdr`, `iovec` array, address and control bytes live in
 * off-heap scratch that never moves; one set serves every socket, as JS runs one call at
 * a time and each use ends before its function returns.
 *
 * Gathering: a piece of at least {@link BY_ADDRESS} bytes is handed to the kernel by its
 * address (no copy); smaller pieces are copied into a scratch run, since taking a
 * buffer's address costs more than copying a few kilobytes, and small typed arrays may
 * live inside the JS heap where they can move.
 */
import * as libc from '../sys/libc.js';
import { sysret } from '../sys/call.js';
import { SOL_SOCKET, SCM_RIGHTS, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC, MSG_TRUNC } from '../sys/constants.js';
import {
  MSGHDR_SIZE, MSGHDR_IOV, MSGHDR_IOVLEN, MSGHDR_CONTROL, MSGHDR_CONTROLLEN, IOVEC_SIZE, CMSGHDR_SIZE,
  cmsgSpace, cmsgLen, SOCKADDR_STORAGE_SIZE,
} from '../sys/structs.js';
import { errno } from '../sys/errno.js';
import { decodeAddress, type SocketAddress } from '../net/sockaddr.js';

const EINTR = errno.EINTR;
/** `msghdr.msg_name`/`msg_namelen` and `msg_flags` offsets (x86-64 and arm64). */
const MSGHDR_NAME = 0;
const MSGHDR_NAMELEN = 8;
const MSGHDR_FLAGS = 48;
/** Pieces at least this long go to the kernel by address; shorter ones are copied. */
export const BY_ADDRESS = 16 * 1024;
/** Most iovec entries in one call (Linux's UIO_MAXIOV is 1024). */
export const MAX_IOV = 64;
/** Most bytes one gathered send offers the kernel. */
export const MAX_GATHER = 1024 * 1024;
/** Most fds one message carries (Linux's SCM_MAX_FD). */
export const MAX_FDS = 253;

const koffi = libc.koffi;
const addrOf = (b: Uint8Array): bigint => koffi.address(b) as bigint;

const MSG = Buffer.allocUnsafeSlow(MSGHDR_SIZE);
const IOV = Buffer.allocUnsafeSlow(IOVEC_SIZE * MAX_IOV);
const IOV_ADDR = addrOf(IOV);
const NAME = Buffer.allocUnsafeSlow(SOCKADDR_STORAGE_SIZE);
const NAME_ADDR = addrOf(NAME);
const NAMELEN = Buffer.allocUnsafeSlow(8);
const CTRL = Buffer.allocUnsafeSlow(cmsgSpace(4 * MAX_FDS));
const CTRL_ADDR = addrOf(CTRL);
/** The copy run for small pieces (and the receive buffer of {@link tryRecvMsg}). */
const RUN = Buffer.allocUnsafeSlow(256 * 1024);
const RUN_ADDR = addrOf(RUN);

/** A message's pieces, as {@link trySendv} takes them: `bufs[first]` from byte `offset` on. */
export interface Gather {
  bufs: readonly Uint8Array[];
  first: number;
  offset: number;
}

function setIov(i: number, addr: bigint, len: number): void {
  IOV.writeBigUInt64LE(addr, i * IOVEC_SIZE);
  IOV.writeBigUInt64LE(BigInt(len), i * IOVEC_SIZE + 8);
}

/**
 * Fills the iovec array from `bufs[first]` (from `offset`) on: at most {@link MAX_IOV}
 * entries and about {@link MAX_GATHER} bytes. Returns the entry count.
 */
function fillIov(bufs: readonly Uint8Array[], first: number, offset: number): number {
  let n = 0;
  let total = 0;
  let run = 0; // bytes used in RUN
  let runStart = -1; // iovec index of the open copy run, -1 when none
  for (let i = first; i < bufs.length && n < MAX_IOV && total < MAX_GATHER; i++) {
    const b = bufs[i]!;
    const off = i === first ? offset : 0;
    const len = b.length - off;
    if (len === 0) continue;
    if (len >= BY_ADDRESS) {
      setIov(n++, addrOf(b) + BigInt(off), len);
      runStart = -1;
    } else {
      if (run + len > RUN.length) break;
      RUN.set(off === 0 ? b : b.subarray(off), run);
      if (runStart >= 0) {
        IOV.writeBigUInt64LE(IOV.readBigUInt64LE(runStart * IOVEC_SIZE + 8) + BigInt(len), runStart * IOVEC_SIZE + 8);
      } else {
        runStart = n;
        setIov(n++, RUN_ADDR + BigInt(run), len);
      }
      run += len;
    }
    total += len;
  }
  return n;
}

/** Writes the control message carrying `fds` into CTRL; returns its length (0: none). */
function fillRights(fds: readonly number[] | null): number {
  if (fds === null || fds.length === 0) return 0;
  const control = cmsgSpace(4 * fds.length);
  CTRL.fill(0, 0, control);
  CTRL.writeBigUInt64LE(BigInt(cmsgLen(4 * fds.length)), 0);
  CTRL.writeInt32LE(SOL_SOCKET, 8);
  CTRL.writeInt32LE(SCM_RIGHTS, 12);
  for (let i = 0; i < fds.length; i++) CTRL.writeInt32LE(fds[i]!, CMSGHDR_SIZE + 4 * i);
  return control;
}

function fillMsg(iovlen: number, control: number, namelen: number): void {
  MSG.fill(0);
  if (namelen > 0) {
    MSG.writeBigUInt64LE(NAME_ADDR, MSGHDR_NAME);
    MSG.writeUInt32LE(namelen, MSGHDR_NAMELEN);
  }
  MSG.writeBigUInt64LE(IOV_ADDR, MSGHDR_IOV);
  MSG.writeBigUInt64LE(BigInt(iovlen), MSGHDR_IOVLEN);
  if (control > 0) {
    MSG.writeBigUInt64LE(CTRL_ADDR, MSGHDR_CONTROL);
    MSG.writeBigUInt64LE(BigInt(control), MSGHDR_CONTROLLEN);
  }
}

/**
 * One non-blocking `sendmsg(2)` of the pieces `g` (from `bufs[first]` at `offset`), with
 * `fds` attached when given (they travel with the first byte sent). MSG_NOSIGNAL: a
 * closed peer is `-EPIPE`.
 * @returns the byte count sent, or `-errno` (`-EAGAIN` when the buffer is full).
 */
export function trySendv(fd: number, g: Gather, fds: readonly number[] | null = null): number {
  const iovlen = fillIov(g.bufs, g.first, g.offset);
  const control = fillRights(fds);
  for (;;) {
    fillMsg(iovlen, control, 0);
    const r = sysret(libc.sendmsg(fd, MSG, MSG_DONTWAIT | MSG_NOSIGNAL));
    if (r !== -EINTR) return r;
  }
}

/**
 * One non-blocking datagram: `data` to the encoded address `name` (`namelen` bytes; 0:
 * the connected peer), with `fds` attached when given.
 * @returns the byte count sent or `-errno`.
 */
export function trySendTo(fd: number, data: Uint8Array, name: Buffer | null, namelen: number,
  fds: readonly number[] | null = null): number {
  if (fds === null || fds.length === 0) {
    for (;;) {
      const r = name === null || namelen === 0
        ? sysret(libc.send(fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL))
        : sysret(libc.sendto(fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL, name, namelen));
      if (r !== -EINTR) return r;
    }
  }
  const iovlen = fillIov([data], 0, 0);
  const control = fillRights(fds);
  if (name !== null && namelen > 0) name.copy(NAME, 0, 0, namelen);
  for (;;) {
    fillMsg(iovlen, control, name === null ? 0 : namelen);
    const r = sysret(libc.sendmsg(fd, MSG, MSG_DONTWAIT | MSG_NOSIGNAL));
    if (r !== -EINTR) return r;
  }
}

/** What the last {@link tryRecvMsg} received besides its bytes. */
export interface Received {
  /** The fds that came with the data (close-on-exec, owned by the caller). */
  fds: number[];
  /** The sender's address (datagrams), `''` for an unnamed AF_UNIX sender, `null` if none. */
  address: SocketAddress | null;
  /** Whether the message was longer than the buffer (the rest is lost: datagrams, SEQPACKET). */
  truncated: boolean;
}

/**
 * One non-blocking `recvmsg(2)` into `buf[off, off + len)` (copied through an off-heap
 * scratch, at most its 256 KiB), taking up to `maxfds` fds and, when `wantName`, the
 * sender's address; the extras go into `out`.
 * @returns the byte count (0 at EOF on a stream) or `-errno`.
 */
export function tryRecvMsg(fd: number, buf: Uint8Array, off: number, len: number, maxfds: number,
  wantName: boolean, out: Received): number {
  const n = Math.min(len, RUN.length);
  setIov(0, RUN_ADDR, n);
  const room = Math.min(maxfds, MAX_FDS);
  const control = room > 0 ? cmsgLen(4 * room) : 0;
  let r: number;
  for (;;) {
    fillMsg(1, control, wantName ? SOCKADDR_STORAGE_SIZE : 0);
    r = sysret(libc.recvmsg(fd, MSG, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    if (r !== -EINTR) break;
  }
  out.fds = [];
  out.address = null;
  out.truncated = false;
  if (r < 0) return r;
  buf.set(RUN.subarray(0, Math.min(r, n)), off);
  const flags = MSG.readInt32LE(MSGHDR_FLAGS);
  out.truncated = (flags & MSG_TRUNC) !== 0;
  if (wantName) out.address = decodeAddress(NAME, MSG.readUInt32LE(MSGHDR_NAMELEN));
  const clen = control > 0 ? Number(MSG.readBigUInt64LE(MSGHDR_CONTROLLEN)) : 0;
  let p = 0;
  while (p + CMSGHDR_SIZE <= clen) {
    const l = Number(CTRL.readBigUInt64LE(p));
    if (l < CMSGHDR_SIZE || p + l > clen) break;
    if (CTRL.readInt32LE(p + 8) === SOL_SOCKET && CTRL.readInt32LE(p + 12) === SCM_RIGHTS) {
      for (let q = p + CMSGHDR_SIZE; q + 4 <= p + l; q += 4) out.fds.push(CTRL.readInt32LE(q));
    }
    p += (l + 7) & ~7;
  }
  return r;
}

/** Address scratch of {@link tryRecvFrom}. */
const FROM = Buffer.allocUnsafeSlow(SOCKADDR_STORAGE_SIZE);
const FROMLEN = Buffer.allocUnsafeSlow(8);

/**
 * One non-blocking `recvfrom(2)` into `buf[off, off + len)` with MSG_TRUNC, so a datagram
 * longer than the room is reported by its real length (greater than `len`; the rest is
 * lost). The sender's address is then {@link lastSender}.
 * @returns the datagram's length or `-errno`.
 */
export function tryRecvFrom(fd: number, buf: Uint8Array, off: number, len: number): number {
  const b = off === 0 ? buf : buf.subarray(off, off + len);
  for (;;) {
    FROMLEN.writeUInt32LE(FROM.length, 0);
    const r = sysret(libc.recvfrom(fd, b, len, MSG_DONTWAIT | MSG_TRUNC, FROM, FROMLEN));
    if (r !== -EINTR) return r;
  }
}

/** The sender of the last {@link tryRecvFrom}: `''` for an unnamed AF_UNIX sender. */
export function lastSender(): SocketAddress {
  return decodeAddress(FROM, FROMLEN.readUInt32LE(0)) ?? '';
}

/**
 * One non-blocking `recv(2)` with MSG_TRUNC (SEQPACKET and datagrams): the message's real
 * length (more than `len` when it did not fit) or `-errno`; 0 at EOF.
 */
export function tryRecvTrunc(fd: number, buf: Uint8Array, off: number, len: number): number {
  const b = off === 0 ? buf : buf.subarray(off, off + len);
  for (;;) {
    const r = sysret(libc.recv(fd, b, len, MSG_DONTWAIT | MSG_TRUNC));
    if (r !== -EINTR) return r;
  }
}
