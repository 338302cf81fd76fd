// PEP 475: a call blocked with a timeout keeps waiting the full time while signals arrive
// (select, poll and epoll objects, every selector), and what that means for Ctrl-C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const fixture = new URL('./fixtures/eintr-child.mjs', import.meta.url).pathname;

for (const which of ['select', 'poll', 'epoll', 'SelectSelector', 'PollSelector', 'EpollSelector']) {
  test(`${which}: signals during a 1 s wait neither shorten it nor raise`, async () => {
    const child = spawn(process.execPath, [fixture, which], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let timer;
    child.stdout.on('data', (d) => {
      out += d;
      if (!timer && out.includes('ready')) timer = setInterval(() => child.kill('SIGUSR2'), 50);
      if (out.includes('"elapsed"')) clearInterval(timer); // a signal during exit would kill it
    });
    const code = await new Promise((res) => child.on('exit', res));
    clearInterval(timer);
    assert.equal(code, 0, out);
    const res = JSON.parse(out.trim().split('\n').at(-1));
    assert.ok(res.elapsed >= 990, `returned after ${res.elapsed} ms`);
    assert.ok(res.elapsed < 5000, `took ${res.elapsed} ms`);
    assert.ok(res.signals >= 5, `only ${res.signals} signals were delivered`);
    assert.deepEqual(res.result, which === 'select' ? [[], [], []] : []);
  });
}

// Regression: the selectors took their deadline only after the first EINTR, so a signal
// arriving 1.4 s into select(2.0) made the whole wait last about 3.4 s.
test('a signal late in a 2 s wait does not extend it (deadline taken before the first call), every call', async () => {
  const script = `import * as io from 'iomux';
    let signals = 0;
    process.on('SIGUSR2', () => { signals++; });
    const [r, w] = io.os.pipe();
    const which = process.argv[1];
    let sel = null;
    const call = {
      select: () => io.select([r], [], [], 2.0),
      poll: () => { const p = io.poll(); p.register(r, io.POLLIN); return p.poll(2000); },
      epoll: () => { sel = io.epoll(); sel.register(r, io.EPOLLIN); return sel.poll(2.0); },
    }[which] ?? (() => { sel = new io[which](); sel.register(r, io.EVENT_READ); return sel.select(2.0); });
    process.stdout.write('waiting\\n');
    const t0 = performance.now();
    call();
    const ms = performance.now() - t0;
    sel?.close(); io.os.close(r); io.os.close(w);
    // The handler runs once the loop turns: report when it has (or after 3 s without it).
    const t1 = performance.now();
    const report = () => (signals > 0 || performance.now() - t1 > 3000
      ? process.stdout.write(JSON.stringify({ ms, signals }) + '\\n') : setTimeout(report, 10));
    setTimeout(report, 10);`;
  const cwd = new URL('..', import.meta.url).pathname;
  const run = (which) => new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, which], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      if (text === 'waiting\n') setTimeout(() => child.kill('SIGUSR2'), 1400);
    });
    child.on('exit', (code) => resolve({ which, code, text }));
  });
  const names = ['select', 'poll', 'epoll', 'SelectSelector', 'PollSelector', 'EpollSelector'];
  for (const { which, code, text } of await Promise.all(names.map(run))) {
    assert.equal(code, 0, `${which}: ${text}`);
    const { ms, signals } = JSON.parse(text.trim().split('\n').at(-1));
    assert.equal(signals, 1, which);
    assert.ok(ms >= 1990 && ms < 2900, `${which}: a 2 s wait with a signal at 1.4 s took ${ms} ms`);
  }
});

/** Runs `script` (an ES module) in a child from the repository root; `onLine(line, child)` sees each stdout line. */
function runChild(script, args, onLine) {
  const cwd = new URL('..', import.meta.url).pathname;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => {
      const lines = (text + d).split('\n');
      for (const line of lines.slice(text.split('\n').length - 1, -1)) onLine(line, child);
      text += d;
    });
    child.on('exit', (code) => resolve({ code, text }));
  });
}

// Ctrl-C while a blocking select() runs on the main thread with a SIGINT handler
// installed: the wait goes on (PEP 475) and the handler runs only once the thread is
// free again; the process neither dies nor stops waiting.
test('SIGINT with a handler during a blocking select() on the main thread: the handler runs after select returns', async () => {
  const script = `import * as io from 'iomux';
    let handledAt = null;
    process.on('SIGINT', () => { handledAt = performance.now(); });
    const [r, w] = io.os.pipe();
    const sel = new io.DefaultSelector();
    sel.register(r, io.EVENT_READ);
    process.stdout.write('waiting\\n');
    const t0 = performance.now();
    const ready = sel.select(1.0);
    const returnedAt = performance.now();
    const duringSelect = handledAt !== null;
    sel.close(); io.os.close(r); io.os.close(w);
    const report = () => (handledAt !== null || performance.now() - returnedAt > 3000
      ? process.stdout.write(JSON.stringify({ ms: returnedAt - t0, ready: ready.length, duringSelect, after: handledAt === null ? null : handledAt - returnedAt }) + '\\n')
      : setTimeout(report, 10));
    setTimeout(report, 10);`;
  const { code, text } = await runChild(script, [], (line, child) => {
    if (line === 'waiting') setTimeout(() => child.kill('SIGINT'), 200);
  });
  assert.equal(code, 0, text);
  const res = JSON.parse(text.trim().split('\n').at(-1));
  assert.ok(res.ms >= 990, `select(1.0) returned after ${res.ms} ms`);
  assert.equal(res.ready, 0);
  assert.equal(res.duringSelect, false, 'no JS runs while the thread is in select()');
  assert.ok(res.after !== null && res.after >= 0, 'the handler ran once select() had returned');
});

// The way out: the blocking loop runs in a worker thread, with an eventfd registered in
// its selector; the main thread's SIGINT handler writes to the eventfd, and the worker's
// select() returns at once.
test('SIGINT wakes a blocking select() loop in a worker through an eventfd the main thread writes', async () => {
  const dist = new URL('../dist/index.js', import.meta.url).href;
  const script = `import * as io from 'iomux';
    import { Worker } from 'node:worker_threads';
    const efd = io.os.eventfd(0, io.os.EFD_NONBLOCK);
    const worker = new Worker(\`(async () => {
        const { parentPort, workerData } = await import('node:worker_threads');
        const io = await import(workerData.dist);
        const sel = new io.DefaultSelector();
        sel.register(workerData.efd, io.EVENT_READ, 'wake');
        parentPort.postMessage('waiting');
        let woken = false;
        while (!woken) for (const [key] of sel.select()) if (key.data === 'wake') woken = true;
        sel.close();
        parentPort.postMessage('woken');
      })();\`, { eval: true, workerData: { efd, dist: process.argv[1] } });
    let signalledAt = 0;
    process.on('SIGINT', () => {
      signalledAt = performance.now();
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      io.os.write(efd, one);
    });
    worker.on('message', (m) => {
      if (m === 'waiting') process.stdout.write('waiting\\n');
      else {
        process.stdout.write(JSON.stringify({ ms: performance.now() - signalledAt }) + '\\n');
        worker.terminate().then(() => io.os.close(efd));
      }
    });`;
  const { code, text } = await runChild(script, [dist], (line, child) => {
    if (line === 'waiting') setTimeout(() => child.kill('SIGINT'), 100);
  });
  assert.equal(code, 0, text);
  const { ms } = JSON.parse(text.trim().split('\n').at(-1));
  assert.ok(ms < 2000, `the worker woke ${ms} ms after the signal`);
});
