/*
 * The baseline: a single-threaded epoll server written by hand, the limit the
 * other peers are measured against.
 * usage: server echo|http|udp PORT
 *   echo  TCP, sends back every byte it reads
 *   http  TCP, answers each request head (up to "\r\n\r\n") with "hello"
 *   udp   UDP, sends every datagram back to its sender
 * Listens on 127.0.0.1 only. Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 65536

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

/* Per connection: what is still to be written (echo data or responses) and,
 * for http, how far into a request head the last read ended. */
typedef struct conn {
  int fd;
  char *out;
  size_t outlen, outoff, outcap;
  int match; /* http: how many bytes of "\r\n\r\n" the stream ended with */
  int wout;  /* whether epoll watches EPOLLOUT for it */
} conn;

static char buf[BUFSZ];

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void append(conn *c, const char *p, size_t n) {
  if (c->outlen + n > c->outcap) {
    c->outcap = (c->outlen + n) * 2;
    c->out = realloc(c->out, c->outcap);
    if (!c->out) die("realloc");
  }
  memcpy(c->out + c->outlen, p, n);
  c->outlen += n;
}

static void close_conn(int ep, conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->out);
  free(c);
}

/* Writes what is pending; returns -1 when the connection is dead. Watches
 * EPOLLOUT only while something is left over. */
static int flush(int ep, conn *c) {
  while (c->outoff < c->outlen) {
    ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    c->outoff += (size_t)n;
  }
  int want_out = c->outoff < c->outlen;
  if (!want_out) c->outoff = c->outlen = 0;
  if (want_out != c->wout) {
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->wout = want_out;
  }
  return 0;
}

/* Counts complete request heads in data, carrying a partial "\r\n\r\n"
 * across reads. */
static int count_heads(conn *c, const char *p, size_t n) {
  static const char end[] = "\r\n\r\n";
  int heads = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] == end[c->match])
      c->match++;
    else
      c->match = p[i] == '\r';
    if (c->match == 4) {
      heads++;
      c->match = 0;
    }
  }
  return heads;
}

static int listen_on(int type, int port) {
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  if (type == SOCK_STREAM && listen(fd, 1024) < 0) die("listen");
  return fd;
}

static void serve_udp(int port) {
  int fd = listen_on(SOCK_DGRAM, port);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  for (;;) {
    struct epoll_event got;
    if (epoll_wait(ep, &got, 1, -1) < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (;;) {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      ssize_t n = recvfrom(fd, buf, BUFSZ, 0, (struct sockaddr *)&ss, &len);
      if (n < 0) break;
      sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&ss, len);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: server echo|http|udp PORT\n");
    return 2;
  }
  int http = strcmp(argv[1], "http") == 0;
  int port = atoi(argv[2]);
  if (strcmp(argv[1], "udp") == 0) serve_udp(port);
  int lfd = listen_on(SOCK_STREAM, port);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event evs[256];
  int one = 1;
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          conn *nc = calloc(1, sizeof *nc);
          if (!nc) die("calloc");
          nc->fd = fd;
          struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      int dead = 0;
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        ssize_t got = recv(c->fd, buf, BUFSZ, 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
          dead = 1;
        } else if (got > 0) {
          if (http) {
            int heads = count_heads(c, buf, (size_t)got);
            while (heads-- > 0) append(c, RESPONSE, sizeof RESPONSE - 1);
          } else if (c->outlen == 0) {
            /* The common case: write straight from the read buffer. */
            ssize_t w = send(c->fd, buf, (size_t)got, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN) dead = 1;
            else if (w < got) append(c, buf + (w > 0 ? w : 0), (size_t)(got - (w > 0 ? w : 0)));
          } else {
            append(c, buf, (size_t)got);
          }
        }
      }
      if (!dead && flush(ep, c) < 0) dead = 1;
      if (dead) close_conn(ep, c);
    }
  }
}
