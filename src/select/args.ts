/**
 * Re-exports of `src/validate.ts` under their former names, for modules not yet moved
 * to it. To be removed once nothing imports this module; import `../validate.js`.
 */
export { toFd, describe as describeValue } from '../validate.js';
export type { FileLike, HasFileno } from '../validate.js';
