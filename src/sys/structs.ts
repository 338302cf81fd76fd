/**
 * Byte layouts of the C structs iomux fills by hand. Hot paths read and write these in
 * preallocated `Buffer`s through typed views instead of koffi struct objects, which
 * would allocate per call.
 */
import { arch } from 'node:process';

/** `struct pollfd { int fd; short events; short revents; }`: 8 bytes, same everywhere. */
export const POLLFD_SIZE = 8;

/**
 * `struct epoll_event { uint32_t events; epoll_data_t data; }`. The kernel declares it
 * packed on x86-64 only: 12 bytes with `data` at offset 4. Elsewhere (arm64) natural
 * alignment gives 16 bytes with `data` at offset 8.
 */
const EPOLL_EVENT_PACKED = arch === 'x64';
/** Bytes of one `struct epoll_event`; `events` is at offset 0. */
export const EPOLL_EVENT_SIZE = EPOLL_EVENT_PACKED ? 12 : 16;
/** Offset of `data` (iomux stores the fd in its low 32 bits). */
export const EPOLL_EVENT_DATA = EPOLL_EVENT_PACKED ? 4 : 8;

/** glibc's `fd_set`: 1024 bits, one bit per fd, byte `fd >> 3`, bit `fd & 7` (little-endian longs). */
export const FD_SET_SIZE = 128;

/** `struct timeval { time_t tv_sec; suseconds_t tv_usec; }` and `struct timespec`: two longs. */
export const TIMEVAL_SIZE = 16;

/**
 * Writes `ms` milliseconds (>= 0, at most 2^31-1) into a `struct timeval` seen as four
 * 32-bit words: two little-endian longs whose values both fit the low word.
 */
export function setTimeval(words: Int32Array, ms: number): void {
  words[0] = Math.floor(ms / 1000);
  words[1] = 0;
  words[2] = (ms % 1000) * 1000;
  words[3] = 0;
}

/** `struct sockaddr_storage`: large enough for every address family. */
export const SOCKADDR_STORAGE_SIZE = 128;
/** `struct sockaddr_un`'s `sun_path` length. */
export const SUN_PATH_MAX = 108;
/** `struct sockaddr_in`: family, port, address, padding. */
export const SOCKADDR_IN_SIZE = 16;
/** `struct sockaddr_in6`: family, port, flowinfo, address, scope id. */
export const SOCKADDR_IN6_SIZE = 28;

/** `struct msghdr` on LP64: name, namelen(+pad), iov, iovlen, control, controllen, flags(+pad). */
export const MSGHDR_SIZE = 56;
/** Offset of `msg_name`. */
export const MSGHDR_NAME = 0;
/** Offset of `msg_namelen`. */
export const MSGHDR_NAMELEN = 8;
/** Offset of `msg_iov`. */
export const MSGHDR_IOV = 16;
/** Offset of `msg_iovlen`. */
export const MSGHDR_IOVLEN = 24;
/** Offset of `msg_control`. */
export const MSGHDR_CONTROL = 32;
/** Offset of `msg_controllen`. */
export const MSGHDR_CONTROLLEN = 40;
/** Offset of `msg_flags`. */
export const MSGHDR_FLAGS = 48;
/** `struct iovec { void *base; size_t len; }`. */
export const IOVEC_SIZE = 16;
/** `struct cmsghdr { size_t len; int level; int type; }` then data, 8-byte aligned. */
export const CMSGHDR_SIZE = 16;
/** `CMSG_SPACE(dataLen)`: header plus data padded to 8 bytes. */
export const cmsgSpace = (dataLen: number): number => CMSGHDR_SIZE + ((dataLen + 7) & ~7);
/** `CMSG_LEN(dataLen)`: header plus data, unpadded. */
export const cmsgLen = (dataLen: number): number => CMSGHDR_SIZE + dataLen;

/** `struct addrinfo` on LP64. */
export const ADDRINFO_SIZE = 48;
/** Offset of `ai_flags`. */
export const ADDRINFO_FLAGS = 0;
/** Offset of `ai_family`. */
export const ADDRINFO_FAMILY = 4;
/** Offset of `ai_socktype`. */
export const ADDRINFO_SOCKTYPE = 8;
/** Offset of `ai_protocol`. */
export const ADDRINFO_PROTOCOL = 12;
/** Offset of `ai_addrlen`. */
export const ADDRINFO_ADDRLEN = 16;
/** Offset of `ai_addr`. */
export const ADDRINFO_ADDR = 24;
/** Offset of `ai_canonname`. */
export const ADDRINFO_CANONNAME = 32;
/** Offset of `ai_next`. */
export const ADDRINFO_NEXT = 40;

/** `struct mmsghdr { struct msghdr msg_hdr; unsigned int msg_len; }`: 64 bytes on LP64. */
export const MMSGHDR_SIZE = 64;
/** Offset of `msg_len` in `struct mmsghdr`. */
export const MMSGHDR_LEN = 56;
/** `struct ucred { pid_t pid; uid_t uid; gid_t gid; }`: 12 bytes. */
export const UCRED_SIZE = 12;
/** `struct sockaddr_nl { sa_family_t; unsigned short pad; __u32 pid; __u32 groups; }`: 12 bytes. */
export const SOCKADDR_NL_SIZE = 12;
/** `struct sockaddr_ll`: 20 bytes. */
export const SOCKADDR_LL_SIZE = 20;
/** The most iovecs one `sendmsg`/`recvmsg` takes (Linux's `UIO_MAXIOV`). */
export const UIO_MAXIOV = 1024;
