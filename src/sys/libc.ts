/**
 * The koffi binding to libc: every C function iomux calls, declared once.
 *
 * Nothing here checks results; callers go through {@link ./call.ts}. Buffers are
 * passed as `void *` (by address, no copy). `ssize_t` is spelled `long` (koffi has no
 * `ssize_t`); on the LP64 ABIs we support (x86-64, arm64) they are the same size.
 */
import koffi from 'koffi';

/** The loaded C library. */
export const lib = koffi.load('libc.so.6');

/* eslint-disable @typescript-eslint/no-explicit-any */
type Fn = (...args: any[]) => any;
const fn = (proto: string): Fn => lib.func(proto) as Fn;

// File descriptors.
/** `int close(int fd)` */
export const close = fn('int close(int fd)');
/** `long read(int fd, void *buf, unsigned long count)` */
export const read = fn('long read(int fd, void *buf, unsigned long count)');
/** `long write(int fd, const void *buf, unsigned long count)` */
export const write = fn('long write(int fd, const void *buf, unsigned long count)');
/** `int pipe2(_Out_ int *fds, int flags)` */
export const pipe2 = fn('int pipe2(_Out_ int *fds, int flags)');
/** `int dup(int fd)` */
export const dup = fn('int dup(int fd)');
/** Variadic: call as `fcntl(fd, cmd, 'int', arg)`. */
export const fcntl = fn('int fcntl(int fd, int cmd, ...)');
/** `int eventfd(unsigned int initval, int flags)` */
export const eventfd = fn('int eventfd(unsigned int initval, int flags)');
/** `const char *strerror(int errnum)` */
export const strerror = fn('const char *strerror(int errnum)');

// Readiness.
/** `int select(int nfds, void *readfds, void *writefds, void *exceptfds, void *timeout)` */
export const select = fn('int select(int nfds, void *readfds, void *writefds, void *exceptfds, void *timeout)');
/** `int poll(void *fds, unsigned long nfds, int timeout)` */
export const poll = fn('int poll(void *fds, unsigned long nfds, int timeout)');
/** `int epoll_create1(int flags)` */
export const epoll_create1 = fn('int epoll_create1(int flags)');
/** `int epoll_ctl(int epfd, int op, int fd, void *event)` */
export const epoll_ctl = fn('int epoll_ctl(int epfd, int op, int fd, void *event)');
/** `int epoll_wait(int epfd, void *events, int maxevents, int timeout)` */
export const epoll_wait = fn('int epoll_wait(int epfd, void *events, int maxevents, int timeout)');

