/**
 * The classic Python "custom asynchronous IO" program: several HTTP requests at once on
 * one thread, built from two pieces: non-blocking sockets + I/O multiplexing (`select`).
 * Each request is an `HttpContext` with its own timeout and callback; `AsyncRequest`
 * starts every connect without waiting, then one `select()` loop sends each request as
 * its socket becomes writable (connected), collects responses as they become readable,
 * and fails requests that run past their timeout.
 *
 * Beyond Python's version: a connect that fails (SO_ERROR) fails its request instead of hanging,
 * finished sockets are closed, and partial sends are handled. Instead of google/baidu/bing
 * the example starts its own local HTTP server (a child process) with a fast page, a slow
 * page and an echo, plus a port where nothing listens.
 * Run: `node dist/examples/async-http.js`; `--batch` does the same with iomux's `HttpBatch`
 * (this loop, packaged), `--client` with `HttpClient` (on a Reactor, inside Node's loop).
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  select, socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_ERROR, OSError, TimeoutError, BlockingIOError,
  errno, HttpClient, HttpBatch, type Socket, type RequestCallback, type RequestOptions,
} from 'iomux';

/** The callback of a request: the context, the raw response (or null), the error (or null). */
type Callback = (context: HttpContext, response: Buffer | null, exc: Error | null) => void;

/** One request: its socket, what to send, and what came back so far. */
class HttpContext {
  readonly #startTime = performance.now();
  readonly #buffer: Buffer[] = [];
  #request: Buffer;

  constructor(
    readonly sock: Socket, readonly host: string, readonly port: number, readonly method: string,
    readonly url: string, readonly data: string, readonly callback: Callback, readonly timeout: number,
  ) {
    this.#request = this.sendRequestData();
  }

  /** Whether the request has run past its timeout (seconds). */
  isTimeout(): boolean {
    return performance.now() - this.#startTime > this.timeout * 1000;
  }

  /** The socket's fd: a context can go straight into `select()`, as with any file-like object. */
  fileno(): number {
    return this.sock.fileno();
  }

  /** Appends received bytes. */
  write(data: Buffer): void {
    this.#buffer.push(data);
  }

