/*
 * TLS record plumbing (see tls.h). No Lua here: this layer can be read and
 * tested alone, and the fuzz target drives OpenSSL through ssl.c above it.
 */
#include <errno.h>
#include <openssl/err.h>
#include <stddef.h>
#include <sys/socket.h>

#include "tls.h"
#define MS_TLS_HEADERS
#include "tls_errors.inc"
#undef MS_TLS_HEADERS

/* ---- the socket BIO ---- */

/*
 * OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE on a
 * peer that has gone; a host embedding moonsock may not ignore SIGPIPE. This
 * one uses send(MSG_NOSIGNAL) and keeps the errno of the last failure, which
 * Python reports as an OSError (ConnectionResetError...) instead of an SSL
 * error.
 */
typedef struct {
  int fd;
  int err;
  int eof; /* the last read met the end of the stream */
} sockbio;

static BIO_METHOD *sockbio_method;
static int sockbio_type;

/* A failed recv or send: EAGAIN sets the retry flag, which OpenSSL hands
   back as WANT_READ/WANT_WRITE so the caller parks until the fd is ready;
   any other errno is kept for the caller to raise. */
static int sockbio_failed(BIO *b, sockbio *s, int reading) {
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    if (reading) BIO_set_retry_read(b);
    else BIO_set_retry_write(b);
    s->err = 0;
  } else {
    s->err = errno;
  }
  return -1;
}

static int sockbio_read(BIO *b, char *buf, int len) {
  sockbio *s = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  ssize_t n;
  do n = recv(s->fd, buf, (size_t)len, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sockbio_failed(b, s, 1);
  s->err = 0;
  s->eof = n == 0;
  return (int)n;
}

static int sockbio_write(BIO *b, const char *buf, int len) {
  sockbio *s = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  ssize_t n;
  do n = send(s->fd, buf, (size_t)len, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return sockbio_failed(b, s, 0);
  s->err = 0;
  return (int)n;
}

static int sockbio_puts(BIO *b, const char *str) {
  size_t n = 0;
  while (str[n]) n++;
  return sockbio_write(b, str, (int)n);
}

/* The controls OpenSSL's state machine asks of a transport: flushing is a
 * no-op (every write goes straight to the kernel), the rest unsupported. */
static long sockbio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  switch (cmd) {
  case BIO_CTRL_EOF:
    /* OpenSSL tells an unexpected EOF from an error by asking this. */
    return ((sockbio *)BIO_get_data(b))->eof;
  case BIO_CTRL_FLUSH:
  case BIO_CTRL_PUSH:
  case BIO_CTRL_POP:
    return 1;
  case BIO_C_GET_FD: {
    sockbio *s = BIO_get_data(b);
    if (ptr) *(int *)ptr = s->fd;
    return s->fd;
  }
  default:
    return 0;
  }
}

static int sockbio_create(BIO *b) {
  sockbio *s = OPENSSL_zalloc(sizeof *s);
  if (!s) return 0;
  s->fd = -1;
  BIO_set_data(b, s);
  BIO_set_init(b, 1);
  return 1;
}

static int sockbio_destroy(BIO *b) {
  OPENSSL_free(BIO_get_data(b));
  BIO_set_data(b, NULL);
  return 1;
}

BIO *ms_tls_socket_bio(int fd) {
  if (!sockbio_method) {
    sockbio_type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK;
    BIO_METHOD *m = BIO_meth_new(sockbio_type, "moonsock socket");
    if (!m) return NULL;
    BIO_meth_set_read(m, sockbio_read);
    BIO_meth_set_write(m, sockbio_write);
    BIO_meth_set_puts(m, sockbio_puts);
    BIO_meth_set_ctrl(m, sockbio_ctrl);
    BIO_meth_set_create(m, sockbio_create);
    BIO_meth_set_destroy(m, sockbio_destroy);
    sockbio_method = m;
  }
  BIO *b = BIO_new(sockbio_method);
  if (!b) return NULL;
  ((sockbio *)BIO_get_data(b))->fd = fd;
  return b;
}

int ms_tls_bio_errno(BIO *bio) {
  if (!bio || BIO_method_type(bio) != sockbio_type) return 0;
  return ((sockbio *)BIO_get_data(bio))->err;
}

/* ---- error names ---- */

typedef struct {
  int lib, reason;
  const char *name;
} tls_name;

#define MS_TLS_LIB(lib) {ERR_LIB_##lib, -1, #lib},
#define MS_TLS_REASON(lib, name) {ERR_LIB_##lib, lib##_R_##name, #name},
static const tls_name tls_names[] = {
#include "tls_errors.inc"
    {0, 0, NULL}};
#undef MS_TLS_LIB
#undef MS_TLS_REASON

const char *ms_tls_lib_name(int lib) {
  for (const tls_name *n = tls_names; n->name; n++)
    if (n->lib == lib && n->reason == -1) return n->name;
  return NULL;
}

const char *ms_tls_reason_name(int lib, int reason) {
  for (const tls_name *n = tls_names; n->name; n++)
    if (n->lib == lib && n->reason == reason) return n->name;
  return NULL;
}
