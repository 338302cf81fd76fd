/**
 * Linux errno values by name (x86-64 and arm64 share them), like Python's `errno`
 * module. The table is typed: `errno.EAGAIN` is a `number` (no `!` needed), and indexing
 * it with any other string gives `number | undefined`.
 *
 * Hot paths copy what they need into module constants (`const EAGAIN = errno.EAGAIN`).
 */

const TABLE = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, EWOULDBLOCK: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15,
  EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22,
  ENFILE: 23, EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29,
  EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36,
  ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EIDRM: 43, ENOSTR: 60,
  ENODATA: 61, ETIME: 62, ENOSR: 63, ENOLINK: 67, EPROTO: 71, EBADMSG: 74, EOVERFLOW: 75,
  EBADFD: 77, EILSEQ: 84, ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91,
  ENOPROTOOPT: 92, EPROTONOSUPPORT: 93, ESOCKTNOSUPPORT: 94, EOPNOTSUPP: 95, ENOTSUP: 95,
  EPFNOSUPPORT: 96, EAFNOSUPPORT: 97, EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100,
  ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105,
  EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108, ETOOMANYREFS: 109, ETIMEDOUT: 110,
  ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115,
  ESTALE: 116, EDQUOT: 122, ECANCELED: 125, EOWNERDEAD: 130, ENOTRECOVERABLE: 131,
} as const;

/** The name of an errno this package knows, e.g. `'EAGAIN'`. */
export type ErrnoName = keyof typeof TABLE;

/** The errno table: `errno.EBADF === 9`. Frozen. */
export const errno: { readonly [K in ErrnoName]: number } & { readonly [name: string]: number | undefined } =
  Object.freeze({ ...TABLE });

/** errno value → its canonical name (`9` → `'EBADF'`), like Python's `errno.errorcode`. */
export const errorcode: ReadonlyMap<number, string> = (() => {
  const m = new Map<number, string>();
  // First name wins for aliases: EAGAIN over EWOULDBLOCK, EOPNOTSUPP over ENOTSUP.
  for (const [name, n] of Object.entries(TABLE)) if (!m.has(n)) m.set(n, name);
  return m;
})();
