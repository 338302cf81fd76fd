/**
 * Batched datagram I/O, a Linux extension (no Python equivalent): `recvmmsg(2)` and
 * `sendmmsg(2)` move many datagrams per system call. A {@link DatagramBatch} holds the
 * `mmsghdr` array, one `iovec`, one message buffer and one address slot per message,
 * all in one off-heap slab made once, so a receive or send allocates nothing: the
 * caller reads `lengths[i]` and `buffers[i]` and passes the batch back to send.
 */
import * as libc from '../sys/libc.js';
import { retry, sysret } from '../sys/call.js';
import { AF_UNIX, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_WAITFORONE, POLLIN, POLLOUT } from '../sys/constants.js';
import { IOVEC_SIZE, MMSGHDR_LEN, MMSGHDR_SIZE, MSGHDR_IOV, MSGHDR_IOVLEN, MSGHDR_NAME, MSGHDR_NAMELEN } from '../sys/structs.js';
import { describe, toBytesOrUtf8, toCInt, toInteger } from '../validate.js';
import { encodeAddress } from './address.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';
import { where } from './scratch.js';
import { again } from './transfer.js';

/** Bytes kept per message for its address (`struct sockaddr_storage`). */
const NAME_SIZE = 128;
/** Most messages in one batch (Linux's UIO_MAXIOV caps `vlen`). */
export const BATCH_MAX = 1024;

/**
 * A preallocated batch of datagrams for {@link Socket.recvmmsgInto} and
 * {@link Socket.sendmmsgFrom} (Linux only). Message `i` has the buffer `buffers[i]`
 * (`size` bytes), its length `lengths[i]` (set by a receive; set it yourself before a
 * send) and an address slot (the sender after a receive; the destination for a send).
 */
export class DatagramBatch {
  /** How many messages the batch holds. */
  readonly capacity: number;
  /** Bytes per message buffer. */
  readonly size: number;
  /** The message buffers (views into one off-heap slab). */
  readonly buffers: readonly Buffer[];
  /** Message lengths: filled by a receive, read by a send. */
  readonly lengths: Uint32Array;
  /** @internal the `mmsghdr` array. */
  readonly hdrs: Buffer;
  /** @internal 32-bit words over `hdrs`. */
  readonly words: Uint32Array;
  /** @internal the address slots. */
  readonly names: Buffer;

  /**
   * @param capacity  messages per batch, 1-1024.
   * @param size      bytes per message buffer, 1-65536 (a larger datagram is cut: MSG_TRUNC).
   */
  constructor(capacity: number, size: number) {
    this.capacity = toInteger(capacity, 'capacity', 1, BATCH_MAX);
    this.size = toInteger(size, 'size', 1, 65536);
    const slab = Buffer.allocUnsafeSlow(this.capacity * this.size);
    const iovs = Buffer.allocUnsafeSlow(this.capacity * IOVEC_SIZE);
    this.hdrs = Buffer.alloc(this.capacity * MMSGHDR_SIZE);
    this.names = Buffer.alloc(this.capacity * NAME_SIZE);
    this.words = new Uint32Array(this.hdrs.buffer, this.hdrs.byteOffset, this.hdrs.length / 4);
    this.lengths = new Uint32Array(this.capacity);
    const base = libc.koffi.address(slab) as bigint;
    const iovBase = libc.koffi.address(iovs) as bigint;
    const nameBase = libc.koffi.address(this.names) as bigint;
    const buffers: Buffer[] = [];
    for (let i = 0; i < this.capacity; i++) {
      buffers.push(slab.subarray(i * this.size, (i + 1) * this.size));
      iovs.writeBigUInt64LE(base + BigInt(i * this.size), i * IOVEC_SIZE);
      iovs.writeBigUInt64LE(BigInt(this.size), i * IOVEC_SIZE + 8);
      const h = i * MMSGHDR_SIZE;
      this.hdrs.writeBigUInt64LE(nameBase + BigInt(i * NAME_SIZE), h + MSGHDR_NAME);
      this.hdrs.writeBigUInt64LE(iovBase + BigInt(i * IOVEC_SIZE), h + MSGHDR_IOV);
      this.hdrs.writeBigUInt64LE(1n, h + MSGHDR_IOVLEN);
    }
    this.buffers = buffers;
    this.#iovWords = new Uint32Array(iovs.buffer, iovs.byteOffset, iovs.length / 4);
  }

