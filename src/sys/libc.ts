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
// the resolver never blocks the event loop's thread.
/** `int getaddrinfo(const char *node, const char *service, const void *hints, _Out_ void **res)` */
export const getaddrinfo = fn('int getaddrinfo(const char *node, const char *service, const void *hints, _Out_ void **res)');
/** `void freeaddrinfo(void *res)` */
export const freeaddrinfo = fn('void freeaddrinfo(void *res)');
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
