/**
 * One request's life from `request()` to its single outcome: where it waits (an origin's
 * queue or a connection), its timer and abort listener, and the one callback that
 * settles it. Settling twice is impossible: the first outcome wins.
 */
import type { HttpResponse, HttpStreamResponse } from './response.js';
import type { PreparedRequest } from './request.js';

/** Receives an exchange's outcome. */
export type Done = (err: Error | null, res?: HttpResponse | HttpStreamResponse) => void;

/** Whatever holds an exchange and must let go of it when the exchange is cancelled. */
export interface Holder {
  /** The exchange was cancelled (timeout, abort, close) while this held it. */
  abandon(ex: Exchange): void;
}

/** A request in flight. */
export class Exchange {
  readonly req: PreparedRequest;
  /** The queue or connection currently responsible for it, if any. */
  holder: Holder | null = null;
  /** Already sent again once after a stale keep-alive connection dropped it. */
  retried = false;
  /** The response is wanted as a stream: it settles when the head arrives. */
  streamed = false;
  /** Its whole request has been written on its current connection. */
  sent = false;
  timer: ReturnType<typeof setTimeout> | null = null;
  abortHandler: (() => void) | null = null;
  #done: Done | null;
  readonly #onSettled: () => void;

  /**
   * @param done      called exactly once with the outcome.
   * @param onSettled bookkeeping run just before `done` (the client's in-flight count).
   */
  constructor(req: PreparedRequest, done: Done, onSettled: () => void) {
    this.req = req;
    this.#done = done;
    this.#onSettled = onSettled;
  }

  /** Whether the outcome is already known. */
  get settled(): boolean {
    return this.#done === null;
  }

  /** Delivers the outcome (ignored after the first) and releases timer and listener. */
  settle(err: Error | null, res?: HttpResponse | HttpStreamResponse): void {
    const done = this.#done;
    if (done === null) return;
    this.#done = null;
    this.holder = null;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.abortHandler !== null) this.req.signal!.removeEventListener('abort', this.abortHandler);
    this.timer = null;
    this.abortHandler = null;
    this.#onSettled();
    done(err, res);
  }

  /** Cancels: whoever holds it lets go (closing a connection mid-exchange), then fails it. */
  cancel(err: Error): void {
    if (this.#done === null) return;
    const h = this.holder;
    this.holder = null;
    if (h !== null) h.abandon(this);
    this.settle(err);
  }
}
