/**
 * A {@link Driver} over a blocking selector: the same readiness callbacks a Reactor
 * gives, run by a loop that the caller turns itself (`runOnce`), with no event loop.
 * `HttpBatch` drives its connections with it.
 */
import type { FileLike } from '../validate.js';
import { DefaultSelector, EVENT_READ, EVENT_WRITE, type BaseSelector } from '../selectors/index.js';
import type { Driver } from './core.js';

type Callback = (fileobj: FileLike) => void;

/** The callbacks of one registered file object. */
interface Entry {
  readonly fileobj: FileLike;
  reader: Callback | null;
  writer: Callback | null;
}

/** Readiness callbacks on a selector of its own, dispatched by {@link SelectorLoop.runOnce}. */
export class SelectorLoop implements Driver {
  readonly #sel: BaseSelector<Entry> = new DefaultSelector<Entry>();
  readonly #entries = new Map<FileLike, Entry>();

  /** Number of file objects with a callback. */
  get size(): number {
    return this.#entries.size;
  }

  /** Calls `callback(fileobj)` at each turn while `fileobj` is readable (replaces any reader). */
  addReader(fileobj: FileLike, callback: Callback): void {
    this.#set(fileobj, callback, true);
  }

  /** Calls `callback(fileobj)` at each turn while `fileobj` is writable (replaces any writer). */
  addWriter(fileobj: FileLike, callback: Callback): void {
    this.#set(fileobj, callback, false);
  }

  /** Stops the reader of `fileobj`; false if it had none. */
  removeReader(fileobj: FileLike): boolean {
    return this.#unset(fileobj, true);
  }

  /** Stops the writer of `fileobj`; false if it had none. */
  removeWriter(fileobj: FileLike): boolean {
    return this.#unset(fileobj, false);
  }

  /**
   * Waits until some registered file object is ready or `timeout` seconds pass (null:
   * no limit), then calls the callbacks of the ready ones: the reader, then the writer
   * if it is still registered. Readiness is level-triggered: a callback that leaves data
   * unread is called again at the next turn.
   */
  runOnce(timeout: number | null): void {
    for (const [key, ev] of this.#sel.select(timeout)) {
      const e = key.data;
      if ((ev & EVENT_READ) !== 0 && e.reader !== null && this.#entries.get(e.fileobj) === e) e.reader(e.fileobj);
      if ((ev & EVENT_WRITE) !== 0 && e.writer !== null && this.#entries.get(e.fileobj) === e) e.writer(e.fileobj);
    }
  }

  /** Closes the selector (not the file objects). */
  close(): void {
    this.#entries.clear();
    this.#sel.close();
  }

  #set(fileobj: FileLike, callback: Callback, read: boolean): void {
    let e = this.#entries.get(fileobj);
    const had = e !== undefined;
    if (e === undefined) e = { fileobj, reader: null, writer: null };
    if (read) e.reader = callback;
    else e.writer = callback;
    if (had) this.#sel.modify(fileobj, maskOf(e), e);
    else {
      this.#sel.register(fileobj, maskOf(e), e);
      this.#entries.set(fileobj, e);
    }
  }

  #unset(fileobj: FileLike, read: boolean): boolean {
    const e = this.#entries.get(fileobj);
    if (e === undefined || (read ? e.reader : e.writer) === null) return false;
    if (read) e.reader = null;
    else e.writer = null;
    if (e.reader === null && e.writer === null) {
      this.#entries.delete(fileobj);
      this.#sel.unregister(fileobj);
    } else {
      this.#sel.modify(fileobj, maskOf(e), e);
    }
    return true;
  }
}

function maskOf(e: Entry): number {
  return (e.reader !== null ? EVENT_READ : 0) | (e.writer !== null ? EVENT_WRITE : 0);
}
