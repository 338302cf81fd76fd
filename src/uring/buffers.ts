/**
 * The provided-buffer ring: `count` receive buffers of `size` bytes in one anonymous
 * mapping, and the ring of 16-byte entries (address, length, buffer id) the kernel picks
 * them from. A buffer taken by a receive is "out" until it is pushed back; pushes are
 * published to the kernel with one store of the ring's tail.
 */
import * as ring from '../sys/uring.js';
import { errno as lastErrno } from '../sys/libc.js';
import { OSError } from '../sys/oserror.js';
import { toInteger } from '../validate.js';
import { mapAnon, type Mapping } from './support.js';

/** The buffers, their views, and the ring the kernel takes them from (buffer group 0). */
export class BufferRing {
  /** Size of each buffer in bytes. */
  readonly size: number;
  /** Number of buffers (a power of two). */
  readonly count: number;
  /** The ring of entries. */
  readonly ring: Mapping;
  /** The buffers' memory. */
  readonly mem: Mapping;
  /** One view per buffer (its whole size). */
  readonly views: Uint8Array[];
  /** 1 while a buffer is out of the ring. */
  readonly out: Uint8Array;
  readonly #br32: Uint32Array;
  readonly #br16: Uint16Array;
  readonly #mask: number;
  /** The local tail (published when `dirty`). */
  tail = 0;
  /** Whether pushes wait to be published. */
  dirty = false;

  /** Maps the ring and the buffers; each mapping is added to `maps` (unmapped by the owner). */
  constructor(count: number, size: number, maps: Mapping[]) {
    this.count = count;
    this.size = size;
    this.#mask = count - 1;
    this.ring = mapAnon(Math.max(4096, count * ring.BUF_SIZE));
    maps.push(this.ring);
    this.#br32 = new Uint32Array(this.ring.buf);
    this.#br16 = new Uint16Array(this.ring.buf);
    this.mem = mapAnon(count * size);
    maps.push(this.mem);
    this.out = new Uint8Array(count);
    this.views = new Array<Uint8Array>(count);
    for (let b = 0; b < count; b++) this.views[b] = new Uint8Array(this.mem.buf, b * size, size);
  }

  /** Registers the ring with io_uring `fd` as buffer group 0 and fills it with every buffer. */
  register(fd: number): void {
    const reg = new Uint8Array(ring.BUF_REG_SIZE);
    const rv = new DataView(reg.buffer);
    rv.setBigUint64(0, BigInt(this.ring.addr), true);
    rv.setUint32(8, this.count, true);
    rv.setUint16(12, 0, true); // buffer group 0
    if (Number(ring.registerCall(ring.SYS_io_uring_register, fd, ring.IORING_REGISTER_PBUF_RING, reg, 1)) < 0) {
      throw OSError.fromErrno(lastErrno(), 'io_uring_register', 'registering the provided-buffer ring');
    }
    for (let b = 0; b < this.count; b++) this.push(b);
    this.publish();
  }

  /** Puts buffer `bid` back in the ring (visible to the kernel after {@link publish}). */
  push(bid: number): void {
    const w = (this.tail & this.#mask) << 2; // 16-byte entries = 4 words
    const addr = this.mem.addr + bid * this.size;
    this.#br32[w] = addr >>> 0;
    this.#br32[w + 1] = Math.floor(addr / 0x100000000);
    this.#br32[w + 2] = this.size;
    this.#br16[(w << 1) + 6] = bid; // bid at byte 12; the ring's tail lives at byte 14 of entry 0
    this.tail = (this.tail + 1) & 0xffff;
    this.out[bid] = 0;
    this.dirty = true;
  }

  /** Publishes the pushed buffers to the kernel. */
  publish(): void {
    Atomics.store(this.#br16, 7, this.tail);
    this.dirty = false;
  }

  /** Checks that `bufferId` names a buffer that is out of the ring; returns it. */
  checkHeld(bufferId: number): number {
    const bid = toInteger(bufferId, 'bufferId', 0, this.count - 1);
    if (this.out[bid] === 0) throw new RangeError(`provided buffer ${bid} is not held (it is in the ring)`);
    return bid;
  }
}
