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
