/*
 * cserver-uring: a plain C io_uring echo server for bench/echo, raw system calls over
 * <linux/io_uring.h> (no liburing). Single thread; one multishot accept; per connection
 * one multishot recv into a provided-buffer ring; each chunk is sent back from its
 * buffer, which returns to the ring when the send completes; one io_uring_enter per turn
 * submits every SQE and waits for at least one completion. SINGLE_ISSUER|DEFER_TASKRUN
 * where the kernel has them. TCP_NODELAY on every connection.
 *
 * Usage: cserver-uring PORT   (listens on 127.0.0.1:PORT until killed)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ENTRIES 1024
#define NBUF 1024
#define BUFSZ 16384
#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER (1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN (1U << 13)
#endif

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };
#define UD(op, fd, bid) (((uint64_t)(op) << 56) | ((uint64_t)(uint32_t)(bid) << 24) | (uint32_t)(fd))

static int ring_fd;
static unsigned *sq_head, *sq_tail, *sq_mask, *cq_head, *cq_tail, *cq_mask;
static struct io_uring_sqe *sqes;
static struct io_uring_cqe *cqes;
static unsigned sq_local, sq_submitted;
static struct io_uring_buf_ring *br;
static unsigned char *bufs;
static unsigned short br_tail;

static void die(const char *what) {
  perror(what);
  exit(2);
}

static int enter(unsigned submit, unsigned wait, unsigned flags) {
  return (int)syscall(__NR_io_uring_enter, ring_fd, submit, wait, flags, NULL, 0);
}

static struct io_uring_sqe *get_sqe(void) {
  if (sq_local - atomic_load_explicit((_Atomic unsigned *)sq_head, memory_order_acquire) >= ENTRIES) {
    atomic_store_explicit((_Atomic unsigned *)sq_tail, sq_local, memory_order_release);
    enter(sq_local - sq_submitted, 0, IORING_ENTER_GETEVENTS);
    sq_submitted = sq_local;
  }
  struct io_uring_sqe *s = &sqes[sq_local & *sq_mask];
  sq_local++;
  memset(s, 0, sizeof *s);
  return s;
}

static void give_buf(unsigned bid) {
  struct io_uring_buf *b = &br->bufs[br_tail & (NBUF - 1)];
  b->addr = (uint64_t)(uintptr_t)(bufs + (size_t)bid * BUFSZ);
  b->len = BUFSZ;
  b->bid = (unsigned short)bid;
  br_tail++;
}

static void arm_recv(int fd) {
  struct io_uring_sqe *s = get_sqe();
  s->opcode = IORING_OP_RECV;
  s->fd = fd;
  s->flags = IOSQE_BUFFER_SELECT;
  s->buf_group = 0;
  s->ioprio = IORING_RECV_MULTISHOT;
  s->user_data = UD(OP_RECV, fd, 0);
}

static void arm_accept(int lfd) {
  struct io_uring_sqe *s = get_sqe();
  s->opcode = IORING_OP_ACCEPT;
  s->fd = lfd;
  s->accept_flags = SOCK_CLOEXEC;
  s->ioprio = IORING_ACCEPT_MULTISHOT;
  s->user_data = UD(OP_ACCEPT, lfd, 0);
}

static unsigned sent_end[NBUF]; /* end offset of the data in each buffer */
static unsigned sent_off[NBUF];

static void send_buf(int fd, unsigned bid, unsigned off, unsigned len) {
  struct io_uring_sqe *s = get_sqe();
  s->opcode = IORING_OP_SEND;
  s->fd = fd;
  s->addr = (uint64_t)(uintptr_t)(bufs + (size_t)bid * BUFSZ + off);
  s->len = len;
  s->msg_flags = MSG_NOSIGNAL;
  s->user_data = UD(OP_SEND, fd, bid); /* how much of the buffer is sent: sent_off/sent_end */
}


