/**
 * A live status line on stderr. On a terminal it is rewritten in place (at most every
 * `intervalMs`); when stderr is a pipe or a file, where carriage returns would only
 * clutter a log, an update is written as a plain line at most once a second.
 */
import { performance } from 'node:perf_hooks';

/** A rate-limited, self-erasing progress line on stderr. */
export class Progress {
  readonly #tty: boolean;
  readonly #interval: number;
  #last = performance.now();
  #live = false;

  /** @param intervalMs minimum time between two terminal updates. */
  constructor(intervalMs = 100) {
    this.#tty = process.stderr.isTTY === true;
    this.#interval = this.#tty ? intervalMs : 1000;
  }

  /** Whether an update now would be shown: lets callers skip formatting the text. */
  due(): boolean {
    return performance.now() - this.#last >= this.#interval;
  }

  /** Shows `text` as the current status, unless the last update was too recent. */
  update(text: string, force = false): void {
    if (!force && !this.due()) return;
    this.#last = performance.now();
    if (this.#tty) {
      process.stderr.write(`\r${text}\x1b[K`);
      this.#live = true;
    } else {
      process.stderr.write(`${text}\n`);
    }
  }

  /** Prints a permanent line (erasing the live status first). */
  log(line: string): void {
    this.clear();
    process.stderr.write(`${line}\n`);
  }

  /** Erases the live status line, if one is shown. */
  clear(): void {
    if (this.#live) process.stderr.write('\r\x1b[K');
    this.#live = false;
  }
}

/** `1234567` → `'1.2 MB'` (decimal units, as `ls -h --si`). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}
