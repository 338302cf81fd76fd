/**
 * `iomux copy SRC DST [SRC DST ...]`: a multi-file copy driven by `poll()`.
 *
 * Every source is registered with a READ_ONLY mask (POLLIN|POLLPRI|POLLHUP|POLLERR);
 * whichever sources are ready get read and their bytes written to their own destination,
 * so a slow FIFO never holds up a fast file. Each pair ends on its own EOF, and the copy
 * ends when all have. Nothing is truncated before every source is open and no
 * destination is the same file as a source.
 */
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Poll, POLLIN, POLLPRI, POLLHUP, POLLERR, POLLOUT, POLLNVAL, os, BlockingIOError, OSError, errno } from '../index.js';
import { parse, UsageError } from './args.js';
import { cannot, CommandError } from './errors.js';
import { Progress, formatBytes } from './progress.js';

const HELP = `Usage: iomux copy SRC DST [SRC DST ...]

Copies each SRC to its DST, all pairs at once: poll() says which sources have
data, and each is read as it becomes ready.
SRC may be a regular file, a FIFO or '-' (standard input); DST is created or
truncated, or '-' for standard output. Every source is opened before any
destination is touched, and a DST that is the same file as a SRC (also through
a link) is refused, as cp does. Progress and the total go to stderr.

Options:
  -h, --help  show this help
`;

/** The poll() mask of a source: readable, urgent, hung up, or in error. */
const READ_ONLY = POLLIN | POLLPRI | POLLHUP | POLLERR;
/** Longest wait in poll() between two looks at the progress line (milliseconds). */
const PROGRESS_TICK_MS = 250;
/** Read size: 64 KiB, few system calls per megabyte. */
const BLKSIZE = 64 * 1024;

interface Pair {
  src: string;
  dst: string;
  srcFd: number;
  dstFd: number;
  bytes: number;
}

const isStd = (path: string): boolean => path === '-';

/** A file's identity: device and inode (bigint: inode numbers can pass 2^53). */
type FileId = `${bigint}:${bigint}`;
const fileId = (st: fs.BigIntStats): FileId => `${st.dev}:${st.ino}`;

/** A file's name in messages: `'out.txt'`, or `std` (`standard output`) for '-'. */
const quote = (path: string, std: string): string => (isStd(path) ? std : `'${path}'`);
const srcName = (pair: { src: string }): string => quote(pair.src, 'standard input');
const dstName = (pair: { dst: string }): string => quote(pair.dst, 'standard output');

/** Runs `fn`; a failure becomes `cannot <action>: <reason>`. */
function attempt<T>(action: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw cannot(action, e);
  }
}

/**
 * Opens every source, then every destination, checking them all before any destination
 * loses a byte: a source that cannot be read, a destination that is the same file as a
 * regular-file source (directly, through a symlink or a hard link: same device and inode,
 * as `cp` checks), or one destination file named twice fails the whole command with
 * nothing truncated.
 * Destinations are opened without truncation, checked again by their open fd (a path
 * can change between a stat and an open), and truncated only once all are open. A
 * destination this call created is removed again if a later one fails to open.
 */
