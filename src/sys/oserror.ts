/**
 * `OSError` and its PEP 3151 subclasses (chosen by errno), as Python's: the error a
 * failed system call produces. It lives with the system layer because it is made from
 * the platform's errno and its description (`strerror`); `src/errors.ts` exports it.
 */
import { strerror } from './libc.js';
import { errno, errorcode } from './errno.js';

const E = errno;

function describe(n: number): string {
  try {
    return String(strerror(n));
  } catch {
    return `Unknown error ${n}`;
  }
}

/**
 * An error reported by the operating system, as Python's `OSError`.
 *
 * `errno` is the positive error number, `code` its name (`'EBADF'`), `syscall` the C
 * function that failed. As in Python, `new OSError(errnum)` and
 * {@link OSError.fromErrno} give the PEP 3151 subclass that matches the errno
 * (`BlockingIOError` for EAGAIN, and so on).
 */
export class OSError extends Error {
  /** The positive error number, e.g. 9. */
  readonly errno!: number;
  /** The error's symbolic name, e.g. `'EBADF'`. */
  readonly code!: string;
  /** The system's description of the error, e.g. `'Bad file descriptor'`. */
  readonly strerror!: string;
  /** The C function that failed, when known, e.g. `'epoll_ctl'`. */
  readonly syscall: string | undefined;

  /**
   * @param errnum  the error number (positive).
   * @param message optional text appended after the standard `[Errno N] description`.
   * @param syscall the failing system call's name.
   * @param names   for errors whose numbers are not errnos (resolver codes): their own
   *   `code` and description instead of errno's.
   */
  constructor(errnum: number, message?: string, syscall?: string, names?: { code: string; strerror: string }) {
    if (new.target === OSError && names === undefined) {
      // As Python's OSError(errno, ...) (PEP 3151): `new OSError(EAGAIN)` is a BlockingIOError.
      const Sub = SUBCLASS_BY_ERRNO.get(errnum);
      if (Sub !== undefined) return new Sub(errnum, message, syscall);
    }
    const desc = names ? names.strerror : describe(errnum);
    const head = `${syscall ? `${syscall}: ` : ''}[Errno ${errnum}] ${desc}`;
    super(message ? `${head}: ${message}` : head);
    this.errno = errnum;
    this.code = names ? names.code : (errorcode.get(errnum) ?? `E${errnum}`);
    this.strerror = desc;
    this.syscall = syscall;
  }

  /** Builds the `OSError` subclass PEP 3151 assigns to `errnum`. */
  static fromErrno(errnum: number, syscall?: string, message?: string): OSError {
    const Cls = SUBCLASS_BY_ERRNO.get(errnum) ?? OSError;
    return new Cls(errnum, message, syscall);
  }
}

/** The type of a PEP 3151 subclass: `errnum` defaults to the family's usual errno. */
export type OSErrorClass = {
  new (errnum?: number, message?: string, syscall?: string): OSError;
  readonly prototype: OSError;
};

function sub(name: string, defaultErrno: number, base: new (errnum: number, message?: string, syscall?: string) => OSError = OSError): OSErrorClass {
  // A named class per errno family; `errnum` defaults so `new TimeoutError()` works.
  const cls = {
    [name]: class extends base {
      constructor(errnum: number = defaultErrno, message?: string, syscall?: string) {
        super(errnum, message, syscall);
      }
    },
  }[name]!;
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  return cls;
}

Object.defineProperty(OSError.prototype, 'name', { value: 'OSError', writable: true, configurable: true });

/** EAGAIN, EWOULDBLOCK, EINPROGRESS, EALREADY: the operation would block. */
export const BlockingIOError = sub('BlockingIOError', E.EAGAIN);
export type BlockingIOError = OSError;
/** EINTR: a signal interrupted the call. */
export const InterruptedError = sub('InterruptedError', E.EINTR);
export type InterruptedError = OSError;
/** Base of the connection errors (Python's `ConnectionError`). */
export const ConnectionError = sub('ConnectionError', E.ECONNRESET);
export type ConnectionError = OSError;
/** EPIPE, ESHUTDOWN: writing to a closed connection. */
export const BrokenPipeError = sub('BrokenPipeError', E.EPIPE, ConnectionError);
export type BrokenPipeError = OSError;
/** ECONNABORTED. */
export const ConnectionAbortedError = sub('ConnectionAbortedError', E.ECONNABORTED, ConnectionError);
export type ConnectionAbortedError = OSError;
/** ECONNREFUSED. */
export const ConnectionRefusedError = sub('ConnectionRefusedError', E.ECONNREFUSED, ConnectionError);
export type ConnectionRefusedError = OSError;
/** ECONNRESET: the peer reset the connection. */
export const ConnectionResetError = sub('ConnectionResetError', E.ECONNRESET, ConnectionError);
export type ConnectionResetError = OSError;
/** ETIMEDOUT; also what iomux's timeouts reject with. */
export const TimeoutError = sub('TimeoutError', E.ETIMEDOUT);
export type TimeoutError = OSError;
/** ENOENT. */
export const FileNotFoundError = sub('FileNotFoundError', E.ENOENT);
export type FileNotFoundError = OSError;
/** EEXIST. */
export const FileExistsError = sub('FileExistsError', E.EEXIST);
export type FileExistsError = OSError;
/** EACCES, EPERM. */
export const PermissionError = sub('PermissionError', E.EACCES);
export type PermissionError = OSError;
/** ECHILD. */
export const ChildProcessError = sub('ChildProcessError', E.ECHILD);
export type ChildProcessError = OSError;
/** EISDIR. */
export const IsADirectoryError = sub('IsADirectoryError', E.EISDIR);
export type IsADirectoryError = OSError;
/** ENOTDIR. */
export const NotADirectoryError = sub('NotADirectoryError', E.ENOTDIR);
export type NotADirectoryError = OSError;
/** ESRCH. */
export const ProcessLookupError = sub('ProcessLookupError', E.ESRCH);
export type ProcessLookupError = OSError;

const SUBCLASS_BY_ERRNO = new Map<number, OSErrorClass>([
  [E.EAGAIN, BlockingIOError], [E.EINPROGRESS, BlockingIOError], [E.EALREADY, BlockingIOError],
  [E.EINTR, InterruptedError],
  [E.EPIPE, BrokenPipeError], [E.ESHUTDOWN, BrokenPipeError],
  [E.ECONNABORTED, ConnectionAbortedError],
  [E.ECONNREFUSED, ConnectionRefusedError],
  [E.ECONNRESET, ConnectionResetError],
  [E.ETIMEDOUT, TimeoutError],
  [E.ENOENT, FileNotFoundError],
  [E.EEXIST, FileExistsError],
  [E.EACCES, PermissionError], [E.EPERM, PermissionError],
  [E.ECHILD, ChildProcessError],
  [E.EISDIR, IsADirectoryError],
  [E.ENOTDIR, NotADirectoryError],
  [E.ESRCH, ProcessLookupError],
]);
