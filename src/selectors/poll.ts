/**
 * `PollSelector`: the selector over poll(2), on the system layer's {@link PollFds}. The
 * pollfd array is kept up to date in place on register/modify/unregister (an
 * unregistered slot is filled by the last one), so `select()` passes it to the kernel
 * as it is.
 */
import { PollFds } from '../sys/pollfd.js';
import { raise } from '../sys/call.js';
import { POLLIN, POLLOUT } from '../sys/constants.js';
import { BaseSelector, selectorTimeoutMs, type SelectResult, type SelectorEvent } from './base.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';
import type { FileLike } from '../validate.js';

const NOT_OUT = ~POLLOUT;
const NOT_IN = ~POLLIN;

const kernelEvents = (events: number): number =>
  ((events & EVENT_READ) !== 0 ? POLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? POLLOUT : 0);

/** The selector over poll (Python's `selectors.PollSelector`): no limit on fd numbers. */
export class PollSelector<D = unknown, F extends FileLike = FileLike> extends BaseSelector<D, F> {
  /** fd → slot in the pollfd array. */
  readonly #slot = new Map<number, number>();
  readonly #fds = new PollFds();

  protected override _add(fd: number, events: number): void {
    this.#slot.set(fd, this.#fds.add(fd, kernelEvents(events)));
  }

  protected override _change(fd: number, events: number): void {
    this.#fds.setEvents(this.#slot.get(fd)!, kernelEvents(events));
  }

  protected override _remove(fd: number): void {
    const i = this.#slot.get(fd)!;
    this.#slot.delete(fd);
    const moved = this.#fds.removeAt(i);
    if (moved >= 0) this.#slot.set(moved, i);
  }

  protected override _close(): void {
    this.#slot.clear();
    this.#fds.clear();
  }

  override select(timeout?: number | null): SelectResult<D, F> {
    this._checkOpen();
    const ms = selectorTimeoutMs(timeout);
    const fds = this.#fds;
    const n = fds.poll(ms);
    if (n < 0) raise(n, 'poll');
    const out: Array<SelectorEvent<D, F>> = [];
    const fdToKey = this._fdToKey;
    for (let i = 0, found = 0, count = fds.length; i < count && found < n; i++) {
      const rev = fds.revents(i);
      if (rev === 0) continue;
      found++;
      const key = fdToKey.get(fds.fd(i));
      if (key === undefined) continue;
      const events = ((rev & NOT_IN) !== 0 ? EVENT_WRITE : 0) | ((rev & NOT_OUT) !== 0 ? EVENT_READ : 0);
      out.push([key, events & key.events]);
    }
    return this._result(out);
  }
}
