/**
 * The classic Python poll() echo server (I/O multiplexing) with a
 * message queue per connection. A client's data is queued and its registration switched
 * to READ_WRITE with `modify`; once POLLOUT has drained the queue it goes back to
 * READ_ONLY, so the server never spins on an always-writable socket.
 *
 * Self-contained: the example starts its own clients (this file run as `client PORT`),
 * which send a message in parts and read the echo, and the server stops when they have
 * all left. Run: `node dist/examples/poll-echo-server.js`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  socket, poll, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR,
  POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, type Socket, type InetAddress,
} from 'iomux';

const CLIENTS = 2;
const MESSAGES = ['This is the message. ', 'It will be sent ', 'in parts.'];

// The timeout of poll() is in milliseconds, not seconds.
const TIMEOUT = 1000;
// Interest masks: read only, or read and write while there are replies queued.
const READ_ONLY = POLLIN | POLLPRI | POLLHUP | POLLERR;
const READ_WRITE = READ_ONLY | POLLOUT;

function flagNames(flag: number): string {
  const names = Object.entries({ POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL })
    .filter(([, bit]) => flag & bit).map(([name]) => name);
  return names.join('|') || '0';
}

function server(): void {
  // Create a TCP/IP socket, non-blocking, then bind and listen.
  const server = socket(AF_INET, SOCK_STREAM);
  server.setblocking(false);
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  server.bind(['127.0.0.1', 0]);
  server.listen(5);
  const [host, port] = server.getsockname();
  console.log(`Starting up on ${host} port ${port}`);

  const messageQueues = new Map<Socket, Buffer[]>(); // outgoing data per connection
  const poller = poll();
  poller.register(server, READ_ONLY);
  const fdToSocket = new Map<number, Socket<InetAddress>>([[server.fileno(), server]]); // fd -> socket

  const driver = spawn(process.execPath, [fileURLToPath(import.meta.url), 'client', String(port)], { stdio: 'inherit' });

  const closeConnection = (s: Socket, why: string): void => {
    console.log(`  closing ${s.fileno()} (${why})`);
    poller.unregister(s); // stop listening for input on the connection
    fdToSocket.delete(s.fileno());
    messageQueues.delete(s);
    s.close();
  };

  let accepted = 0;
  while (accepted < CLIENTS || messageQueues.size > 0) {
    const events = poller.poll(TIMEOUT);
    console.log(`poll() -> ${events.map(([fd, flag]) => `${fd}:${flagNames(flag)}`).join(' ') || 'timeout'}`);
    for (const [fd, flag] of events) {
      const s = fdToSocket.get(fd)!;
      if (flag & (POLLIN | POLLPRI)) {
        if (s === server) {
          // A readable listening socket has a connection waiting.
          const [connection, clientAddress] = s.accept();
          console.log(`  connection from ${clientAddress.join(':')} on fd ${connection.fileno()}`);
          connection.setblocking(false);
          fdToSocket.set(connection.fileno(), connection);
          poller.register(connection, READ_ONLY);
          messageQueues.set(connection, []); // give the connection a queue for data to send
          accepted++;
        } else {
          const data = s.recv(1024);
          if (data.length > 0) {
            // A readable client socket has data: queue it, and watch for writability.
            console.log(`  received ${JSON.stringify(data.toString())} from ${s.fileno()}`);
            messageQueues.get(s)!.push(data);
            poller.modify(s, READ_WRITE);
          } else {
            closeConnection(s, 'end of file'); // an empty read: the client closed
          }
        }
      } else if (flag & POLLHUP) {
        closeConnection(s, 'POLLHUP'); // a client that hung up
      } else if (flag & POLLOUT) {
        // The socket is ready to send data, if there is any to send.
        const queue = messageQueues.get(s)!;
        const nextMsg = queue.shift();
        if (nextMsg === undefined) {
          console.log(`  queue of ${s.fileno()} empty: back to READ_ONLY`);
          poller.modify(s, READ_ONLY); // no messages waiting: stop checking writability
        } else {
          console.log(`  sending ${JSON.stringify(nextMsg.toString())} to ${s.fileno()}`);
          const sent = s.send(nextMsg);
          if (sent < nextMsg.length) queue.unshift(nextMsg.subarray(sent)); // the rest, next time
        }
      } else if (flag & POLLERR) {
        closeConnection(s, 'POLLERR'); // any error: close the socket
      }
    }
  }
  poller.unregister(server);
  server.close();
  console.log(`all ${CLIENTS} clients served, bye`);
  driver.on('exit', (code) => { process.exitCode = code ?? 1; });
}

/** The client: send the message in parts, read each echo back, then close. */
function client(port: number): void {
  const socks = Array.from({ length: CLIENTS }, () => {
    const s = socket(AF_INET, SOCK_STREAM);
    s.connect(['127.0.0.1', port]);
    return s;
  });
  for (const part of MESSAGES) {
    for (const s of socks) {
      s.sendall(part);
      // Blocking reads until the whole part is back (TCP may split it).
      let echoed = '';
      while (echoed.length < part.length) echoed += s.recv(1024).toString();
      console.log(`client ${s.getsockname().toString().replace(',', ':')}: echoed ${JSON.stringify(echoed)}`);
    }
  }
  for (const s of socks) s.close();
}

if (process.argv[2] === 'client') client(Number(process.argv[3]));
else server();
