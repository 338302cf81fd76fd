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

/** Names a class's instances as Python does (`err.name === 'BlockingIOError'`). */
function named(cls: { prototype: object; name: string }): void {
  Object.defineProperty(cls.prototype, 'name', { value: cls.name, writable: true, configurable: true });
}

named(OSError);

// Each subclass is a class of its own with a private brand, so TypeScript tells them
// apart (a ConnectionResetError is not a BrokenPipeError) and `instanceof` narrows.
// `errnum` defaults to the family's usual errno, so `new TimeoutError()` works.
/** EAGAIN, EWOULDBLOCK, EINPROGRESS, EALREADY: the operation would block. */
export class BlockingIOError extends OSError {
  #blockingIOError = true;
  /** @param errnum defaults to EAGAIN. See {@link OSError}. */
  constructor(errnum: number = E.EAGAIN, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(BlockingIOError);
/** EINTR: a signal interrupted the call. */
export class InterruptedError extends OSError {
  #interruptedError = true;
  /** @param errnum defaults to EINTR. See {@link OSError}. */
  constructor(errnum: number = E.EINTR, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(InterruptedError);
/** Base of the connection errors (Python's `ConnectionError`). */
export class ConnectionError extends OSError {
  #connectionError = true;
  /** @param errnum defaults to ECONNRESET. See {@link OSError}. */
  constructor(errnum: number = E.ECONNRESET, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(ConnectionError);
/** EPIPE, ESHUTDOWN: writing to a closed connection. */
export class BrokenPipeError extends ConnectionError {
  #brokenPipeError = true;
  /** @param errnum defaults to EPIPE. See {@link OSError}. */
  constructor(errnum: number = E.EPIPE, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(BrokenPipeError);
/** ECONNABORTED. */
export class ConnectionAbortedError extends ConnectionError {
  #connectionAbortedError = true;
  /** @param errnum defaults to ECONNABORTED. See {@link OSError}. */
  constructor(errnum: number = E.ECONNABORTED, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(ConnectionAbortedError);
/** ECONNREFUSED. */
export class ConnectionRefusedError extends ConnectionError {
  #connectionRefusedError = true;
  /** @param errnum defaults to ECONNREFUSED. See {@link OSError}. */
  constructor(errnum: number = E.ECONNREFUSED, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(ConnectionRefusedError);
/** ECONNRESET: the peer reset the connection. */
export class ConnectionResetError extends ConnectionError {
  #connectionResetError = true;
  /** @param errnum defaults to ECONNRESET. See {@link OSError}. */
  constructor(errnum: number = E.ECONNRESET, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(ConnectionResetError);
/** ETIMEDOUT; also what iomux's timeouts reject with. */
export class TimeoutError extends OSError {
  #timeoutError = true;
  /** @param errnum defaults to ETIMEDOUT. See {@link OSError}. */
  constructor(errnum: number = E.ETIMEDOUT, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(TimeoutError);
/** ENOENT. */
export class FileNotFoundError extends OSError {
  #fileNotFoundError = true;
  /** @param errnum defaults to ENOENT. See {@link OSError}. */
  constructor(errnum: number = E.ENOENT, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(FileNotFoundError);
/** EEXIST. */
export class FileExistsError extends OSError {
  #fileExistsError = true;
  /** @param errnum defaults to EEXIST. See {@link OSError}. */
  constructor(errnum: number = E.EEXIST, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(FileExistsError);
/** EACCES, EPERM. */
export class PermissionError extends OSError {
  #permissionError = true;
  /** @param errnum defaults to EACCES. See {@link OSError}. */
  constructor(errnum: number = E.EACCES, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(PermissionError);
/** ECHILD. */
export class ChildProcessError extends OSError {
  #childProcessError = true;
  /** @param errnum defaults to ECHILD. See {@link OSError}. */
  constructor(errnum: number = E.ECHILD, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(ChildProcessError);
/** EISDIR. */
export class IsADirectoryError extends OSError {
  #isADirectoryError = true;
  /** @param errnum defaults to EISDIR. See {@link OSError}. */
  constructor(errnum: number = E.EISDIR, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(IsADirectoryError);
/** ENOTDIR. */
export class NotADirectoryError extends OSError {
  #notADirectoryError = true;
  /** @param errnum defaults to ENOTDIR. See {@link OSError}. */
  constructor(errnum: number = E.ENOTDIR, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(NotADirectoryError);
/** ESRCH. */
export class ProcessLookupError extends OSError {
  #processLookupError = true;
  /** @param errnum defaults to ESRCH. See {@link OSError}. */
  constructor(errnum: number = E.ESRCH, message?: string, syscall?: string) {
    super(errnum, message, syscall);
  }
}
named(ProcessLookupError);
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
