/** io_uring: the completion-based Proactor. */
export { Proactor, uringSupport } from './proactor.js';
export type {
  UringSupport, ProactorOptions, ProactorStats, OpOptions, AcceptCallback, RecvCallback, DoneCallback,
} from './proactor.js';
