/**
 * Public exports of `src/loop/`: the `Reactor` (readiness inside Node's event loop).
 */
export { Reactor } from './reactor.js';
export type { ReactorCallbackOptions, ReactorWaitOptions, ReadyCallback } from './reactor.js';
