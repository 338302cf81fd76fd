// The Reactor in worker threads: it runs on the worker's own loop, and a worker that ends
// in any way while a Reactor or an HttpClient in it still holds libuv state leaves the
// process running (an open libuv handle at the worker's teardown would abort the whole
// process with "uv_loop_close() while having open handles", exit code 134).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { guardFds } from './helpers/fds.mjs';

guardFds();

const fixture = (name) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** Runs the teardown child for `how`/`what`: resolves with `{ status, signal, stdout, stderr }`. */
function runChild(how, what) {
  return runFixture('reactor-worker-end.mjs', [how, what], 30000);
}

/** Runs fixture `name` with `args` in a child process (killed after `ms`): its status, signal and output. */
function runFixture(name, args, ms) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fixture(name), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

test('a Reactor in a worker thread runs on that thread\'s loop', async () => {
  const w = new Worker(fixture('reactor-worker.mjs'));
  const messages = [];
  w.on('message', (m) => messages.push(m));
  const code = await new Promise((resolve, reject) => {
    w.once('exit', resolve);
    w.once('error', reject);
  });
  assert.equal(code, 0);
  assert.deepEqual(messages, ['ok']);
});

describe('a worker ending leaves the process running', () => {
  // The exit code the worker reports for each way of ending.
  const ends = { terminate: 1, exit: 0, finish: 0, throw: 1 };
  const states = ['watch', 'wait', 'linger', 'timed', 'http-idle', 'http-flight', 'http-resolve'];
  for (const [how, code] of Object.entries(ends)) {
    for (const what of states) {
      // A request in flight keeps its worker alive: it cannot simply finish.
      if (how === 'finish' && what.startsWith('http-') && what !== 'http-idle') continue;
      test(`${how} with ${what}`, async () => {
        const r = await runChild(how, what);
        assert.equal(r.signal, null, `killed by ${r.signal}\n${r.stderr}`);
        assert.equal(r.status, 0, `main thread exit code ${r.status}\n${r.stderr}`);
        assert.equal(r.stdout, `worker ended ${code}\n`, r.stderr);
      });
    }
  }
});

test('workers terminated while their name resolutions complete: the process survives', async () => {
  // Regression: a getaddrinfo() completion that ran while its worker was being torn down
  // read the result list through koffi objects (an external ArrayBuffer), which N-API
  // refuses at that point, and koffi aborted the whole process (SIGABRT, "napi_throw").
  const r = await runFixture('resolve-terminate.mjs', ['25'], 90000);
  assert.equal(r.signal, null, `killed by ${r.signal}\n${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'ok 25\n');
});
