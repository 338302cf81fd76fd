/**
 * Public exports of `src/selectors/`: Python's `selectors` module.
 */
export { EVENT_READ, EVENT_WRITE, SelectorKey } from './key.js';
export { BaseSelector } from './base.js';
export { SelectResult } from './result.js';
export type { SelectorEvent } from './result.js';
export type { SelectorMapping } from './mapping.js';
export { SelectSelector } from './select.js';
export { PollSelector } from './poll.js';
export { EpollSelector } from './epoll.js';
export { DefaultSelector } from './default.js';
export type { SelectorClass, PollableSelector } from './default.js';
