/**
 * Socket addresses as Python's `socket` module spells them, and their decoding from raw
 * `struct sockaddr` bytes: `AF_INET` → `[host, port]`, `AF_INET6` → `[host, port,
 * flowinfo, scopeId]`, `AF_UNIX` → a path string (or `'\0'` + an abstract name; `''` for an
 * unnamed socket). Encoding, which may need the resolver, is in address.ts.
 */
import * as libc from '../sys/libc.js';
import { isUtf8 } from 'node:buffer';
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX, AF_UNSPEC } from '../sys/constants.js';
import { SOCKADDR_IN_SIZE, SOCKADDR_IN6_SIZE, SOCKADDR_NL_SIZE, SOCKADDR_STORAGE_SIZE, SUN_PATH_MAX } from '../sys/structs.js';

/** An `AF_INET` address: `[host, port]`. */
export type InetAddress = [host: string, port: number];
/** An `AF_INET6` address: `[host, port, flowinfo, scopeId]`. */
export type Inet6Address = [host: string, port: number, flowinfo: number, scopeId: number];
/**
 * An `AF_UNIX` address: a path, `'\0'` + an abstract name, or `''` (unnamed); a name
 * that is not valid UTF-8 comes back as a `Buffer` of its bytes (so it round-trips).
 */
export type UnixAddress = string | Buffer;
/** Any address iomux returns (`null` where the kernel gave none, as Python's `None`). */
export type SocketAddress = InetAddress | Inet6Address | UnixAddress;
/** Any address iomux returns, the AF_NETLINK and AF_PACKET shapes included. */
export type AnyAddress = SocketAddress | NetlinkAddress | PacketAddress;
/** An `AF_NETLINK` address: `[pid, groups]` (port id and multicast group mask), as Python's. */
export type NetlinkAddress = [pid: number, groups: number];
/**
 * An `AF_PACKET` address, as Python's: `[ifname, proto, pkttype, hatype, addr]` (proto in
 * host order; `addr` the hardware address bytes).
 */
export type PacketAddress = [ifname: string, proto: number, pkttype: number, hatype: number, addr: Buffer];
/**
 * Any address iomux accepts: `[host, port]`, `[host, port, flowinfo?, scopeId?]`
 * (AF_INET6), or an AF_UNIX path as a string or bytes.
 */
export type AddressLike =
  | readonly [host: string, port: number]
  | readonly [host: string, port: number, flowinfo?: number, scopeId?: number]
  | string
  | Uint8Array
  | readonly [pid: number, groups: number]
  | readonly [ifname: string, proto: number, pkttype?: number, hatype?: number, addr?: Uint8Array];

const NTOP_SCRATCH = Buffer.alloc(64);
const IFNAME_SCRATCH = Buffer.alloc(16);

/** An interface's name from its index (`if_indextoname`), or `''`. */
function ifName(index: number): string {
  if (index <= 0 || libc.if_indextoname(index, IFNAME_SCRATCH) === null) return '';
  const nul = IFNAME_SCRATCH.indexOf(0);
  return IFNAME_SCRATCH.toString('latin1', 0, nul < 0 ? 16 : nul);
}

/** Formats 4 or 16 address bytes at `buf[off]` as text (`inet_ntop`). */
function hostText(family: number, buf: Buffer, off: number): string {
  if (family === AF_INET) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  return libc.inet_ntop(AF_INET6, buf.subarray(off, off + 16), NTOP_SCRATCH, NTOP_SCRATCH.length) as string;
}

/**
 * Decodes `len` bytes of `struct sockaddr` at the start of `buf`. Returns `null` for an
 * empty address (as Python's `None`), `''` for an unnamed AF_UNIX socket, and for an
 * unknown family a `[family, Buffer]` pair of the raw bytes after the family field.
 */
export function decodeAddress(buf: Buffer, len: number): SocketAddress | null {
  if (len <= 0) return null;
  const family = len >= 2 ? buf.readUInt16LE(0) : AF_UNSPEC;
  if (family === AF_INET && len >= SOCKADDR_IN_SIZE) {
    return [hostText(AF_INET, buf, 4), buf.readUInt16BE(2)];
  }
  if (family === AF_INET6 && len >= SOCKADDR_IN6_SIZE) {
    return [hostText(AF_INET6, buf, 8), buf.readUInt16BE(2), buf.readUInt32BE(4), buf.readUInt32LE(24)];
  }
  if (family === AF_UNIX) {
    const end = Math.min(len, 2 + SUN_PATH_MAX);
    if (end <= 2) return '';
    // Abstract: every byte, leading NUL kept; a path ends at its first NUL.
    const nul = buf[2] === 0 ? -1 : buf.indexOf(0, 2);
    const stop = nul >= 2 && nul < end ? nul : end;
    const name = buf.subarray(2, stop);
    return isUtf8(name) ? name.toString('utf8') : Buffer.from(name);
  }
  if (family === AF_NETLINK && len >= SOCKADDR_NL_SIZE) {
    return [buf.readUInt32LE(4), buf.readUInt32LE(8)] as NetlinkAddress as unknown as SocketAddress;
  }
  if (family === AF_PACKET && len >= 12) {
    const halen = Math.min(buf[11]!, 8, Math.max(0, len - 12));
    return [ifName(buf.readInt32LE(4)), buf.readUInt16BE(2), buf[10]!, buf.readUInt16LE(8),
      Buffer.from(buf.subarray(12, 12 + halen))] as PacketAddress as unknown as SocketAddress;
  }
  return [family, Buffer.from(buf.subarray(2, Math.min(len, SOCKADDR_STORAGE_SIZE)))] as unknown as SocketAddress;
}
