/**
 * The options of the two faces, checked and resolved with their defaults in one place:
 * {@link SocketStreamOptions} (`SocketStream`, `toDuplex`) and {@link DatagramOptions}
 * (`DatagramSocket`).
 */
import type { DuplexOptions } from 'node:stream';
import { toInteger } from '../validate.js';
import { toReactor, type ReadinessCallbacks } from './watch.js';
import { maxFdsOption } from './fds.js';

/** Default bytes per stream read (and the largest SEQPACKET message read whole). */
const STREAM_READ_SIZE = 64 * 1024;
/** Default bytes per datagram receive: larger than any UDP datagram and than Linux's default AF_UNIX buffer. */
const DATAGRAM_READ_SIZE = 256 * 1024;
/** Default most reads per wake-up: a fast peer cannot hold the event loop longer. */
const READS_PER_WAKE = 16;

/** Options of {@link SocketStream} (and {@link toDuplex}). */
export interface SocketStreamOptions {
  /** The Reactor whose readiness callbacks drive the stream; default: one per thread. */
  reactor?: ReadinessCallbacks | null;
  /**
   * Keep the writable side open after the peer's end (EOF): default `false`, as
   * `net.Socket`: the stream then ends its own side too.
   */
  allowHalfOpen?: boolean;
  /** Both sides' highWaterMark: bytes (SOCK_STREAM) or messages (SEQPACKET). */
  highWaterMark?: number;
  /** The readable side's highWaterMark. */
  readableHighWaterMark?: number;
  /** The writable side's highWaterMark. */
  writableHighWaterMark?: number;
  /**
   * Bytes asked of the kernel per read (default 64 KiB); on SEQPACKET the longest
   * message read whole: a longer one is an error (`EMSGSIZE`) rather than silently cut.
   */
  readSize?: number;
  /** Most reads per wake-up (default 16): then the event loop runs other work first. */
  maxReadsPerWake?: number;
  /**
   * Receive file descriptors (SCM_RIGHTS) sent with the data: `true` (up to 253 per read)
   * or the most per read. Each batch is emitted as `'fds'` (an array of numbers, owned by
   * the listener; closed by the stream when nobody listens). Default: off, and fds a peer
   * sends are closed by the kernel.
   */
  fds?: boolean | number;
  /** Passed to `Duplex`: a signal that destroys the stream when aborted. */
  signal?: AbortSignal;
}

/** The kinds of datagram socket: AF_UNIX (`'unix_dgram'`, as the `unix-dgram` package), UDP over IPv4 or IPv6. */
export type DatagramType = 'unix_dgram' | 'udp4' | 'udp6';

/** Options of {@link DatagramSocket}. */
export interface DatagramOptions {
  /** The Reactor whose readiness callbacks drive the socket; default: one per thread. */
  reactor?: ReadinessCallbacks | null;
  /** Most datagrams waiting in the send queue (default 1024). */
  maxQueue?: number;
  /** Most bytes waiting in the send queue (default 16 MiB). */
  maxQueueBytes?: number;
  /** Longest datagram received whole (default 256 KiB); a longer one is an `'error'` (EMSGSIZE). */
  readSize?: number;
  /** Most datagrams received per wake-up (default 16). */
  maxReadsPerWake?: number;
  /**
   * Receive file descriptors sent with datagrams (AF_UNIX): `true` (up to 253 per
   * datagram) or the most per datagram; each batch is emitted as `'fds'` (fds, address)
   * just before its `'message'`, and closed when nobody listens.
   */
  fds?: boolean | number;
}

/** What both faces take from their options. */
interface Resolved {
  reactor: ReadinessCallbacks;
  readSize: number;
  maxReads: number;
  maxFds: number;
}

/** `readSize`, `maxReadsPerWake` and `fds`, checked in that order. */
function reads(o: { readSize?: number; maxReadsPerWake?: number; fds?: boolean | number }, readSize: number): Omit<Resolved, 'reactor'> {
  return {
    readSize: o.readSize === undefined ? readSize : toInteger(o.readSize, 'readSize', 1, 1 << 30),
    maxReads: o.maxReadsPerWake === undefined ? READS_PER_WAKE : toInteger(o.maxReadsPerWake, 'maxReadsPerWake', 1),
    maxFds: maxFdsOption(o.fds),
  };
}

/** A `SocketStream`'s options (already an object) resolved, with the `Duplex` options they make. */
export function streamOptions(o: SocketStreamOptions, seq: boolean): Resolved & { duplex: DuplexOptions } {
  const reactor = toReactor(o.reactor, 'SocketStream reactor');
  const r = reads(o, STREAM_READ_SIZE);
  const hwm = (v: unknown, what: string): number | undefined =>
    v === undefined || v === null ? undefined : toInteger(v, what, 0);
  const duplex: DuplexOptions = {
    allowHalfOpen: o.allowHalfOpen === undefined ? false : Boolean(o.allowHalfOpen),
    objectMode: seq,
    decodeStrings: true,
    emitClose: true,
    autoDestroy: true,
  };
  const h = hwm(o.highWaterMark, 'highWaterMark');
  if (h !== undefined) duplex.highWaterMark = h;
  const rh = hwm(o.readableHighWaterMark, 'readableHighWaterMark');
  if (rh !== undefined) duplex.readableHighWaterMark = rh;
  const wh = hwm(o.writableHighWaterMark, 'writableHighWaterMark');
  if (wh !== undefined) duplex.writableHighWaterMark = wh;
  if (o.signal !== undefined) duplex.signal = o.signal;
  return { reactor, ...r, duplex };
}

/** A `DatagramSocket`'s options (already an object) resolved. */
export function datagramOptions(o: DatagramOptions): Resolved & { maxQueue: number; maxQueueBytes: number } {
  const reactor = toReactor(o.reactor, 'DatagramSocket reactor');
  const maxQueue = o.maxQueue === undefined ? 1024 : toInteger(o.maxQueue, 'maxQueue', 0);
  const maxQueueBytes = o.maxQueueBytes === undefined ? 16 * 1024 * 1024 : toInteger(o.maxQueueBytes, 'maxQueueBytes', 0);
  return { reactor, maxQueue, maxQueueBytes, ...reads(o, DATAGRAM_READ_SIZE) };
}
