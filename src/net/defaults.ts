/**
 * Python's module-wide default socket timeout (`socket.setdefaulttimeout`): new sockets
 * (created, wrapped or accepted) start with it. `null` (the default) means blocking.
 */
import { secondsToMs } from '../validate.js';

let defaultTimeout = -1;

/** Sets the timeout in seconds new sockets start with; `null` for blocking (the initial value). */
export function setdefaulttimeout(seconds: number | null): void {
  if (seconds === null || seconds === undefined) {
    defaultTimeout = -1;
    return;
  }
  secondsToMs(seconds, 'error', 'timeout'); // TypeError / RangeError (negative, NaN, too long)
  defaultTimeout = seconds;
}

/** The default timeout in seconds of new sockets, `null` when they block. */
export function getdefaulttimeout(): number | null {
  return defaultTimeout < 0 ? null : defaultTimeout;
}

/** Internal: the default as a socket's timeout field (-1 blocking). */
export function defaultTimeoutField(): number {
  return defaultTimeout;
}
