/**
 * Linux constants. x86-64 and arm64 share every value below (asm-generic), so there is
 * no per-architecture table; struct layouts that do differ live in `structs.ts`.
 */

// poll(2) event bits.
/** Poll: there is data to read. */
export const POLLIN = 0x001;
/** Poll: urgent/priority data to read (TCP out-of-band, GPIO edge, cgroup events). */
export const POLLPRI = 0x002;
/** Poll: writing will not block. */
export const POLLOUT = 0x004;
/** Poll (returned only): an error condition. */
export const POLLERR = 0x008;
/** Poll (returned only): hang-up (the peer closed, or a pipe lost its writers). */
export const POLLHUP = 0x010;
/** Poll (returned only): the fd is not open. */
export const POLLNVAL = 0x020;
/** Poll: normal data to read (as POLLIN on Linux). */
export const POLLRDNORM = 0x040;
/** Poll: priority-band data to read. */
export const POLLRDBAND = 0x080;
/** Poll: writing normal data will not block (as POLLOUT). */
export const POLLWRNORM = 0x100;
/** Poll: priority-band data may be written. */
export const POLLWRBAND = 0x200;
/** Poll: unused on Linux. */
export const POLLMSG = 0x400;
/** Poll: the stream peer shut down writing (or closed). */
export const POLLRDHUP = 0x2000;

// epoll(7) event bits and flags. EPOLLET is bit 31: written as an unsigned value here.
/** Epoll: there is data to read. */
export const EPOLLIN = 0x001;
/** Epoll: urgent/priority data to read. */
export const EPOLLPRI = 0x002;
/** Epoll: writing will not block. */
export const EPOLLOUT = 0x004;
/** Epoll (always reported): an error condition. */
export const EPOLLERR = 0x008;
/** Epoll (always reported): hang-up. */
export const EPOLLHUP = 0x010;
/** Epoll: as EPOLLIN. */
export const EPOLLRDNORM = 0x040;
/** Epoll: priority-band data to read. */
export const EPOLLRDBAND = 0x080;
/** Epoll: as EPOLLOUT. */
export const EPOLLWRNORM = 0x100;
/** Epoll: priority-band data may be written. */
export const EPOLLWRBAND = 0x200;
/** Epoll: unused. */
export const EPOLLMSG = 0x400;
/** Epoll: the stream peer shut down writing (or closed). */
export const EPOLLRDHUP = 0x2000;
/** Epoll: wake only one of several epoll instances waiting on the same fd (ADD only). */
export const EPOLLEXCLUSIVE = 0x10000000;
/** Epoll: keep the system from suspending while the event is pending. */
export const EPOLLWAKEUP = 0x20000000;
/** Epoll: report one event, then disable the fd until `modify` re-arms it. */
export const EPOLLONESHOT = 0x40000000;
/** Epoll: edge-triggered (report changes, not states). Bit 31: written unsigned here; `EPOLLIN | EPOLLET` is negative in JS and accepted. */
export const EPOLLET = 0x80000000;
/** `epoll_create1` flag: close-on-exec (iomux sets it always). */
export const EPOLL_CLOEXEC = 0o2000000;
/** `epoll_ctl` operation: add an fd. */
export const EPOLL_CTL_ADD = 1;
/** `epoll_ctl` operation: remove an fd. */
export const EPOLL_CTL_DEL = 2;
/** `epoll_ctl` operation: change an fd's mask. */
export const EPOLL_CTL_MOD = 3;

/** Highest fd number + 1 that `select()` can watch (glibc's fixed `fd_set`). */
export const FD_SETSIZE = 1024;
/** Bytes a pipe write is guaranteed atomic up to. */
export const PIPE_BUF = 4096;

// fcntl(2) and open(2) flags.
/** `fcntl`: read the fd flags. */
export const F_GETFD = 1;
/** `fcntl`: set the fd flags. */
export const F_SETFD = 2;
/** `fcntl`: read the file status flags. */
export const F_GETFL = 3;
/** `fcntl`: set the file status flags. */
export const F_SETFL = 4;
/** Fd flag: close-on-exec. */
export const FD_CLOEXEC = 1;
/** File status flag: non-blocking I/O. */
export const O_NONBLOCK = 0o4000;
/** Open/pipe2 flag: close-on-exec. */
export const O_CLOEXEC = 0o2000000;
/** `eventfd` flag: non-blocking. */
export const EFD_NONBLOCK = O_NONBLOCK;
/** `eventfd` flag: close-on-exec. */
export const EFD_CLOEXEC = O_CLOEXEC;

