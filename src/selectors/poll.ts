/**
 * `PollSelector`: the selector over poll(2), straight on libc. The `pollfd` array is
 * kept up to date in place on register/modify/unregister (an unregistered slot is
 * filled by the last one), so `select()` passes it to the kernel as is.
 */
import * as libc from '../sys/libc.js';
import { raise, sysret } from '../sys/call.js';
import { POLLIN, POLLOUT } from '../sys/constants.js';
import { POLLFD_SIZE } from '../sys/structs.js';
import { deadlineFor, remainingMs } from '../select/args.js';
import { BaseSelector, selectorTimeoutMs, type SelectorEvent } from './base.js';
import { EVENT_READ, EVENT_WRITE } from './key.js';

const EINTR = 4;
const NOT_OUT = ~POLLOUT;
const NOT_IN = ~POLLIN;

const kernelEvents = (events: number): number =>
  ((events & EVENT_READ) !== 0 ? POLLIN : 0) | ((events & EVENT_WRITE) !== 0 ? POLLOUT : 0);

/** The selector over poll (Python's `selectors.PollSelector`): no limit on fd numbers. */
export class PollSelector<T = any> extends BaseSelector<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  /** fd → slot in the pollfd array. */
  readonly #slot = new Map<number, number>();
  #count = 0;
  #buf = Buffer.alloc(16 * POLLFD_SIZE);
  // pollfd is { int fd; short events; short revents }: 2 int32 words, 4 uint16 halves.
  #words = new Int32Array(this.#buf.buffer, this.#buf.byteOffset, 32);
  #shorts = new Uint16Array(this.#buf.buffer, this.#buf.byteOffset, 64);

  protected override _add(fd: number, events: number): void {
    const i = this.#count;
    if ((i + 1) * POLLFD_SIZE > this.#buf.length) {
      const bigger = Buffer.alloc(this.#buf.length * 2);
      this.#buf.copy(bigger);
      this.#buf = bigger;
      this.#words = new Int32Array(bigger.buffer, bigger.byteOffset, bigger.length / 4);
      this.#shorts = new Uint16Array(bigger.buffer, bigger.byteOffset, bigger.length / 2);
    }
    this.#words[i * 2] = fd;
    this.#shorts[i * 4 + 2] = kernelEvents(events);
    this.#shorts[i * 4 + 3] = 0;
    this.#slot.set(fd, i);
    this.#count = i + 1;
  }

  protected override _change(fd: number, events: number): void {
    this.#shorts[this.#slot.get(fd)! * 4 + 2] = kernelEvents(events);
  }

  protected override _remove(fd: number): void {
    const i = this.#slot.get(fd)!;
    const last = --this.#count;
    this.#slot.delete(fd);
    if (i !== last) {
      const movedFd = this.#words[last * 2]!;
      this.#words[i * 2] = movedFd;
      this.#words[i * 2 + 1] = this.#words[last * 2 + 1]!;
      this.#slot.set(movedFd, i);
    }
  }

  protected override _close(): void {
    this.#slot.clear();
    this.#count = 0;
  }

  override select(timeout?: number | null): Array<SelectorEvent<T>> {
    this._checkOpen();
    let ms = selectorTimeoutMs(timeout);
    const count = this.#count;
    // The deadline is taken before the first call, so time spent before a signal counts.
    const deadline = deadlineFor(ms);
    let n: number;
    for (;;) {
      n = sysret(libc.poll(this.#buf, count, ms));
      if (n !== -EINTR) break;
      // EINTR: retry with the remaining time recomputed (PEP 475).
      ms = remainingMs(ms, deadline);
    }
    if (n < 0) raise(n, 'poll');
    const out: Array<SelectorEvent<T>> = [];
    const shorts = this.#shorts;
    const words = this.#words;
    const fdToKey = this._fdToKey;
    for (let i = 0, found = 0; i < count && found < n; i++) {
      const rev = shorts[i * 4 + 3]!;
      if (rev === 0) continue;
      found++;
      const key = fdToKey.get(words[i * 2]!);
      if (key === undefined) continue;
      const events = ((rev & NOT_IN) !== 0 ? EVENT_WRITE : 0) | ((rev & NOT_OUT) !== 0 ? EVENT_READ : 0);
      out.push([key, events & key.events]);
    }
    return this._result(out);
  }
}
