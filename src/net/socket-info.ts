/**
 * The `Socket` methods that read or set what the kernel knows about a socket: its
 * addresses, its options, `shutdown`, and the description `toString`/`util.inspect` give.
 * Kept out of socket.ts as the message methods are (socket-msg.ts): socket.ts declares
 * `Socket` to have these methods and copies them onto its prototype. They reach the
 * socket through its public `fileno()`, `family`, `type` and `proto` only.
 */
import * as libc from '../sys/libc.js';
import { check } from '../sys/call.js';
import { toCInt } from '../validate.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';
import { ADDR, ADDRLEN, where } from './scratch.js';
import { setOption, getOption } from './sockopt.js';

/** What these methods need of a socket. */
interface SocketCore {
  fileno(): number;
  readonly family: number;
  readonly type: number;
  readonly proto: number;
  getsockname(): SocketAddress;
  getpeername(): SocketAddress;
  toString(): string;
}

/** The address, option and description methods of `Socket<A>` (see socket.ts). */
export interface InfoMethods<A extends SocketAddress = SocketAddress> {
  /** Shuts down reading (`SHUT_RD`), writing (`SHUT_WR`) or both (`SHUT_RDWR`). */
  shutdown(how: number): void;

  /** The socket's own address. */
  getsockname(): A;

  /** The connected peer's address. @throws OSError ENOTCONN when not connected. */
  getpeername(): A;

  /**
   * Sets an option: a number (or boolean, as Python's `True`) is a C `int`, a Buffer is
   * passed as the raw option bytes.
   */
  setsockopt(level: number, opt: number, value: number | boolean | Uint8Array): void;

  /** Reads an option as a C `int` (no `buflen`, or 0, as Python's). */
  getsockopt(level: number, opt: number, buflen?: 0 | null): number;
  /** Reads up to `buflen` (1-1024) raw bytes of an option; `buflen` 0 reads an `int`. */
  getsockopt(level: number, opt: number, buflen: number): Buffer;
  /** Reads an option: a C `int` without `buflen` (or 0), else up to `buflen` raw bytes. */
  getsockopt(level: number, opt: number, buflen?: number | null): number | Buffer;

  /**
   * A description like Python's repr:
   * `<Socket fd=5, family=2, type=1, proto=0, laddr=["127.0.0.1",8080], raddr=[...]>`.
   */
  toString(): string;
}

/** The address of the last getsockname/getpeername call, `''` when the kernel gave none. */
function lastAddress(): SocketAddress {
  return decodeAddress(ADDR, ADDRLEN.readUInt32LE(0)) ?? '';
}

/** Their implementations, copied onto `Socket.prototype`. */
export const infoMethods: InfoMethods & ThisType<SocketCore> & { [inspect: symbol]: () => string } = {
  shutdown(how: number): void {
    const fd = this.fileno();
    check(libc.shutdown(fd, toCInt(how, 'how')), 'shutdown', where(fd));
  },
  getsockname(): SocketAddress {
    const fd = this.fileno();
    ADDRLEN.writeUInt32LE(ADDR.length, 0);
    check(libc.getsockname(fd, ADDR, ADDRLEN), 'getsockname', where(fd));
    return lastAddress();
  },
  getpeername(): SocketAddress {
    const fd = this.fileno();
    ADDRLEN.writeUInt32LE(ADDR.length, 0);
    check(libc.getpeername(fd, ADDR, ADDRLEN), 'getpeername', where(fd));
    return lastAddress();
  },
  setsockopt(level: number, opt: number, value: number | boolean | Uint8Array): void {
    const fd = this.fileno();
    setOption(fd, level, opt, value, where(fd));
  },
  getsockopt(level: number, opt: number, buflen?: number | null): number & Buffer {
    const fd = this.fileno();
    return getOption(fd, level, opt, buflen, where(fd)) as number & Buffer;
  },
  toString(): string {
    const fd = this.fileno();
    let s = `<Socket${fd < 0 ? ' [closed]' : ''} fd=${fd}, family=${this.family}, type=${this.type}, proto=${this.proto}`;
    if (fd >= 0) {
      for (const [name, get] of [['laddr', () => this.getsockname()], ['raddr', () => this.getpeername()]] as const) {
        try {
          const a = get();
          if (a !== '') s += `, ${name}=${JSON.stringify(a)}`;
        } catch {
          // not bound / not connected: left out, as Python's repr does
        }
      }
    }
    return `${s}>`;
  },
  /** `util.inspect` shows the same description. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  },
};