// Sockets.
/** Address family: any. */
export const AF_UNSPEC = 0;
/** Address family: local (Unix domain) sockets. */
export const AF_UNIX = 1;
/** Address family: IPv4. */
export const AF_INET = 2;
/** Address family: IPv6. */
export const AF_INET6 = 10;
/** Socket type: reliable byte stream (TCP, Unix stream). */
export const SOCK_STREAM = 1;
/** Socket type: datagrams (UDP, Unix datagram). */
export const SOCK_DGRAM = 2;
/** Socket type: raw protocol access. */
export const SOCK_RAW = 3;
/** Socket type: reliable, ordered records (Unix seqpacket). */
export const SOCK_SEQPACKET = 5;
/** `socket` type flag: create non-blocking. */
export const SOCK_NONBLOCK = O_NONBLOCK;
/** `socket` type flag: create close-on-exec. */
export const SOCK_CLOEXEC = O_CLOEXEC;
/** Socket option level: the socket itself. */
export const SOL_SOCKET = 1;
/** Socket option: allow binding an address in TIME_WAIT. */
export const SO_REUSEADDR = 2;
/** Socket option (read-only): the socket type. */
export const SO_TYPE = 3;
/** Socket option (read-only): pending error, e.g. of a non-blocking connect; reading clears it. */
export const SO_ERROR = 4;
/** Socket option: TCP keep-alive probes. */
export const SO_KEEPALIVE = 9;
/** Socket option: send buffer size. */
export const SO_SNDBUF = 7;
/** Socket option: receive buffer size. */
export const SO_RCVBUF = 8;
/** Socket option: `struct linger`; `{on, 0}` makes close() send a reset. */
export const SO_LINGER = 13;
/** Socket option: several sockets may bind the same port. */
export const SO_REUSEPORT = 15;
/** Socket option (read-only): the address family. */
export const SO_DOMAIN = 39;
/** Socket option (read-only): the protocol. */
export const SO_PROTOCOL = 38;
/** Control message type: passing fds over a Unix socket. */
export const SCM_RIGHTS = 1;
/** Protocol: IP (option level for IPv4). */
export const IPPROTO_IP = 0;
/** Protocol: TCP (option level for TCP options). */
export const IPPROTO_TCP = 6;
/** Protocol: UDP. */
export const IPPROTO_UDP = 17;
/** Protocol: IPv6 (option level for IPv6 options). */
export const IPPROTO_IPV6 = 41;
/** IPv6 option: refuse IPv4-mapped addresses. */
export const IPV6_V6ONLY = 26;
/** TCP option: send segments at once (no Nagle delay). */
export const TCP_NODELAY = 1;
/** `shutdown`: stop receiving. */
export const SHUT_RD = 0;
/** `shutdown`: stop sending (the peer reads EOF). */
export const SHUT_WR = 1;
/** `shutdown`: both. */
export const SHUT_RDWR = 2;
/** Send/recv flag: out-of-band data. */
export const MSG_OOB = 0x1;
/** Recv flag: look without consuming. */
export const MSG_PEEK = 0x2;
/** Recv flag/result: the datagram was longer than the buffer. */
export const MSG_TRUNC = 0x20;
/** Send/recv flag: this call only, non-blocking. */
export const MSG_DONTWAIT = 0x40;
/** Send flag: end of record (SEQPACKET). */
export const MSG_EOR = 0x80;
/** Recv flag: wait for the full amount. */
export const MSG_WAITALL = 0x100;
/** Send flag: EPIPE instead of SIGPIPE on a closed peer. */
export const MSG_NOSIGNAL = 0x4000;
/** Recvmsg result flag: control data was truncated. */
export const MSG_CTRUNC = 0x8;
/** Recvmsg flag: received fds are close-on-exec. */
export const MSG_CMSG_CLOEXEC = 0x40000000;

// getaddrinfo(3).
/** Getaddrinfo flag: addresses for bind(). */
export const AI_PASSIVE = 0x1;
/** Getaddrinfo flag: return the canonical name. */
export const AI_CANONNAME = 0x2;
/** Getaddrinfo flag: the host is a numeric address; never resolve. */
export const AI_NUMERICHOST = 0x4;
/** Getaddrinfo flag: only families configured on this host. */
export const AI_ADDRCONFIG = 0x20;
/** Getaddrinfo flag: the service is a port number. */
export const AI_NUMERICSERV = 0x400;
/** Getaddrinfo error: see errno. */
export const EAI_SYSTEM = -11;

// Sockets: listen backlog and resolver errors.
/** Default `listen()` backlog cap (the kernel's `net.core.somaxconn` may be higher). */
export const SOMAXCONN = 4096;
/** getaddrinfo error: temporary resolver failure. */
export const EAI_AGAIN = -3;
/** getaddrinfo error: the name does not resolve. */
export const EAI_NONAME = -2;
