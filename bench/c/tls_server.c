/*
 * The TLS baseline: server.c's single-threaded epoll echo server with
 * OpenSSL in between, the limit the other TLS peers are measured against.
 * usage: tls_server PORT CERTFILE KEYFILE
 *   echo over TLS (1.2 or 1.3, X25519 for the key exchange), on 127.0.0.1.
 * SSL_MODE_RELEASE_BUFFERS is on, so an idle connection holds no record
 * buffers (about 48 KB each without it). Runs until killed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* One TLS record holds at most 16 KiB of plaintext. */
#define BUFSZ 16384

/* Per connection: the TLS session and the echo bytes OpenSSL could not take
 * yet (SSL_write must be retried with the same bytes). */
typedef struct conn {
  int fd;
  SSL *ssl;
  int handshaken;
  char *out;
  size_t outlen, outcap;
  uint32_t watching; /* the epoll events asked for */
} conn;

static char buf[BUFSZ];
static int ep;

static void die(const char *what) {
  perror(what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static void watch(conn *c, uint32_t events) {
  if (events == c->watching) return;
  struct epoll_event ev = {.events = events, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->watching = events;
}

/* No close_notify wait: one SSL_shutdown sends ours (when the session got
 * that far), as a server that is done with a client does. */
static void close_conn(conn *c) {
  if (c->handshaken) SSL_shutdown(c->ssl);
  SSL_free(c->ssl);
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->out);
  free(c);
}

/* What an SSL_* call that returned r <= 0 means for the connection: wait for
 * input (0), for output (0, EPOLLOUT watched), or it is over (-1). */
static int want(conn *c, int r) {
  switch (SSL_get_error(c->ssl, r)) {
  case SSL_ERROR_WANT_READ:
    return 0;
  case SSL_ERROR_WANT_WRITE:
    watch(c, EPOLLIN | EPOLLOUT);
    return 0;
  default:
    ERR_clear_error();
    return -1;
  }
}

static void keep(conn *c, const char *p, size_t n) {
  if (c->outlen + n > c->outcap) {
    c->outcap = (c->outlen + n) * 2;
    c->out = realloc(c->out, c->outcap);
    if (!c->out) die("realloc");
  }
  memcpy(c->out + c->outlen, p, n);
  c->outlen += n;
}

/* Writes what is kept; -1 when the connection is dead. */
static int flush(conn *c) {
  while (c->outlen > 0) {
    int w = SSL_write(c->ssl, c->out, (int)(c->outlen > BUFSZ ? BUFSZ : c->outlen));
    if (w <= 0) return want(c, w);
    memmove(c->out, c->out + w, c->outlen - (size_t)w);
    c->outlen -= (size_t)w;
  }
  watch(c, EPOLLIN);
  return 0;
}

/* Handshake, then read every record OpenSSL can give (level-triggered epoll
 * does not know about bytes OpenSSL already holds) and write each back. */
static int on_ready(conn *c) {
  if (!c->handshaken) {
    int r = SSL_do_handshake(c->ssl);
    if (r <= 0) return want(c, r);
    c->handshaken = 1;
    watch(c, EPOLLIN);
  }
  if (flush(c) < 0) return -1;
  while (c->outlen == 0) {
    int n = SSL_read(c->ssl, buf, BUFSZ);
    if (n <= 0) return want(c, n);
    int w = SSL_write(c->ssl, buf, n);
    if (w <= 0) {
      if (want(c, w) < 0) return -1;
      keep(c, buf, (size_t)n);
    } else if (w < n) {
      keep(c, buf + w, (size_t)(n - w));
      watch(c, EPOLLIN | EPOLLOUT);
    }
  }
  return 0;
}

static SSL_CTX *context(const char *certfile, const char *keyfile) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) die("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) die(certfile);
  if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1) die(keyfile);
  if (SSL_CTX_set1_groups_list(ctx, "X25519") != 1) die("groups");
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: tls_server PORT CERTFILE KEYFILE\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  SSL_CTX *ctx = context(argv[2], argv[3]);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  if (listen(lfd, 1024) < 0) die("listen");
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (c) {
        if (on_ready(c) < 0) close_conn(c);
        continue;
      }
      for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *nc = calloc(1, sizeof *nc);
        if (!nc) die("calloc");
        nc->fd = fd;
        nc->ssl = SSL_new(ctx);
        if (!nc->ssl) die("SSL_new");
        SSL_set_fd(nc->ssl, fd);
        SSL_set_accept_state(nc->ssl);
        nc->watching = EPOLLIN;
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = nc};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
      }
    }
  }
}
