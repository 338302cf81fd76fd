/**
 * The one place where the platform's selector is chosen. Linux: epoll. The environment
 * variable `IOMUX_SELECTOR=epoll|poll|select` forces the choice (so CI can run the whole
 * suite once per backend). A kqueue backend would be added to `BACKENDS` and to
 * `platformBest()` here. (The Reactor is not a user of this choice: it is built on
 * epoll's own fd and bits, so it makes an `EpollSelector` itself.)
 */
import { platform } from 'node:process';
import type { FileLike } from '../validate.js';
import type { BaseSelector } from './base.js';
import { EpollSelector } from './epoll.js';
import { PollSelector } from './poll.js';
import { SelectSelector } from './select.js';

/**
 * A selector class whose constructor takes no arguments; `new Cls<D, F>()` says what the
 * keys' `data` and `fileobj` are.
 */
export type SelectorClass = new <D = unknown, F extends FileLike = FileLike>() => BaseSelector<D, F>;

/** A selector with an fd of its own that another poller (libuv) can watch. */
export interface PollableSelector<D = unknown, F extends FileLike = FileLike> extends BaseSelector<D, F> {
  /** The fd that is readable when select() would report something. */
  fileno(): number;
}

/** The backends by the names `IOMUX_SELECTOR` accepts. */
const BACKENDS: Readonly<Record<string, SelectorClass>> = {
  epoll: EpollSelector,
  poll: PollSelector,
  select: SelectSelector,
};

/** The best backend the platform has. */
function platformBest(): { best: SelectorClass } {
  if (platform === 'linux') return { best: EpollSelector };
  throw new Error(`iomux supports Linux only (platform is ${platform})`);
}

function choose(): SelectorClass {
  const forced = process.env.IOMUX_SELECTOR?.trim().toLowerCase();
  if (forced === undefined || forced === '') return platformBest().best;
  const cls = Object.hasOwn(BACKENDS, forced) ? BACKENDS[forced] : undefined;
  if (cls !== undefined) return cls;
  const message = `IOMUX_SELECTOR=${JSON.stringify(process.env.IOMUX_SELECTOR)} is not a selector: expected one of ${Object.keys(BACKENDS).join(', ')}`;
  // Fail when a selector is made, not when the package is imported.
  return class InvalidSelector {
    constructor() {
      throw new RangeError(message);
    }
  } as unknown as SelectorClass;
}

/**
 * The best selector class for this platform (`EpollSelector` on Linux), or the one
 * `IOMUX_SELECTOR` names. `new DefaultSelector()` makes one.
 */
export const DefaultSelector: SelectorClass = choose();
/** An instance of {@link DefaultSelector}. */
export type DefaultSelector<D = unknown, F extends FileLike = FileLike> = BaseSelector<D, F>;

