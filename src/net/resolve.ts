/**
 * Name resolution through the system resolver (`getaddrinfo(3)`), as Python's
 * `socket.getaddrinfo`. The asynchronous form runs the C call on libuv's thread pool
 * (koffi's `.async`), so it never blocks the event loop; the synchronous form is for the
 * blocking, Python-style socket methods (which resolve synchronously, as Python's do).
 */
import * as libc from '../sys/libc.js';
import { AF_INET, AF_INET6, AF_UNSPEC, EAI_SYSTEM } from '../sys/constants.js';
import {
  ADDRINFO_SIZE, ADDRINFO_FLAGS, ADDRINFO_FAMILY, ADDRINFO_SOCKTYPE, ADDRINFO_PROTOCOL,
  ADDRINFO_ADDRLEN, ADDRINFO_ADDR, ADDRINFO_CANONNAME, ADDRINFO_NEXT,
} from '../sys/structs.js';
import { OSError } from '../errors.js';
import { describe, toCInt, toInteger } from '../validate.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';

/** Names of the `EAI_*` codes (glibc values), for `GaiError#code`. */
const EAI_NAMES: ReadonlyMap<number, string> = new Map([
  [-1, 'EAI_BADFLAGS'], [-2, 'EAI_NONAME'], [-3, 'EAI_AGAIN'], [-4, 'EAI_FAIL'], [-6, 'EAI_FAMILY'],
  [-7, 'EAI_SOCKTYPE'], [-8, 'EAI_SERVICE'], [-10, 'EAI_MEMORY'], [-11, 'EAI_SYSTEM'], [-12, 'EAI_OVERFLOW'],
  [-5, 'EAI_NODATA'], [-9, 'EAI_ADDRFAMILY'],
]);

/**
 * A resolver failure, as Python's `socket.gaierror` (an `OSError`). `code` names the
 * `EAI_*` value (`'EAI_NONAME'`), `eai` is glibc's (negative) code as Python's `errno`
 * would be, and `errno` is its absolute value: iomux's errnos are always positive.
 */
export class GaiError extends OSError {
  /** glibc's `EAI_*` value, negative (e.g. -2 for EAI_NONAME). */
  readonly eai: number;

  /**
   * @param eai   glibc's (negative) `EAI_*` code, as `getaddrinfo(3)` returned it.
   * @param what  the query that failed, e.g. `"example.invalid" port 80`.
   */
  constructor(eai: number, what: string) {
    let desc: string;
    try {
      desc = String(libc.gai_strerror(eai));
    } catch {
      desc = `resolver error ${eai}`;
    }
    super(Math.abs(eai), what, 'getaddrinfo', { code: EAI_NAMES.get(eai) ?? `EAI_${-eai}`, strerror: desc });
    this.eai = eai;
  }
}
Object.defineProperty(GaiError.prototype, 'name', { value: 'GaiError', writable: true, configurable: true });

/** One result of `getaddrinfo`, as Python's 5-tuple: `[family, type, proto, canonname, address]`. */
export type AddrInfo = [family: number, type: number, proto: number, canonname: string, address: SocketAddress];

function hintsFor(family: number, type: number, proto: number, flags: number): Buffer {
  for (const [v, what] of [[family, 'family'], [type, 'type'], [proto, 'proto'], [flags, 'flags']] as const) {
    toCInt(v, `getaddrinfo ${what}`); // C ints: TypeError for a non-number, RangeError for a non-integer or past 32 bits
  }
  const h = Buffer.alloc(ADDRINFO_SIZE);
  h.writeInt32LE(flags, ADDRINFO_FLAGS);
  h.writeInt32LE(family, ADDRINFO_FAMILY);
  h.writeInt32LE(type, ADDRINFO_SOCKTYPE);
  h.writeInt32LE(proto, ADDRINFO_PROTOCOL);
  return h;
}

function hostArg(host: unknown): string | null {
  if (host === null || host === undefined) return null;
  if (typeof host !== 'string') throw new TypeError(`host must be a string or null, got ${describe(host)}`);
  if (host.includes('\0')) throw new TypeError(`host ${describe(host)} contains a NUL character`);
  return host;
}

function portArg(port: unknown): string | null {
  if (port === null || port === undefined) return null;
  if (typeof port === 'number') return String(toInteger(port, 'port', 0, 65535));
  if (typeof port === 'string') return port;
  throw new TypeError(`port must be an integer, a string or null, got ${describe(port)}`);
}

function describeQuery(host: string | null, port: string | null): string {
  return port === null ? describe(host) : `${describe(host)} port ${port}`;
}

/** Longest canonical name read (DNS names are at most 253 characters). */
const CANON_MAX = 1025;

/** The 64-bit address at `off` of `buf` as a number (user-space addresses are far below 2^53). */
const addrAt = (buf: Buffer, off: number): number => buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 2 ** 32;

/**
 * Reads the `addrinfo` list at address `res` into JS values, then frees it. Every read is
 * a copy into a Buffer by address (see sys/libc.ts): this runs in a resolution's
 * completion callback, which may run while a worker thread is being torn down.
 */
