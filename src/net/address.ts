/**
 * Socket addresses both ways, as Python's `socket` module spells them:
 * `AF_INET` ↔ `[host, port]`, `AF_INET6` ↔ `[host, port, flowinfo, scopeId]`,
 * `AF_UNIX` ↔ a path string (or `'\0'` + an abstract name; `''` for an unnamed socket).
 *
 * Encoding writes raw `struct sockaddr` bytes into a caller's buffer (usually a
 * preallocated scratch) and returns the length to pass to the kernel. Host names that are
 * not numeric go through the system resolver (synchronously here, as Python does; the
 * Reactor resolves first with the asynchronous `getaddrinfo`).
 */
import * as libc from '../sys/libc.js';
import { AF_INET, AF_INET6, AF_UNIX, AF_UNSPEC } from '../sys/constants.js';
import { SOCKADDR_IN_SIZE, SOCKADDR_IN6_SIZE, SOCKADDR_STORAGE_SIZE, SUN_PATH_MAX } from '../sys/structs.js';
import { OSError, errno as E } from '../errors.js';
import { resolveHostSync } from './resolve.js';

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

/** A short description of a value for error messages. */
export function show(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return String(v);
}

/** A family's name for messages. */
function familyName(family: number): string {
  return family === AF_INET ? 'AF_INET' : family === AF_INET6 ? 'AF_INET6' : family === AF_UNIX ? 'AF_UNIX' : `family ${family}`;
}

function checkHost(host: unknown, family: number, addr: unknown): string {
  if (typeof host !== 'string') {
    throw new TypeError(`${familyName(family)} address host must be a string, got ${show(host)} in ${show(addr)}`);
  }
  if (host.includes('\0')) throw new TypeError(`host ${show(host)} contains a NUL character`);
  return host;
}

function checkPort(port: unknown, addr: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port)) {
    throw new TypeError(`port must be an integer, got ${show(port)} in ${show(addr)}`);
  }
  if (port < 0 || port > 65535) throw new RangeError(`port must be 0-65535, got ${port}`);
  return port;
}

function checkU32(v: unknown, what: string, max: number): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${what} must be an integer, got ${show(v)}`);
  if (v < 0 || v > max) throw new RangeError(`${what} must be 0-${max}, got ${v}`);
  return v;
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
      throw new TypeError(`AF_INET address must be a [host, port] pair, got ${show(addr)}`);
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
      throw new TypeError(`AF_INET6 address must be [host, port, flowinfo?, scopeId?], got ${show(addr)}`);
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
    else throw new TypeError(`AF_UNIX address must be a path string or bytes, got ${show(addr)}`);
    if (bytes.length > SUN_PATH_MAX) {
      throw new OSError(E.ENAMETOOLONG!,
        `AF_UNIX path too long: ${bytes.length} bytes, at most ${SUN_PATH_MAX}: ${show(typeof addr === 'string' ? addr : Buffer.from(bytes).toString())}`);
    }
    out.writeUInt16LE(AF_UNIX, 0);
    out.set(bytes, 2);
    // Abstract names are exactly their bytes; a path gets a NUL when there is room
    // (the kernel accepts a full 108-byte path without one).
    if (bytes.length < SUN_PATH_MAX) out[2 + bytes.length] = 0;
    return 2 + bytes.length;
  }
  throw new OSError(E.EAFNOSUPPORT!, `cannot encode an address for ${familyName(family)}: ${show(addr)}`);
}

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
