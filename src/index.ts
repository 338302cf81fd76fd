/// <reference types="node" preserve="true" />
/**
 * iomux: Python's I/O multiplexing for Node.js over the real kernel calls.
 * This module is the whole public API.
 */
export {
  OSError, BlockingIOError, InterruptedError, ConnectionError, BrokenPipeError, ConnectionAbortedError,
  ConnectionRefusedError, ConnectionResetError, TimeoutError, FileNotFoundError, FileExistsError,
  PermissionError, ChildProcessError, IsADirectoryError, NotADirectoryError, ProcessLookupError,
  KeyError, ClosedError, errno, errorcode,
} from './errors.js';
export type { ErrnoName } from './errors.js';
export {
  POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND,
  POLLMSG, POLLRDHUP, EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLERR, EPOLLHUP, EPOLLET, EPOLLONESHOT,
  EPOLLEXCLUSIVE, EPOLLRDHUP, EPOLLRDNORM, EPOLLRDBAND, EPOLLWRNORM, EPOLLWRBAND, EPOLLMSG, EPOLL_CLOEXEC,
  FD_SETSIZE, PIPE_BUF,
} from './sys/constants.js';
export type { FileLike, HasFileno } from './validate.js';
export { select } from './select/select.js';
export { Poll, poll } from './select/poll.js';
export { Epoll, epoll } from './select/epoll.js';
export { Waker } from './select/waker.js';
export * as os from './os.js';
export * from './selectors/index.js';
export * from './loop/index.js';
export { EVENT_PRIORITY, EVENT_HANGUP, EVENT_ERROR } from './selectors/key.js';
export * from './net/index.js';
// The public Reactor is the socket layer's: the event loop's Reactor with asyncio's
// socket operations added (an explicit export wins over the event loop's `export *`).
export { Reactor } from './net/index.js';
export * from './http/index.js';
export * from './stream/index.js';
// Completion-based I/O over io_uring (Linux 5.19+; `uringSupport()` says why not elsewhere).
export { Proactor, uringSupport } from './uring/index.js';
export type {
  UringSupport, ProactorOptions, ProactorStats, OpOptions, SendmsgOptions, AcceptCallback, RecvCallback, DoneCallback,
} from './uring/index.js';
