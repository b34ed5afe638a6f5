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
 *   load tls-echo, tls-handshake, tls-idle: echo, connect and idle over TLS
 *     (OpenSSL, X25519, the server's certificate not verified: the load
 *     measures the server, and every echoed byte is still checked). A
 *     tls-handshake connection is a full handshake (no session resumption),
 *     one SIZE-byte echo, close_notify, close.
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
#include <openssl/err.h>
#include <openssl/ssl.h>
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
enum { FREE, CONNECTING, HANDSHAKING, ACTIVE, DONE };

typedef struct conn {
  int fd, state, wout;
  SSL *ssl; /* NULL for plain TCP */
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
static SSL_CTX *tls; /* NULL unless a tls-* mode */

static void die(const char *what) {
  fprintf(stderr, "load: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void fail(const char *what, conn *c) {
  fprintf(stderr, "load: %s (connection %ld, message %llu)\n", what, (long)(c - conns),
          (unsigned long long)c->seq);
  exit(1);
}

/* A TLS failure: OpenSSL's reason. */
static void tls_fail(const char *what, conn *c) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, ERR_error_string(ERR_get_error(), NULL));
  fail(msg, c);
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

/* send(2) and recv(2), or their TLS counterparts with OpenSSL's "want
 * read/write" as EAGAIN (the loop waits on the fd either way) and a
 * close_notify or a bare EOF as 0. */
static ssize_t conn_send(conn *c, const void *p, size_t n) {
  if (!c->ssl) return send(c->fd, p, n, MSG_NOSIGNAL);
  int w = SSL_write(c->ssl, p, (int)n);
  if (w > 0) return w;
  int e = SSL_get_error(c->ssl, w);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) tls_fail("SSL_write", c);
  errno = EAGAIN;
  return -1;
}

static ssize_t conn_recv(conn *c, void *p, size_t n) {
  if (!c->ssl) return recv(c->fd, p, n, 0);
  errno = 0;
  int r = SSL_read(c->ssl, p, (int)n);
  if (r > 0) return r;
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)) return 0;
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) tls_fail("SSL_read", c);
  errno = EAGAIN;
  return -1;
}

/* Closes the connection; over TLS after sending close_notify (without
 * waiting for the server's), as a client that is done does. */
static void conn_close(conn *c) {
  if (c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  close(c->fd);
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
    ssize_t n = conn_send(c, expected(c) + c->sent, size - c->sent);
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

/* Drives the TLS handshake; once done, sends the first message. */
static void handshake(conn *c) {
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    c->state = ACTIVE;
    push(c);
    return;
  }
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ) set_out(c, 0);
  else if (e == SSL_ERROR_WANT_WRITE) set_out(c, 1);
  else tls_fail("handshake", c);
}

static void start_tls(conn *c) {
  c->ssl = SSL_new(tls);
  if (!c->ssl) tls_fail("SSL_new", c);
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_tlsext_host_name(c->ssl, "localhost");
  SSL_set_connect_state(c->ssl);
  c->state = HANDSHAKING;
  handshake(c);
}

static void on_event(conn *c, uint32_t events) {
  if (mode == UDP) {
    on_udp(c);
    return;
  }
  if (c->state == HANDSHAKING) {
    handshake(c);
    if (c->state == HANDSHAKING) return;
  } else if (c->state == CONNECTING) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      errno = err;
      fail(strerror(err), c);
    }
    if (tls) {
      start_tls(c);
      if (c->state == HANDSHAKING) return;
    } else {
      c->state = ACTIVE;
      push(c);
    }
  } else if (events & EPOLLOUT) {
    push(c);
  }
  if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP))) return;
  unsigned char in[65536];
  for (;;) {
    size_t want = size - c->rcvd;
    if (want > sizeof in) want = sizeof in;
    if (want == 0) fail("more bytes than were sent", c);
    ssize_t n = conn_recv(c, in, want);
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
      conn_close(c);
      c->state = DONE;
      ndone++;
      return;
    }
    if (mode == CONNECT) {
      /* The client closes first, so TIME_WAIT stays on this side. */
      conn_close(c);
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
  const char *name = argv[1];
  int over_tls = !strncmp(name, "tls-", 4);
  if (over_tls) name += 4;
  const char *connect_name = over_tls ? "handshake" : "connect";
  mode = !strcmp(name, "echo")                 ? ECHO
         : !strcmp(name, connect_name)         ? CONNECT
         : !strcmp(name, "udp") && !over_tls   ? UDP
         : !strcmp(name, "idle")               ? IDLE
                                               : -1;
  if (mode < 0 || (mode != IDLE && argc != 9)) {
    fprintf(stderr, "load: bad arguments\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  if (over_tls) {
    tls = SSL_CTX_new(TLS_client_method());
    if (!tls || SSL_CTX_set1_groups_list(tls, "X25519") != 1) {
      fprintf(stderr, "load: cannot set up OpenSSL\n");
      return 2;
    }
    SSL_CTX_set_verify(tls, SSL_VERIFY_NONE, NULL);
    /* 10,000 idle connections must not hold 10,000 record buffers here. */
    SSL_CTX_set_mode(tls, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  }
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