function collect(res: number): AddrInfo[] {
  const out: AddrInfo[] = [];
  try {
    const node = Buffer.alloc(ADDRINFO_SIZE);
    for (let p = res; p !== 0; p = addrAt(node, ADDRINFO_NEXT)) {
      libc.copyFrom(node, p, ADDRINFO_SIZE);
      const addrlen = node.readUInt32LE(ADDRINFO_ADDRLEN);
      const addrPtr = addrAt(node, ADDRINFO_ADDR);
      const addrBytes = Buffer.alloc(addrPtr !== 0 ? addrlen : 0);
      if (addrBytes.length > 0) libc.copyFrom(addrBytes, addrPtr, addrlen);
      const canonPtr = addrAt(node, ADDRINFO_CANONNAME);
      let canon = '';
      if (canonPtr !== 0) {
        const text = Buffer.alloc(Number(libc.strnlenAt(canonPtr, CANON_MAX)));
        libc.copyFrom(text, canonPtr, text.length);
        canon = text.toString('utf8');
      }
      out.push([
        node.readInt32LE(ADDRINFO_FAMILY), node.readInt32LE(ADDRINFO_SOCKTYPE), node.readInt32LE(ADDRINFO_PROTOCOL),
        canon, decodeAddress(addrBytes, addrBytes.length) ?? '',
      ]);
    }
  } finally {
    libc.freeaddrinfo(res);
  }
  return out;
}

function failure(ret: number, err: number, host: string | null, port: string | null): OSError {
  // EAI_SYSTEM means "look at errno" (only meaningful for the synchronous call).
  if (ret === EAI_SYSTEM && err > 0) return OSError.fromErrno(err, 'getaddrinfo', describeQuery(host, port));
  return new GaiError(ret, describeQuery(host, port));
}

/**
 * Resolves synchronously (blocks the thread while the resolver works), as Python's
 * `socket.getaddrinfo(host, port, family, type, proto, flags)`.
 * @throws GaiError when the name does not resolve.
 */
export function getaddrinfoSync(host: string | null, port: string | number | null = null, family = AF_UNSPEC,
  type = 0, proto = 0, flags = 0): AddrInfo[] {
  const h = hostArg(host);
  const p = portArg(port);
  const hints = hintsFor(family, type, proto, flags);
  const res = Buffer.alloc(8);
  const r = libc.getaddrinfo(h, p, hints, res) as number;
  if (r !== 0) throw failure(r, r === EAI_SYSTEM ? libc.errno() : 0, h, p);
  return collect(addrAt(res, 0));
}

/**
 * Resolves on libuv's thread pool, never blocking the event loop: Python's
 * `socket.getaddrinfo` (or asyncio's `loop.getaddrinfo`) as a Promise.
 * @param host    a name or numeric address; `null` for the local/wildcard address.
 * @param port    a port number, a service name, or `null`.
 * @param family  `AF_INET`, `AF_INET6` or `AF_UNSPEC` (default, both).
 * @param type    e.g. `SOCK_STREAM`; 0 for any.
 * @returns `[family, type, proto, canonname, address]` entries, in the resolver's order.
 * @throws GaiError (rejects) when the name does not resolve.
 */
export function getaddrinfo(host: string | null, port: string | number | null = null, family = AF_UNSPEC,
  type = 0, proto = 0, flags = 0): Promise<AddrInfo[]> {
  let h: string | null, p: string | null, hints: Buffer;
  try {
    h = hostArg(host);
    p = portArg(port);
    hints = hintsFor(family, type, proto, flags);
  } catch (e) {
    return Promise.reject(e);
  }
  return new Promise((resolve, reject) => {
    const res = Buffer.alloc(8);
    (libc.getaddrinfo as unknown as { async: (...a: unknown[]) => void }).async(h, p, hints, res,
      (err: unknown, r: number) => {
        if (err) return reject(err);
        // keep `hints` and `res` alive until the call returns
        void hints;
        if (r !== 0) return reject(failure(r, 0, h, p));
        try {
          resolve(collect(addrAt(res, 0)));
        } catch (e) {
          reject(e);
        }
      });
  });
}

/**
 * The 4 or 16 address bytes of the first `family` address of `host` (synchronously), as
 * Python does when a socket method is given a host name.
 * @throws GaiError when the name does not resolve to an address of that family.
 */
export function resolveHostSync(family: number, host: string): Buffer {
  const list = getaddrinfoSync(host, null, family, 2 /* SOCK_DGRAM: one entry per address */);
  return firstAddressBytes(list, family, host);
}

function firstAddressBytes(list: AddrInfo[], family: number, host: string): Buffer {
  for (const [fam, , , , addr] of list) {
    if (fam !== family || !Array.isArray(addr)) continue;
    const out = Buffer.alloc(family === AF_INET ? 4 : 16);
    if (libc.inet_pton(family, addr[0], out) === 1) return out;
  }
  throw new GaiError(-2, `${describe(host)} has no ${family === AF_INET6 ? 'IPv6' : 'IPv4'} address`);
}

/**
 * The first numeric `family` host text for `host`, resolved on the thread pool; what the
 * Reactor's `sockConnect` uses before connecting.
 */
export async function resolveHostAsync(family: number, host: string): Promise<string> {
  const list = await getaddrinfo(host, null, family, 2);
  for (const [fam, , , , addr] of list) if (fam === family && Array.isArray(addr)) return addr[0];
  throw new GaiError(-2, `${describe(host)} has no ${family === AF_INET6 ? 'IPv6' : 'IPv4'} address`);
}
