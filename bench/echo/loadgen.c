/*
 * loadgen: the one echo load generator for every server in bench/echo.
 *
 * Opens C connections to HOST:PORT and plays ping-pong on each: send one SIZE-byte
 * message, wait until all SIZE bytes have come back (and match), send the next.
 * Single thread, epoll, non-blocking sockets, TCP_NODELAY, no allocation in the loop,
 * so that it is never the bottleneck. After WARMUP seconds it counts round trips for
 * DURATION seconds and prints one JSON line on stdout:
 *   {"conns":C,"size":SIZE,"seconds":S,"roundTrips":N,"rps":N/S,"cpu":F,"errors":E}
 * where cpu is loadgen's own CPU time over the measured period / S (1.0 = one core busy),
 * plus allRoundTrips / allSeconds: the same counts including the warm-up.
 *
 * Usage: loadgen HOST PORT CONNS SIZE DURATION_S WARMUP_S
 * Built by bench/run.mjs with the system cc into bench/.build/.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define MAX_SIZE (1 << 20)

struct conn {
  int fd;
  size_t sent;  /* bytes of the current message written so far */
  size_t got;   /* bytes of the current message echoed back so far */
  int want_out; /* EPOLLOUT currently registered */
};

static struct conn conns[MAX_CONNS];
static unsigned char msg[MAX_SIZE];
static unsigned char rbuf[MAX_SIZE];

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) this process has used so far. */
static double cpu_used(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void set_events(int ep, struct conn *c, int out) {
  if (c->want_out == out) return;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl MOD");
  c->want_out = out;
}

/* Writes what is left of the current message; returns -1 on a fatal error. */
static int pump_send(int ep, struct conn *c, size_t size) {
  while (c->sent < size) {
    ssize_t n = send(c->fd, msg + c->sent, size - c->sent, MSG_NOSIGNAL);
    if (n > 0) {
      c->sent += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      set_events(ep, c, 1);
      return 0;
    }
    return -1;
  }
  set_events(ep, c, 0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: %s HOST PORT CONNS SIZE DURATION_S WARMUP_S\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  int nconns = atoi(argv[3]);
  size_t size = (size_t)atol(argv[4]);
  double duration = atof(argv[5]);
  double warmup = atof(argv[6]);
  if (nconns < 1 || nconns > MAX_CONNS || size < 1 || size > MAX_SIZE || duration <= 0 || warmup < 0) {
    fprintf(stderr, "loadgen: bad arguments\n");
    return 2;
  }
  for (size_t i = 0; i < size; i++) msg[i] = (unsigned char)('a' + i % 26);

  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
    fprintf(stderr, "loadgen: bad IPv4 address %s\n", host);
    return 2;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < nconns; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conns[i] = (struct conn){.fd = fd};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl ADD");
  }
  for (int i = 0; i < nconns; i++)
    if (pump_send(ep, &conns[i], size) < 0) die("send");

  struct epoll_event events[MAX_CONNS];
  double start = now();
  double measure_from = start + warmup;
  double end = measure_from + duration;
  int measuring = warmup == 0;
  long long trips = 0, all_trips = 0, errors = 0;
  double t = start;
  double cpu0 = measuring ? cpu_used() : 0;
  for (;;) {
    int n = epoll_wait(ep, events, MAX_CONNS, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int k = 0; k < n; k++) {
      struct conn *c = events[k].data.ptr;
      if (events[k].events & EPOLLOUT) {
        if (pump_send(ep, c, size) < 0) die("send");
      }
      if (!(events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      ssize_t r = recv(c->fd, rbuf, size - c->got, 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        die("recv");
      }
      if (r == 0) {
        fprintf(stderr, "loadgen: server closed a connection\n");
        return 3;
      }
      if (memcmp(rbuf, msg + c->got, (size_t)r) != 0) errors++;
      c->got += (size_t)r;
      if (c->got < size) continue;
      all_trips++;
      if (measuring) trips++;
      c->got = 0;
      c->sent = 0;
      if (pump_send(ep, c, size) < 0) die("send");
    }
    t = now();
    if (!measuring && t >= measure_from) {
      measuring = 1;
      measure_from = t;
      cpu0 = cpu_used();
      end = t + duration;
    } else if (measuring && t >= end) {
      break;
    }
  }
  double secs = t - measure_from;
  double cpu = (cpu_used() - cpu0) / secs;
  printf("{\"conns\":%d,\"size\":%zu,\"seconds\":%.6f,\"roundTrips\":%lld,\"rps\":%.1f,\"cpu\":%.3f,"
         "\"allRoundTrips\":%lld,\"allSeconds\":%.6f,\"errors\":%lld}\n",
         nconns, size, secs, trips, trips / secs, cpu, all_trips, t - start, errors);
  for (int i = 0; i < nconns; i++) close(conns[i].fd);
  close(ep);
  return errors ? 4 : 0;
}
