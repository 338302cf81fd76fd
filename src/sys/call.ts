/**
 * The one checked-call helper. Every libc call's result goes through `check` (throws the
 * matching `OSError` subclass) or `sysret` (returns `-errno`, for hot paths where an
 * expected EAGAIN must not cost an exception). Both read `errno` at once, before any
 * other native call can overwrite it.
 */
import { OSError } from '../errors.js';
import { errno } from './libc.js';

/**
 * Returns `ret` when it is >= 0; otherwise reads errno and throws `OSError.fromErrno`.
 * Call it directly around the libc call: `check(libc.close(fd), 'close')`.
 */
export function check(ret: number, syscall: string, detail?: string): number {
  if (ret >= 0) return ret;
  throw OSError.fromErrno(errno(), syscall, detail);
}

/** Returns `ret` when it is >= 0, else `-errno`: the non-throwing form for hot paths. */
export function sysret(ret: number): number {
  return ret >= 0 ? ret : -errno();
}

/** Throws the `OSError` for a negated errno returned by {@link sysret}. */
export function raise(negErrno: number, syscall: string, detail?: string): never {
  throw OSError.fromErrno(-negErrno, syscall, detail);
}

export { OSError };
