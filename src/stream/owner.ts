/**
 * Which face owns which fd, so a face whose socket is closed behind its back (by
 * `socket.close()` rather than through the face) learns it at once and ends with EBADF
 * instead of waiting forever for readiness that will never come.
 */
import { onFdClosing } from '../sys/closing.js';

/** A face that can be told its fd was closed under it. */
export interface FdOwner {
  /** Called (once) when the fd was closed by someone other than the face itself. */
  closedUnder(): void;
}

const owners = new Map<number, FdOwner>();
let subscribed = false;

function onClosing(fd: number): void {
  const o = owners.get(fd);
  if (o === undefined) return;
  owners.delete(fd);
  o.closedUnder();
}

/** Records `owner` as the face of `fd` until {@link release}. */
export function own(fd: number, owner: FdOwner): void {
  if (!subscribed) {
    onFdClosing(onClosing);
    subscribed = true;
  }
  owners.set(fd, owner);
}

/** Forgets the face of `fd` (before the face closes the fd itself). */
export function release(fd: number, owner: FdOwner): void {
  if (owners.get(fd) === owner) owners.delete(fd);
}
