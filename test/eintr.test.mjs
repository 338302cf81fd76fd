// PEP 475: a call blocked with a timeout keeps waiting the full time while signals arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const fixture = new URL('./fixtures/eintr-child.mjs', import.meta.url).pathname;

for (const which of ['select', 'poll', 'epoll']) {
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
    assert.deepEqual(which === 'select' ? res.result : res.result, which === 'select' ? [[], [], []] : []);
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
