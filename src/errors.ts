/**
 * Python's exception classes, in TypeScript: `OSError` and its PEP 3151 subclasses
 * (chosen by errno, made by the system layer), `KeyError`, and `ClosedError` for use of
 * a closed object. The public home of every error class of the package.
 */
export {
  OSError, BlockingIOError, InterruptedError, ConnectionError, BrokenPipeError, ConnectionAbortedError,
  ConnectionRefusedError, ConnectionResetError, TimeoutError, FileNotFoundError, FileExistsError,
  PermissionError, ChildProcessError, IsADirectoryError, NotADirectoryError, ProcessLookupError,
} from './sys/oserror.js';
export type { OSErrorClass } from './sys/oserror.js';
export { errno, errorcode } from './sys/errno.js';
export type { ErrnoName } from './sys/errno.js';

/** A lookup of a key that is not there, as Python's `KeyError`. */
export class KeyError extends Error {
  /** The key that was looked up. */
  readonly key: unknown;
  constructor(message: string, key?: unknown) {
    super(message);
    this.key = key;
  }
}
Object.defineProperty(KeyError.prototype, 'name', { value: 'KeyError', writable: true, configurable: true });

/** Use of an object after its `close()` (Python's ValueError/RuntimeError in that case). */
export class ClosedError extends Error {
  /** Always `'ERR_CLOSED'`. */
  readonly code = 'ERR_CLOSED' as const;
  constructor(message = 'I/O operation on a closed object') {
    super(message);
  }
}
Object.defineProperty(ClosedError.prototype, 'name', { value: 'ClosedError', writable: true, configurable: true });
