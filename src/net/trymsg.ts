/**
 * Non-throwing `sendmsg(2)`/`recvmsg(2)`/`recvfrom(2)`/`recv(2)` on an fd, for the stream
 * and datagram faces: gathered writes (several buffers in one system call), file
 * descriptors attached to data (SCM_RIGHTS) and datagram addresses, each returning a
 * count or `-errno` so that EAGAIN costs no exception. They fill the same `msghdr` as
 * `Socket#sendmsg`/`recvmsg` (msghdr.ts); the `iovec` array, address and control bytes
 * live in off-heap scratch that never moves.
 *
 * Every call passes MSG_DONTWAIT, so it never sleeps and no signal can interrupt it:
 * one call each, as `Socket#tryRecvInto`/`trySend`.
 *
 * Gathering: a piece of at least {@link BY_ADDRESS} bytes is handed to the kernel by its
 * address (no copy); smaller pieces are copied into a scratch run, since taking a
 * buffer's address costs more than copying a few kilobytes, and small typed arrays may
 * live inside the JS heap where they can move.
 */
import * as libc from '../sys/libc.js';
import { sysret } from '../sys/call.js';
import { SOL_SOCKET, SCM_RIGHTS, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC, MSG_TRUNC } from '../sys/constants.js';
import { IOVEC_SIZE, cmsgSpace, cmsgLen, SOCKADDR_STORAGE_SIZE } from '../sys/structs.js';
import { putSize, getSize } from '../sys/cmsg.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';
import {
  MSG, addrOf, fillMsghdr, msgFlags, msgNameLen, msgControlLen, putRights, eachCmsg,
} from './msghdr.js';

/** Pieces at least this long go to the kernel by address; shorter ones are copied. */
export const BY_ADDRESS = 16 * 1024;
/** Most iovec entries in one call (Linux's UIO_MAXIOV is 1024). */
export const MAX_IOV = 64;
/** Most bytes one gathered send offers the kernel. */
export const MAX_GATHER = 1024 * 1024;
/** Most fds one message carries (Linux's SCM_MAX_FD). */
export const MAX_FDS = 253;

const IOV = Buffer.allocUnsafeSlow(IOVEC_SIZE * MAX_IOV);
const IOV_ADDR = addrOf(IOV);
const NAME = Buffer.allocUnsafeSlow(SOCKADDR_STORAGE_SIZE);
const NAME_ADDR = addrOf(NAME);
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

function setIov(i: number, addr: number, len: number): void {
  putSize(IOV, i * IOVEC_SIZE, addr);
  putSize(IOV, i * IOVEC_SIZE + 8, len);
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
      setIov(n++, addrOf(b) + off, len);
      runStart = -1;
    } else {
      if (run + len > RUN.length) break;
      RUN.set(off === 0 ? b : b.subarray(off), run);
      if (runStart >= 0) {
        putSize(IOV, runStart * IOVEC_SIZE + 8, getSize(IOV, runStart * IOVEC_SIZE + 8) + len);
      } else {
        runStart = n;
        setIov(n++, RUN_ADDR + run, len);
      }
      run += len;
    }
    total += len;
  }
  return n;
}

/**
 * One non-blocking `sendmsg(2)` of the pieces `g` (from `bufs[first]` at `offset`), with
 * `fds` attached when given (they travel with the first byte sent). MSG_NOSIGNAL: a
 * closed peer is `-EPIPE`.
 * @returns the byte count sent, or `-errno` (`-EAGAIN` when the buffer is full).
 */
export function trySendv(fd: number, g: Gather, fds: readonly number[] | null = null): number {
  const iovlen = fillIov(g.bufs, g.first, g.offset);
  fillMsghdr(0, 0, IOV_ADDR, iovlen, CTRL_ADDR, putRights(CTRL, fds));
  return sysret(libc.sendmsg(fd, MSG, MSG_DONTWAIT | MSG_NOSIGNAL));
}

/**
 * One non-blocking datagram: `data` to the encoded address `name` (`namelen` bytes; 0:
 * the connected peer), with `fds` attached when given.
 * @returns the byte count sent or `-errno`.
 */
export function trySendTo(fd: number, data: Uint8Array, name: Buffer | null, namelen: number,
  fds: readonly number[] | null = null): number {
  if (fds === null || fds.length === 0) {
    return name === null || namelen === 0
      ? sysret(libc.send(fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL))
      : sysret(libc.sendto(fd, data, data.length, MSG_DONTWAIT | MSG_NOSIGNAL, name, namelen));
  }
  const iovlen = fillIov([data], 0, 0);
  const control = putRights(CTRL, fds);
  if (name !== null && namelen > 0) name.copy(NAME, 0, 0, namelen);
  fillMsghdr(NAME_ADDR, name === null ? 0 : namelen, IOV_ADDR, iovlen, CTRL_ADDR, control);
  return sysret(libc.sendmsg(fd, MSG, MSG_DONTWAIT | MSG_NOSIGNAL));
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

/** The fds of {@link tryRecvMsg} being collected by {@link takeRights}. */
let rights: number[] = [];

function takeRights(level: number, type: number, start: number, end: number): void {
  if (level !== SOL_SOCKET || type !== SCM_RIGHTS) return;
  for (let q = start; q + 4 <= end; q += 4) rights.push(CTRL.readInt32LE(q));
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
  fillMsghdr(NAME_ADDR, wantName ? SOCKADDR_STORAGE_SIZE : 0, IOV_ADDR, 1, CTRL_ADDR, control);
  const r = sysret(libc.recvmsg(fd, MSG, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
  out.fds = [];
  out.address = null;
  out.truncated = false;
  if (r < 0) return r;
  buf.set(RUN.subarray(0, Math.min(r, n)), off);
  out.truncated = (msgFlags() & MSG_TRUNC) !== 0;
  if (wantName) out.address = decodeAddress(NAME, msgNameLen());
  if (control > 0) {
    rights = out.fds;
    eachCmsg(CTRL, msgControlLen(), takeRights);
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
  FROMLEN.writeUInt32LE(FROM.length, 0);
  return sysret(libc.recvfrom(fd, off === 0 ? buf : buf.subarray(off, off + len), len, MSG_DONTWAIT | MSG_TRUNC, FROM, FROMLEN));
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
  return sysret(libc.recv(fd, off === 0 ? buf : buf.subarray(off, off + len), len, MSG_DONTWAIT | MSG_TRUNC));
}
