/**
 * Compatibility re-exports: the argument checks now live in `src/validate.ts`.
 * To be removed once nothing imports this module; import `../validate.js` instead.
 */
export { toFd, toInteger, toMask32, toMask16, secondsToMs, millisToMs, describe as describeValue } from '../validate.js';
export type { FileLike, HasFileno } from '../validate.js';

/**
 * The timeout for the retry after EINTR (PEP 475): a positive wait resumes with the time
 * left before `deadline` (never negative); 0 (poll) and -1 (block) stay as they are.
 */
export function remainingMs(ms: number, deadline: number): number {
  return ms > 0 ? Math.max(0, Math.ceil(deadline - performance.now())) : ms;
}

/** The deadline of a wait of `ms` milliseconds; only a positive wait needs the clock. */
export function deadlineFor(ms: number): number {
  return ms > 0 ? performance.now() + ms : 0;
}
