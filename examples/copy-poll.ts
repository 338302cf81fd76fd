/**
 * The classic Python "asynchronous IO through poll" program: a multi-file copy where one
 * poll object watches every source and whichever is ready gets read, so a slow source
 * never holds up a fast one.
 *
 * Regular files are always readable to poll(), so here the sources are pipes fed by
 * child processes (`seq`-like output, a slow ticker, `cat` of a file),
 * which is where poll() earns its keep. Run: `node dist/examples/copy-poll.js`.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poll, os, POLLIN, POLLPRI, POLLHUP, POLLERR } from 'iomux';

const BLKSIZE = 8192;
// The read mask: data, urgent data, hang-up, error.
const READ_ONLY = POLLIN | POLLPRI | POLLHUP | POLLERR;

/** Copies one block from `fromfd` to `tofd`; returns the bytes copied (0 at end of file). */
function readwrite(fromfd: number, tofd: number): number {
  const readbuf = os.read(fromfd, BLKSIZE);
  // os.write may write less than asked (a pipe, a signal): loop until all is out.
  for (let off = 0; off < readbuf.length; ) off += os.write(tofd, readbuf.subarray(off));
  return readbuf.length;
}

/** copyPoll, for any number of (from, to) pairs: returns the total copied. */
function copyPoll(pairs: Array<[fromfd: number, tofd: number]>): number {
  let totalbytes = 0;
  const fdDict = new Map(pairs); // source fd -> destination fd
  const reads = new Map(pairs.map(([from]) => [from, 0]));
  const p = poll();
  for (const [fromfd] of pairs) p.register(fromfd, READ_ONLY);

  while (fdDict.size > 0) {
    // Block until at least one source has something: data, or its writer hung up.
    for (const [fd, events] of p.poll()) {
      let bytesread = -1;
      if (events & (POLLIN | POLLPRI)) {
        bytesread = readwrite(fd, fdDict.get(fd)!);
        totalbytes += bytesread;
        reads.set(fd, reads.get(fd)! + 1);
      }
      // Done with this source: hung up with nothing left to read, error, or end of file.
      if (bytesread === 0 || (bytesread < 0 && events & (POLLHUP | POLLERR))) {
        const why = events & POLLERR ? 'POLLERR' : events & POLLHUP ? 'POLLHUP' : 'end of file';
        console.log(`  fd ${fd}: ${why} after ${reads.get(fd)} reads, unregistered`);
        p.unregister(fd);
        fdDict.delete(fd);
      }
    }
  }
  return totalbytes;
}

/** Starts `cmd args` with its stdout on a new pipe; returns the pipe's read end. */
function producer(cmd: string, args: string[]): number {
  const [r, w] = os.pipe();
  spawn(cmd, args, { stdio: ['ignore', w, 'inherit'] });
  os.close(w); // the child has its own copy: the pipe hangs up when the child exits.
  return r;
}

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex').slice(0, 16);

function main(): number {
  const dir = fs.mkdtempSync(join(tmpdir(), 'iomux-copy-'));
  try {
    const catFile = join(dir, 'data.bin');
    fs.writeFileSync(catFile, Buffer.alloc(200_000, 'iomux '));
    const lines = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('');
    const ticks = Array.from({ length: 5 }, (_, i) => `tick ${i + 1}\n`).join('');
    const node = process.execPath;
    const sources = [
      { what: 'node printing 1..20000 (like seq)', fd: producer(node, ['-e', 'let s="";for(let i=1;i<=20000;i++)s+=i+"\\n";process.stdout.write(s)']), expect: lines },
      { what: 'node ticking 5 lines, 50 ms apart', fd: producer(node, ['-e', 'let i=0;const t=setInterval(()=>{console.log("tick "+ ++i);if(i===5)clearInterval(t)},50)']), expect: ticks },
      { what: `cat ${catFile}`, fd: producer('cat', [catFile]), expect: fs.readFileSync(catFile) },
    ].map((s, i) => ({ ...s, out: join(dir, `out${i + 1}`) }));

    const pairs: Array<[number, number]> = [];
    for (const s of sources) {
      const tofd = fs.openSync(s.out, 'w');
      pairs.push([s.fd, tofd]);
      console.log(`source fd ${s.fd} (${s.what}) -> ${s.out}`);
    }
    console.log('copying with poll():');
    const totalbytes = copyPoll(pairs);
    for (const [fromfd, tofd] of pairs) {
      os.close(fromfd);
      fs.closeSync(tofd);
    }
    console.log(`Number of bytes copied ${totalbytes}`);

    let ok = true;
    for (const s of sources) {
      const got = fs.readFileSync(s.out);
      const same = got.equals(Buffer.from(s.expect));
      ok &&= same;
      console.log(`  ${s.out}: ${got.length} bytes, sha256 ${sha(got)}… ${same ? 'matches' : 'DIFFERS from'} the source`);
    }
    console.log(ok ? 'all copies match' : 'some copies differ');
    return ok ? 0 : 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
