/**
 * How the Reactor reports an exception thrown by user code it calls (a reader or writer
 * callback) or one that must not unwind into libuv: as Node does for any callback, it
 * becomes an uncaught exception, raised after the current callback returns so that the
 * rest of the batch still runs.
 */

/** Rethrows `err` as an uncaught exception, after the current callback returns. */
export function reportUncaught(err: unknown): void {
  process.nextTick(() => { throw err; });
}
