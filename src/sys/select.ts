/**
 * select(2): glibc's fixed 1024-bit `fd_set` (bit `fd & 7` of byte `fd >> 3`) and
 * `SelectCall`, the call itself with its own timeval and the EINTR retry. Used by
 * `select()` and the `SelectSelector`.
 */
import * as libc from './libc.js';
import { retryWait } from './call.js';
import { TIMEVAL_SIZE, setTimeval } from './structs.js';

/** Adds `fd` (< FD_SETSIZE) to `set`. */
export function fdSet(set: Uint8Array, fd: number): void {
  set[fd >> 3]! |= 1 << (fd & 7);
}

/** Removes `fd` (< FD_SETSIZE) from `set`. */
export function fdClr(set: Uint8Array, fd: number): void {
  set[fd >> 3]! &= ~(1 << (fd & 7));
}

/** Whether `fd` (< FD_SETSIZE) is in `set`. */
export function fdIsSet(set: Uint8Array, fd: number): boolean {
  return (set[fd >> 3]! & (1 << (fd & 7))) !== 0;
}

/**
 * One select(2) caller. `prepare` fills the fd_sets before every attempt (the kernel
 * rewrites them, and POSIX leaves them undefined after an error); the timeval is filled
 * here from the time left.
 */
export class SelectCall {
  readonly #tv = Buffer.alloc(TIMEVAL_SIZE);
  readonly #tvWords = new Int32Array(this.#tv.buffer, this.#tv.byteOffset, TIMEVAL_SIZE / 4);
  readonly #prepare: () => void;
  #nfds = 0;
  #r: Uint8Array | null = null;
  #w: Uint8Array | null = null;
  #x: Uint8Array | null = null;
  /** The one select call, made by {@link retryWait}; created once. */
  readonly #call = (ms: number): number => {
    this.#prepare();
    let tv: Buffer | null = null;
    if (ms >= 0) {
      setTimeval(this.#tvWords, ms);
      tv = this.#tv;
    }
    return libc.select(this.#nfds, this.#r, this.#w, this.#x, tv) as number;
  };

  /** @param prepare fills the sets given to {@link SelectCall.select}. */
  constructor(prepare: () => void) {
    this.#prepare = prepare;
  }

  /**
   * select(2) on the given sets (`null` for none): `ms` -1 blocks, 0 polls, > 0 waits
   * (EINTR retried with the time left). Returns the number of ready bits, or `-errno`.
   */
  select(nfds: number, r: Uint8Array | null, w: Uint8Array | null, x: Uint8Array | null, ms: number): number {
    this.#nfds = nfds;
    this.#r = r;
    this.#w = w;
    this.#x = x;
    const n = retryWait(ms, this.#call);
    this.#r = this.#w = this.#x = null;
    return n;
  }
}
