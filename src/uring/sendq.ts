/**
 * Per-fd send queues: one send (or the close queued behind the sends) in flight per fd
 * keeps the byte order. The queues are linked through the operation table's `next` array;
 * `head` and `tail` map an fd to its first and last slot (-1 when empty).
 */
export class SendQueues {
  /** First queued slot per fd (the one in flight), -1 for none. */
  head: Int32Array = new Int32Array(64).fill(-1);
  /** Last queued slot per fd, -1 for none. */
  tail: Int32Array = new Int32Array(64).fill(-1);

  /**
   * Appends slot `s` to `fd`'s queue (`next` is the table's link array). Returns true when
   * `s` is now the head, to be started at once.
   */
  append(fd: number, s: number, next: Int32Array): boolean {
    if (fd >= this.head.length) {
      let n = this.head.length;
      while (n <= fd) n *= 2;
      const h = new Int32Array(n).fill(-1);
      h.set(this.head);
      const t = new Int32Array(n).fill(-1);
      t.set(this.tail);
      this.head = h;
      this.tail = t;
    }
    const tail = this.tail[fd]!;
    this.tail[fd] = s;
    if (tail < 0) {
      this.head[fd] = s;
      return true;
    }
    next[tail] = s;
    return false;
  }
}
