/**
 * Python's `socket` module helpers: `create_connection`, `create_server`,
 * `has_dualstack_ipv6`, `fromfd`, and a decoder for `SO_PEERCRED`/`SCM_CREDENTIALS`
 * credentials (`struct ucred`).
 */
import * as libc from '../sys/libc.js';
import { check } from '../sys/call.js';
import {
  AF_INET, AF_INET6, AF_UNIX, F_DUPFD_CLOEXEC, IPPROTO_IPV6, IPV6_V6ONLY, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
  SO_REUSEPORT,
} from '../sys/constants.js';
import { SOCKADDR_STORAGE_SIZE, UCRED_SIZE } from '../sys/structs.js';
import { OSError } from '../errors.js';
import { UINT_MAX, describe, toBoolean, toBytes, toCInt, toFd, toInteger, toOptions } from '../validate.js';
import { Socket } from './socket.js';
import { getaddrinfoSync } from './resolve.js';
import { encodeAddress, type AddressLike } from './address.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';

/**
 * Python's `socket.create_connection`: resolves `[host, port]` and connects to each
 * address in turn (IPv4 and IPv6 as the resolver orders them) until one succeeds.
 * @param address        `[host, port]`.
 * @param timeout        seconds for the new socket (`settimeout`), `null` for blocking;
 *                       omitted: the default timeout ({@link setdefaulttimeout}).
 * @param sourceAddress  `[host, port]` to bind to before connecting.
 * @returns the connected socket.
 * @throws the last connection error (e.g. ConnectionRefusedError) when none succeeded;
 *   `GaiError` when the host does not resolve.
 */
export function createConnection(address: readonly [host: string, port: number], timeout?: number | null,
  sourceAddress?: readonly [host: string, port: number] | null): Socket {
  if (!Array.isArray(address) || address.length !== 2) {
    throw new TypeError(`address must be a [host, port] pair, got ${describe(address)}`);
  }
  const [host, port] = address as [string, number];
  let last: unknown = null;
  for (const [family, type, proto, , sa] of getaddrinfoSync(host, port, 0, SOCK_STREAM)) {
    let sock: Socket | null = null;
    try {
      sock = new Socket(family, type, proto);
      if (timeout !== undefined) sock.settimeout(timeout);
      if (sourceAddress) sock.bind(sourceAddress);
      sock.connect(sa);
      return sock;
    } catch (e) {
      last = e;
      sock?.close();
      if (!(e instanceof OSError)) throw e; // argument mistakes: the same for every address
    }
  }
  throw last ?? new OSError(0, `getaddrinfo returned no address for ${describe(address)}`);
}

/** Options of {@link createServer}, as Python's `create_server` keywords. */
export interface CreateServerOptions {
  /** `AF_INET` (default), `AF_INET6` or `AF_UNIX`. */
  family?: number;
  /** `listen` backlog; default as `listen()`'s. */
  backlog?: number | null;
  /** Sets SO_REUSEPORT, so several sockets (processes, threads) share the port. */
  reusePort?: boolean;
  /** On AF_INET6: accept IPv4 too (IPV6_V6ONLY off). */
  dualstackIpv6?: boolean;
}

/** Whether this system can serve IPv4 and IPv6 on one socket, as Python's `has_dualstack_ipv6`. */
export function hasDualstackIpv6(): boolean {
  let s: Socket | null = null;
  try {
    s = new Socket(AF_INET6, SOCK_STREAM);
    s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0);
    return true;
  } catch {
    return false;
  } finally {
    s?.close();
  }
}

/**
 * Python's `socket.create_server`: a listening TCP (or AF_UNIX) socket bound to `address`.
 * SO_REUSEADDR is set (not on AF_UNIX), as Python does on POSIX.
 * @throws RangeError for `reusePort` where SO_REUSEPORT is missing, or `dualstackIpv6`
 *   with a family other than AF_INET6; the bind's OSError (with the address in the message).
 */
export function createServer(address: AddressLike, options?: CreateServerOptions): Socket {
  const o = toOptions<CreateServerOptions>(options, 'createServer options', '{ family, backlog, reusePort, dualstackIpv6 }');
  const family = toCInt(o.family ?? AF_INET, 'family');
  const reusePort = o.reusePort === undefined ? false : toBoolean(o.reusePort, 'reusePort');
  const dualstack = o.dualstackIpv6 === undefined ? false : toBoolean(o.dualstackIpv6, 'dualstackIpv6');
  if (dualstack && family !== AF_INET6) throw new RangeError('dualstackIpv6 requires family AF_INET6');
  if (dualstack && !hasDualstackIpv6()) throw new RangeError('dualstackIpv6 is not supported on this system');
  const sock = new Socket(family, SOCK_STREAM);
  try {
    if (family !== AF_UNIX) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    if (reusePort) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
    if (family === AF_INET6) sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dualstack ? 0 : 1);
    try {
      sock.bind(address);
    } catch (e) {
      if (e instanceof OSError) e.message = `${e.message} (while attempting to bind on address ${describe(address)})`;
      throw e;
    }
    sock.listen(o.backlog ?? undefined);
    return sock;
  } catch (e) {
    sock.close();
    throw e;
  }
}

