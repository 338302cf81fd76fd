/**
 * The send queue of a `DatagramSocket`: datagrams the kernel could not take yet, in
 * order, bounded in messages and in bytes.
 */

/** Called once a datagram went to the kernel (`err` null, `bytes` its length) or failed. */
export type SendCallback = (err: Error | null, bytes?: number) => void;

/** The error of a send refused because the queue is full. */
export class DatagramQueueFullError extends Error {
  /** `'ERR_DATAGRAM_QUEUE_FULL'`. */
  readonly code = 'ERR_DATAGRAM_QUEUE_FULL';
  constructor(message: string) {
    super(message);
    this.name = 'DatagramQueueFullError';
  }
}

/** A queued datagram: its own copy of the bytes and of the encoded address. */
export interface Pending {
  data: Uint8Array;
  name: Buffer | null;
  namelen: number;
  fds: number[] | null;
  cb: SendCallback | undefined;
}

/** A FIFO of {@link Pending} datagrams taken from the front by index (no shift per datagram). */
export class SendQueue {
  readonly #items: Pending[] = [];
  #head = 0;
  #bytes = 0;

  /** @param maxLength most datagrams; @param maxBytes most bytes. */
  constructor(readonly maxLength: number, readonly maxBytes: number) {}

  /** Datagrams waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Why a datagram of `size` bytes cannot be queued, or null when it can. */
  refusal(size: number): DatagramQueueFullError | null {
    if (this.length < this.maxLength && this.#bytes + size <= this.maxBytes) return null;
    return new DatagramQueueFullError(
      `datagram send queue is full (${this.length} datagrams, ${this.#bytes} bytes; limits ${this.maxLength} and ${this.maxBytes}): `
      + 'the receiver is not keeping up; wait for \'writable\' before sending more');
  }

  /** Adds `p` at the end. */
  push(p: Pending): void {
    this.#items.push(p);
    this.#bytes += p.data.length;
  }

  /** The first datagram, or undefined when none waits. */
  peek(): Pending | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Drops the first datagram (it was sent or failed). */
  shift(): void {
    this.#bytes -= this.#items[this.#head]!.data.length;
    this.#head++;
  }

  /** Gives back the space of datagrams already taken once they are many. */
  compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** Empties the queue; returns the datagrams that were waiting. */
  clear(): Pending[] {
    const rest = this.#head < this.#items.length ? this.#items.slice(this.#head) : [];
    this.#items.length = 0;
    this.#head = 0;
    this.#bytes = 0;
    return rest;
  }
}
