/**
 * Encoding socket addresses (see sockaddr.ts for their shapes) into raw `struct sockaddr`
 * bytes in a caller's buffer (usually a preallocated scratch), returning the length to
 * pass to the kernel. Host names that are not numeric go through the system resolver
 * (synchronously here, as Python does; the Reactor resolves first with the asynchronous
 * `getaddrinfo`).
 */
import * as libc from '../sys/libc.js';
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX } from '../sys/constants.js';
import { SOCKADDR_IN_SIZE, SOCKADDR_IN6_SIZE, SOCKADDR_LL_SIZE, SOCKADDR_NL_SIZE, SUN_PATH_MAX } from '../sys/structs.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../errors.js';
import { describe, toInteger } from '../validate.js';
import { resolveHostSync } from './resolve.js';

export type { InetAddress, Inet6Address, UnixAddress, SocketAddress, AddressLike, NetlinkAddress, PacketAddress, AnyAddress } from './sockaddr.js';

/** A family's name for messages. */
function familyName(family: number): string {
  return family === AF_INET ? 'AF_INET' : family === AF_INET6 ? 'AF_INET6' : family === AF_UNIX ? 'AF_UNIX' : `family ${family}`;
}

function checkHost(host: unknown, family: number, addr: unknown): string {
  if (typeof host !== 'string') {
    throw new TypeError(`${familyName(family)} address host must be a string, got ${describe(host)} in ${describe(addr)}`);
  }
  if (host.includes('\0')) throw new TypeError(`host ${describe(host)} contains a NUL character`);
  return host;
}

function checkPort(port: unknown, addr: unknown): number {
  if (typeof port !== 'number') throw new TypeError(`port must be an integer, got ${describe(port)} in ${describe(addr)}`);
  return toInteger(port, 'port', 0, 65535);
}

function checkU32(v: unknown, what: string, max: number): number {
  return v === undefined ? 0 : toInteger(v, what, 0, max);
}

/**
 * Writes the 4 (AF_INET) or 16 (AF_INET6) address bytes of `host` at `out[off]`:
 * `''` is the wildcard, `'<broadcast>'` INADDR_BROADCAST (AF_INET), a numeric address is
 * parsed, and anything else is resolved with the system resolver (synchronously).
 */
function writeHost(family: number, host: string, out: Buffer, off: number): void {
  const n = family === AF_INET ? 4 : 16;
  if (host === '') {
    out.fill(0, off, off + n);
    return;
  }
  if (family === AF_INET && host === '<broadcast>') {
    out.fill(0xff, off, off + 4);
    return;
  }
  if (libc.inet_pton(family, host, out.subarray(off, off + n)) === 1) return;
  resolveHostSync(family, host).copy(out, off, 0, n);
}

/** Whether `host` is a numeric address of `family` (or `''`), i.e. needs no resolver. */
export function isNumericHost(family: number, host: string): boolean {
  if (host === '' || (family === AF_INET && host === '<broadcast>')) return true;
  return libc.inet_pton(family, host, HOST_SCRATCH) === 1;
}
const HOST_SCRATCH = Buffer.alloc(16);

/**
 * Encodes `addr` for `family` into `out` (at least 128 bytes) as `struct sockaddr_*` and
 * returns the address length.
 * @throws TypeError for a wrong shape or type; RangeError for a port, flowinfo or scope
 *   id out of range; OSError ENAMETOOLONG for an AF_UNIX name longer than `sun_path`;
 *   `GaiError` when a host name does not resolve; OSError EAFNOSUPPORT for another family.
 */
