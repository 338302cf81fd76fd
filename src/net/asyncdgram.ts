/**
 * The Reactor's datagram and file operations, asyncio's `sock_recvfrom`,
 * `sock_recvfrom_into`, `sock_sendto` and `sock_sendfile`: as the other `sock*`
 * operations (async.ts), each tries the non-blocking call first (MSG_DONTWAIT, no
 * exception on EAGAIN) and waits for readiness only when it would block.
 */
import * as libc from '../sys/libc.js';
import { retry } from '../sys/call.js';
import { AF_INET, AF_INET6, AF_UNIX, MSG_DONTWAIT, MSG_NOSIGNAL } from '../sys/constants.js';
import { toBytesOrUtf8, toSize, toWritableBytes } from '../validate.js';
import { encodeAddress, isNumericHost, type AddressLike } from './address.js';
import { decodeAddress, type SocketAddress } from './sockaddr.js';
import { resolveHostAsync } from './resolve.js';
import { ADDR, ADDRLEN } from './scratch.js';
import type { Socket } from './socket.js';
import { NEG_EAGAIN } from './transfer.js';
import { Op, fail, loopRan, overBudget, yieldTurn, type Readiness, type SockOpOptions } from './asyncop.js';
import { fileFd, needsFallback, readChunk, seekAfter, sendfileRange, sendfileStep, SENDFILE_CHUNK } from './sendfile.js';

/** Receive scratch: results are copied out exactly. */
const SCRATCH = Buffer.allocUnsafeSlow(64 * 1024);

/** One non-blocking `recvfrom` into `b`: the count or -errno; the sender left in ADDR. */
function tryRecvfrom(sock: Socket, b: Uint8Array, n: number): number {
  ADDRLEN.writeUInt32LE(ADDR.length, 0);
  return retry(libc.recvfrom, sock.fileno(), b, n, MSG_DONTWAIT, ADDR, ADDRLEN);
}

function sender(sock: Socket): SocketAddress | null {
  const a = decodeAddress(ADDR, ADDRLEN.readUInt32LE(0));
  return a === null && sock.family === AF_UNIX ? '' : a;
}

/** asyncio's `sock_recvfrom`: up to `n` bytes and the sender, `[data, address]`. */
export async function sockRecvfrom(reactor: Readiness, sock: Socket, n: number,
  options?: SockOpOptions): Promise<[Buffer, SocketAddress | null]> {
  toSize(n, 'sockRecvfrom n');
  const op = new Op('sockRecvfrom', options);
  const big = n > SCRATCH.length ? Buffer.allocUnsafe(n) : null;
  for (;;) {
    const r = tryRecvfrom(sock, big ?? SCRATCH, n);
    if (r >= 0) {
      const addr = sender(sock);
      const out = big ? big.subarray(0, r) : Buffer.from(SCRATCH.subarray(0, r));
      if (overBudget(r)) await yieldTurn();
      return [out, addr];
    }
    await op.again(reactor, sock, r, 'recvfrom');
  }
}

/** asyncio's `sock_recvfrom_into`: into `buf` (up to `nbytes`, 0: all of it), `[count, address]`. */
export async function sockRecvfromInto(reactor: Readiness, sock: Socket, buf: ArrayBufferView | ArrayBuffer,
  nbytes = 0, options?: SockOpOptions): Promise<[number, SocketAddress | null]> {
  const b = toWritableBytes(buf, 'sockRecvfromInto buf');
  const want = toSize(nbytes, 'sockRecvfromInto nbytes');
  if (want > b.length) throw new RangeError(`nbytes ${want} is more than the buffer's ${b.length} bytes`);
  const n = want === 0 ? b.length : want;
  const op = new Op('sockRecvfromInto', options);
  for (;;) {
    const r = tryRecvfrom(sock, b, n);
    if (r >= 0) {
      const addr = sender(sock);
      if (overBudget(r)) await yieldTurn();
      return [r, addr];
    }
    await op.again(reactor, sock, r, 'recvfrom');
  }
}

/**
 * asyncio's `sock_sendto`: sends one datagram to `address` (host names resolve on the
 * thread pool first); resolves with the bytes sent.
 */
export async function sockSendto(reactor: Readiness, sock: Socket, data: ArrayBufferView | ArrayBuffer | string,
  address: AddressLike, options?: SockOpOptions): Promise<number> {
  const b = toBytesOrUtf8(data, 'sockSendto data');
  const op = new Op('sockSendto', options);
  let target: AddressLike = address;
  const fam = sock.family;
  if ((fam === AF_INET || fam === AF_INET6) && Array.isArray(address) && typeof address[0] === 'string'
    && !address[0].includes('\0') && !isNumericHost(fam, address[0])) {
    const copy = address.slice() as unknown[];
    copy[0] = await op.race(resolveHostAsync(fam, address[0]));
    target = copy as unknown as AddressLike;
  }
  for (;;) {
    const len = encodeAddress(fam, target, ADDR); // again after each wait: ADDR is shared
    const r = retry(libc.sendto, sock.fileno(), b, b.length, MSG_DONTWAIT | MSG_NOSIGNAL, ADDR, len);
    if (r >= 0) {
      if (overBudget(r)) await yieldTurn();
      return r;
    }
    await op.again(reactor, sock, r, 'sendto', true);
  }
}

/**
 * asyncio's `sock_sendfile`: sends `count` bytes (default: to the end) of `file` from
 * `offset` on a non-blocking stream socket with `sendfile(2)`, or by reading and sending
 * when the file cannot be sent that way (a pipe); resolves with the bytes sent. The file's
 * position is left after the last byte sent.
 */
export async function sockSendfile(reactor: Readiness, sock: Socket, file: unknown, offset: unknown = 0,
  count: unknown = null, options?: SockOpOptions): Promise<number> {
  const inFd = fileFd(file);
  const [off, cnt] = sendfileRange(offset, count);
  const op = new Op('sockSendfile', options);
  let total = 0;
  let viaRead = false;
  let pending: Buffer | null = null;
  for (;;) {
    const want = cnt < 0 ? SENDFILE_CHUNK : cnt - total;
    if (want <= 0 && pending === null) break;
    let r: number;
    if (!viaRead) {
      r = sendfileStep(sock.fileno(), inFd, off + total, want);
      if (r < 0 && total === 0 && needsFallback(r)) {
        viaRead = true;
        if (off > 0) libc.lseek(inFd, off, 0);
        continue;
      }
      if (r === 0) break;
    } else {
      if (pending === null) {
        const [buf, n] = readChunk(inFd, want);
        if (n === 0) break;
        pending = Buffer.from(buf.subarray(0, n)); // the shared buffer may be reused while waiting
      }
      r = retry(libc.send, sock.fileno(), pending, pending.length, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (r >= 0) pending = r === pending.length ? null : pending.subarray(r);
    }
    if (r > 0) {
      total += r;
      if (overBudget(r)) await op.yieldAndCheck();
    } else if (r === NEG_EAGAIN) {
      await op.writable(reactor, sock);
      loopRan();
    } else if (r < 0) {
      throw fail(r, viaRead ? 'send' : 'sendfile', sock);
    }
  }
  if (!viaRead && total > 0) seekAfter(inFd, off + total);
  return total;
}
