/**
 * The classic Python `selectors` module server: callbacks that live in the selector
 * key's `data`: `accept` for the listening socket, `read` for each connection, and a loop
 * that calls `key.data(key.fileobj, mask)` for whatever is ready. Python's version
 * answered with input() typed at its terminal; this one answers in upper case.
 *
 * Two ways to run the same callbacks:
 * - blocking (default): `DefaultSelector` and a `while (true) sel.select()` loop, as in Python;
 * - `--reactor`: the same `accept`/`read` as `Reactor.addReader` callbacks, inside Node's own
 *   event loop, so timers and other Node I/O keep running beside the server.
 *
 * `node dist/examples/selectors-server.js [--reactor] [--port N]`: with `--port` it serves
 * until Ctrl-C; without, it picks a free port, starts two selectors-client.js processes
 * (one blocking, one Reactor) and exits when both have left.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DefaultSelector, Reactor, EVENT_READ, socket, type Socket, type InetAddress } from 'iomux';

const useReactor = process.argv.includes('--reactor');
const portArg = process.argv.indexOf('--port');
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const selfDriven = portArg < 0;

/** The callback signature: the ready file object and the event mask. */
type Callback = (fileobj: Socket<InetAddress>, mask: number) => void;

// The two engines behind one tiny interface: watch an fd with a callback, or stop.
const sel = useReactor ? null : new DefaultSelector<Callback, Socket<InetAddress>>();
const reactor = useReactor ? new Reactor() : null;
function watch(fileobj: Socket<InetAddress>, callback: Callback): void {
  if (sel) sel.register(fileobj, EVENT_READ, callback); // the callback rides in key.data
  else reactor!.addReader(fileobj, (f) => callback(f, EVENT_READ));
}
function unwatch(fileobj: Socket<InetAddress>): void {
  if (sel) sel.unregister(fileobj);
  else reactor!.removeReader(fileobj);
}

let served = 0;
let open = 0;
const expected = selfDriven ? 2 : Infinity;

function read(conn: Socket<InetAddress>, mask: number): void {
  let data: Buffer;
  try {
    data = conn.recv(1024);
  } catch (e) {
    data = Buffer.alloc(0); // a reset connection: treat as closed
    console.log(`server: fd ${conn.fileno()}: ${(e as Error).message}`);
  }
  if (data.length === 0) {
    console.log(`server: fd ${conn.fileno()} closed`);
    unwatch(conn);
    conn.close();
    open--;
    if (served === expected && open === 0) stop();
    return;
  }
  console.log(`server: fd ${conn.fileno()} (mask ${mask}) says ${JSON.stringify(data.toString())}`);
  conn.sendall(data.toString().toUpperCase());
}

function accept(sock: Socket<InetAddress>, mask: number): void {
  const [conn, addr] = sock.accept();
  console.log(`server: ------- connection fd ${conn.fileno()} from ${addr.join(':')} (mask ${mask})`);
  conn.setblocking(false);
  watch(conn, read); // register the connection with its callback
  served++;
  open++;
}

const sock = socket();
sock.bind(['127.0.0.1', port]);
sock.listen(5);
sock.setblocking(false);
const [host, boundPort] = sock.getsockname();
console.log(`server: listening on ${host}:${boundPort} (${useReactor ? 'Reactor' : 'blocking selector'} mode)`);
watch(sock, accept); // register the listening socket with its callback

let running = true;
function stop(): void {
  console.log(`server: ${served} clients served, bye`);
  running = false;
  unwatch(sock);
  sock.close();
  sel?.close();
  reactor?.close(); // nothing registered any more: Node's loop can end
}

if (selfDriven) {
  const client = fileURLToPath(new URL('./selectors-client.js', import.meta.url));
  spawn(process.execPath, [client, String(boundPort), 'hello', 'selectors'], { stdio: 'inherit' });
  spawn(process.execPath, [client, '--reactor', String(boundPort), 'callbacks', 'in key.data'], { stdio: 'inherit' });
}

if (sel) {
  while (running) {
    console.log('server: waiting....');
    const events = sel.select();
    for (const [key, mask] of events) {
      const callback = key.data; // accept or read
      callback(key.fileobj, mask);
      if (!running) break;
    }
  }
} else {
  console.log("server: callbacks registered; Node's event loop does the waiting");
}
