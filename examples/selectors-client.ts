/**
 * The client of the `selectors` server: connect, then for each message send it and print
 * the reply. Python's version read each message from input(); this one takes them from
 * the command line.
 *
 * `node dist/examples/selectors-client.js [--reactor] [PORT] [MESSAGE ...]`
 * - blocking (default): a plain blocking socket;
 * - `--reactor`: a non-blocking socket and the Reactor's `sockConnect`/`sockSendall`/
 *   `sockRecv` with `await`, leaving Node's event loop free meanwhile.
 * Without PORT it starts its own selectors-server.js (with `--port 0`) and stops it after.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Reactor, socket } from 'iomux';

const args = process.argv.slice(2);
const useReactor = args.includes('--reactor');
const rest = args.filter((a) => a !== '--reactor');
const hasPort = rest.length > 0 && /^\d+$/.test(rest[0]!);
const messages = hasPort ? rest.slice(1) : rest;
if (messages.length === 0) messages.push('hello', 'world');

/** Starts selectors-server.js on a free port; resolves with the port and the process. */
async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const server = fileURLToPath(new URL('./selectors-server.js', import.meta.url));
  const child = spawn(process.execPath, [server, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      process.stdout.write(d); // show the server's own output too
      out += d;
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => reject(new Error('the server did not start')));
  });
  return { port, child };
}

function blockingClient(port: number): void {
  const tin = socket();
  tin.connect(['127.0.0.1', port]);
  for (const inp of messages) {
    console.log(`client: >>>> ${inp}`);
    tin.sendall(inp);
    const data = tin.recv(1024);
    console.log(`client: <<<< ${data.toString()}`);
  }
  tin.close();
}

async function reactorClient(port: number): Promise<void> {
  const reactor = new Reactor();
  const tin = socket();
  tin.setblocking(false);
  try {
    await reactor.sockConnect(tin, ['127.0.0.1', port]);
    for (const inp of messages) {
      console.log(`client (Reactor): >>>> ${inp}`);
      await reactor.sockSendall(tin, Buffer.from(inp));
      const data = await reactor.sockRecv(tin, 1024, { timeout: 5000 });
      console.log(`client (Reactor): <<<< ${data.toString()}`);
    }
  } finally {
    tin.close();
    reactor.close();
  }
}

const own = hasPort ? null : await startServer();
const port = hasPort ? Number(rest[0]) : own!.port;
try {
  if (useReactor) await reactorClient(port);
  else blockingClient(port);
} finally {
  own?.child.kill();
}
