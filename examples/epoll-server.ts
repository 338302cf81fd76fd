/**
 * The classic Python "epoll implementing asynchronous sockets" program: a TCP server where one
 * epoll object watches the listening socket and every client, and `epoll.poll(1)` says
 * which are ready: the listener → accept and register the client; a client → recv and
 * print what it sent.
 *
 * A client that closes (recv returns an empty
 * buffer, or EPOLLHUP) is unregistered and closed. To run on its own, the example starts
 * its own clients as a child process (this same file with `client PORT`) and stops once
 * they have all come and gone. Run: `node dist/examples/epoll-server.js`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  socket, epoll, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, EPOLLIN, EPOLLHUP, EPOLLERR, type Socket,
} from 'iomux';

const CLIENTS = 3;

function server(): void {
  const server = socket(AF_INET, SOCK_STREAM);
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1); // address/port reuse
  server.bind(['127.0.0.1', 0]); // port 0: any free port
  server.listen(5);
  const serverfd = server.fileno();
  const [ipaddress, port] = server.getsockname();
  console.log(`server: listening on ${ipaddress}:${port}`);

  const serverdict = new Map<number, Socket>([[serverfd, server]]); // fd -> socket
  const ep = epoll(); // create an epoll object
  ep.register(serverfd, EPOLLIN); // watch the listening socket for input (connections)

  // The driver: CLIENTS clients that each send a few lines and leave.
  const driver = spawn(process.execPath, [fileURLToPath(import.meta.url), 'client', String(port)], { stdio: 'inherit' });

  let seen = 0;
  while (seen < CLIENTS || serverdict.size > 1) {
    const events = ep.poll(1); // wait up to 1 s: [fd, eventmask] for each ready fd
    if (events.length === 0) console.log('server: (1 s with no events)');
    for (const [fileno, event] of events) {
      if (fileno === serverfd) {
        const [client, address] = server.accept();
        const [host, cport] = address;
        console.log(`server: <----- client fd ${client.fileno()} from ${host}:${cport} ----->`);
        client.setblocking(false);
        ep.register(client.fileno(), EPOLLIN); // watch the new client too
        serverdict.set(client.fileno(), client);
        seen++;
      } else if (event & EPOLLIN) {
        const client = serverdict.get(fileno)!;
        const data = client.recv(4096);
        if (data.length > 0) {
          console.log(`server: client fd ${fileno} sent ${JSON.stringify(data.toString())}`);
          continue;
        }
        // An empty read is end of file: the client closed its end.
        console.log(`server: client fd ${fileno} closed the connection`);
        ep.unregister(fileno);
        client.close();
        serverdict.delete(fileno);
      } else if (event & (EPOLLHUP | EPOLLERR)) {
        console.log(`server: client fd ${fileno} hung up`);
        ep.unregister(fileno);
        serverdict.get(fileno)!.close();
        serverdict.delete(fileno);
      }
    }
  }
  ep.close();
  server.close();
  console.log(`server: all ${CLIENTS} clients served, bye`);
  driver.on('exit', (code) => { process.exitCode = code ?? 1; });
}

async function client(port: number): Promise<void> {
  const clients = Array.from({ length: CLIENTS }, (_, i) => {
    const s = socket(AF_INET, SOCK_STREAM);
    s.connect(['127.0.0.1', port]);
    return { s, name: `client ${i + 1}` };
  });
  for (let round = 1; round <= 2; round++) {
    for (const { s, name } of clients) s.sendall(`hello #${round} from ${name}`);
    await sleep(50); // let the server print each message separately
  }
  for (const { s } of clients) {
    s.close();
    await sleep(20);
  }
}

if (process.argv[2] === 'client') await client(Number(process.argv[3]));
else server();
