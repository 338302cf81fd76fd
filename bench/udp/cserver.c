// The C reference for bench/udp: a one-thread UDP echo server on 127.0.0.1:PORT that
// receives up to 64 datagrams per recvmmsg (MSG_WAITFORONE) and sends them back to
// their senders with one sendmmsg. Runs until killed.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 64
#define SIZE 2048

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 9000;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int rcv = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("bind"); return 1; }
  static char bufs[BATCH][SIZE];
  static struct sockaddr_storage names[BATCH];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = bufs[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &names[i];
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    for (int i = 0; i < BATCH; i++) { iov[i].iov_len = SIZE; msgs[i].msg_hdr.msg_namelen = sizeof names[i]; }
    int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
    if (n <= 0) continue;
    for (int i = 0; i < n; i++) iov[i].iov_len = msgs[i].msg_len;
    sendmmsg(fd, msgs, n, 0);
  }
}
