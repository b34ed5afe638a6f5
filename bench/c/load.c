/*
 * The load generator for every job but HTTP and Redis: one thread, epoll,
 * loopback only, bounded in time, and it checks every byte that comes back.
 *
 * usage:
 *   load echo    PORT CONNS SIZE WARMUP WINDOW REPS SERVERPID
 *     CONNS connections; each sends SIZE bytes and waits for all of them to
 *     come back before it sends again.
 *   load connect PORT CONNS SIZE WARMUP WINDOW REPS SERVERPID
 *     CONNS at a time: connect, send SIZE bytes, read the echo, close.
 *   load udp     PORT CONNS SIZE WARMUP WINDOW REPS SERVERPID
 *     CONNS UDP sockets, each with one datagram of SIZE bytes in flight;
 *     one lost on the way is sent again after 200 ms (and counted).
 *   load idle    PORT CONNS TIMEOUT
 *     opens CONNS connections, sends one byte on each and reads its echo,
 *     prints "ready CONNS", then holds them until stdin closes or TIMEOUT
 *     seconds pass.
 *
 * For the measured modes it runs WARMUP seconds unmeasured, then REPS windows
 * of WINDOW seconds; after each window it prints one line:
 *   window REQUESTS SECONDS SERVER_CPU_SECONDS
 * where the server's CPU time (user+sys, all threads) comes from
 * /proc/SERVERPID/stat read at both ends of the window. Any wrong byte ends
 * the run with status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { ECHO, CONNECT, UDP, IDLE };
enum { FREE, CONNECTING, ACTIVE, DONE };

typedef struct conn {
  int fd, state, wout;
  uint64_t seq;
  size_t sent, rcvd;
  double since; /* udp: when the datagram in flight was sent */
} conn;

static int mode, port, nconns, ep;
static size_t size;
static unsigned char *pattern; /* size + 256 bytes; message seq starts at seq % 256 */
static conn *conns;
static uint64_t requests, resent;
/* At the end: no new messages; each connection closes once its echo is
 * complete, so the server never sees a reset with data unread. */
static int stopping, ndone;
static struct sockaddr_in server;