// Sockets. Address arguments are raw `struct sockaddr` bytes.
/** `int socket(int domain, int type, int protocol)` */
export const socket = fn('int socket(int domain, int type, int protocol)');
/** `int socketpair(int domain, int type, int protocol, _Out_ int *sv)` */
export const socketpair = fn('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
/** `int bind(int fd, const void *addr, unsigned int addrlen)` */
export const bind = fn('int bind(int fd, const void *addr, unsigned int addrlen)');
/** `int listen(int fd, int backlog)` */
export const listen = fn('int listen(int fd, int backlog)');
/** `int accept4(int fd, void *addr, void *addrlen, int flags)` */
export const accept4 = fn('int accept4(int fd, void *addr, void *addrlen, int flags)');
/** `int connect(int fd, const void *addr, unsigned int addrlen)` */
export const connect = fn('int connect(int fd, const void *addr, unsigned int addrlen)');
/** `long recv(int fd, void *buf, unsigned long len, int flags)` */
export const recv = fn('long recv(int fd, void *buf, unsigned long len, int flags)');
/** `long send(int fd, const void *buf, unsigned long len, int flags)` */
export const send = fn('long send(int fd, const void *buf, unsigned long len, int flags)');
/** `long recvfrom(int fd, void *buf, unsigned long len, int flags, void *addr, void *addrlen)` */
export const recvfrom = fn('long recvfrom(int fd, void *buf, unsigned long len, int flags, void *addr, void *addrlen)');
/** `long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, unsigned int addrlen)` */
export const sendto = fn('long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, unsigned int addrlen)');
/** `long recvmsg(int fd, void *msg, int flags)` */
export const recvmsg = fn('long recvmsg(int fd, void *msg, int flags)');
/** `long sendmsg(int fd, const void *msg, int flags)` */
export const sendmsg = fn('long sendmsg(int fd, const void *msg, int flags)');
/** `int shutdown(int fd, int how)` */
export const shutdown = fn('int shutdown(int fd, int how)');
/** `int getsockname(int fd, void *addr, void *addrlen)` */
export const getsockname = fn('int getsockname(int fd, void *addr, void *addrlen)');
/** `int getpeername(int fd, void *addr, void *addrlen)` */
export const getpeername = fn('int getpeername(int fd, void *addr, void *addrlen)');
/** `int setsockopt(int fd, int level, int optname, const void *optval, unsigned int optlen)` */
export const setsockopt = fn('int setsockopt(int fd, int level, int optname, const void *optval, unsigned int optlen)');
/** `int getsockopt(int fd, int level, int optname, void *optval, void *optlen)` */
export const getsockopt = fn('int getsockopt(int fd, int level, int optname, void *optval, void *optlen)');

// Name resolution. getaddrinfo returns EAI codes, not errno; call it with `.async` so
// the resolver never blocks the event loop's thread. Its result list is read with plain
// numbers for addresses and copies into Buffers: nothing here makes koffi create a JS
// object (an External or an external ArrayBuffer), which N-API refuses while a worker
// thread is being torn down, and koffi then aborts the process. A resolution can
// complete at exactly that moment.
/** `int getaddrinfo(const char *node, const char *service, const void *hints, void *res)`: `res` is an 8-byte buffer that receives the list's address. */
export const getaddrinfo = fn('int getaddrinfo(const char *node, const char *service, const void *hints, void *res)');
/** `void freeaddrinfo(struct addrinfo *res)`, the list given by its address. */
export const freeaddrinfo = fn('void freeaddrinfo(uintptr_t res)');
/** `memcpy(dst, src, n)` from native memory at address `src` into a Buffer (its result ignored). */
export const copyFrom = fn('void memcpy(void *dst, uintptr_t src, size_t n)');
/** `size_t strnlen(const char *s, size_t maxlen)`, the string given by its address. */
export const strnlenAt = fn('size_t strnlen(uintptr_t s, size_t maxlen)');
/** `const char *gai_strerror(int errcode)` */
export const gai_strerror = fn('const char *gai_strerror(int errcode)');

/** Reads the calling thread's `errno`; only meaningful right after the failed call. */
export const errno = (): number => koffi.errno();

/** Wraps native memory in an ArrayBuffer without copying; copy out before it is freed. */
export const view = (ptr: unknown, len: number): ArrayBuffer => koffi.view(ptr as never, len) as ArrayBuffer;

export { koffi };

// Numeric address conversion (src/net/address.ts).
/** `int inet_pton(int af, const char *src, void *dst)` */
export const inet_pton = fn('int inet_pton(int af, const char *src, void *dst)');
/** `const char *inet_ntop(int af, const void *src, void *dst, unsigned int size)` */
export const inet_ntop = fn('const char *inet_ntop(int af, const void *src, void *dst, unsigned int size)');

// Batched datagrams, sendfile and credentials (src/net/mmsg.ts, src/net/msg.ts, src/net/sendfile.ts).
/** `int recvmmsg(int fd, void *msgvec, unsigned int vlen, int flags, void *timeout)` */
export const recvmmsg = fn('int recvmmsg(int fd, void *msgvec, unsigned int vlen, int flags, void *timeout)');
/** `int sendmmsg(int fd, void *msgvec, unsigned int vlen, int flags)` */
export const sendmmsg = fn('int sendmmsg(int fd, void *msgvec, unsigned int vlen, int flags)');
/** `long sendfile(int out_fd, int in_fd, int64_t *offset, unsigned long count)` (offset: 8 bytes in a Buffer, or null) */
export const sendfile = fn('long sendfile(int out_fd, int in_fd, void *offset, unsigned long count)');
/** `long lseek(int fd, long offset, int whence)` */
export const lseek = fn('long lseek(int fd, long offset, int whence)');
/** `int getpid(void)` */
export const getpid = fn('int getpid(void)');
/** `unsigned int getuid(void)` */
export const getuid = fn('unsigned int getuid(void)');
/** `unsigned int getgid(void)` */
export const getgid = fn('unsigned int getgid(void)');
/** `const char *if_indextoname(unsigned int ifindex, void *ifname)` (ifname: 16 bytes; NULL on error) */
export const if_indextoname = fn('void *if_indextoname(unsigned int ifindex, void *ifname)');
/** `unsigned int if_nametoindex(const char *ifname)` (0 when there is none) */
export const if_nametoindex = fn('unsigned int if_nametoindex(const char *ifname)');
