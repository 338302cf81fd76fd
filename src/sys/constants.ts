/**
 * Linux constants. x86-64 and arm64 share every value below (asm-generic), so there is
 * no per-architecture table; struct layouts that do differ live in `structs.ts`.
 */

// poll(2) event bits.
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
export const POLLRDNORM = 0x040;
export const POLLRDBAND = 0x080;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLMSG = 0x400;
export const POLLRDHUP = 0x2000;

// epoll(7) event bits and flags. EPOLLET is bit 31: written as an unsigned value here.
export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDNORM = 0x040;
export const EPOLLRDBAND = 0x080;
export const EPOLLWRNORM = 0x100;
export const EPOLLWRBAND = 0x200;
export const EPOLLMSG = 0x400;
export const EPOLLRDHUP = 0x2000;
export const EPOLLEXCLUSIVE = 0x10000000;
export const EPOLLWAKEUP = 0x20000000;
export const EPOLLONESHOT = 0x40000000;
export const EPOLLET = 0x80000000;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

/** Highest fd number + 1 that `select()` can watch (glibc's fixed `fd_set`). */
export const FD_SETSIZE = 1024;
/** Bytes a pipe write is guaranteed atomic up to. */
export const PIPE_BUF = 4096;

// fcntl(2) and open(2) flags.
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = O_NONBLOCK;
export const EFD_CLOEXEC = O_CLOEXEC;

// Sockets.
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = O_NONBLOCK;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_KEEPALIVE = 9;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const SO_DOMAIN = 39;
export const SO_PROTOCOL = 38;
export const SCM_RIGHTS = 1;
export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPV6_V6ONLY = 26;
export const TCP_NODELAY = 1;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CTRUNC = 0x8;
export const MSG_CMSG_CLOEXEC = 0x40000000;

// getaddrinfo(3).
export const AI_PASSIVE = 0x1;
export const AI_CANONNAME = 0x2;
export const AI_NUMERICHOST = 0x4;
export const AI_ADDRCONFIG = 0x20;
export const AI_NUMERICSERV = 0x400;
export const EAI_SYSTEM = -11;

// Sockets, added for src/net (helper B).
export const SOMAXCONN = 4096;
export const EAI_AGAIN = -3;
export const EAI_NONAME = -2;
