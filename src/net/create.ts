/**
 * The module-level constructors of Python's `socket` module: `socket()` and
 * `socketpair()`, both close-on-exec.
 */
import * as libc from '../sys/libc.js';
import { check } from '../sys/call.js';
import { AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC } from '../sys/constants.js';
import { toCInt } from '../validate.js';
import { Socket, adoptSocket } from './socket.js';
import type { InetAddress, Inet6Address, UnixAddress } from './sockaddr.js';

/**
 * Creates a close-on-exec socket, as Python's `socket.socket(family, type, proto, fileno)`.
 * With `fileno` it wraps that existing fd instead. The family, when given as one of the
 * constants (or omitted: AF_INET), types the addresses the socket returns.
 */
export function socket(family?: typeof AF_INET | null, type?: number | null, proto?: number | null): Socket<InetAddress>;
export function socket(family: typeof AF_INET6, type?: number | null, proto?: number | null): Socket<Inet6Address>;
export function socket(family: typeof AF_UNIX, type?: number | null, proto?: number | null): Socket<UnixAddress>;
export function socket(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null): Socket;
export function socket(family?: number | null, type?: number | null, proto?: number | null, fileno?: number | null): Socket {
  // Wrapping: given arguments win; omitted ones are read from the kernel (as Python).
  if (fileno !== undefined && fileno !== null) return new Socket(family, type, proto, fileno);
  return new Socket(family ?? AF_INET, type ?? SOCK_STREAM, proto ?? 0);
}

/** A connected pair of close-on-exec sockets, as Python's `socket.socketpair`. */
export function socketpair(family?: typeof AF_UNIX, type?: number, proto?: number): [Socket<UnixAddress>, Socket<UnixAddress>];
export function socketpair(family?: number, type?: number, proto?: number): [Socket, Socket];
export function socketpair(family: number = AF_UNIX, type: number = SOCK_STREAM, proto = 0): [Socket, Socket] {
  const fam = toCInt(family, 'family');
  const typ = toCInt(type, 'type');
  const pro = toCInt(proto, 'proto');
  const sv = new Int32Array(2);
  check(libc.socketpair(fam, typ | SOCK_CLOEXEC, pro, sv), 'socketpair', `family ${fam}, type ${typ}`);
  const nonblocking = (typ & SOCK_NONBLOCK) !== 0;
  return [adoptSocket(sv[0]!, fam, typ, pro, nonblocking), adoptSocket(sv[1]!, fam, typ, pro, nonblocking)];
}
