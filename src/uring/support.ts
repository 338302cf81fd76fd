/**
 * The io_uring feature probe ({@link uringSupport}) and the memory mappings the Proactor
 * uses: the kernel's rings mapped from the ring fd, and anonymous page-aligned memory for
 * provided buffers and timespecs.
 */
import * as ring from '../sys/uring.js';
import { errno as lastErrno, view, close as closeFdRaw } from '../sys/libc.js';
import { errno } from '../sys/errno.js';
import { OSError } from '../sys/oserror.js';
import { readFileSync } from 'node:fs';


/** What {@link uringSupport} found. */
export interface UringSupport {
  /** Whether a Proactor can be created here. */
  readonly supported: boolean;
  /** Why not (names the cause and the knob), or `'io_uring available'`. */
  readonly reason: string;
  /** The errno that setup or a probe failed with, 0 when supported. */
  readonly errno: number;
}

let support: UringSupport | null = null;

/** The value of kernel.io_uring_disabled ('' when unreadable). */
function sysctlDisabled(): string {
  try {
    return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Whether io_uring can be used in this process, and if not why: the kernel lacks it
 * (ENOSYS), it is switched off (`kernel.io_uring_disabled`) or a seccomp profile refuses
 * it (EPERM/ENOSYS, Docker's default profile does), or an operation iomux needs is
 * missing (kernels before 5.19: provided-buffer rings). Probed once, then cached.
 * `IOMUX_URING=off` in the environment makes it answer "unsupported" (to exercise the
 * fallbacks).
 */
export function uringSupport(): UringSupport {
  if (support !== null) return support;
  if (process.env['IOMUX_URING'] === 'off') {
    support = { supported: false, reason: 'io_uring is switched off by IOMUX_URING=off', errno: errno.ENOSYS };
    return support;
  }
  const params = new Uint8Array(ring.PARAMS_SIZE);
  const fd = Number(ring.setupCall(ring.SYS_io_uring_setup, 4, params));
  if (fd < 0) {
    const e = lastErrno();
    const sysctl = sysctlDisabled();
    let reason: string;
    if (sysctl !== '' && sysctl !== '0') {
      reason = `io_uring is disabled by the kernel setting kernel.io_uring_disabled = ${sysctl} (io_uring_setup failed with ${e === errno.EPERM ? 'EPERM' : `errno ${e}`})`;
    } else if (e === errno.ENOSYS) {
      reason = 'io_uring_setup is not available (ENOSYS): a kernel built without io_uring, or a seccomp profile (such as a container runtime\'s default) that blocks it';
    } else if (e === errno.EPERM) {
      reason = 'io_uring_setup is not permitted (EPERM): a seccomp profile or a security module blocks io_uring in this process';
    } else {
      reason = `io_uring_setup failed with errno ${e}`;
    }
    support = { supported: false, reason, errno: e };
    return support;
  }
  try {
    const probe = new Uint8Array(ring.PROBE_HEADER + 256 * ring.PROBE_OP_SIZE);
    const r = Number(ring.registerCall(ring.SYS_io_uring_register, fd, ring.IORING_REGISTER_PROBE, probe, 256));
    if (r < 0) {
      const e = lastErrno();
      support = { supported: false, reason: `the kernel cannot list its io_uring operations (IORING_REGISTER_PROBE failed with errno ${e}; needs Linux 5.6)`, errno: e };
      return support;
    }
    const lastOp = probe[0]!;
    const names: Array<[number, string]> = [
      [ring.IORING_OP_ACCEPT, 'ACCEPT'], [ring.IORING_OP_ASYNC_CANCEL, 'ASYNC_CANCEL'],
      [ring.IORING_OP_LINK_TIMEOUT, 'LINK_TIMEOUT'], [ring.IORING_OP_TIMEOUT, 'TIMEOUT'],
      [ring.IORING_OP_CLOSE, 'CLOSE'], [ring.IORING_OP_SEND, 'SEND'], [ring.IORING_OP_RECV, 'RECV'],
    ];
    const missing = names.filter(([op]) => op > lastOp
      || (probe[ring.PROBE_HEADER + op * ring.PROBE_OP_SIZE + 2]! & ring.IO_URING_OP_SUPPORTED) === 0).map(([, n]) => n);
    if (missing.length > 0) {
      support = { supported: false, reason: `the kernel's io_uring lacks ${missing.join(', ')}`, errno: errno.EOPNOTSUPP };
      return support;
    }
    // Provided-buffer rings (Linux 5.19): register a tiny one and take it back.
    const mem = mapAnon(4096);
    try {
      const reg = new Uint8Array(ring.BUF_REG_SIZE);
      const dv = new DataView(reg.buffer);
      dv.setBigUint64(0, BigInt(mem.addr), true);
      dv.setUint32(8, 1, true);
      const rr = Number(ring.registerCall(ring.SYS_io_uring_register, fd, ring.IORING_REGISTER_PBUF_RING, reg, 1));
      if (rr < 0) {
        const e = lastErrno();
        support = { supported: false, reason: `the kernel's io_uring has no provided-buffer rings (IORING_REGISTER_PBUF_RING failed with errno ${e}; needs Linux 5.19)`, errno: e };
        return support;
      }
    } finally {
      ring.munmap(mem.ptr, 4096);
    }
    support = { supported: true, reason: 'io_uring available', errno: 0 };
    return support;
  } finally {
    closeFdRaw(fd);
  }
}

/** A mapped memory region: native pointer, its address as a number, length, and a view. */
export interface Mapping {
  ptr: unknown;
  addr: number;
  len: number;
  buf: ArrayBuffer;
}

/** Maps `len` bytes of zeroed, page-aligned private memory. */
export function mapAnon(len: number): Mapping {
  const ptr = ring.mmap(null, len, ring.PROT_READ | ring.PROT_WRITE,
    ring.MAP_PRIVATE | ring.MAP_ANONYMOUS | ring.MAP_POPULATE, -1, 0);
  if (ptr === null || BigInt(ptr as bigint) === -1n || BigInt.asIntN(64, BigInt(ptr as bigint)) === -1n) {
    throw OSError.fromErrno(lastErrno(), 'mmap');
  }
  return { ptr, addr: Number(ptr as bigint), len, buf: view(ptr, len) };
}

/** Maps `len` bytes of ring `fd` at `offset` (the SQ/CQ rings or the SQE array). */
export function mapRing(fd: number, len: number, offset: number): Mapping {
  const ptr = ring.mmap(null, len, ring.PROT_READ | ring.PROT_WRITE, ring.MAP_SHARED | ring.MAP_POPULATE, fd, offset);
  if (ptr === null || BigInt.asIntN(64, BigInt(ptr as bigint)) === -1n) {
    throw OSError.fromErrno(lastErrno(), 'mmap', 'mapping an io_uring ring');
  }
  return { ptr, addr: Number(ptr as bigint), len, buf: view(ptr, len) };
}
