#!/usr/bin/env node
// Runs the two servers that docs/porting-from-python.md ports from Python, as compiled
// from the guide itself against the packed package: each must accept a connection, echo
// what it receives, and close the connection when the client leaves.
//
//   node test/package/run-ported-servers.mjs SNIPPETS_OUT_DIR
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: run-ported-servers.mjs SNIPPETS_OUT_DIR');
  process.exit(2);
}
const compiled = readdirSync(dir).filter((f) => f.startsWith('porting-from-python-') && f.endsWith('.js'));
const servers = [
  { name: 'selectors server', port: 1234, marker: "['localhost', 1234]" },
  { name: 'poll server', port: 10001, marker: "['127.0.0.1', 10001]" },
];

/** Connects (retrying while the server starts), sends `message`, returns the echo. */
async function echoOnce(port, message) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => {
        const sock = connect(port, '127.0.0.1');
        let got = '';
        sock.on('connect', () => sock.write(message));
        sock.on('data', (d) => {
          got += d;
          if (got.length >= message.length) { sock.end(); resolve(got); }
        });
        sock.on('error', reject);
        sock.setTimeout(5000, () => { sock.destroy(); reject(new Error('no echo within 5 s')); });
      });
    } catch (err) {
      if (err.code !== 'ECONNREFUSED' || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

let failed = false;
for (const { name, port, marker } of servers) {
  const file = compiled.find((f) => readFileSync(join(dir, f), 'utf8').includes(marker));
  if (!file) {
    console.error(`${name}: no compiled block of the porting guide contains ${marker}`);
    failed = true;
    continue;
  }
  const child = spawn(process.execPath, [join(dir, file)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const echo = await Promise.race([
      echoOnce(port, 'hello from the port'),
      exited.then(({ code }) => { throw new Error(`the server exited (${code})`); }),
    ]);
    if (echo !== 'hello from the port') throw new Error(`echoed ${JSON.stringify(echo)}`);
    // The client has left: the server must notice the end of file and close its side.
    const deadline = Date.now() + 5000;
    while (!/closing/.test(out) && Date.now() < deadline) await sleep(50);
    if (!/closing/.test(out)) throw new Error('the server did not close the connection after the client left');
    console.log(`${name} (${file}): echoed and closed`);
  } catch (err) {
    console.error(`${name} (${file}): ${err.message}\n--- its output:\n${out}---`);
    failed = true;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}
process.exit(failed ? 1 : 0);
