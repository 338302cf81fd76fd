/**
 * The two everyday uses of AF_UNIX datagram sockets from a service, on iomux's
 * `DatagramSocket`:
 *
 * 1. telling a service manager about our state through `$NOTIFY_SOCKET`, systemd style
 *    (`READY=1`, `STATUS=...`, and `FDSTORE=1` with a file descriptor attached, which
 *    the manager keeps for us across restarts);
 * 2. logging to a syslog-style socket (what `/dev/log` is): one datagram per line in
 *    the RFC 3164 format, with congestion handled: while the log daemon is busy the
 *    datagrams are queued (`'congestion'`), and sent in order once it reads again
 *    (`'writable'`).
 *
 * Everything runs on its own: the example creates both sockets (the "service manager"
 * and the "log daemon") in a temporary directory, never touching the real `/dev/log`
 * or a real `$NOTIFY_SOCKET`, and removes them at the end.
 *
 * `node dist/examples/notify-syslog.js [LINES]`   (default 500 log lines)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DatagramSocket, createDatagramSocket, defaultReactor, socket, AF_UNIX, SOCK_DGRAM, SOCK_STREAM,
} from 'iomux';

const lines = Number(process.argv[2] ?? 500);
const dir = mkdtempSync(join(tmpdir(), 'iomux-notify-syslog-'));

/** `$NOTIFY_SOCKET` as systemd spells it: a path, or `@name` for an abstract name. */
function notifyAddress(value: string): string {
  return value.startsWith('@') ? `\0${value.slice(1)}` : value;
}

/** sd_notify(): one datagram of `KEY=value` lines to `$NOTIFY_SOCKET`, fds attached if any. */
function sdNotify(client: DatagramSocket, state: string, fds: number[] = []): Promise<void> {
  const target = process.env.NOTIFY_SOCKET;
  if (!target) return Promise.resolve(); // not under a service manager: nothing to do
  return new Promise((resolve, reject) => {
    const done = (err: Error | null): void => (err ? reject(err) : resolve());
    if (fds.length > 0) client.sendFds(state, fds, notifyAddress(target), done);
    else client.send(state, notifyAddress(target), done);
  });
}

async function notifyDemo(): Promise<void> {
  // The "service manager": a datagram socket that prints what services tell it.
  const managerPath = join(dir, 'notify');
  const manager = new DatagramSocket('unix_dgram', { fds: true });
  const received: string[] = [];
  const stored: number[] = [];
  let attached = 0;
  // 'fds' comes just before the 'message' its fds were attached to.
  manager.on('fds', (fds: number[]) => { stored.push(...fds); attached = fds.length; });
  manager.on('message', (data: Buffer) => {
    const text = data.toString().replace(/\n/g, ' | ');
    received.push(text);
    console.log(`manager: ${text}${attached > 0 ? ` (+${attached} fd)` : ''}`);
    attached = 0;
  });
  manager.bind(managerPath);
  process.env.NOTIFY_SOCKET = managerPath; // as a service manager sets it for its services

  // The service: an unbound datagram socket is all sd_notify needs.
  const service = createDatagramSocket('unix_dgram');
  const listener = socket(AF_UNIX, SOCK_STREAM);
  listener.bind(join(dir, 'service.sock'));
  listener.listen();
  await sdNotify(service, 'STATUS=starting');
  await sdNotify(service, 'FDSTORE=1\nFDNAME=listener', [listener.fileno()]);
  await sdNotify(service, 'READY=1\nSTATUS=serving');
  while (received.length < 3) await new Promise((r) => setTimeout(r, 1));
  // The manager now holds its own copy of the listening socket.
  const kept = socket(null, null, null, stored[0]!);
  console.log(`manager: keeps a listening socket for the service at ${String(kept.getsockname())}`);
  kept.close();
  listener.close();
  service.close();
  manager.close();
}

async function syslogDemo(): Promise<void> {
  // The "log daemon": a plain socket at a /dev/log-like path, busy at first (it does not
  // read), so the service's datagrams pile up.
  const logPath = join(dir, 'log');
  const daemon = socket(AF_UNIX, SOCK_DGRAM);
  daemon.bind(logPath);

  const log = new DatagramSocket('unix_dgram', { maxQueue: 100_000 });
  log.connect(logPath); // connected: the kernel tells us when the daemon has room again
  let congestions = 0;
  let firstQueued = -1;
  log.on('congestion', () => { congestions++; });
  const drained = new Promise<void>((resolve) => log.once('writable', resolve));
  const tag = `example[${process.pid}]`;
  for (let i = 0; i < lines; i++) {
    const stamp = new Date().toUTCString().slice(5, 25);
    // <14>: facility user (1), severity info (6): 1 * 8 + 6.
    if (!log.send(`<14>${stamp} ${tag}: line ${i}`) && firstQueued < 0) firstQueued = i;
  }
  console.log(`service: sent ${lines} log lines; the daemon took ${firstQueued < 0 ? lines : firstQueued} at once, `
    + `${log.queueLength} are queued (${congestions} congestion events)`);

  // The daemon gets to work: it reads everything, the queue drains in order.
  daemon.setblocking(false);
  const got: string[] = [];
  const reading = setInterval(() => {
    for (;;) {
      let d: Buffer;
      try { d = daemon.recv(4096); } catch { break; }
      got.push(d.toString());
    }
  }, 1);
  if (congestions > 0) await drained;
  console.log(`service: 'writable': the queue drained (${log.queueLength} left)`);
  while (got.length < lines) await new Promise((r) => setTimeout(r, 1));
  clearInterval(reading);
  const inOrder = got.every((l, i) => l.endsWith(`${tag}: line ${i}`));
  console.log(`daemon: received ${got.length} lines, ${inOrder ? 'all in order' : 'OUT OF ORDER'}; last: ${got[got.length - 1]}`);
  log.close();
  daemon.close();
  if (!inOrder) process.exitCode = 1;
}

try {
  await notifyDemo();
  await syslogDemo();
} finally {
  rmSync(dir, { recursive: true, force: true });
  defaultReactor().close(); // the faces' shared Reactor: nothing is left to watch
}