  /** Ends the request: closes the socket and calls the callback once. */
  finish(exc: Error | null = null): void {
    this.sock.close();
    if (!exc) this.callback(this, Buffer.concat(this.#buffer), null);
    else this.callback(this, null, exc);
  }

  /** The request bytes (HTTP/1.0: the server closes the connection after the response). */
  sendRequestData(): Buffer {
    const body = Buffer.from(this.data);
    return Buffer.from(`${this.method.toUpperCase()} ${this.url} HTTP/1.0\r\nHost: ${this.host}:${this.port}\r\n`
      + `Content-Length: ${body.length}\r\n\r\n${this.data}`);
  }

  /** Sends what is left of the request; true once all of it is out. */
  sendSome(): boolean {
    const n = this.sock.send(this.#request);
    this.#request = this.#request.subarray(n);
    return this.#request.length === 0;
  }

  elapsedMs(): number {
    return performance.now() - this.#startTime;
  }
}

/** The event loop: `select()` over every request's socket. */
class AsyncRequest {
  /** Requests still waiting for (more of) their response: select's read and error lists. */
  readonly fds: HttpContext[] = [];
  /** Requests whose request is not sent yet (connecting): select's write list. */
  readonly connections: HttpContext[] = [];

  /** Creates a request: a non-blocking socket and a connect that does not wait. */
  addRequest(o: { host: string; port: number; method: string; url: string; data: string; callback: Callback; timeout: number }): void {
    const client = socket(AF_INET, SOCK_STREAM);
    client.setblocking(false); // don't wait for the connection or the response
    const req = new HttpContext(client, o.host, o.port, o.method, o.url, o.data, o.callback, o.timeout);
    try {
      client.connect([o.host, o.port]);
    } catch (e) {
      // EINPROGRESS (BlockingIOError): connecting in the background, as expected.
      // Anything else (refused at once, say) fails this request only.
      if (!(e instanceof BlockingIOError)) return req.finish(e as Error);
    }
    this.connections.push(req);
    this.fds.push(req);
  }

  #drop(context: HttpContext): void {
    const i = this.fds.indexOf(context);
    if (i >= 0) this.fds.splice(i, 1);
    const j = this.connections.indexOf(context);
    if (j >= 0) this.connections.splice(j, 1);
  }

  /** Fails every request that ran past its timeout. */
  checkConnTimeout(): void {
    for (const context of this.fds.filter((c) => c.isTimeout())) {
      this.#drop(context);
      context.finish(new TimeoutError(errno.ETIMEDOUT, `request timed out after ${context.timeout} s`));
    }
  }

  /** Runs until every request has finished, failed or timed out. */
  running(): void {
    while (this.fds.length > 0) {
      const [r, w] = select(this.fds, this.connections, this.fds, 0.05);
      for (const context of w) {
        // Writable after a non-blocking connect: connected, or failed (read SO_ERROR).
        if (!this.connections.includes(context)) continue;
        const err = context.sock.getsockopt(SOL_SOCKET, SO_ERROR) as number;
        if (err !== 0) {
          this.#drop(context);
          context.finish(OSError.fromErrno(err, 'connect', `${context.host}:${context.port}`));
          continue;
        }
        // Connected to the server: send the request, then wait for the response only.
        let sent: boolean;
        try {
          sent = context.sendSome();
        } catch (e) {
          if (e instanceof BlockingIOError) continue; // EAGAIN: buffer full, wait to be writable again.
          this.#drop(context); // EPIPE, ECONNRESET: the server went away; fail this request only.
          context.finish(e as Error);
          continue;
        }
        if (sent) this.connections.splice(this.connections.indexOf(context), 1);
      }
      for (const context of r) {
        if (!this.fds.includes(context)) continue; // finished above
        for (;;) {
          let data: Buffer;
          try {
            data = context.sock.recv(8192);
          } catch (e) {
            if (e instanceof BlockingIOError) break; // EAGAIN: all read for now.
            this.#drop(context);
            context.finish(e as Error);
            break;
          }
          if (data.length === 0) {
            // The server closed the connection: the HTTP/1.0 response is complete.
            this.#drop(context);
            context.finish();
            break;
          }
          context.write(data);
        }
      }
      this.checkConnTimeout();
    }
  }
}

/** A local HTTP server in a child process: / (fast), /slow (3 s), /echo (POST). */
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/slow') return setTimeout(() => res.end('finally\\n'), 3000);
  if (req.url === '/echo') { let b = ''; req.on('data', (d) => b += d); return req.on('end', () => res.end('you sent: ' + b + '\\n')); }
  res.end('hello from the local server\\n');
});
// The port goes to the parent as plain text: console.log would colour a number when
// FORCE_COLOR is set (as Node's test runner sets it for its children).
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function startServer(): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
      else if (out.includes('\n')) reject(new Error(`the HTTP server said ${JSON.stringify(out)}, not its port`));
    });
    child.once('exit', () => reject(new Error('the HTTP server did not start')));
  });
  return { port, stop: () => child.kill() };
}

/** A port where nothing listens: bind one, read its number, close it. */
function closedPort(): number {
  const s = socket(AF_INET, SOCK_STREAM);
  s.bind(['127.0.0.1', 0]);
  const port = s.getsockname()[1];
  s.close();
  return port;
}

/** The requests of the demo: two that succeed, one that times out, one refused. */
function urlList(port: number, refused: number) {
  return [
    { host: '127.0.0.1', port, method: 'GET', url: '/', data: '', timeout: 5 },
    { host: '127.0.0.1', port, method: 'POST', url: '/echo', data: 'a=1&b=2', timeout: 5 },
    { host: '127.0.0.1', port, method: 'GET', url: '/slow', data: '', timeout: 1 },
    { host: '127.0.0.1', port: refused, method: 'GET', url: '/', data: '', timeout: 5 },
  ];
}

