// UDP echo load generator for bench/udp: CLIENTS threads, each with its own connected
// UDP socket, keep WINDOW datagrams of SIZE bytes in flight to 127.0.0.1:PORT for
// SECONDS and count the echoes. Batched (recvmmsg/sendmmsg) so the generator costs
// little; a window lost to a full buffer is sent again after 20 ms.
// Usage: loadgen PORT CLIENTS SECONDS SIZE WINDOW   -> prints "echoes_per_sec N lost_windows M"
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int port, clients, size, window;
static double seconds;
static volatile int go;

struct result { long echoes, lost; };

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *client(void *arg) {
  struct result *res = arg;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("connect"); exit(1); }
  struct timeval tv = { 0, 20000 };
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char *bufs = calloc(window, 2048);
  struct mmsghdr *msgs = calloc(window, sizeof *msgs);
  struct iovec *iov = calloc(window, sizeof *iov);
  for (int i = 0; i < window; i++) {
    memset(bufs + i * 2048, 'a' + i % 26, size);
    iov[i].iov_base = bufs + i * 2048;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  while (!go) usleep(100);
  double end = now() + seconds;
  for (int i = 0; i < window; i++) iov[i].iov_len = size;
  sendmmsg(fd, msgs, window, 0);
  while (now() < end) {
    for (int i = 0; i < window; i++) iov[i].iov_len = 2048;
    int n = recvmmsg(fd, msgs, window, MSG_WAITFORONE, NULL);
    for (int i = 0; i < window; i++) iov[i].iov_len = size;
    if (n > 0) {
      res->echoes += n;
      sendmmsg(fd, msgs, n, 0);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNREFUSED) {
      res->lost++;
      sendmmsg(fd, msgs, window, 0);
    }
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: loadgen PORT CLIENTS SECONDS SIZE WINDOW\n"); return 2; }
  port = atoi(argv[1]); clients = atoi(argv[2]); seconds = atof(argv[3]);
  size = atoi(argv[4]); window = atoi(argv[5]);
  if (size < 1 || size > 2048 || window < 1 || clients < 1) { fprintf(stderr, "bad arguments\n"); return 2; }
  pthread_t *th = calloc(clients, sizeof *th);
  struct result *res = calloc(clients, sizeof *res);
  for (int i = 0; i < clients; i++) pthread_create(&th[i], NULL, client, &res[i]);
  usleep(50000);
  double t0 = now();
  go = 1;
  long echoes = 0, lost = 0;
  for (int i = 0; i < clients; i++) { pthread_join(th[i], NULL); echoes += res[i].echoes; lost += res[i].lost; }
  double t = now() - t0;
  printf("echoes_per_sec %.0f lost_windows %ld\n", echoes / t, lost);
  return 0;
}
