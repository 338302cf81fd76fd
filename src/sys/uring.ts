/**
 * The kernel interface of io_uring, as iomux uses it: the three system calls (through
 * libc's `syscall`, declared with fixed arguments per call: on x86-64 and arm64 Linux a
 * variadic function takes integer arguments exactly like a fixed one), `mmap`/`munmap`
 * for the rings, and the constants and structure offsets of `<linux/io_uring.h>`.
 *
 * Nothing here checks results but {@link enter}, whose errno rules (EINTR among them) are
 * kept here with the other system-call patterns; src/uring/ checks the rest. The system
 * call numbers are the same on every architecture (added after the tables were unified).
 */
import { lib, errno as lastErrno } from './libc.js';
import { errno } from './errno.js';
import { OSError } from './oserror.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;
const fn = (proto: string): Fn => lib.func(proto) as Fn;

/** `io_uring_setup`, `io_uring_enter`, `io_uring_register` system call numbers. */
export const SYS_io_uring_setup = 425;
export const SYS_io_uring_enter = 426;
export const SYS_io_uring_register = 427;

/** `syscall(425, entries, params)`: returns the ring fd, or -1 with errno. */
export const setupCall = fn('long syscall(long nr, unsigned int entries, void *params)');
/** `syscall(426, fd, to_submit, min_complete, flags, arg, argsz)`. */
export const enterCall = fn('long syscall(long nr, int fd, unsigned int to_submit, unsigned int min_complete, unsigned int flags, void *arg, unsigned long argsz)');
/** `syscall(427, fd, opcode, arg, nr_args)`. */
export const registerCall = fn('long syscall(long nr, int fd, unsigned int opcode, void *arg, unsigned int nr_args)');
/** `void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)` */
export const mmap = fn('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)');
/** `int munmap(void *addr, size_t length)` */
export const munmap = fn('int munmap(void *addr, size_t length)');

/** mmap arguments. */
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_POPULATE = 0x8000;
/** `mmap` offsets selecting the ring regions of a ring fd. */
export const IORING_OFF_SQ_RING = 0;
export const IORING_OFF_CQ_RING = 0x8000000;
export const IORING_OFF_SQES = 0x10000000;

/** `struct io_uring_params`: 120 bytes; `sq_off` at 40 and `cq_off` at 80. */
export const PARAMS_SIZE = 120;
export const P_SQ_ENTRIES = 0;
export const P_CQ_ENTRIES = 4;
export const P_FLAGS = 8;
export const P_FEATURES = 20;
/** `struct io_sqring_offsets` fields, as byte offsets into the params. */
export const P_SQ_HEAD = 40;
export const P_SQ_TAIL = 44;
export const P_SQ_RING_MASK = 48;
export const P_SQ_RING_ENTRIES = 52;
export const P_SQ_FLAGS = 56;
export const P_SQ_DROPPED = 60;
export const P_SQ_ARRAY = 64;
/** `struct io_cqring_offsets` fields, as byte offsets into the params. */
export const P_CQ_HEAD = 80;
export const P_CQ_TAIL = 84;
export const P_CQ_RING_MASK = 88;
export const P_CQ_RING_ENTRIES = 92;
export const P_CQ_OVERFLOW = 96;
export const P_CQ_CQES = 100;

/** Setup flags. */
export const IORING_SETUP_CQSIZE = 1 << 3;
export const IORING_SETUP_CLAMP = 1 << 4;
export const IORING_SETUP_SUBMIT_ALL = 1 << 7;
export const IORING_SETUP_COOP_TASKRUN = 1 << 8;
export const IORING_SETUP_SINGLE_ISSUER = 1 << 12;
export const IORING_SETUP_DEFER_TASKRUN = 1 << 13;
/** Feature bits reported by setup. */
export const IORING_FEAT_SINGLE_MMAP = 1 << 0;
export const IORING_FEAT_NODROP = 1 << 1;
export const IORING_FEAT_EXT_ARG = 1 << 8;

/** `io_uring_enter` flags. */
export const IORING_ENTER_GETEVENTS = 1 << 0;
export const IORING_ENTER_EXT_ARG = 1 << 3;
/** SQ ring flags. */
export const IORING_SQ_CQ_OVERFLOW = 1 << 1;
export const IORING_SQ_TASKRUN = 1 << 2;

/** Opcodes used (`enum io_uring_op`). */
export const IORING_OP_NOP = 0;
export const IORING_OP_SENDMSG = 9;
export const IORING_OP_TIMEOUT = 11;
export const IORING_OP_ACCEPT = 13;
export const IORING_OP_ASYNC_CANCEL = 14;
export const IORING_OP_LINK_TIMEOUT = 15;
export const IORING_OP_CLOSE = 19;
export const IORING_OP_SEND = 26;
export const IORING_OP_RECV = 27;

