/**
 * `Waker` (mio's): an eventfd that one thread makes readable to interrupt a wait in
 * another. It is a plain fd, so any selector (`select()`, `poll`, `epoll`, every
 * `*Selector`) and the Reactor can watch it for reading; `wake()` and `drain()` are one
 * non-blocking `write(2)` / `read(2)` of the 8-byte counter each, through buffers made
 * once per Waker. The fd number is process-wide: post it to a worker thread and wrap it
 * there with {@link Waker.fromFd}.
 */
import * as libc from '../sys/libc.js';
import { check, closeFd, raise, retry } from '../sys/call.js';
import { fdClosing } from '../sys/closing.js';
import { errno } from '../sys/errno.js';
import { EFD_CLOEXEC, EFD_NONBLOCK } from '../sys/constants.js';
import { ClosedError } from '../errors.js';
import { toInteger } from '../validate.js';

const EAGAIN = errno.EAGAIN;
/** The fd {@link Waker.fromFd} hands to the constructor (-1: make a new eventfd). */
let borrowed = -1;

/**
 * A wake-up fd over an eventfd (non-blocking, close-on-exec). Register {@link Waker.fileno}
 * for reading; another thread (or a signal handler's caller, or the same thread) calls
 * {@link Waker.wake}; the waiting side calls {@link Waker.drain} once woken, before it
 * looks for the work it was woken for. Wakes coalesce: any number of `wake()` calls
 * before a `drain()` make the fd readable once.
 */
export class Waker implements Disposable {
  #fd: number;
  readonly #owns: boolean;
  readonly #one = new BigUint64Array([1n]);
  readonly #count = new BigUint64Array(1);

  /**
   * A new Waker over a new eventfd, which {@link Waker.close} closes.
   * @throws OSError when eventfd(2) fails (EMFILE...).
   */
  constructor() {
    if (borrowed >= 0) {
      this.#fd = borrowed;
      this.#owns = false;
      borrowed = -1;
    } else {
      this.#fd = check(libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), 'eventfd');
      this.#owns = true;
    }
  }

  /**
   * Wraps the fd of a Waker made elsewhere (another thread of this process: post its
   * `fileno()` to the worker). The wrapper does not own the fd: its `close()` only stops
   * using it; the Waker that made the fd closes it, after every thread is done with it.
   * @throws TypeError / RangeError when `fd` is not a non-negative C int.
   */
  static fromFd(fd: number): Waker {
    borrowed = toInteger(fd, 'fd', 0, 0x7fffffff);
    try {
      return new Waker();
    } finally {
      borrowed = -1;
    }
  }

  /** The eventfd, readable once woken until drained. @throws ClosedError after close(). */
  fileno(): number {
    if (this.#fd < 0) throw new ClosedError('waker is closed');
    return this.#fd;
  }

  /** Whether {@link Waker.close} has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Makes the fd readable (adds 1 to the eventfd counter), from any thread. A counter
   * already at its maximum (EAGAIN) is woken already, and that is no error.
   * @throws ClosedError after close(); OSError when write(2) fails (EBADF: the fd was
   *   closed by its owner).
   */
  wake(): void {
    const fd = this.fileno();
    const r = retry(libc.write, fd, this.#one, 8);
    if (r < 0 && r !== -EAGAIN) raise(r, 'write', `waker fd ${fd}`);
  }

  /**
   * Resets the counter, so the fd is no longer readable until the next `wake()`.
   * @returns whether it had been woken (false when there was nothing to drain).
   * @throws ClosedError after close(); OSError when read(2) fails otherwise.
   */
  drain(): boolean {
    const fd = this.fileno();
    const r = retry(libc.read, fd, this.#count, 8);
    if (r === -EAGAIN) return false;
    if (r < 0) raise(r, 'read', `waker fd ${fd}`);
    return true;
  }

  /**
   * Closes the eventfd if this Waker made it (announcing the close first, so a Reactor
   * watching it ends those waits); a {@link Waker.fromFd} wrapper only stops using it.
   * Idempotent.
   */
  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    if (!this.#owns) return;
    fdClosing(fd);
    closeFd(fd);
  }

  /** Same as {@link Waker.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
