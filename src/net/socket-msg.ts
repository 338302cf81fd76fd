/**
 * The `Socket` methods for messages, batches and files (Python's `sendmsg`/`recvmsg`
 * family, `send_fds`/`recv_fds`, `sendfile`, and Linux's `recvmmsg`/`sendmmsg`), kept out
 * of socket.ts so each file stays readable: socket.ts declares `Socket` to have these
 * methods and copies them onto its prototype. They reach the socket through its public
 * `fileno()`, `gettimeout()`, `family` and `type` only.
 */
import { SOCK_STREAM } from '../sys/constants.js';
import * as M from './msg.js';
import {
  recvmmsg, sendmmsg, recvmmsgInto, sendmmsgFrom, tryRecvmmsgInto, trySendmmsgFrom, type DatagramBatch,
} from './mmsg.js';
import { sendfile, type FileArg } from './sendfile.js';
import type { AddressLike } from './address.js';
import type { SocketAddress } from './sockaddr.js';

/** Bytes to send (as socket.ts's `SendData`). */
type SendData = ArrayBufferView | ArrayBuffer | string;

/** What these methods need of a socket. */
interface SocketCore {
  fileno(): number;
  gettimeout(): number | null;
  readonly family: number;
  readonly type: number;
  toString(): string;
}

/** The socket's timeout as the transfer functions take it: -1 blocking, 0 non-blocking, else seconds. */
function timeoutOf(s: SocketCore): number {
  const t = s.gettimeout();
  return t === null ? -1 : t;
}

/** The message, batch and file methods of `Socket` (see socket.ts). */
export interface MessageMethods {
  /** Sends `data` with the fds `fds` attached (SCM_RIGHTS); returns the byte count sent. */
  sendFds(data: SendData | readonly SendData[], fds: readonly number[], flags?: number): number;

  /**
   * Receives up to `bufsize` bytes and up to `maxfds` fds (SCM_RIGHTS); the received fds
   * are close-on-exec and belong to the caller.
   */
  recvFds(bufsize: number, maxfds: number, flags?: number): [Buffer, number[]];

  /**
   * Python's `sendmsg`: sends the bytes of `buffers` (an array of byte views, gathered
   * into one message) with the control messages `ancdata` (`[level, type, data]` items,
   * e.g. `[SOL_SOCKET, SCM_RIGHTS, Int32Array.of(fd)]`) to `address` (for an unconnected
   * datagram socket). Returns the bytes sent.
   * @throws TypeError for a wrong shape of `buffers` or `ancdata`; OSError EMSGSIZE for
   *   more than 1024 buffers; the kernel's OSError (EINVAL for a malformed control message).
   */
  sendmsg(buffers: Iterable<ArrayBufferView | ArrayBuffer>, ancdata?: Iterable<M.AncData | readonly [number, number, ArrayBufferView | ArrayBuffer]> | null,
    flags?: number, address?: AddressLike | null): number;

  /**
   * Python's `recvmsg`: up to `bufsize` bytes and up to `ancbufsize` bytes of control
   * messages: `[data, ancdata, msgFlags, address]`, `ancdata` a list of
   * `[level, type, Buffer]`. A message cut short sets `MSG_TRUNC` in `msgFlags`, control
   * data cut short `MSG_CTRUNC` (the kernel closes the fds that did not fit). Received fds
   * are close-on-exec and belong to the caller.
   */
  recvmsg(bufsize: number, ancbufsize?: number, flags?: number): M.RecvmsgResult;

  /**
   * Python's `recvmsg_into`: scatters the message into `buffers` (writable byte views,
   * filled in order, no copy): `[nbytes, ancdata, msgFlags, address]` as {@link recvmsg}.
   */
  recvmsgInto(buffers: Iterable<ArrayBufferView | ArrayBuffer>, ancbufsize?: number, flags?: number): M.RecvmsgIntoResult;

  /**
   * Linux's `recvmmsg(2)`, allocating its results: up to `vlen` datagrams of up to
   * `bufsize` bytes, as `[data, address]` pairs. Waits for the first one only
   * (MSG_WAITFORONE). The zero-allocation form is {@link recvmmsgInto}.
   */
  recvmmsg(vlen: number, bufsize: number, flags?: number): [Buffer, SocketAddress | null][];

  /**
   * Linux's `sendmmsg(2)`: sends `messages` (each `data`, or `[data, address]` on an
   * unconnected socket) in one call; returns how many were sent. The zero-allocation form
   * is {@link sendmmsgFrom}.
   */
  sendmmsg(messages: readonly (SendData | readonly [SendData, AddressLike])[], flags?: number): number;

