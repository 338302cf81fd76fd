/**
 * `Poll`: Python's `select.poll` object over poll(2). Registrations live in a Map; the
 * native `pollfd` array is rebuilt only after they change and is otherwise reused.
 */
import * as libc from '../sys/libc.js';
import { raise, sysret } from '../sys/call.js';
import { POLLIN, POLLPRI, POLLOUT } from '../sys/constants.js';
import { POLLFD_SIZE } from '../sys/structs.js';
import { OSError, KeyError } from '../errors.js';
import { toFd, toMask16, millisToMs, deadlineFor, remainingMs, type FileLike } from './args.js';

const EINTR = 4;
const ENOENT = 2;

/** A poll object: register fds with event masks, then wait with {@link Poll.poll}. */
export class Poll {
  readonly #masks = new Map<number, number>();
  #dirty = true;
  #buf = Buffer.alloc(0);
  // pollfd is { int fd; short events; short revents }: two int32 words per entry.
  #words = new Int32Array(0);
  #shorts = new Uint16Array(0);
  #count = 0;

  /**
   * Starts watching `fd` for the events in `eventmask`; registering again overwrites the
   * mask. Makes no system call, so a closed fd is accepted (it polls as POLLNVAL).
   * @param eventmask poll bits, default `POLLIN | POLLPRI | POLLOUT`; 0..65535.
   */
  register(fd: FileLike, eventmask: number = POLLIN | POLLPRI | POLLOUT): void {
    const n = toFd(fd);
    const mask = toMask16(eventmask);
    if (this.#masks.get(n) !== mask) {
      this.#masks.set(n, mask);
      this.#dirty = true;
    }
  }

  /**
   * Changes the mask of a registered fd.
   * @throws OSError (ENOENT) when `fd` is not registered.
   */
  modify(fd: FileLike, eventmask: number): void {
    const n = toFd(fd);
    const mask = toMask16(eventmask);
    if (!this.#masks.has(n)) throw OSError.fromErrno(ENOENT, undefined, `fd ${n} is not registered`);
    if (this.#masks.get(n) !== mask) {
      this.#masks.set(n, mask);
      this.#dirty = true;
    }
  }

  /**
   * Stops watching `fd`.
   * @throws KeyError when `fd` is not registered.
   */
  unregister(fd: FileLike): void {
    const n = toFd(fd);
    if (!this.#masks.delete(n)) throw new KeyError(`fd ${n} is not registered`, n);
    this.#dirty = true;
  }

  #rebuild(): void {
    const count = this.#masks.size;
    if (count * POLLFD_SIZE > this.#buf.length) {
      const cap = Math.max(16, count * 2);
      this.#buf = Buffer.alloc(cap * POLLFD_SIZE);
      this.#words = new Int32Array(this.#buf.buffer, this.#buf.byteOffset, cap * 2);
      this.#shorts = new Uint16Array(this.#buf.buffer, this.#buf.byteOffset, cap * 4);
    }
    let i = 0;
    for (const [fd, mask] of this.#masks) {
      this.#words[i * 2] = fd;
      this.#shorts[i * 4 + 2] = mask;
      this.#shorts[i * 4 + 3] = 0;
      i++;
    }
    this.#count = count;
    this.#dirty = false;
  }

  /**
   * Waits for events on the registered fds.
   * @param timeout milliseconds, fractions rounded up; `null`/`undefined`/negative block.
   * @returns `[fd, revents]` for each fd with events; a closed fd reports `POLLNVAL`.
   */
  poll(timeout?: number | null): Array<[number, number]> {
    let ms = millisToMs(timeout);
    if (this.#dirty) this.#rebuild();
    const deadline = deadlineFor(ms);
    let n: number;
    for (;;) {
      n = sysret(libc.poll(this.#count ? this.#buf : null, this.#count, ms));
      if (n !== -EINTR) break;
      // EINTR: retry with the remaining time recomputed (PEP 475).
      ms = remainingMs(ms, deadline);
    }
    if (n < 0) raise(n, 'poll');
    const out: Array<[number, number]> = [];
    const shorts = this.#shorts;
    for (let i = 0; i < this.#count && out.length < n; i++) {
      const revents = shorts[i * 4 + 3]!;
      if (revents !== 0) out.push([this.#words[i * 2]!, revents]);
    }
    return out;
  }
}

/** Returns a new {@link Poll} object (Python's `select.poll()`). */
export function poll(): Poll {
  return new Poll();
}
