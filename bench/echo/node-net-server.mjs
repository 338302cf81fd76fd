// Node `net` echo server for bench/echo: the idiomatic Node peer.
// Usage: node bench/echo/node-net-server.mjs PORT   (listens on 127.0.0.1:PORT until killed)
// Each 'data' chunk is written straight back; TCP_NODELAY like every other server.
import net from 'node:net';

const port = Number(process.argv[2]);
const server = net.createServer({ noDelay: true }, (sock) => {
  sock.on('data', (chunk) => sock.write(chunk));
  sock.on('error', () => sock.destroy());
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