  /**
   * Linux's `recvmmsg(2)` into a preallocated {@link DatagramBatch} (no allocation per
   * call): receives up to `batch.capacity` datagrams, returns how many; `batch.lengths[i]`
   * and `batch.address(i)` describe each. Blocks (or waits up to the timeout) for the
   * first datagram only (MSG_WAITFORONE); non-blocking with none queued: BlockingIOError.
   */
  recvmmsgInto(batch: DatagramBatch, flags?: number): number;

  /**
   * Linux's `sendmmsg(2)` of the first `count` datagrams of `batch`
   * (`batch.buffers[i]`, `batch.lengths[i]` bytes, to the address kept for message `i`:
   * after {@link recvmmsgInto} that is its sender, so an echo sends the batch back as is).
   * Returns how many were sent (possibly fewer than `count`).
   */
  sendmmsgFrom(batch: DatagramBatch, count: number, flags?: number): number;

  /**
   * Python's `socket.sendfile`: sends `count` bytes (default: to the end) of `file` (an
   * fd, an object with `fileno()` or a `FileHandle`) from `offset` with `sendfile(2)`,
   * falling back to read-and-send when the file cannot be sent that way (a pipe). The
   * file's position is left after the last byte sent. Returns the bytes sent.
   * @throws TypeError on a non-blocking or non-stream socket (as CPython's ValueError).
   */
  sendfile(file: FileArg, offset?: number, count?: number | null): number;

  /**
   * {@link recvmmsgInto} on the fast path: never blocks (MSG_DONTWAIT), never throws for
   * the outcome. Returns the count received, or a negative errno (`NEG_EAGAIN`: none queued).
   */
  tryRecvmmsgInto(batch: DatagramBatch, flags?: number): number;

  /**
   * {@link sendmmsgFrom} on the fast path: never blocks, never throws for the outcome.
   * Returns the count sent, or a negative errno (`NEG_EAGAIN`: the send buffer is full).
   */
  trySendmmsgFrom(batch: DatagramBatch, count: number, flags?: number): number;
}

/** Their implementations, copied onto `Socket.prototype`. */
export const messageMethods: MessageMethods & ThisType<SocketCore> = {
  sendFds(data: SendData | readonly SendData[], fds: readonly number[], flags = 0): number {
    return M.sendFds(this.fileno(), timeoutOf(this), this.family, data, fds, flags);
  },
  recvFds(bufsize: number, maxfds: number, flags = 0): [Buffer, number[]] {
    return M.recvFds(this.fileno(), timeoutOf(this), this.family, bufsize, maxfds, flags);
  },
  sendmsg(buffers: Iterable<ArrayBufferView | ArrayBuffer>, ancdata?: Iterable<M.AncData | readonly [number, number, ArrayBufferView | ArrayBuffer]> | null,
    flags = 0, address?: AddressLike | null): number {
    return M.sendmsg(this.fileno(), timeoutOf(this), this.family, buffers, ancdata, flags, address);
  },
  recvmsg(bufsize: number, ancbufsize = 0, flags = 0): M.RecvmsgResult {
    return M.recvmsg(this.fileno(), timeoutOf(this), this.family, bufsize, ancbufsize, flags);
  },
  recvmsgInto(buffers: Iterable<ArrayBufferView | ArrayBuffer>, ancbufsize = 0, flags = 0): M.RecvmsgIntoResult {
    return M.recvmsgInto(this.fileno(), timeoutOf(this), this.family, buffers, ancbufsize, flags);
  },
  recvmmsg(vlen: number, bufsize: number, flags = 0): [Buffer, SocketAddress | null][] {
    return recvmmsg(this.fileno(), timeoutOf(this), this.family, vlen, bufsize, flags);
  },
  sendmmsg(messages: readonly (SendData | readonly [SendData, AddressLike])[], flags = 0): number {
    return sendmmsg(this.fileno(), timeoutOf(this), this.family, messages, flags);
  },
  recvmmsgInto(batch: DatagramBatch, flags = 0): number {
    return recvmmsgInto(this.fileno(), timeoutOf(this), batch, flags);
  },
  sendmmsgFrom(batch: DatagramBatch, count: number, flags = 0): number {
    return sendmmsgFrom(this.fileno(), timeoutOf(this), batch, count, flags);
  },
  sendfile(file: FileArg, offset = 0, count?: number | null): number {
    if (this.type !== SOCK_STREAM) throw new TypeError(`sendfile: only SOCK_STREAM sockets are supported, ${this}`);
    if (timeoutOf(this) === 0) throw new TypeError(`sendfile: non-blocking sockets are not supported, ${this}`);
    return sendfile(this.fileno(), timeoutOf(this), file, offset, count);
  },
  tryRecvmmsgInto(batch: DatagramBatch, flags = 0): number {
    return tryRecvmmsgInto(this.fileno(), batch, flags);
  },
  trySendmmsgFrom(batch: DatagramBatch, count: number, flags = 0): number {
    return trySendmmsgFrom(this.fileno(), batch, count, flags);
  },
};
