/*
 * Name lookups with no Lua in sight (see lookup.h): CPython's setipaddr,
 * gethostbyname_r/gethostbyaddr_r, getaddrinfo and getnameinfo bodies, run
 * on libuv's thread pool for resolver.c, and the services and protocols
 * database reads. Failures are recorded, never raised: Lua may be touched
 * only on the loop thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lookup.h"

/* gethostby*_r buffers start at CPython's fixed size; the database buffers
 * of getservby* and getprotobyname at 1 KiB. On ERANGE a buffer grows by
 * LOOKUP_BUF_GROWTH times, up to its bound: a few retries reach any size
 * glibc asks for, and a bound stops a libc that always says ERANGE. */
#define LOOKUP_HOSTBUF_START 16384
#define LOOKUP_HOSTBUF_MAX (16u * 1024 * 1024)
#define LOOKUP_DBBUF_START 1024
#define LOOKUP_DBBUF_MAX (1024u * 1024)
#define LOOKUP_BUF_GROWTH 2

/* ---- failures ---- */

/* CPython's set_gaierror: EAI_SYSTEM means "look at errno", which must be
 * read right here on the thread that made the call. */
static void lookup_set_gai(lookup_status *st, int error) {
  if (error == EAI_SYSTEM) {
    st->kind = LOOKUP_ERRNO;
    st->code = errno;
  } else {
    st->kind = LOOKUP_GAI;
    st->code = error;
  }
}

static void lookup_set_msg(lookup_status *st, const char *msg) {
  st->kind = LOOKUP_MSG;
  st->code = 0;
  st->msg = msg;
}

static void lookup_set_errno(lookup_status *st, int err) {
  st->kind = LOOKUP_ERRNO;
  st->code = err;
}

/* ---- the ERANGE loop of the _r calls ---- */

/*
 * Calls call(ctx, buf, size) with the buffer *buf (realloc'd, so it may come
 * in NULL or holding an earlier call's storage), starting at start bytes and
 * grown while the call answers ERANGE and the buffer is under max. Returns
 * the call's last answer (0 or an errno), or -1 when the buffer cannot be
 * had; *buf stays the caller's to free, since the results point into it.
 */
static int lookup_grow(char **buf, size_t start, size_t max,
                       int (*call)(void *ctx, char *buf, size_t size), void *ctx) {
  size_t size = start;
  for (;;) {
    char *nb = realloc(*buf, size);
    if (!nb) return -1;
    *buf = nb;
    int rc = call(ctx, nb, size);
    if (rc != ERANGE || size >= max) return rc;
    size *= LOOKUP_BUF_GROWTH;
  }
}

/* ---- setipaddr ---- */

/*
 * CPython's setipaddr(): "" means the wildcard (resolved with AI_PASSIVE and
 * refused if it yields more than one address), "<broadcast>" and
 * 255.255.255.255 are INADDR_BROADCAST, numeric addresses skip resolution,
 * anything else goes through getaddrinfo with family af. Returns 0, or -1
 * with st set.
 */
static int lookup_setipaddr(const char *name, struct sockaddr_storage *out, int af, lookup_status *st) {
  struct addrinfo hints, *res;
  int error;

  memset(out, 0, sizeof *out);
  if (name[0] == '\0') {
    memset(&hints, 0, sizeof hints);
    hints.ai_family = af;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_PASSIVE;
    error = getaddrinfo(NULL, "0", &hints, &res);
    if (error) {
      lookup_set_gai(st, error);
      return -1;
    }
    if (res->ai_family != AF_INET && res->ai_family != AF_INET6) {
      freeaddrinfo(res);
      lookup_set_msg(st, "unsupported address family");
      return -1;
    }
    if (res->ai_next) {
      freeaddrinfo(res);
      lookup_set_msg(st, "wildcard resolved to multiple address");
      return -1;
    }
    memcpy(out, res->ai_addr,
           res->ai_addrlen < sizeof *out ? (size_t)res->ai_addrlen : sizeof *out);
    freeaddrinfo(res);
    return 0;
  }
  if (strcmp(name, "255.255.255.255") == 0 || strcmp(name, "<broadcast>") == 0) {
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    if (af != AF_INET && af != AF_UNSPEC) {
      lookup_set_msg(st, "address family mismatched");
      return -1;
    }
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_BROADCAST);
    return 0;
  }
  if (af == AF_UNSPEC || af == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    if (inet_pton(AF_INET, name, &sin->sin_addr) > 0) {
      sin->sin_family = AF_INET;
      return 0;
    }
    memset(out, 0, sizeof *out);
  }
  /* a scope id ("fe80::1%eth0") needs getaddrinfo to map the interface */
  if ((af == AF_UNSPEC || af == AF_INET6) && !strchr(name, '%')) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET6, name, &sin6->sin6_addr) > 0) {
      sin6->sin6_family = AF_INET6;
      return 0;
    }
    memset(out, 0, sizeof *out);
  }
  memset(&hints, 0, sizeof hints);
  hints.ai_family = af;
  error = getaddrinfo(name, NULL, &hints, &res);
  if (error) {
    lookup_set_gai(st, error);
    return -1;
  }
  memcpy(out, res->ai_addr,
         res->ai_addrlen < sizeof *out ? (size_t)res->ai_addrlen : sizeof *out);
  freeaddrinfo(res);
  if (out->ss_family != AF_INET && out->ss_family != AF_INET6) {
    lookup_set_msg(st, "unknown address family");
    return -1;
  }
  return 0;
}

