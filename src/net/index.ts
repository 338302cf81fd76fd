/**
 * Public exports of `src/net/`: Python's `socket` module for non-blocking use with the
 * selectors and the Reactor, and the `Reactor` with asyncio's socket operations (the
 * event loop's Reactor plus `sockRecv`, `sockSendall`, ...).
 */
export { Socket, type SendData } from './socket.js';
export { NEG_EAGAIN } from './transfer.js';
export { Reactor, type SockOpOptions, type Readiness, type ReadinessOptions } from './async.js';
export { socket, socketpair } from './create.js';
export { CMSG_LEN, CMSG_SPACE, type AncData, type RecvmsgResult, type RecvmsgIntoResult } from './msg.js';
export { DatagramBatch } from './mmsg.js';
export { setdefaulttimeout, getdefaulttimeout } from './defaults.js';
export { createConnection, createServer, fromfd, hasDualstackIpv6, decodeUcred, encodeUcred, encodeSockaddr, decodeSockaddr, type Ucred, type CreateServerOptions } from './helpers.js';
export type { FileArg } from './sendfile.js';
export type {
  InetAddress, Inet6Address, UnixAddress, SocketAddress, AddressLike, NetlinkAddress, PacketAddress, AnyAddress,
} from './address.js';
export { getaddrinfo, getaddrinfoSync, GaiError, type AddrInfo } from './resolve.js';
export {
  AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX, SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, SOCK_NONBLOCK,
  SOCK_CLOEXEC, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_ERROR, SO_RCVBUF, SO_SNDBUF, SO_KEEPALIVE, SO_LINGER,
  SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SOMAXCONN, IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6, IPV6_V6ONLY,
  TCP_NODELAY, SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_DONTWAIT, MSG_OOB, MSG_WAITALL, MSG_TRUNC, MSG_CTRUNC,
  MSG_EOR, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC, SCM_RIGHTS, AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV,
  AI_ADDRCONFIG, SCM_CREDENTIALS, SO_PASSCRED, SO_PEERCRED, SO_TIMESTAMPNS, SCM_TIMESTAMPNS, SO_BINDTODEVICE,
  SO_BROADCAST, SO_RCVTIMEO, SO_SNDTIMEO, SO_ZEROCOPY, IP_TOS, IP_PKTINFO, IP_RECVTOS, IPV6_RECVPKTINFO, IPV6_PKTINFO,
  SOL_UDP, UDP_SEGMENT, UDP_GRO, MSG_DONTROUTE, MSG_PROXY, MSG_CONFIRM, MSG_ERRQUEUE, MSG_FIN, MSG_SYN, MSG_RST,
  MSG_MORE, MSG_WAITFORONE, MSG_BATCH, MSG_ZEROCOPY, MSG_FASTOPEN, AF_NETLINK, AF_PACKET, NETLINK_ROUTE,
  NETLINK_USERSOCK, NETLINK_SOCK_DIAG, NETLINK_KOBJECT_UEVENT, NETLINK_GENERIC, ETH_P_ALL, ETH_P_IP,
} from '../sys/constants.js';
