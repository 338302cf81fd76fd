import { Proactor, Socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR, IPPROTO_TCP, TCP_NODELAY } from 'iomux';
const port = Number(process.argv[2]);
const mode = process.argv[3];
const p = new Proactor({ mode });
const l = new Socket(AF_INET, SOCK_STREAM); l.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1); l.bind(['127.0.0.1', port]); l.listen(511);
let trips = 0;
const onSent = (r, fd) => { if (r < 0) p.close(fd); };
const onRecv = (n, _b, bid, fd) => { if (n > 0) { trips++; p.sendBuffer(fd, bid, 0, n, onSent); return true; } p.close(fd); return false; };
p.accept(l.fileno(), (fd) => { if (fd < 0) return; const s = new Socket(AF_INET, SOCK_STREAM, 0, fd); s.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1); s.detach(); p.recv(fd, onRecv); });
setTimeout(() => {}, 0);
const t0 = Date.now();
const report = () => { const s = p.stats; process.stderr.write(`${mode}: trips ${trips} enters ${s.enters} trips/enter ${(trips / s.enters).toFixed(1)} completed ${s.completed}\n`); };
if (mode === 'blocking') { const iv = setInterval(() => {}, 1000); p.run(3500); report(); process.exit(0); }
else setTimeout(() => { report(); process.exit(0); }, 3500);
