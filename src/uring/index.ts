/** io_uring: the completion-based Proactor. */
export { Proactor } from './proactor.js';
export { uringSupport } from './support.js';
export type { UringSupport } from './support.js';
export type {
  ProactorOptions, ProactorStats, OpOptions, SendmsgOptions, AcceptCallback, RecvCallback, DoneCallback,
} from './types.js';