export function encodeAddress(family: number, addr: unknown, out: Buffer): number {
  if (family === AF_INET) {
    if (!Array.isArray(addr) || addr.length !== 2) {
      throw new TypeError(`AF_INET address must be a [host, port] pair, got ${describe(addr)}`);
    }
    const host = checkHost(addr[0], family, addr);
    const port = checkPort(addr[1], addr);
    out.fill(0, 0, SOCKADDR_IN_SIZE);
    out.writeUInt16LE(AF_INET, 0);
    out.writeUInt16BE(port, 2);
    writeHost(AF_INET, host, out, 4);
    return SOCKADDR_IN_SIZE;
  }
  if (family === AF_INET6) {
    if (!Array.isArray(addr) || addr.length < 2 || addr.length > 4) {
      throw new TypeError(`AF_INET6 address must be [host, port, flowinfo?, scopeId?], got ${describe(addr)}`);
    }
    const host = checkHost(addr[0], family, addr);
    const port = checkPort(addr[1], addr);
    const flowinfo = checkU32(addr[2], 'flowinfo', 0xfffff);
    const scopeId = checkU32(addr[3], 'scopeId', 0xffffffff);
    out.fill(0, 0, SOCKADDR_IN6_SIZE);
    out.writeUInt16LE(AF_INET6, 0);
    out.writeUInt16BE(port, 2);
    out.writeUInt32BE(flowinfo, 4);
    writeHost(AF_INET6, host, out, 8);
    out.writeUInt32LE(scopeId, 24); // host byte order (little-endian on x86-64 and arm64)
    return SOCKADDR_IN6_SIZE;
  }
  if (family === AF_UNIX) {
    let bytes: Uint8Array;
    if (typeof addr === 'string') bytes = Buffer.from(addr, 'utf8');
    else if (addr instanceof Uint8Array) bytes = addr;
    else throw new TypeError(`AF_UNIX address must be a path string or bytes, got ${describe(addr)}`);
    if (bytes.length > SUN_PATH_MAX) {
      throw new OSError(errno.ENAMETOOLONG,
        `AF_UNIX path too long: ${bytes.length} bytes, at most ${SUN_PATH_MAX}: ${JSON.stringify(typeof addr === 'string' ? addr : Buffer.from(bytes).toString())}`);
    }
    out.writeUInt16LE(AF_UNIX, 0);
    out.set(bytes, 2);
    // Abstract names are exactly their bytes; a path gets a NUL when there is room
    // (the kernel accepts a full 108-byte path without one).
    if (bytes.length < SUN_PATH_MAX) out[2 + bytes.length] = 0;
    return 2 + bytes.length;
  }
  if (family === AF_NETLINK) return encodeNetlink(addr, out);
  if (family === AF_PACKET) return encodePacket(addr, out);
  throw new OSError(errno.EAFNOSUPPORT, `cannot encode an address for ${familyName(family)}: ${describe(addr)}`);
}


/** `[pid, groups]` as `struct sockaddr_nl` (Python's AF_NETLINK address). */
function encodeNetlink(addr: unknown, out: Buffer): number {
  if (!Array.isArray(addr) || addr.length !== 2) {
    throw new TypeError(`AF_NETLINK address must be a [pid, groups] pair, got ${describe(addr)}`);
  }
  const pid = toInteger(addr[0], 'netlink pid', 0, 0xffffffff);
  const groups = toInteger(addr[1], 'netlink groups', 0, 0xffffffff);
  out.fill(0, 0, SOCKADDR_NL_SIZE);
  out.writeUInt16LE(AF_NETLINK, 0);
  out.writeUInt32LE(pid, 4);
  out.writeUInt32LE(groups, 8);
  return SOCKADDR_NL_SIZE;
}

/**
 * `[ifname, proto, pkttype?, hatype?, addr?]` as `struct sockaddr_ll` (Python's AF_PACKET
 * address; proto in host order).
 */
function encodePacket(addr: unknown, out: Buffer): number {
  if (!Array.isArray(addr) || addr.length < 2 || addr.length > 5 || typeof addr[0] !== 'string') {
    throw new TypeError(`AF_PACKET address must be [ifname, proto, pkttype?, hatype?, addr?], got ${describe(addr)}`);
  }
  const index = libc.if_nametoindex(addr[0]) as number;
  if (index === 0) throw new OSError(errno.ENODEV, `no such network interface: ${describe(addr[0])}`);
  const proto = toInteger(addr[1], 'proto', 0, 0xffff);
  const pkttype = checkU32(addr[2], 'pkttype', 255);
  const hatype = checkU32(addr[3], 'hatype', 0xffff);
  const hw = addr[4] === undefined ? new Uint8Array(0) : addr[4];
  if (!(hw instanceof Uint8Array) || hw.length > 8) {
    throw new TypeError(`AF_PACKET hardware address must be at most 8 bytes, got ${describe(addr[4])}`);
  }
  out.fill(0, 0, SOCKADDR_LL_SIZE);
  out.writeUInt16LE(AF_PACKET, 0);
  out.writeUInt16BE(proto, 2);
  out.writeInt32LE(index, 4);
  out.writeUInt16LE(hatype, 8);
  out[10] = pkttype;
  out[11] = hw.length;
  out.set(hw, 12);
  return SOCKADDR_LL_SIZE;
}