static void die(const char *what) {
  fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void fail(const char *what, conn *c) {
  fprintf(stderr, "load: %s (connection %ld, message %llu)\n", what, (long)(c - conns),
          (unsigned long long)c->seq);
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user+sys seconds of the whole process (every thread). */
static double cpu_of(int pid) {
  char path[64], line[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) die(path);
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = 0;
  /* Fields after the command name, which may hold spaces: skip past ')'. */
  char *p = strrchr(line, ')');
  unsigned long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
    fprintf(stderr, "load: cannot parse %s\n", path);
    exit(2);
  }
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static const unsigned char *expected(conn *c) { return pattern + c->seq % 256; }

static void watch(conn *c, int op, int events) {
  struct epoll_event ev = {.events = (uint32_t)events, .data.ptr = c};
  if (epoll_ctl(ep, op, c->fd, &ev) < 0) die("epoll_ctl");
}

static void set_out(conn *c, int want) {
  if (want != c->wout) {
    watch(c, EPOLL_CTL_MOD, EPOLLIN | (want ? EPOLLOUT : 0));
    c->wout = want;
  }
}

/* Starts a non-blocking connect; the connection becomes writable when done. */
static void start_connect(conn *c) {
  c->fd = socket(AF_INET, (mode == UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  if (mode != UDP) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&server, sizeof server) < 0 && errno != EINPROGRESS)
    die("connect");
  c->state = CONNECTING;
  c->sent = c->rcvd = 0;
  c->wout = 1;
  watch(c, EPOLL_CTL_ADD, EPOLLIN | EPOLLOUT);
}

/* Sends what is left of the current message. */
static void push(conn *c) {
  while (c->sent < size) {
    ssize_t n = send(c->fd, expected(c) + c->sent, size - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      fail(strerror(errno), c);
    }
    c->sent += (size_t)n;
  }
  set_out(c, c->sent < size);
}

static void send_datagram(conn *c) {
  unsigned char msg[65536];
  memcpy(msg, expected(c), size);
  memcpy(msg, &c->seq, sizeof c->seq);
  if (send(c->fd, msg, size, 0) < 0 && errno != EAGAIN && errno != ECONNREFUSED)
    fail(strerror(errno), c);
  c->since = now();
}

static void on_udp(conn *c) {
  unsigned char msg[65536];
  for (;;) {
    ssize_t n = recv(c->fd, msg, sizeof msg, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED) return;
      fail(strerror(errno), c);
    }
    uint64_t seq;
    memcpy(&seq, msg, sizeof seq);
    if (seq != c->seq) continue; /* the answer to a datagram sent again */
    if ((size_t)n != size || memcmp(msg + sizeof seq, expected(c) + sizeof seq, size - sizeof seq))
      fail("wrong datagram", c);
    requests++;
    c->seq++;
    send_datagram(c);
  }
}

static void on_event(conn *c, uint32_t events) {
  if (mode == UDP) {
    on_udp(c);
    return;
  }
  if (c->state == CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      errno = err;
      fail(strerror(err), c);
    }
    c->state = ACTIVE;
    push(c);
  } else if (events & EPOLLOUT) {
    push(c);
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  unsigned char in[65536];
  for (;;) {
    size_t want = size - c->rcvd;
    if (want > sizeof in) want = sizeof in;
    if (want == 0) fail("more bytes than were sent", c);
    ssize_t n = recv(c->fd, in, want, 0);
    if (n < 0) {
      if (errno == EAGAIN) return;
      if (errno == EINTR) continue;
      fail(strerror(errno), c);
    }
    if (n == 0) fail("server closed the connection", c);
    if (memcmp(in, expected(c) + c->rcvd, (size_t)n)) fail("wrong bytes echoed", c);
    c->rcvd += (size_t)n;
    if (c->rcvd < size) continue;
    if (mode == IDLE) {
      epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
      c->state = DONE;
      requests++;
      return;
    }
    requests++;
    c->seq++;
    if (stopping) {
      close(c->fd);
      c->state = DONE;
      ndone++;
      return;
    }
    if (mode == CONNECT) {
      /* The client closes first, so TIME_WAIT stays on this side. */
      close(c->fd);
      start_connect(c);
      return;
    }
    c->sent = c->rcvd = 0;
    push(c);
    return;
  }
}

static void run_loop(double until) {
  struct epoll_event evs[256];
  while (now() < until) {
    int n = epoll_wait(ep, evs, 256, 10);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
    if (mode == UDP) {
      double t = now();
      for (int i = 0; i < nconns; i++)
        if (t - conns[i].since > 0.2) {
          resent++;
          send_datagram(&conns[i]);
        }
    }
  }
}

static void run_idle(double timeout) {
  double deadline = now() + timeout;
  int started = 0;
  struct epoll_event evs[256];
  /* A few hundred connects at a time keep under the listen backlog. */
  while ((uint64_t)requests < (uint64_t)nconns) {
    while (started < nconns && started - (int)requests < 200) start_connect(&conns[started++]);
    int n = epoll_wait(ep, evs, 256, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
    if (now() > deadline) {
      fprintf(stderr, "load: only %llu of %d connections answered in time\n",
              (unsigned long long)requests, nconns);
      exit(1);
    }
  }
  printf("ready %d\n", nconns);
  fflush(stdout);
  struct pollfd p = {.fd = 0, .events = POLLIN};
  while (now() < deadline) {
    int left = (int)((deadline - now()) * 1000) + 1;
    if (poll(&p, 1, left) > 0) {
      char b[64];
      if (read(0, b, sizeof b) <= 0) break;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: see the comment at the top of bench/c/load.c\n");
    return 2;
  }
  mode = !strcmp(argv[1], "echo")      ? ECHO
         : !strcmp(argv[1], "connect") ? CONNECT
         : !strcmp(argv[1], "udp")     ? UDP
         : !strcmp(argv[1], "idle")    ? IDLE
                                       : -1;
  if (mode < 0 || (mode != IDLE && argc != 9)) {
    fprintf(stderr, "load: bad arguments\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  port = atoi(argv[2]);
  nconns = atoi(argv[3]);
  server.sin_family = AF_INET;
  server.sin_port = htons((uint16_t)port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ep = epoll_create1(EPOLL_CLOEXEC);
  conns = calloc((size_t)nconns, sizeof *conns);
  if (mode == IDLE) {
    size = 1;
    double timeout = atof(argv[4]);
    /* Never outlive the bound, whatever happens. */
    alarm((unsigned)timeout + 5);
    pattern = malloc(size + 256);
    for (size_t i = 0; i < size + 256; i++) pattern[i] = (unsigned char)('a' + i % 26);
    run_idle(timeout);
    return 0;
  }
  size = (size_t)atol(argv[4]);
  double warmup = atof(argv[5]), window = atof(argv[6]);
  int reps = atoi(argv[7]), pid = atoi(argv[8]);
  if (size < 1 || size > 65536 || (mode == UDP && size < 8)) {
    fprintf(stderr, "load: SIZE out of range\n");
    return 2;
  }
  alarm((unsigned)(warmup + window * reps) + 30);
  pattern = malloc(size + 256);
  uint32_t x = 12345;
  for (size_t i = 0; i < size + 256; i++) {
    x = x * 1103515245u + 12345u;
    pattern[i] = (unsigned char)(x >> 16);
  }
  for (int i = 0; i < nconns; i++) {
    start_connect(&conns[i]);
    if (mode == UDP) {
      watch(&conns[i], EPOLL_CTL_MOD, EPOLLIN);
      send_datagram(&conns[i]);
    }
  }
  double t = now();
  run_loop(t + warmup);
  for (int r = 0; r < reps; r++) {
    uint64_t before = requests;
    double t0 = now(), c0 = cpu_of(pid);
    run_loop(t0 + window);
    double t1 = now(), c1 = cpu_of(pid);
    printf("window %llu %.6f %.4f\n", (unsigned long long)(requests - before), t1 - t0, c1 - c0);
    fflush(stdout);
  }
  if (mode != UDP) {
    stopping = 1;
    double until = now() + 2;
    struct epoll_event evs[256];
    while (ndone < nconns && now() < until) {
      int n = epoll_wait(ep, evs, 256, 10);
      for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
    }
  }
  if (resent) fprintf(stderr, "load: %llu datagrams sent again\n", (unsigned long long)resent);
  return 0;
}
