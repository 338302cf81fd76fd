/**
 * Close notification between layers that must not import each other. An iomux object
 * that owns an fd (a `Socket`, an `Epoll`, `os.close`) calls {@link fdClosing} just before
 * it closes the fd; a watcher of fds (the Reactor) subscribes with {@link onFdClosing} and
 * drops its state for that fd, failing any wait on it. The fd number is still open during
 * the call, so a listener may still use it (for example to remove it from an epoll set).
 */

type Listener = (fd: number) => void;

const listeners = new Set<Listener>();

/**
 * Subscribes `listener` to every close of an fd made through iomux in this thread.
 * Returns the function that unsubscribes it.
 */
export function onFdClosing(listener: Listener): () => void {
  listeners.add(listener);
  return () => { listeners.delete(listener); };
}

/**
 * Tells every subscriber that `fd` is about to be closed. A listener that throws does not
 * stop the others nor the close; its error is reported as an uncaught exception on the
 * next tick, since the close itself must go ahead.
 */
export function fdClosing(fd: number): void {
  if (listeners.size === 0) return;
  for (const listener of listeners) {
    try {
      listener(fd);
    } catch (err) {
      process.nextTick(() => { throw err; });
    }
  }
}
