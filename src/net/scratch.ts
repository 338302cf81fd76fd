/**
 * Preallocated native-memory scratch for the socket hot paths. JS runs one call at a
 * time, and every use of a scratch buffer ends before the function that filled it
 * returns, so one set serves every socket.
 */

/** `struct sockaddr_storage` scratch for addresses going in or coming out. */
export const ADDR = Buffer.allocUnsafeSlow(128);
/** `socklen_t` in/out scratch for address and option lengths. */
export const ADDRLEN = Buffer.allocUnsafeSlow(8);
/** Receive scratch for `recv(n)` with n up to its size: the result is copied out exactly. */
export const RECV = Buffer.allocUnsafeSlow(64 * 1024);
/** 4-byte int scratch for `getsockopt`/`setsockopt`. */
export const OPT = Buffer.allocUnsafeSlow(8);

/** How error messages name a socket's fd. */
export function where(fd: number): string {
  return fd < 0 ? 'socket is closed' : `fd ${fd}`;
}
