/**
 * Socket addresses as Python's `socket` module spells them, and their decoding from raw
 * `struct sockaddr` bytes: `AF_INET` → `[host, port]`, `AF_INET6` → `[host, port,
 * flowinfo, scopeId]`, `AF_UNIX` → a path string (or `'\0'` + an abstract name; `''` for an
 * unnamed socket). Encoding, which may need the resolver, is in address.ts.
 */
import * as libc from '../sys/libc.js';
import { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC } from '../sys/constants.js';
import { SOCKADDR_IN_SIZE, SOCKADDR_IN6_SIZE, SOCKADDR_STORAGE_SIZE, SUN_PATH_MAX } from '../sys/structs.js';

/** An `AF_INET` address: `[host, port]`. */
export type InetAddress = [host: string, port: number];
/** An `AF_INET6` address: `[host, port, flowinfo, scopeId]`. */
export type Inet6Address = [host: string, port: number, flowinfo: number, scopeId: number];
/** An `AF_UNIX` address: a path, `'\0'` + an abstract name, or `''` (unnamed). */
export type UnixAddress = string;
/** Any address iomux returns (`null` where the kernel gave none, as Python's `None`). */
export type SocketAddress = InetAddress | Inet6Address | UnixAddress;
/**
 * Any address iomux accepts: `[host, port]`, `[host, port, flowinfo?, scopeId?]`
 * (AF_INET6), or an AF_UNIX path as a string or bytes.
 */
export type AddressLike =
  | readonly [host: string, port: number]
  | readonly [host: string, port: number, flowinfo?: number, scopeId?: number]
  | string
  | Uint8Array;

const NTOP_SCRATCH = Buffer.alloc(64);

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
    if (buf[2] === 0) return buf.toString('utf8', 2, end); // abstract: every byte, leading NUL kept
    const nul = buf.indexOf(0, 2);
    return buf.toString('utf8', 2, nul >= 2 && nul < end ? nul : end);
  }
  return [family, Buffer.from(buf.subarray(2, Math.min(len, SOCKADDR_STORAGE_SIZE)))] as unknown as SocketAddress;
}
