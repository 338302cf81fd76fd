// The HTTP benchmark's server: Node's own http (or https) server in its own process,
// keep-alive, a fixed body of BODY bytes (argv[2], default 64). With argv[3] 'https' it
// serves TLS with the key and certificate in $BENCH_TLS_KEY / $BENCH_TLS_CERT (PEM).
// Prints its port; exits when stdin closes.
import http from 'node:http';
import https from 'node:https';

const body = Buffer.alloc(Number(process.argv[2] ?? 64), 'x');
const handler = (req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Content-Length', body.length);
  res.end(body);
};
const server = process.argv[3] === 'https'
  ? https.createServer({ key: process.env.BENCH_TLS_KEY, cert: process.env.BENCH_TLS_CERT, ALPNProtocols: ['http/1.1'] }, handler)
  : http.createServer(handler);
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