/* ---- gethostbyname, gethostbyname_ex, gethostbyaddr, getfqdn ---- */

void lookup_byname_run(void *block) {
  lookup_byname *b = block;
  lookup_setipaddr(b->name, &b->addr, AF_INET, &b->st);
}

void lookup_host_free(void *block) {
  lookup_host *b = block;
  free(b->buf);
}

/* One gethostbyname_r (name != NULL) or gethostbyaddr_r, for lookup_grow. */
typedef struct {
  lookup_host *b;
  const char *name;
  const void *addr;
  socklen_t alen;
  int herr;
} lookup_hostent_call;

static int lookup_hostent_try(void *ctx, char *buf, size_t size) {
  lookup_hostent_call *c = ctx;
  lookup_host *b = c->b;
  b->h = NULL;
  c->herr = 0;
  if (c->name) return gethostbyname_r(c->name, &b->he, buf, size, &b->h, &c->herr);
  return gethostbyaddr_r(c->addr, c->alen, b->af, &b->he, buf, size, &b->h, &c->herr);
}

/*
 * gethostbyname_r (name != NULL) or gethostbyaddr_r, retried with a larger
 * buffer while glibc reports ERANGE. The failure is the h_errno the call
 * stored through its h_errnop argument: CPython reads the thread's h_errno
 * instead, which glibc leaves stale in a few cases (e.g. "<broadcast>").
 */
static void lookup_hostent(lookup_host *b, const char *name, const void *addr, socklen_t alen) {
  lookup_hostent_call c = {b, name, addr, alen, 0};
  if (lookup_grow(&b->buf, LOOKUP_HOSTBUF_START, LOOKUP_HOSTBUF_MAX, lookup_hostent_try, &c) < 0) {
    lookup_set_errno(&b->st, ENOMEM);
    return;
  }
  if (!b->h) {
    b->st.kind = LOOKUP_HERR;
    b->st.code = c.herr;
    return;
  }
  /* gethost_common: the answer must be in the family asked for */
  if (b->h->h_addrtype != b->af) {
    b->h = NULL;
    lookup_set_errno(&b->st, EAFNOSUPPORT);
  }
}

/* CPython's gethostbyname_ex: setipaddr(AF_INET) first (its errors are
 * gaierrors), then gethostbyname_r on the name as given. */
void lookup_byname_ex_run(void *p) {
  lookup_host *b = p;
  struct sockaddr_storage ss;
  if (lookup_setipaddr(b->name, &ss, AF_INET, &b->st) < 0) return;
  b->af = ss.ss_family;
  lookup_hostent(b, b->name, NULL, 0);
}

/* CPython's gethostbyaddr body: resolve the argument with setipaddr
 * (AF_UNSPEC), then reverse-resolve that address. */
static void lookup_byaddr(lookup_host *b) {
  struct sockaddr_storage ss;
  const void *ap;
  socklen_t al;
  if (lookup_setipaddr(b->name, &ss, AF_UNSPEC, &b->st) < 0) return;
  b->af = ss.ss_family;
  switch (b->af) {
  case AF_INET:
    ap = &((struct sockaddr_in *)&ss)->sin_addr;
    al = sizeof(struct in_addr);
    break;
  case AF_INET6:
    ap = &((struct sockaddr_in6 *)&ss)->sin6_addr;
    al = sizeof(struct in6_addr);
    break;
  default:
    lookup_set_msg(&b->st, "unsupported address family");
    return;
  }
  lookup_hostent(b, NULL, ap, al);
}

void lookup_byaddr_run(void *p) {
  lookup_byaddr(p);
}

/*
 * Lib/socket.py's getfqdn, all of it on the pool: the local host name for
 * '', '0.0.0.0' and '::'; then gethostbyaddr, whose OSError (any of them) is
 * swallowed; then the first of [hostname] + aliases containing a dot, else
 * the hostname. Only a failing gethostname() escapes, as in Python.
 */