/**
 * Python's `socket.fromfd`: a new socket on a duplicate of `fd` (close-on-exec); `fd`
 * itself stays open and the caller's.
 */
export function fromfd(fd: number | { fileno(): number }, family: number, type: number, proto = 0): Socket {
  const n = toFd(fd);
  const dup = check(libc.fcntl(n, F_DUPFD_CLOEXEC, 'int', 0), 'dup', `fd ${n}`);
  try {
    return new Socket(family, type, proto, dup);
  } catch (e) {
    libc.close(dup);
    throw e;
  }
}

/** A process's credentials, as `struct ucred`. */
export interface Ucred {
  /** Process id. */
  pid: number;
  /** User id. */
  uid: number;
  /** Group id. */
  gid: number;
}

/**
 * Decodes a `struct ucred`: the bytes of `getsockopt(SOL_SOCKET, SO_PEERCRED, 12)` or of
 * an `SCM_CREDENTIALS` control message (and encodes one: see {@link encodeUcred}).
 * @throws RangeError when fewer than 12 bytes are given.
 */
export function decodeUcred(data: ArrayBufferView | ArrayBuffer): Ucred {
  const b = toBytes(data, 'data');
  if (b.length < UCRED_SIZE) throw new RangeError(`a struct ucred is ${UCRED_SIZE} bytes, got ${b.length}`);
  const v = new DataView(b.buffer, b.byteOffset, UCRED_SIZE);
  return { pid: v.getInt32(0, true), uid: v.getUint32(4, true), gid: v.getUint32(8, true) };
}

/** The 12 bytes of a `struct ucred`, for an `SCM_CREDENTIALS` control message to send. */
export function encodeUcred(cred: Ucred): Buffer {
  const o = toOptions<Ucred>(cred, 'cred', '{ pid, uid, gid }');
  const b = Buffer.alloc(UCRED_SIZE);
  b.writeInt32LE(toCInt(o.pid, 'pid'), 0);
  b.writeUInt32LE(toInteger(o.uid, 'uid', 0, UINT_MAX), 4);
  b.writeUInt32LE(toInteger(o.gid, 'gid', 0, UINT_MAX), 8);
  return b;
}


/**
 * Encodes `address` for `family` as the bytes of a C `struct sockaddr_in`, `sockaddr_in6`,
 * `sockaddr_un`, `sockaddr_nl` or `sockaddr_ll`, the form an API that takes an
 * already-encoded address wants, such as `Proactor#sendmsg`'s `address` option. The
 * address is written as `Socket#connect` and `Socket#sendto` take it; a host name is
 * resolved first (blocking, like theirs).
 * @returns a new Buffer of the structure's length (16 for AF_INET, 28 for AF_INET6).
 * @throws TypeError for a wrong shape; RangeError for a port or family out of range;
 *   `GaiError` for a host name that does not resolve; OSError EAFNOSUPPORT for a family
 *   without an address form.
 */
export function encodeSockaddr(family: number, address: AddressLike): Buffer {
  const out = Buffer.alloc(SOCKADDR_STORAGE_SIZE);
  const len = encodeAddress(toCInt(family, 'family'), address, out);
  return Buffer.from(out.subarray(0, len));
}

/**
 * Decodes the bytes of a C `struct sockaddr_*` (the family is read from them) into the
 * form `Socket#getpeername` returns: `[host, port]`, `[host, port, flowinfo, scopeId]`, a
 * path (`''` for an unnamed AF_UNIX socket), or for a family without a decoded form a
 * `[family, Buffer]` pair of the bytes after the family field.
 * @throws TypeError for a non-byte argument; RangeError when the bytes are shorter than
 *   the family field.
 */
export function decodeSockaddr(bytes: ArrayBufferView | ArrayBuffer): SocketAddress | null {
  const b = toBytes(bytes, 'bytes');
  if (b.length < 2) throw new RangeError(`a struct sockaddr starts with a 2-byte family, got ${b.length} bytes`);
  return decodeAddress(Buffer.from(b.buffer, b.byteOffset, b.length), b.length);
}
