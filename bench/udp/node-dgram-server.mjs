// Node's own `dgram` UDP echo server for bench/udp.
// Usage: node bench/udp/node-dgram-server.mjs PORT
import dgram from 'node:dgram';

const port = Number(process.argv[2]);
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
sock.on('message', (msg, rinfo) => sock.send(msg, rinfo.port, rinfo.address));
sock.bind(port, '127.0.0.1', () => console.log('ready'));
process.on('SIGTERM', () => sock.close(() => process.exit(0)));