void lookup_fqdn_run(void *p) {
  lookup_host *b = p;
  if (b->name[0] == '\0' || strcmp(b->name, "0.0.0.0") == 0 || strcmp(b->name, "::") == 0) {
    if (gethostname(b->name, b->cap - 1) < 0) {
      lookup_set_errno(&b->st, errno);
      return;
    }
    b->name[b->cap - 1] = '\0';
  }
  b->fqdn = b->name;
  lookup_byaddr(b);
  if (b->st.kind != LOOKUP_OK) {
    b->st.kind = LOOKUP_OK;
    return;
  }
  b->fqdn = b->h->h_name;
  if (strchr(b->h->h_name, '.')) return;
  if (b->h->h_aliases)
    for (char **pp = b->h->h_aliases; *pp; pp++)
      if (strchr(*pp, '.')) {
        b->fqdn = *pp;
        return;
      }
}

/* ---- getaddrinfo, getnameinfo ---- */

/* The one getaddrinfo call; the list lives until lookup_gai_free. */
void lookup_gai_run(void *block) {
  lookup_gai *b = block;
  int error = getaddrinfo(b->host, b->port, &b->hints, &b->res);
  if (error) {
    b->res = NULL;
    lookup_set_gai(&b->st, error);
  }
}

void lookup_gai_free(void *block) {
  lookup_gai *b = block;
  if (b->res) freeaddrinfo(b->res);
}

/*
 * CPython's getnameinfo body: the sockaddr's host must be numeric (it is
 * parsed with getaddrinfo AI_NUMERICHOST, port given as decimal text, so a
 * negative or out-of-range port fails or wraps exactly as there); then
 * getnameinfo(3), which may reverse-resolve.
 */
void lookup_gni_run(void *p) {
  lookup_gni *b = p;
  struct addrinfo hints, *res = NULL;
  int error;

  snprintf(b->pbuf, sizeof b->pbuf, "%d", b->port);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST;
  error = getaddrinfo(b->host, b->pbuf, &hints, &res);
  if (error) {
    lookup_set_gai(&b->st, error);
    return;
  }
  if (res->ai_next) {
    lookup_set_msg(&b->st, "sockaddr resolved to multiple addresses");
    goto done;
  }
  switch (res->ai_family) {
  case AF_INET:
    if (b->ntuple != 2) {
      lookup_set_msg(&b->st, "IPv4 sockaddr must be 2 tuple");
      goto done;
    }
    break;
  case AF_INET6: {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)res->ai_addr;
    sin6->sin6_flowinfo = htonl(b->flowinfo);
    sin6->sin6_scope_id = b->scope_id;
    break;
  }
  }
  error = getnameinfo(res->ai_addr, res->ai_addrlen, b->hbuf, sizeof b->hbuf, b->pbuf,
                      sizeof b->pbuf, b->flags);
  if (error) lookup_set_gai(&b->st, error);
done:
  freeaddrinfo(res);
}

/* ---- services and protocols ---- */

typedef struct {
  const char *name, *proto;
  int port; /* network order, for getservbyport_r */
  struct servent se, *sp;
} lookup_serv_call;

static int lookup_servbyname_try(void *ctx, char *buf, size_t size) {
  lookup_serv_call *c = ctx;
  return getservbyname_r(c->name, c->proto, &c->se, buf, size, &c->sp);
}

static int lookup_servbyport_try(void *ctx, char *buf, size_t size) {
  lookup_serv_call *c = ctx;
  return getservbyport_r(c->port, c->proto, &c->se, buf, size, &c->sp);
}

int lookup_servbyname(const char *name, const char *proto, int *port) {
  lookup_serv_call c = {name, proto, 0, {0}, NULL};
  char *buf = NULL;
  int rc = lookup_grow(&buf, LOOKUP_DBBUF_START, LOOKUP_DBBUF_MAX, lookup_servbyname_try, &c);
  if (rc >= 0 && c.sp) *port = ntohs((uint16_t)c.sp->s_port);
  free(buf);
  return rc < 0 ? -1 : c.sp != NULL;
}

int lookup_servbyport(int port, const char *proto, char **name) {
  lookup_serv_call c = {NULL, proto, htons((uint16_t)port), {0}, NULL};
  char *buf = NULL;
  int rc = lookup_grow(&buf, LOOKUP_DBBUF_START, LOOKUP_DBBUF_MAX, lookup_servbyport_try, &c);
  int found = rc >= 0 && c.sp;
  if (found && !(*name = strdup(c.sp->s_name))) rc = -1;
  free(buf);
  return rc < 0 ? -1 : found;
}

typedef struct {
  const char *name;
  struct protoent pe, *pp;
} lookup_proto_call;

static int lookup_protobyname_try(void *ctx, char *buf, size_t size) {
  lookup_proto_call *c = ctx;
  return getprotobyname_r(c->name, &c->pe, buf, size, &c->pp);
}

int lookup_protobyname(const char *name, int *proto) {
  lookup_proto_call c = {name, {0}, NULL};
  char *buf = NULL;
  int rc = lookup_grow(&buf, LOOKUP_DBBUF_START, LOOKUP_DBBUF_MAX, lookup_protobyname_try, &c);
  if (rc >= 0 && c.pp) *proto = c.pp->p_proto;
  free(buf);
  return rc < 0 ? -1 : c.pp != NULL;
}