  readonly #iovWords: Uint32Array;

  /** @internal Before a receive: full buffers, full address slots, for the first `n`. */
  prepareRecv(n: number): void {
    const w = this.words;
    const iw = this.#iovWords;
    for (let i = 0; i < n; i++) {
      iw[i * 4 + 2] = this.size;
      w[i * 16 + MSGHDR_NAMELEN / 4] = NAME_SIZE;
    }
  }

  /** @internal After a receive of `n`: copies `msg_len` into `lengths`. */
  finishRecv(n: number): void {
    const w = this.words;
    for (let i = 0; i < n; i++) this.lengths[i] = w[i * 16 + MMSGHDR_LEN / 4]!;
  }

  /** @internal Before a send: iovec lengths from `lengths`, checked against the buffer size. */
  prepareSend(n: number): void {
    const iw = this.#iovWords;
    for (let i = 0; i < n; i++) {
      const len = this.lengths[i]!;
      if (len > this.size) throw new RangeError(`lengths[${i}] is ${len}, more than the buffer size ${this.size}`);
      iw[i * 4 + 2] = len;
    }
  }

  /**
   * The address of message `i` (the sender after a receive), decoded (this allocates);
   * `null` when there is none (a connected socket).
   */
  address(i: number): SocketAddress | null {
    const k = toInteger(i, 'index', 0, this.capacity - 1);
    const len = this.words[k * 16 + MSGHDR_NAMELEN / 4]!;
    return decodeAddress(this.names.subarray(k * NAME_SIZE, (k + 1) * NAME_SIZE), len);
  }

  /**
   * Sets the destination of message `i` for a send: an address of the socket's `family`,
   * or `null` for none (a connected socket).
   */
  setAddress(i: number, family: number, addr: unknown): void {
    const k = toInteger(i, 'index', 0, this.capacity - 1);
    const len = addr === null || addr === undefined ? 0
      : encodeAddress(toCInt(family, 'family'), addr, this.names.subarray(k * NAME_SIZE, (k + 1) * NAME_SIZE));
    this.words[k * 16 + MSGHDR_NAMELEN / 4] = len;
  }
}

function checkBatch(batch: unknown): DatagramBatch {
  if (!(batch instanceof DatagramBatch)) throw new TypeError(`batch must be a DatagramBatch, got ${describe(batch)}`);
  return batch;
}

/** One `recvmmsg` into `batch` with `flags`: the count or -errno. */
export function tryRecvmmsg(fd: number, batch: DatagramBatch, flags: number): number {
  batch.prepareRecv(batch.capacity);
  const r = sysret(libc.recvmmsg(fd, batch.hdrs, batch.capacity, flags, null));
  if (r > 0) batch.finishRecv(r);
  return r;
}

/** One `sendmmsg` of the first `count` messages: the count sent or -errno. */
export function trySendmmsg(fd: number, batch: DatagramBatch, count: number, flags: number): number {
  if (count === 0) return 0;
  batch.prepareSend(count);
  return sysret(libc.sendmmsg(fd, batch.hdrs, count, flags | MSG_NOSIGNAL));
}

/** `Socket#recvmmsgInto`: waits for the first datagram only (MSG_WAITFORONE). */
export function recvmmsgInto(fd: number, timeout: number, batch: unknown, flags: unknown): number {
  const b = checkBatch(batch);
  const f = toCInt(flags ?? 0, 'flags') | MSG_WAITFORONE;
  let deadline = -1;
  for (;;) {
    b.prepareRecv(b.capacity);
    const r = retry(libc.recvmmsg, fd, b.hdrs, b.capacity, f, null);
    if (r >= 0) {
      b.finishRecv(r);
      return r;
    }
    deadline = again(fd, timeout, r, POLLIN, deadline, 'recvmmsg');
  }
}

