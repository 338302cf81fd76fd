/**
 * `iomux fetch URL... [--concurrency N] [--timeout MS]`: fetches http:// and https:// URLs at once
 * with `HttpClient` (many requests on one thread, as a tool). A progress bar
 * goes to stderr, a table (url, status, bytes, ms) to stdout, in the order given.
 */
import { performance } from 'node:perf_hooks';
import { HttpClient, HttpParseError, TimeoutError } from '../index.js';
import { parse, numberOption, UsageError } from './args.js';
import { reason } from './errors.js';
import { Progress, formatBytes } from './progress.js';

const HELP = `Usage: iomux fetch URL... [--concurrency N] [--timeout MS]

Fetches every http:// or https:// URL with iomux's HttpClient, up to N at
once on one thread (keep-alive connections, reused per origin; https:// is
verified against the trusted CAs). Shows a progress bar on
stderr (it ticks while requests wait) and prints a table on stdout: url,
status, bytes, ms. STATUS is the HTTP status, or why there was none: bad URL,
DNS (the name did not resolve), refused, reset, timeout, unreachable or bad
response (not HTTP/1.1); each of those also gets a line on stderr.

Options:
  -c, --concurrency N  requests in flight at once, 1-1000 (default 10)
  -t, --timeout MS     whole-request timeout in milliseconds, 0 for none
                       (default 30000)
  -h, --help           show this help

Exit status: 0 when every URL answered with a status below 400; 1 when any
failed (no response, or status 400 and up); 2 for a bad command line.
`;

interface Row {
  url: string;
  status: string;
  bytes: number;
  ms: number;
  failed: boolean;
}

const BAR = 24;
/** How often the progress line is refreshed while nothing completes (milliseconds). */
const TICK_MS = 200;

function bar(done: number, total: number): string {
  const full = Math.round((done / total) * BAR);
  return `[${'#'.repeat(full)}${'.'.repeat(BAR - full)}]`;
}

/** errno names by what a person calls them, for the STATUS column. */
const LABELS: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'refused'],
  ['ECONNRESET', 'reset'], ['EPIPE', 'reset'], ['ECONNABORTED', 'reset'],
  ['ETIMEDOUT', 'timeout'],
  ['ENETUNREACH', 'unreachable'], ['EHOSTUNREACH', 'unreachable'], ['EADDRNOTAVAIL', 'unreachable'],
  ['ENETDOWN', 'unreachable'], ['EHOSTDOWN', 'unreachable'],
  ['EMFILE', 'out of fds'], ['ENFILE', 'out of fds'],
]);

/**
 * The STATUS column of a request that got no response, in words a person knows: `bad
 * URL`, `DNS` (the name did not resolve), `refused`, `reset`, `timeout`, `unreachable`,
 * `bad response` (not HTTP as the client reads it), else the error's code.
 */
export function errorLabel(e: unknown): string {
  if (e instanceof TypeError) return 'bad URL'; // the URL is the only argument fetch passes
  if (e instanceof HttpParseError) return 'bad response';
  if (e instanceof TimeoutError) return 'timeout';
  const code = e !== null && typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
  if (typeof code === 'string') {
    if (code.startsWith('EAI_')) return 'DNS';
    return LABELS.get(code) ?? code;
  }
  return 'error';
}

/** The stderr line's reason: as the other commands say it, a timeout by its length. */
function failureReason(e: unknown, timeoutMs: number): string {
  if (e instanceof TimeoutError) return `no complete response within ${timeoutMs} ms (timeout)`;
  if (e instanceof TypeError || e instanceof HttpParseError) return (e.message.split('\n')[0] ?? '');
  return reason(e);
}

function table(rows: Row[]): string {
  const head = ['URL', 'STATUS', 'BYTES', 'MS'];
  const cells = rows.map((r) => [r.url, r.status, String(r.bytes), r.ms.toFixed(1)]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string =>
    `${c[0]!.padEnd(w[0]!)}  ${c[1]!.padEnd(w[1]!)}  ${c[2]!.padStart(w[2]!)}  ${c[3]!.padStart(w[3]!)}`.trimEnd();
  return `${[line(head), ...cells.map(line)].join('\n')}\n`;
}

/**
 * Runs `iomux fetch` with `argv` (the arguments after `fetch`).
 * @returns the exit status: 0 all fine, 1 some failed.
 * @throws UsageError for a bad command line (no URL, bad option value).
 */
export async function runFetch(argv: string[]): Promise<number> {
  const p = parse(argv, {
    concurrency: { type: 'string', short: 'c' },
    timeout: { type: 'string', short: 't' },
  }, true);
  if (p.values['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  const concurrency = numberOption(p, 'concurrency', 10, 1, 1000);
  const timeout = numberOption(p, 'timeout', 30000, 0, 2 ** 31 - 1);
  const urls = p.positionals;
  if (urls.length === 0) throw new UsageError('no URL given');

  const client = new HttpClient({ maxConnectionsPerOrigin: concurrency, timeout });
  const progress = new Progress();
  const rows: Row[] = urls.map((url) => ({ url, status: '', bytes: 0, ms: 0, failed: false }));
  let next = 0;
  let done = 0;
  let failed = 0;
  let bytes = 0;
  const t0 = performance.now();
  const show = (force = false): void => {
    if (!force && !progress.due()) return;
    const secs = (performance.now() - t0) / 1000;
    progress.update(`${bar(done, urls.length)} ${done}/${urls.length} done, ${failed} failed, ${formatBytes(bytes)}, ${secs.toFixed(1)} s`, force);
  };

  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const row = rows[next++]!;
      const start = performance.now();
      try {
        const res = await client.request(row.url);
        row.status = String(res.status);
        row.bytes = res.body.length;
        row.failed = res.status >= 400;
      } catch (e) {
        row.status = errorLabel(e);
        row.failed = true;
        progress.log(`iomux fetch: cannot fetch ${row.url}: ${failureReason(e, timeout)}`);
      }
      row.ms = performance.now() - start;
      done++;
      bytes += row.bytes;
      if (row.failed) failed++;
      show();
    }
  };

  // The line ticks on its own (elapsed time) while every request in flight waits.
  const ticker = setInterval(show, TICK_MS);
  try {
    show(true);
    await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, worker));
    show(true);
  } finally {
    clearInterval(ticker);
    progress.clear();
    client.close();
  }
  process.stdout.write(table(rows));
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(`${urls.length} fetched in ${secs.toFixed(2)} s, ${failed} failed, ${formatBytes(bytes)}\n`);
  return failed > 0 ? 1 : 0;
}