int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  ring_fd = (int)syscall(__NR_io_uring_setup, ENTRIES, &p);
  if (ring_fd < 0 && errno == EINVAL) {
    memset(&p, 0, sizeof p);
    ring_fd = (int)syscall(__NR_io_uring_setup, ENTRIES, &p);
  }
  if (ring_fd < 0) die("io_uring_setup");
  size_t ring_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (p.sq_off.array + p.sq_entries * sizeof(unsigned) > ring_len) ring_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  unsigned char *rp = mmap(NULL, ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQ_RING);
  if (rp == MAP_FAILED) die("mmap ring");
  sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd, IORING_OFF_SQES);
  if (sqes == MAP_FAILED) die("mmap sqes");
  sq_head = (unsigned *)(rp + p.sq_off.head);
  sq_tail = (unsigned *)(rp + p.sq_off.tail);
  sq_mask = (unsigned *)(rp + p.sq_off.ring_mask);
  unsigned *sq_array = (unsigned *)(rp + p.sq_off.array);
  for (unsigned i = 0; i < p.sq_entries; i++) sq_array[i] = i;
  cq_head = (unsigned *)(rp + p.cq_off.head);
  cq_tail = (unsigned *)(rp + p.cq_off.tail);
  cq_mask = (unsigned *)(rp + p.cq_off.ring_mask);
  cqes = (struct io_uring_cqe *)(rp + p.cq_off.cqes);
  sq_local = sq_submitted = *sq_tail;

  br = mmap(NULL, NBUF * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  bufs = mmap(NULL, (size_t)NBUF * BUFSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (br == MAP_FAILED || bufs == MAP_FAILED) die("mmap buffers");
  struct io_uring_buf_reg reg;
  memset(&reg, 0, sizeof reg);
  reg.ring_addr = (uint64_t)(uintptr_t)br;
  reg.ring_entries = NBUF;
  reg.bgid = 0;
  if (syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_PBUF_RING, &reg, 1) < 0) die("IORING_REGISTER_PBUF_RING");
  for (unsigned b = 0; b < NBUF; b++) give_buf(b);
  atomic_store_explicit((_Atomic unsigned short *)&br->tail, br_tail, memory_order_release);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(argv[1]));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  if (listen(lfd, 511) < 0) die("listen");
  arm_accept(lfd);

  for (;;) {
    atomic_store_explicit((_Atomic unsigned short *)&br->tail, br_tail, memory_order_release);
    atomic_store_explicit((_Atomic unsigned *)sq_tail, sq_local, memory_order_release);
    int r = enter(sq_local - sq_submitted, 1, IORING_ENTER_GETEVENTS);
    if (r < 0 && errno != EINTR && errno != EBUSY && errno != EAGAIN) die("io_uring_enter");
    sq_submitted = atomic_load_explicit((_Atomic unsigned *)sq_head, memory_order_acquire);
    unsigned head = *cq_head;
    unsigned tail = atomic_load_explicit((_Atomic unsigned *)cq_tail, memory_order_acquire);
    for (; head != tail; head++) {
      struct io_uring_cqe *c = &cqes[head & *cq_mask];
      uint64_t ud = c->user_data;
      int op = (int)(ud >> 56), fd = (int)(uint32_t)ud, res = c->res;
      unsigned flags = c->flags;
      if (op == OP_ACCEPT) {
        if (res >= 0) {
          setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          arm_recv(res);
        }
        if (!(flags & IORING_CQE_F_MORE)) arm_accept(lfd);
      } else if (op == OP_RECV) {
        if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
          unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
          sent_off[bid] = 0;
          sent_end[bid] = (unsigned)res;
          send_buf(fd, bid, 0, (unsigned)res);
          if (!(flags & IORING_CQE_F_MORE)) arm_recv(fd);
        } else if (res == -ENOBUFS) {
          arm_recv(fd);
        } else if (!(flags & IORING_CQE_F_MORE)) {
          if (flags & IORING_CQE_F_BUFFER) give_buf(flags >> IORING_CQE_BUFFER_SHIFT);
          close(fd); /* end of stream or error */
        }
      } else if (op == OP_SEND) {
        unsigned bid = (unsigned)(ud >> 24) & 0xffff;
        if (res > 0 && sent_off[bid] + (unsigned)res < sent_end[bid]) {
          sent_off[bid] += (unsigned)res;
          send_buf(fd, bid, sent_off[bid], sent_end[bid] - sent_off[bid]);
        } else {
          give_buf(bid);
        }
      }
    }
    atomic_store_explicit((_Atomic unsigned *)cq_head, head, memory_order_release);
  }
}