/** By hand: AsyncRequest, a select() loop over non-blocking sockets. */
async function main(): Promise<void> {
  const server = await startServer();
  const refused = closedPort();
  const outcomes: string[] = [];
  try {
    const callbackFunc: Callback = (context, response, ex) => {
      const what = `${context.method} http://${context.host}:${context.port}${context.url}`;
      const ms = `${context.elapsedMs().toFixed(0)} ms`;
      if (ex) {
        outcomes.push(ex.name);
        console.log(`${what} -> ${ex.name}: ${ex.message} (${ms})`);
        return;
      }
      const text = response!.toString();
      const [head = '', body = ''] = text.split('\r\n\r\n');
      outcomes.push(head.split('\r\n')[0]!.split(' ')[1]!);
      console.log(`${what} -> ${head.split('\r\n')[0]}, body ${JSON.stringify(body)} (${ms})`);
    };

    const obj = new AsyncRequest();
    for (const item of urlList(server.port, refused)) {
      console.log(`add_request ${item.method} http://${item.host}:${item.port}${item.url} (timeout ${item.timeout} s)`);
      obj.addRequest({ ...item, callback: callbackFunc });
    }
    obj.running(); // every request runs at once; this returns when all have finished
  } finally {
    server.stop();
  }
  console.log(`done: ${outcomes.join(', ')}`);
}

/** One item of {@link urlList} as `HttpClient`/`HttpBatch` request options (timeout in ms). */
function optionsOf(item: ReturnType<typeof urlList>[number], url: string): RequestOptions {
  return { url, method: item.method, timeout: item.timeout * 1000, ...(item.data ? { body: item.data } : {}) };
}

/** The `(err, res)` callback of `--client` and `--batch`: prints the outcome and records it. */
function report(method: string, url: string, started: number, outcomes: string[]): RequestCallback {
  return (err, res) => {
    const ms = `${(performance.now() - started).toFixed(0)} ms`;
    if (err) {
      outcomes.push(err.name);
      console.log(`${method} ${url} -> ${err.name}: ${err.message} (${ms})`);
    } else {
      outcomes.push(String(res!.status));
      console.log(`${method} ${url} -> ${res!.status} ${res!.statusText}, body ${JSON.stringify(res!.text())} (${ms})`);
    }
  };
}

/**
 * `--client`: the same four requests with iomux's `HttpClient`, the same idea done fully
 * (HTTP/1.1 keep-alive, chunked bodies, a Reactor inside Node's loop instead of a blocking
 * select loop), still with a callback per request.
 */
async function withHttpClient(): Promise<void> {
  const server = await startServer();
  const refused = closedPort();
  const outcomes: string[] = [];
  const client = new HttpClient();
  try {
    await Promise.all(urlList(server.port, refused).map((item) => new Promise<void>((resolve) => {
      const url = `http://${item.host}:${item.port}${item.url}`;
      console.log(`request ${item.method} ${url} (timeout ${item.timeout} s)`);
      const log = report(item.method, url, performance.now(), outcomes);
      client.request(optionsOf(item, url), (err, res) => {
        log(err, res);
        resolve();
      });
    })));
  } finally {
    client.close();
    server.stop();
  }
  console.log(`done: ${outcomes.join(', ')}`);
}
/**
 * `--batch`: the same shape, packaged: `HttpBatch.add(request, callback)` for each
 * request, then `run()`, which blocks on a selector until all are done or timed out.
 */
async function withHttpBatch(): Promise<void> {
  const server = await startServer();
  const refused = closedPort();
  const outcomes: string[] = [];
  try {
    const batch = new HttpBatch();
    const started = performance.now();
    for (const item of urlList(server.port, refused)) {
      const url = `http://${item.host}:${item.port}${item.url}`;
      console.log(`add ${item.method} ${url} (timeout ${item.timeout} s)`);
      batch.add(optionsOf(item, url), report(item.method, url, started, outcomes));
    }
    batch.run(); // blocks until every request has finished, failed or timed out
  } finally {
    server.stop();
  }
  console.log(`done: ${outcomes.join(', ')}`);
}

await (process.argv.includes('--client') ? withHttpClient()
  : process.argv.includes('--batch') ? withHttpBatch() : main());