/** SQE flags. */
export const IOSQE_IO_LINK = 1 << 2;
export const IOSQE_IO_HARDLINK = 1 << 3;
export const IOSQE_BUFFER_SELECT = 1 << 5;
export const IOSQE_CQE_SKIP_SUCCESS = 1 << 6;
/** `ioprio` flags of accept and recv. */
export const IORING_ACCEPT_MULTISHOT = 1 << 0;
export const IORING_RECV_MULTISHOT = 1 << 1;
/** Cancel flags. */
export const IORING_ASYNC_CANCEL_ALL = 1 << 0;
export const IORING_ASYNC_CANCEL_FD = 1 << 1;
/** CQE flags. */
export const IORING_CQE_F_BUFFER = 1 << 0;
export const IORING_CQE_F_MORE = 1 << 1;
export const IORING_CQE_BUFFER_SHIFT = 16;

/** `io_uring_register` opcodes. */
export const IORING_REGISTER_EVENTFD = 4;
export const IORING_REGISTER_PROBE = 8;
export const IORING_REGISTER_PBUF_RING = 22;
export const IORING_UNREGISTER_PBUF_RING = 23;
/** `struct io_uring_probe`: 16-byte header, then 8 bytes per op; flag 1 = supported. */
export const PROBE_HEADER = 16;
export const PROBE_OP_SIZE = 8;
export const IO_URING_OP_SUPPORTED = 1;

/** Entry sizes. */
export const SQE_SIZE = 64;
export const CQE_SIZE = 16;
/** `struct io_uring_buf`: addr u64, len u32, bid u16, resv u16 (the ring's tail in entry 0). */
export const BUF_SIZE = 16;
/** `struct io_uring_buf_reg`: ring_addr u64, ring_entries u32, bgid u16, flags u16, resv u64[3]. */
export const BUF_REG_SIZE = 40;
/** `struct __kernel_timespec`: 16 bytes. */
export const TIMESPEC_SIZE = 16;
/** `struct io_uring_getevents_arg`: sigmask u64, sigmask_sz u32, pad u32, ts u64. */
export const GETEVENTS_ARG_SIZE = 24;

/** SQE field byte offsets. */
export const SQE_OPCODE = 0;
export const SQE_FLAGS = 1;
export const SQE_IOPRIO = 2;
export const SQE_FD = 4;
export const SQE_OFF = 8;
export const SQE_ADDR = 16;
export const SQE_LEN = 24;
export const SQE_OP_FLAGS = 28;
export const SQE_USER_DATA = 32;
export const SQE_BUF_GROUP = 40;

// ---- closing a ring fd at a thread's teardown --------------------------------------------

import koffi from 'koffi';

const node = koffi.load(null as unknown as string);
const napiAddCleanup = node.func('int napi_add_env_cleanup_hook(void *env, void *fun, void *arg)') as Fn;
const napiRemoveCleanup = node.func('int napi_remove_env_cleanup_hook(void *env, void *fun, void *arg)') as Fn;
const dlsym = lib.func('void *dlsym(void *handle, const char *symbol)') as Fn;
/** libc's `close`, as an environment cleanup hook `void (*)(void *arg)` with the fd as arg. */
let closeAddr: unknown = null;

function env(): unknown {
  return (koffi as unknown as { node: { env: unknown } }).node.env;
}

/**
 * Makes the JS thread's teardown close `fd` natively (no JavaScript runs then): a worker
 * thread that ends with a ring open does not leave the ring fd open in the process. Undo
 * with {@link unguardFd} before closing the fd normally.
 */
export function guardFd(fd: number): void {
  closeAddr ??= dlsym(null, 'close');
  if (closeAddr === null) return;
  napiAddCleanup(env(), closeAddr, BigInt(fd));
}

/** Removes the teardown hook of {@link guardFd}. */
export function unguardFd(fd: number): void {
  if (closeAddr === null) return;
  napiRemoveCleanup(env(), closeAddr, BigInt(fd));
}

const { EINTR, EBUSY, EAGAIN, ETIME } = errno;

/**
 * `io_uring_enter(fd, toSubmit, minComplete, flags, arg, argSize)`: the count of SQEs the
 * kernel took, or a negated errno when the call ended without that count but the ring is
 * sound: EINTR or ETIME (the wait ended early: the caller reaps and goes on; SQEs were taken
 * anyway), EBUSY or EAGAIN (completions wait beyond a full CQ ring: reap, then enter again).
 * Never retried here: the caller's loop turn is the retry. Any other failure throws.
 * @throws OSError for any other errno.
 */
export function enter(fd: number, toSubmit: number, minComplete: number, flags: number, arg: unknown, argSize: number): number {
  const r = Number(enterCall(SYS_io_uring_enter, fd, toSubmit, minComplete, flags, arg, argSize));
  if (r >= 0) return r;
  const e = lastErrno();
  if (e === EINTR || e === ETIME || e === EBUSY || e === EAGAIN) return -e;
  throw OSError.fromErrno(e, 'io_uring_enter');
}
