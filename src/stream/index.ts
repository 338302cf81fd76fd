/**
 * Public exports of `src/stream/`: Node-native faces over iomux sockets: a `Duplex` over
 * connected stream and SEQPACKET sockets, and an EventEmitter for datagram sockets, both
 * with backpressure and file-descriptor passing.
 */
export { SocketStream, toDuplex, type SocketStreamOptions, type FdLike } from './duplex.js';
export {
  DatagramSocket, DatagramQueueFullError, createDatagramSocket, type DatagramType, type DatagramOptions, type SendCallback,
} from './datagram.js';
export { defaultReactor, type ReadinessCallbacks } from './watch.js';