/** `Socket#sendmmsgFrom`: the count sent. */
export function sendmmsgFrom(fd: number, timeout: number, batch: unknown, count: unknown, flags: unknown): number {
  const b = checkBatch(batch);
  const n = toInteger(count, 'count', 0, b.capacity);
  const f = toCInt(flags ?? 0, 'flags') | MSG_NOSIGNAL;
  if (n === 0) return 0;
  b.prepareSend(n);
  let deadline = -1;
  for (;;) {
    const r = retry(libc.sendmmsg, fd, b.hdrs, n, f);
    if (r >= 0) return r;
    deadline = again(fd, timeout, r, POLLOUT, deadline, 'sendmmsg', where(fd));
  }
}

/** The non-throwing receive for event loops (MSG_DONTWAIT): count, or `-errno` (`NEG_EAGAIN`). */
export function tryRecvmmsgInto(fd: number, batch: unknown, flags: unknown = 0): number {
  return tryRecvmmsg(fd, checkBatch(batch), toCInt(flags, 'flags') | MSG_DONTWAIT);
}

/** The non-throwing send for event loops (MSG_DONTWAIT): count sent, or `-errno`. */
export function trySendmmsgFrom(fd: number, batch: unknown, count: unknown, flags: unknown = 0): number {
  const b = checkBatch(batch);
  return trySendmmsg(fd, b, toInteger(count, 'count', 0, b.capacity), toCInt(flags, 'flags') | MSG_DONTWAIT);
}

/** The address of an unnamed AF_UNIX sender reads as `''`, as `recvfrom`'s. */
export function senderAddress(batch: DatagramBatch, i: number, family: number): SocketAddress | null {
  const a = batch.address(i);
  return a === null && family === AF_UNIX ? '' : a;
}


/**
 * `Socket#recvmmsg`, the allocating form: up to `vlen` datagrams of up to `bufsize`
 * bytes each, as `[data, address]` pairs.
 */
export function recvmmsg(fd: number, timeout: number, family: number, vlen: unknown, bufsize: unknown,
  flags: unknown): [Buffer, SocketAddress | null][] {
  const batch = new DatagramBatch(toInteger(vlen, 'vlen', 1, BATCH_MAX), toInteger(bufsize, 'bufsize', 1, 65536));
  const n = recvmmsgInto(fd, timeout, batch, flags);
  const out: [Buffer, SocketAddress | null][] = [];
  for (let i = 0; i < n; i++) out.push([Buffer.from(batch.buffers[i]!.subarray(0, batch.lengths[i])), senderAddress(batch, i, family)]);
  return out;
}

/**
 * `Socket#sendmmsg`, the allocating form: `messages` are `data` or `[data, address]`
 * items (at most 1024); returns how many were sent.
 */
export function sendmmsg(fd: number, timeout: number, family: number, messages: unknown, flags: unknown): number {
  if (!Array.isArray(messages)) throw new TypeError(`messages must be an array of data or [data, address] items, got ${describe(messages)}`);
  if (messages.length === 0) return 0;
  if (messages.length > BATCH_MAX) throw new RangeError(`at most ${BATCH_MAX} messages in one sendmmsg, got ${messages.length}`);
  const items = messages.map((m: unknown, i) => {
    const pair = Array.isArray(m) && m.length === 2 && typeof m[0] !== 'number';
    const data = toBytesOrUtf8(pair ? (m as unknown[])[0] : m, `messages[${i}] data`);
    if (data.length > 65536) throw new RangeError(`messages[${i}] is ${data.length} bytes, more than a datagram's 65536`);
    return [data, pair ? (m as unknown[])[1] : null] as const;
  });
  const batch = new DatagramBatch(items.length, Math.max(1, ...items.map(([d]) => d.length)));
  items.forEach(([data, addr], i) => {
    batch.buffers[i]!.set(data);
    batch.lengths[i] = data.length;
    batch.setAddress(i, family, addr);
  });
  return sendmmsgFrom(fd, timeout, batch, items.length, flags);
}
