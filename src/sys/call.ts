/**
 * The checked-call helpers: the one place that reads errno, turns a failure into an
 * `OSError`, and retries a call a signal interrupted (EINTR, PEP 475).
 *
 * Two forms of every result: `check` throws the matching `OSError` subclass; `sysret`
 * returns `-errno`, for hot paths where an expected EAGAIN must not cost an exception
 * (about 4 µs for an Error against 0.4 µs for the call). Both read errno at once,
 * before any other native call can overwrite it.
 *
 * Retrying: {@link retry} repeats a call while it fails with EINTR; {@link retryWait}
 * does the same for a readiness call with a timeout, resuming with the time left (the
 * deadline is taken before the first call, so time spent before a signal counts).
 * No other module of the package retries or names EINTR.
 */
import { OSError } from './oserror.js';
import { errno as lastErrno, close } from './libc.js';
import { errno } from './errno.js';

const EINTR = errno.EINTR;
const EINPROGRESS = errno.EINPROGRESS;

/**
 * Returns `ret` when it is >= 0; otherwise reads errno and throws `OSError.fromErrno`.
 * Call it directly around the libc call: `check(libc.close(fd), 'close')`.
 */
export function check(ret: number, syscall: string, detail?: string): number {
  if (ret >= 0) return ret;
  throw OSError.fromErrno(lastErrno(), syscall, detail);
}

/** Returns `ret` when it is >= 0, else `-errno`: the non-throwing form for hot paths. */
export function sysret(ret: number): number {
  return ret >= 0 ? ret : -lastErrno();
}

/** Throws the `OSError` for a negated errno (as returned by {@link sysret}). */
export function raise(negErrno: number, syscall: string, detail?: string): never {
  throw OSError.fromErrno(-negErrno, syscall, detail);
}

/** A libc function as koffi binds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CFunction = (...args: any[]) => number;

/**
 * Calls `f(...args)` again while it fails with EINTR (PEP 475), for calls without a
 * timeout (read, write, recv, send, accept...). Returns the result when >= 0, else
 * `-errno`. A call on a non-blocking fd never blocks, so a retry costs nothing.
 */
export function retry(f: CFunction, ...args: unknown[]): number {
  for (;;) {
    const r = f(...args);
    if (r >= 0) return r;
    const e = lastErrno();
    if (e !== EINTR) return -e;
  }
}

/**
 * Makes a readiness call with a timeout in milliseconds (-1 block, 0 poll, > 0 wait),
 * again after EINTR with the time left (PEP 475): the deadline is read from the clock
 * before the first call, and only for a positive timeout. `call(ms)` makes the call once
 * and returns libc's raw result; callers create it once (per object or module) and keep
 * their arguments in fields, so a wait allocates nothing. Returns the count (>= 0) or
 * `-errno`.
 */
export function retryWait(ms: number, call: (ms: number) => number): number {
  const deadline = ms > 0 ? performance.now() + ms : 0;
  for (;;) {
    const r = call(ms);
    if (r >= 0) return r;
    const e = lastErrno();
    if (e !== EINTR) return -e;
    if (ms > 0) ms = Math.max(0, Math.ceil(deadline - performance.now()));
  }
}

/**
 * Closes `fd`: 0 or `-errno`. EINTR counts as success and is never retried: Linux
 * releases the fd before returning it, so a retry could close a number reused meanwhile.
 */
export function closeFd(fd: number): number {
  const r = close(fd);
  if (r >= 0) return r;
  const e = lastErrno();
  return e === EINTR ? 0 : -e;
}

/**
 * For a call that goes on in the kernel after a signal (connect): `ret` when >= 0,
 * else `-errno`, with EINTR reported as EINPROGRESS (the connection completes or fails
 * later, exactly as a non-blocking connect's).
 */
export function sysretStarted(ret: number): number {
  if (ret >= 0) return ret;
  const e = lastErrno();
  return e === EINTR ? -EINPROGRESS : -e;
}