function openPairs(args: string[]): Pair[] {
  const pairs: Pair[] = [];
  const created: string[] = [];
  try {
    // 1. Every source: open (O_NONBLOCK: a FIFO must not wait for its writer, poll() does
    //    the waiting; standard input is shared with our parent, leave its flags alone),
    //    and refuse a directory now rather than at its first read.
    const sources = new Map<FileId, string>();
    for (let i = 0; i < args.length; i += 2) {
      const src = args[i]!;
      const srcFd = isStd(src) ? 0
        : attempt(`open '${src}'`, () => fs.openSync(src, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
      const pair: Pair = { src, dst: args[i + 1]!, srcFd, dstFd: -1, bytes: 0 };
      pairs.push(pair);
      const st = attempt(`read ${srcName(pair)}`, () => fs.fstatSync(srcFd, { bigint: true }));
      if (st.isDirectory()) throw cannot(`read ${srcName(pair)}`, OSError.fromErrno(errno.EISDIR));
      // Only a regular file loses data when written while read (a terminal may well be
      // both standard input and standard output).
      if (st.isFile()) sources.set(fileId(st), src);
    }
    const sameAsSource = (pair: Pair, st: fs.BigIntStats): void => {
      const src = sources.get(fileId(st));
      if (src !== undefined) {
        throw new CommandError(`${quote(src, 'standard input')} and ${dstName(pair)} are the same file`);
      }
    };
    // 2. Every destination by its path, before opening any: same file as a source, or
    //    the same file named twice (standard output may take several pairs' bytes).
    const dests = new Map<string, string>();
    for (const pair of pairs) {
      if (isStd(pair.dst)) {
        sameAsSource(pair, fs.fstatSync(1, { bigint: true }));
        continue;
      }
      const st = attempt(`open ${dstName(pair)} for writing`, () => fs.statSync(pair.dst, { bigint: true, throwIfNoEntry: false }));
      if (st !== undefined) sameAsSource(pair, st);
      const key = st !== undefined ? fileId(st) : `path:${resolve(pair.dst)}`;
      const earlier = dests.get(key);
      if (earlier !== undefined) {
        throw new CommandError(`${quote(earlier, 'standard output')} and ${dstName(pair)} are the same destination`);
      }
      dests.set(key, pair.dst);
    }
    // 3. Open every destination without truncating, check it again by its fd.
    for (const pair of pairs) {
      if (isStd(pair.dst)) {
        pair.dstFd = 1;
        continue;
      }
      const existed = fs.existsSync(pair.dst);
      pair.dstFd = attempt(`open ${dstName(pair)} for writing`,
        () => fs.openSync(pair.dst, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o666));
      if (!existed) created.push(pair.dst);
      sameAsSource(pair, fs.fstatSync(pair.dstFd, { bigint: true }));
    }
    // 4. All checked: now truncate (regular files only; a FIFO or a device has nothing to cut).
    for (const pair of pairs) {
      const fd = pair.dstFd;
      if (fd > 1 && fs.fstatSync(fd).isFile()) attempt(`truncate ${dstName(pair)}`, () => fs.ftruncateSync(fd, 0));
    }
  } catch (e) {
    closePairs(pairs);
    for (const path of created) fs.rmSync(path, { force: true });
    throw e;
  }
  return pairs;
}
function closePairs(pairs: Pair[]): void {
  for (const p of pairs) {
    if (p.srcFd > 0 && !isStd(p.src)) fs.closeSync(p.srcFd);
    if (p.dstFd > 1 && !isStd(p.dst)) fs.closeSync(p.dstFd);
    p.srcFd = p.dstFd = -1;
  }
}

/** Writes all `n` bytes of `buf` to `fd`, waiting with poll() if `fd` is non-blocking and full. */
function writeAll(fd: number, buf: Buffer, n: number): void {
  let off = 0;
  let waiter: Poll | undefined;
  while (off < n) {
    try {
      off += os.write(fd, buf.subarray(off, n));
    } catch (e) {
      if (!(e instanceof BlockingIOError)) throw e;
      // EAGAIN: a non-blocking pipe (our stdout, say) is full; wait until it drains.
      waiter ??= new Poll();
      waiter.register(fd, POLLOUT);
      waiter.poll();
    }
  }
}

/** Runs `iomux copy`; resolves to the exit status. */
export async function runCopy(argv: string[]): Promise<number> {
  const p = parse(argv, {}, true);
  if (p.values['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  const args = p.positionals;
  if (args.length === 0 || args.length % 2 !== 0) {
    throw new UsageError(`expected SRC DST pairs, got ${args.length} argument${args.length === 1 ? '' : 's'}`);
  }
  if (args.filter((a, i) => i % 2 === 0 && isStd(a)).length > 1) {
    throw new UsageError("standard input ('-') can be the source of one pair only");
  }

  const pairs = openPairs(args);
  const bySrc = new Map(pairs.map((pair) => [pair.srcFd, pair]));
  const progress = new Progress();
  const start = performance.now();
  const buf = Buffer.allocUnsafe(BLKSIZE);
  const poller = new Poll();
  let total = 0;
  let open = pairs.length;
  let failed = 0;

  const finish = (pair: Pair, err?: unknown): void => {
    poller.unregister(pair.srcFd);
    open--;
    if (err) {
      failed++;
      progress.log(`iomux copy: ${(err as Error).message.split('\n')[0]}`);
    } else {
      progress.log(`copy: ${pair.src} -> ${pair.dst}: ${pair.bytes} bytes, done`);
    }
  };

  try {
    for (const pair of pairs) poller.register(pair.srcFd, READ_ONLY);
    while (open > 0) {
      // A timeout, so the progress line goes on ticking while every source is idle.
      for (const [fd, events] of poller.poll(PROGRESS_TICK_MS)) {
        const pair = bySrc.get(fd)!;
        if (events & POLLNVAL) {
          finish(pair, new CommandError(`cannot read ${srcName(pair)}: it is not open any more (POLLNVAL)`));
          continue;
        }
        // POLLIN/POLLPRI: data. POLLHUP/POLLERR: the writer is gone or the file failed.
        // read() tells the cases apart: bytes, 0 for end of file, or the error itself.
        let n: number;
        try {
          n = os.readInto(fd, buf);
        } catch (e) {
          if (e instanceof BlockingIOError) continue; // EAGAIN: spurious wake-up, poll again.
          finish(pair, cannot(`read ${srcName(pair)}`, e));
          continue;
        }
        if (n === 0) {
          finish(pair);
          continue;
        }
        try {
          writeAll(pair.dstFd, buf, n);
        } catch (e) {
          finish(pair, cannot(`write ${dstName(pair)}`, e));
          continue;
        }
        pair.bytes += n;
        total += n;
      }
      if (progress.due()) {
        const secs = (performance.now() - start) / 1000;
        progress.update(`copy: ${formatBytes(total)} copied, ${open}/${pairs.length} sources open, ${formatBytes(Math.round(total / Math.max(secs, 1e-3)))}/s`);
      }
    }
  } finally {
    closePairs(pairs);
  }
  const secs = (performance.now() - start) / 1000;
  progress.log(`Number of bytes copied: ${total} (${pairs.length - failed}/${pairs.length} pairs in ${secs.toFixed(2)} s)`);
  return failed === 0 ? 0 : 1;
}
