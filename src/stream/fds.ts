/**
 * File descriptors passed through the stream and datagram faces (SCM_RIGHTS, AF_UNIX):
 * what the `fds` option and `sendFds` accept, checked by the same rules in both faces.
 */
import { AF_UNIX } from '../sys/constants.js';
import { describe, toInteger } from '../validate.js';
import { MAX_FDS } from '../net/trymsg.js';

/** A file descriptor to pass: a number, or anything with `fileno()` (a `Socket`). */
export type FdLike = number | { fileno(): number };

/** The `fds` option: `undefined`/`false` none, `true` {@link MAX_FDS}, else a count up to it. */
export function maxFdsOption(v: boolean | number | undefined): number {
  return v === undefined || v === false ? 0 : v === true ? MAX_FDS : toInteger(v, 'fds', 0, MAX_FDS);
}

/** The throw for `sendFds` on a socket of another family. */
export function requireUnix(family: number): void {
  if (family !== AF_UNIX) throw new TypeError(`sendFds needs an AF_UNIX socket, this one is family ${family}`);
}

/**
 * `sendFds`'s `fds` as numbers: an array of at most {@link MAX_FDS} numbers or objects
 * with `fileno()`; `unit` names what carries them in the RangeError.
 */
export function fdNumbers(fds: unknown, unit: string): number[] {
  if (!Array.isArray(fds)) throw new TypeError(`fds must be an array of fds or sockets, got ${describe(fds)}`);
  if (fds.length > MAX_FDS) throw new RangeError(`at most ${MAX_FDS} fds go in one ${unit}, got ${fds.length}`);
  return fds.map((f: unknown, i) => toInteger(typeof f === 'number' ? f : (f as { fileno?: () => number })?.fileno?.(), `fds[${i}]`, 0));
}
