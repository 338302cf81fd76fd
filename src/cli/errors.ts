/**
 * The one error style of the `iomux` commands: `cannot <do what> <to which file or
 * address>: <the system's description> (<CODE>)`, e.g. `cannot open 'missing.txt': No
 * such file or directory (ENOENT)` or `cannot listen on 127.0.0.1:80: Permission denied
 * (EACCES)`. The file or the address is always named; an fd number never is (it means
 * nothing to the person who typed the command). Node's own `fs` errors and iomux's
 * `OSError`s read the same.
 */
import { OSError, errno as ERRNO } from '../index.js';

/** Node's system errors (`fs`, `net`): a string `code` and a negative `errno`. */
interface NodeSystemError {
  code: string;
  errno?: number;
}

function isNodeSystemError(e: unknown): e is NodeSystemError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

/**
 * Why an operation failed, without where: `No such file or directory (ENOENT)` for a
 * system error (Node's or iomux's), else the error's first line.
 */
export function reason(e: unknown): string {
  if (e instanceof OSError) return `${e.strerror} (${e.code})`;
  if (isNodeSystemError(e)) {
    const n = typeof e.errno === 'number' && e.errno !== 0 ? Math.abs(e.errno) : ERRNO[e.code];
    if (n !== undefined) return `${new OSError(n).strerror} (${e.code})`;
  }
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? '';
}

/** An error of a command, already phrased for the person who ran it. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  /** The `code` of the error it reports (`'EADDRINUSE'`), if that has one. */
  readonly code: string | undefined;
  /** @param cause the error it reports, if any (kept as `cause`). */
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    const code = cause !== null && typeof cause === 'object' ? (cause as { code?: unknown }).code : undefined;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/**
 * `cannot <action>: <reason>`: `action` says what and on which file or address
 * (`open 'missing.txt'`, `listen on 127.0.0.1:80`).
 */
export function cannot(action: string, e: unknown): CommandError {
  return new CommandError(`cannot ${action}: ${reason(e)}`, e);
}

/** A path as messages show it: `'out.txt'`. */
export const quoted = (path: string): string => `'${path}'`;
