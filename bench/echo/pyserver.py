"""CPython `selectors` echo server for bench/echo (the peer iomux copies).

Usage: python3 pyserver.py PORT   (listens on 127.0.0.1:PORT until killed)

DefaultSelector (epoll on Linux), non-blocking sockets, TCP_NODELAY; reads what is
there into a preallocated buffer and sends it back, keeping any unsent rest until the
socket is writable: the idiomatic selectors loop, written for speed.
"""
import selectors
import socket
import sys

EVENT_READ = selectors.EVENT_READ
EVENT_WRITE = selectors.EVENT_WRITE


def main():
    port = int(sys.argv[1])
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(511)
    lsock.setblocking(False)
    sel.register(lsock, EVENT_READ, None)
    buf = bytearray(65536)
    view = memoryview(buf)
    pending = {}  # socket -> unsent bytes

    while True:
        for key, mask in sel.select():
            sock = key.fileobj
            if key.data is None:  # the listening socket
                while True:
                    try:
                        conn, _ = lsock.accept()
                    except BlockingIOError:  # accepted everything pending
                        break
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(conn, EVENT_READ, True)
                continue
            if mask & EVENT_WRITE:
                rest = pending[sock]
                try:
                    n = sock.send(rest)
                except BlockingIOError:  # spurious wakeup: try again later
                    continue
                except OSError:
                    del pending[sock]
                    sel.unregister(sock)
                    sock.close()
                    continue
                if n < len(rest):
                    pending[sock] = rest[n:]
                else:
                    del pending[sock]
                    sel.modify(sock, EVENT_READ, True)
                continue
            try:
                n = sock.recv_into(buf)
            except BlockingIOError:  # spurious wakeup
                continue
            except OSError:
                n = 0
            if n == 0:
                sel.unregister(sock)
                sock.close()
                continue
            try:
                sent = sock.send(view[:n])
            except BlockingIOError:
                sent = 0
            except OSError:
                sel.unregister(sock)
                sock.close()
                continue
            if sent < n:
                pending[sock] = bytes(view[sent:n])
                sel.modify(sock, EVENT_WRITE, True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
