// The HTTP benchmark's server: Node's own http server in its own process, keep-alive,
// a fixed body of BODY bytes (argv[2], default 64). Prints its port; exits when stdin closes.
import http from 'node:http';

const body = Buffer.alloc(Number(process.argv[2] ?? 64), 'x');
const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Content-Length', body.length);
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
