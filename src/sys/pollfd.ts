/**
 * `PollFds`: a `struct pollfd` array for poll(2), kept in native-ready memory and
 * updated in place, so a wait passes it to the kernel as it is. Used by the `Poll`
 * object, the `PollSelector`, and (through {@link pollOne}) every single-fd wait.
 */
import * as libc from './libc.js';
import { retryWait } from './call.js';
import { POLLFD_SIZE } from './structs.js';

/** Words per entry: `{ int fd; short events; short revents; }` is two 32-bit words. */
const WORDS = POLLFD_SIZE / 4;
/** Halves per entry: `events` is half 2, `revents` half 3. */
const HALVES = POLLFD_SIZE / 2;

/**
 * A growable `pollfd` array. Entries are addressed by index (0..length-1); removing one
 * moves the last entry into its place (see {@link PollFds.removeAt}).
 */
export class PollFds {
  #buf: Buffer;
  #words: Int32Array;
  #halves: Uint16Array;
  #length = 0;
  /** The one poll(2) call, made by {@link retryWait}; created once. */
  readonly #call = (ms: number): number => libc.poll(this.#length !== 0 ? this.#buf : null, this.#length, ms) as number;

  /** @param capacity entries to allocate at first (grown by doubling). */
  constructor(capacity = 16) {
    const cap = Math.max(1, capacity);
    this.#buf = Buffer.alloc(cap * POLLFD_SIZE);
    this.#words = new Int32Array(this.#buf.buffer, this.#buf.byteOffset, cap * WORDS);
    this.#halves = new Uint16Array(this.#buf.buffer, this.#buf.byteOffset, cap * HALVES);
  }

  /** Number of entries. */
  get length(): number {
    return this.#length;
  }

  /** Appends `{ fd, events }` and returns its index. */
  add(fd: number, events: number): number {
    const i = this.#length;
    if ((i + 1) * POLLFD_SIZE > this.#buf.length) this.#grow();
    this.set(i, fd, events);
    this.#length = i + 1;
    return i;
  }

  /** Sets entry `i` to `{ fd, events }` and clears its `revents`. */
  set(i: number, fd: number, events: number): void {
    this.#words[i * WORDS] = fd;
    this.#halves[i * HALVES + 2] = events;
    this.#halves[i * HALVES + 3] = 0;
  }

  /** Sets the `events` of entry `i`. */
  setEvents(i: number, events: number): void {
    this.#halves[i * HALVES + 2] = events;
  }

  /**
   * Removes entry `i` by moving the last entry into its place. Returns the fd of the
   * moved entry (now at index `i`), or -1 when `i` was the last one.
   */
  removeAt(i: number): number {
    const last = --this.#length;
    if (i === last) return -1;
    const w = this.#words;
    const moved = w[last * WORDS]!;
    w[i * WORDS] = moved;
    w[i * WORDS + 1] = w[last * WORDS + 1]!;
    return moved;
  }

  /** Removes every entry (the memory is kept). */
  clear(): void {
    this.#length = 0;
  }

  /** The fd of entry `i`. */
  fd(i: number): number {
    return this.#words[i * WORDS]!;
  }

  /** The `revents` the last {@link PollFds.poll} reported for entry `i`. */
  revents(i: number): number {
    return this.#halves[i * HALVES + 3]!;
  }

  /**
   * poll(2) on every entry: `ms` -1 blocks, 0 polls, > 0 waits (EINTR retried with the
   * time left). Returns the number of entries with `revents`, or `-errno`.
   */
  poll(ms: number): number {
    return retryWait(ms, this.#call);
  }

  #grow(): void {
    const bigger = Buffer.alloc(this.#buf.length * 2);
    this.#buf.copy(bigger);
    this.#buf = bigger;
    this.#words = new Int32Array(bigger.buffer, bigger.byteOffset, bigger.length / 4);
    this.#halves = new Uint16Array(bigger.buffer, bigger.byteOffset, bigger.length / 2);
  }
}

const one = new PollFds(1);
one.add(-1, 0);

/**
 * Waits for `events` (POLLIN, POLLOUT...) on one fd: `ms` -1 blocks, 0 asks without
 * waiting, > 0 waits at most that long (EINTR retried with the time left). Returns the
 * fd's `revents` (0 when the time ran out), or `-errno`. A closed fd reports POLLNVAL.
 * One preallocated pollfd serves every call (JS runs one call at a time per thread).
 */
export function pollOne(fd: number, events: number, ms: number): number {
  one.set(0, fd, events);
  const n = one.poll(ms);
  return n > 0 ? one.revents(0) : n;
}
