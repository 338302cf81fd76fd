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

// ---- ancillary data, credentials, packet info, batches, netlink, packet sockets ----------
// (Linux values, the same on x86-64 and arm64.)

/** `SCM_CREDENTIALS`: a `struct ucred` (pid, uid, gid) in a control message. */
export const SCM_CREDENTIALS = 2;
/** `SO_PASSCRED`: receive the sender's credentials with every message (AF_UNIX). */
export const SO_PASSCRED = 16;
/** `SO_PEERCRED`: the peer's `struct ucred` (12 bytes: pid, uid, gid) at connect time. */
export const SO_PEERCRED = 17;
/** `SO_TIMESTAMPNS`: receive a `struct timespec` with every datagram. */
export const SO_TIMESTAMPNS = 35;
/** `SCM_TIMESTAMPNS`: the control message type of `SO_TIMESTAMPNS`. */
export const SCM_TIMESTAMPNS = SO_TIMESTAMPNS;
/** `SO_BINDTODEVICE`. */
export const SO_BINDTODEVICE = 25;
/** `SO_BROADCAST`. */
export const SO_BROADCAST = 6;
/** `SO_RCVTIMEO` (Linux's old 16-byte `struct timeval` form). */
export const SO_RCVTIMEO = 20;
/** `SO_SNDTIMEO`. */
export const SO_SNDTIMEO = 21;
/** `SO_ZEROCOPY`: allow `MSG_ZEROCOPY` sends. */
export const SO_ZEROCOPY = 60;
/** `IP_TOS`: the TOS byte; also the control message type of `IP_RECVTOS`. */
export const IP_TOS = 1;
/** `IP_PKTINFO`: receive a `struct in_pktinfo` (ifindex, spec_dst, addr) per datagram. */
export const IP_PKTINFO = 8;
/** `IP_RECVTOS`: receive the TOS byte per datagram (control message type `IP_TOS`). */
export const IP_RECVTOS = 13;
/** `IPV6_RECVPKTINFO`: receive a `struct in6_pktinfo` per datagram. */
export const IPV6_RECVPKTINFO = 49;
/** `IPV6_PKTINFO`: the control message type of `IPV6_RECVPKTINFO` (20 bytes: address, ifindex). */
export const IPV6_PKTINFO = 50;
/** `SOL_UDP` (= `IPPROTO_UDP`). */
export const SOL_UDP = 17;
/** `UDP_SEGMENT`: generic segmentation offload size for sends (GSO). */
export const UDP_SEGMENT = 103;
/** `UDP_GRO`: receive coalesced datagrams (GRO); the segment size comes as a control message. */
export const UDP_GRO = 104;

/** `MSG_DONTROUTE`. */
export const MSG_DONTROUTE = 0x4;
/** `MSG_PROXY`. */
export const MSG_PROXY = 0x10;
/** `MSG_CONFIRM`. */
export const MSG_CONFIRM = 0x800;
/** `MSG_ERRQUEUE`: read the socket's error queue. */
export const MSG_ERRQUEUE = 0x2000;
/** `MSG_FIN`. */
export const MSG_FIN = 0x200;
/** `MSG_SYN`. */
export const MSG_SYN = 0x400;
/** `MSG_RST`. */
export const MSG_RST = 0x1000;
/** `MSG_MORE`: more data follows (cork). */
export const MSG_MORE = 0x8000;
/** `MSG_WAITFORONE`: `recvmmsg` returns once one message arrived. */
export const MSG_WAITFORONE = 0x10000;
/** `MSG_BATCH`. */
export const MSG_BATCH = 0x40000;
/** `MSG_ZEROCOPY`: send without copying (needs `SO_ZEROCOPY`). */
export const MSG_ZEROCOPY = 0x4000000;
/** `MSG_FASTOPEN`: TCP Fast Open on `sendto`/`sendmsg`. */
export const MSG_FASTOPEN = 0x20000000;

/** `AF_NETLINK`: kernel/user messaging; addresses are `[pid, groups]`. */
export const AF_NETLINK = 16;
/** `AF_PACKET`: raw link-layer packets (needs CAP_NET_RAW). */
export const AF_PACKET = 17;
/** `NETLINK_ROUTE`: routing and link information (rtnetlink). */
export const NETLINK_ROUTE = 0;
/** `NETLINK_USERSOCK`. */
export const NETLINK_USERSOCK = 2;
/** `NETLINK_SOCK_DIAG`. */
export const NETLINK_SOCK_DIAG = 4;
/** `NETLINK_KOBJECT_UEVENT`. */
export const NETLINK_KOBJECT_UEVENT = 15;
/** `NETLINK_GENERIC`. */
export const NETLINK_GENERIC = 16;
/** `ETH_P_ALL`: every protocol (AF_PACKET), in host order as Python's constant. */
export const ETH_P_ALL = 3;
/** `ETH_P_IP`. */
export const ETH_P_IP = 0x0800;
/** `F_DUPFD_CLOEXEC`: `fcntl` duplicate with close-on-exec set. */
export const F_DUPFD_CLOEXEC = 1030;
/** `SEEK_SET`. */
export const SEEK_SET = 0;
/** `SEEK_CUR`. */
export const SEEK_CUR = 1;
