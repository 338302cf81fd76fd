/*
 * cserver: a plain C epoll echo server, the practical limit for bench/echo.
 *
 * Single thread, level-triggered epoll, non-blocking sockets, TCP_NODELAY. Reads what
 * is there (64 KiB at most) and writes it straight back; if the peer's window is full
 * the rest waits in a per-connection buffer until EPOLLOUT. No allocation per message.
 *
 * Usage: cserver PORT   (listens on 127.0.0.1:PORT until killed)
 * Built by bench/run.mjs with the system cc into bench/.build/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF 65536
#define MAX_EVENTS 256

struct conn {
  int fd;
  size_t off, len; /* unsent bytes are buf[off, len) */
  unsigned char buf[BUF];
};

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void drop(struct conn *c) {
  close(c->fd); /* also removes it from the epoll set */
  free(c);
}

/* Sends buf[off, len); returns 1 when all is sent, 0 when it would block, -1 on error. */
static int flush(struct conn *c) {
  while (c->off < c->len) {
    ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (n > 0) {
      c->off += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return 0;
    } else {
      return -1;
    }
  }
  c->off = c->len = 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  if (listen(lfd, 511) < 0) die("listen");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");

  struct epoll_event events[MAX_EVENTS];
  for (;;) {
    int n = epoll_wait(ep, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int k = 0; k < n; k++) {
      struct conn *c = events[k].data.ptr;
      if (c == NULL) { /* the listening socket */
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break; /* EAGAIN: accepted everything pending */
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = malloc(sizeof *nc);
          if (!nc) die("malloc");
          nc->fd = fd;
          nc->off = nc->len = 0;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev) < 0) die("epoll_ctl ADD");
        }
        continue;
      }
      if (c->len > 0) { /* waiting for EPOLLOUT to finish an earlier echo */
        int r = flush(c);
        if (r < 0) { drop(c); continue; }
        if (r == 0) continue;
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
        continue;
      }
      ssize_t got = recv(c->fd, c->buf, BUF, 0);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) { drop(c); continue; }
      c->off = 0;
      c->len = (size_t)got;
      int r = flush(c);
      if (r < 0) { drop(c); continue; }
      if (r == 0) {
        struct epoll_event cev = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &cev);
      }
    }
  }
}
