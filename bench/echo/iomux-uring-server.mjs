// The iomux io_uring echo server for bench/echo, public API only: a Proactor with one
// multishot accept, a multishot recv per connection into provided buffers, and each chunk
// sent back from its buffer (zero copy). Mode `loop` runs inside Node's event loop (what
// `iomux echo --mode uring` does); mode `blocking` calls Proactor#run() on the main thread.
// Usage: node bench/echo/iomux-uring-server.mjs PORT [loop|blocking]   (killed with SIGTERM)
import { Proactor, Socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, IPPROTO_TCP, TCP_NODELAY } from 'iomux';

const port = Number(process.argv[2]);
const mode = process.argv[3] === 'blocking' ? 'blocking' : 'loop';
const p = new Proactor({ mode });
const listener = new Socket(AF_INET, SOCK_STREAM);
listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
listener.bind(['127.0.0.1', port]);
listener.listen(511);
const conns = new Map();

const onSent = (r, fd) => { if (r < 0) drop(fd); };
const onRecv = (n, _buf, bid, fd) => {
  if (n > 0) {
    p.sendBuffer(fd, bid, 0, n, onSent);
    return true;
  }
  drop(fd);
  return false;
};
function drop(fd) {
  if (conns.delete(fd)) p.close(fd); // after the echoes queued on it
}
p.accept(listener.fileno(), (fd) => {
  if (fd < 0) return;
  const s = new Socket(AF_INET, SOCK_STREAM, 0, fd);
  s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
  s.detach();
  conns.set(fd, true);
  p.recv(fd, onRecv);
});
if (mode === 'blocking') p.run();
if (process.env.IOMUX_URING_STATS) {
  process.on('SIGTERM', () => { process.stderr.write(JSON.stringify(p.stats) + '\n'); process.exit(0); });
}
