/*
 * The name-service half of Python's socket module: getaddrinfo, getnameinfo,
 * gethostby*, getfqdn, getserv*, getprotobyname, the inet_* converters, the
 * byte-order helpers and the if_* interface functions.
 *
 * Each function follows CPython's Modules/socketmodule.c (and, for getfqdn,
 * Lib/socket.py): same argument checks in the same order, same libc calls,
 * same result order, same exception classes and texts. Where CPython raises
 * TypeError/ValueError/OverflowError about an argument we raise a Lua argument
 * error carrying CPython's text; OS-level failures become moonsock error
 * objects through ms_raise/ms_raise_errno.
 *
 * Calls that may touch the network (anything that goes through NSS hosts:
 * getaddrinfo, getnameinfo, gethostby*) run on libuv's thread pool: the Lua
 * side copies its inputs into a work block, run() calls libc there and
 * records a status, and the continuation turns the outputs into Lua values.
 * The services/protocols databases are local files and are read directly,
 * as CPython does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ms.h"

/* Python's gethostname() buffer. */
#define RS_HOSTNAME_MAX 1024
/* gethostby*_r buffers start at CPython's fixed size and double on ERANGE up
 * to this bound. */
#define RS_HOSTBUF_START 16384
#define RS_HOSTBUF_MAX (16u * 1024 * 1024)
/* The database buffers for getservby* and getprotobyname. */
#define RS_DBBUF_START 1024
#define RS_DBBUF_MAX (1024u * 1024)

/* ---- failures recorded off the loop thread ---- */

/* How a pool-thread call failed; raised later on the loop thread, where Lua
 * may be touched. */
enum rs_kind {
  RS_OK = 0,
  RS_GAI,   /* gaierror(code, gai_strerror(code)) */
  RS_HERR,  /* herror(code, hstrerror(code)) */
  RS_ERRNO, /* OSError subclass for errno code */
  RS_MSG    /* OSError(msg), errno None */
};

typedef struct rs_status {
  int kind;
  int code;
  const char *msg; /* RS_MSG: a static string */
} rs_status;

/* CPython's set_gaierror: EAI_SYSTEM means "look at errno", which must be
 * read right here on the thread that made the call. */
static void rs_set_gai(rs_status *st, int error) {
  if (error == EAI_SYSTEM) {
    st->kind = RS_ERRNO;
    st->code = errno;
  } else {
    st->kind = RS_GAI;
    st->code = error;
  }
}

static void rs_set_msg(rs_status *st, const char *msg) {
  st->kind = RS_MSG;
  st->code = 0;
  st->msg = msg;
}

static void rs_set_errno(rs_status *st, int err) {
  st->kind = RS_ERRNO;
  st->code = err;
}

/* Raises the error a pool-thread call recorded; returns 0 if there is none. */
static int rs_raise_status(lua_State *L, const rs_status *st) {
  switch (st->kind) {
  case RS_GAI:
    return ms_raise(L, "gaierror", st->code, gai_strerror(st->code));
  case RS_HERR:
    return ms_raise(L, "herror", st->code, hstrerror(st->code));
  case RS_ERRNO:
    return ms_raise_errno(L, st->code);
  case RS_MSG:
    return ms_raise(L, "OSError", 0, st->msg);
  default:
    return 0;
  }
}

/* ---- argument helpers ---- */

/* PyArg's "i" converter: a C int, with CPython's OverflowError texts. */
static int rs_checkint(lua_State *L, int arg) {
  lua_Integer v = luaL_checkinteger(L, arg);
  if (v > INT_MAX) luaL_argerror(L, arg, "signed integer is greater than maximum");
  if (v < INT_MIN) luaL_argerror(L, arg, "signed integer is less than minimum");
  return (int)v;
}

static int rs_optint(lua_State *L, int arg, int def) {
  return lua_isnoneornil(L, arg) ? def : rs_checkint(L, arg);
}

/* A string argument, and only a string: luaL_checklstring would turn the
 * number 1 into the host "1", where CPython raises TypeError for an int. */
static const char *rs_checklstr(lua_State *L, int arg, size_t *len) {
  if (lua_type(L, arg) != LUA_TSTRING) luaL_typeerror(L, arg, "string");
  return lua_tolstring(L, arg, len);
}

/* A string argument that C will read as a NUL-terminated string: CPython
 * refuses embedded NULs there rather than silently truncating; the text
 * differs per converter, so the caller passes CPython's. */
static const char *rs_checkcstr(lua_State *L, int arg, size_t *len, const char *msg) {
  size_t n;
  const char *s = rs_checklstr(L, arg, &n);
  if (strlen(s) != n) luaL_argerror(L, arg, msg);
  if (len) *len = n;
  return s;
}

/* CPython encodes host names with the "idna" codec, whose ASCII fast path
 * (encodings/idna.py) still rejects empty or over-long labels; reproduce that
 * check so that "a..b" fails the same way. Non-ASCII names are passed to libc
 * as they are (see the report on IDNA). */
static void rs_check_idna(lua_State *L, int arg, const char *s, size_t n) {
  size_t i, start = 0;
  if (n == 0) return;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80) return;
  for (i = 0; i <= n; i++) {
    if (i < n && s[i] != '.') continue;
    size_t len = i - start;
    if (i < n && (len == 0 || len >= 64))
      luaL_argerror(L, arg,
                    "encoding with 'idna' codec failed (UnicodeError: label empty or too long)");
    if (i == n && len >= 64)
      luaL_argerror(L, arg, "encoding with 'idna' codec failed (UnicodeError: label too long)");
    start = i + 1;
  }
}

/* Length of the Python whitespace character (str.isspace) starting at s
 * within n bytes of UTF-8, or 0. Lets getfqdn strip like str.strip(). */
static size_t rs_space_len(const unsigned char *s, size_t n) {
  if (n >= 1 && ((s[0] >= 0x09 && s[0] <= 0x0d) || (s[0] >= 0x1c && s[0] <= 0x20))) return 1;
  if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0)) return 2;
  if (n >= 3) {
    if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) return 3; /* U+1680 */
    if (s[0] == 0xe2 && s[1] == 0x80 &&
        ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
      return 3; /* U+2000..200A, 2028, 2029, 202F */
    if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) return 3; /* U+205F */
    if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) return 3; /* U+3000 */
  }
  return 0;
}

/* ---- setipaddr, run on the pool thread ---- */

/*
 * CPython's setipaddr(): "" means the wildcard (resolved with AI_PASSIVE and
 * refused if it yields more than one address), "<broadcast>" and
 * 255.255.255.255 are INADDR_BROADCAST, numeric addresses skip resolution,
 * anything else goes through getaddrinfo with family af. Returns 0, or -1
 * with st set.
 */
static int rs_setipaddr(const char *name, struct sockaddr_storage *out, int af, rs_status *st) {
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
      rs_set_gai(st, error);
      return -1;
    }
    if (res->ai_family != AF_INET && res->ai_family != AF_INET6) {
      freeaddrinfo(res);
      rs_set_msg(st, "unsupported address family");
      return -1;
    }
    if (res->ai_next) {
      freeaddrinfo(res);
      rs_set_msg(st, "wildcard resolved to multiple address");
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
      rs_set_msg(st, "address family mismatched");
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
    rs_set_gai(st, error);
    return -1;
  }
  memcpy(out, res->ai_addr,
         res->ai_addrlen < sizeof *out ? (size_t)res->ai_addrlen : sizeof *out);
  freeaddrinfo(res);
  if (out->ss_family != AF_INET && out->ss_family != AF_INET6) {
    rs_set_msg(st, "unknown address family");
    return -1;
  }
  return 0;
}

/* ---- gethostname ---- */

/* gethostname() is a local system call (uname), so it runs in place. */
static int rs_gethostname(lua_State *L) {
  char buf[RS_HOSTNAME_MAX];
  if (gethostname(buf, sizeof buf - 1) < 0) return ms_raise_errno(L, errno);
  buf[sizeof buf - 1] = '\0';
  lua_pushstring(L, buf);
  return 1;
}

/* ---- gethostbyname ---- */

typedef struct rs_byname {
  rs_status st;
  struct sockaddr_storage addr;
  char name[]; /* the host, copied */
} rs_byname;

static void rs_byname_run(void *p) {
  rs_byname *b = p;
  rs_setipaddr(b->name, &b->addr, AF_INET, &b->st);
}

/* Continuation: raises what setipaddr recorded, else the address as text. */
static int rs_byname_k(lua_State *L, int status, lua_KContext ctx) {
  ms_check_wake(L);
  rs_byname *b = ms_work_data(L, (int)ctx);
  rs_raise_status(L, &b->st);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &((struct sockaddr_in *)&b->addr)->sin_addr, text, sizeof text);
  lua_pushstring(L, text);
  return 1;
}

/* CPython resolves through setipaddr(AF_INET), i.e. getaddrinfo, not through
 * gethostbyname(3); so do we, on the pool. */
static int rs_gethostbyname(lua_State *L) {
  size_t n;
  const char *host = rs_checkcstr(L, 1, &n, "encoded string without null bytes expected");
  rs_check_idna(L, 1, host, n);
  rs_byname *b = ms_work_new(L, sizeof *b + n + 1, rs_byname_run, NULL);
  memcpy(b->name, host, n + 1);
  int idx = lua_gettop(L);
  return ms_work_run(L, idx, idx, rs_byname_k);
}

/* ---- gethostbyname_ex, gethostbyaddr, getfqdn ---- */

/* One block for the three hostent-based calls: run() fills he/buf, which stay
 * alive until destroy() so the continuation can read them in place. */
typedef struct rs_host {
  rs_status st;
  struct hostent he;
  struct hostent *h; /* &he on success */
  char *buf;         /* gethostby*_r's storage, malloc'd */
  int af;            /* the family setipaddr resolved the name to */
  const char *fqdn;  /* getfqdn's answer: into name or buf */
  size_t cap;        /* bytes available at name */
  char name[];
} rs_host;

static void rs_host_destroy(void *p) {
  rs_host *b = p;
  free(b->buf);
}

/*
 * gethostbyname_r (name != NULL) or gethostbyaddr_r, retried with a doubled
 * buffer while glibc reports ERANGE. The failure is the h_errno the call
 * stored through its h_errnop argument: CPython reads the thread's h_errno
 * instead, which glibc leaves stale in a few cases (e.g. "<broadcast>").
 */
static void rs_hostent_call(rs_host *b, const char *name, const void *addr, socklen_t alen) {
  size_t size = RS_HOSTBUF_START;
  for (;;) {
    char *nb = realloc(b->buf, size);
    if (!nb) {
      rs_set_errno(&b->st, ENOMEM);
      return;
    }
    b->buf = nb;
    struct hostent *h = NULL;
    int herr = 0, rc;
    if (name)
      rc = gethostbyname_r(name, &b->he, b->buf, size, &h, &herr);
    else
      rc = gethostbyaddr_r(addr, alen, b->af, &b->he, b->buf, size, &h, &herr);
    if (rc == ERANGE && size < RS_HOSTBUF_MAX) {
      size *= 2;
      continue;
    }
    if (!h) {
      b->st.kind = RS_HERR;
      b->st.code = herr;
      return;
    }
    /* gethost_common: the answer must be in the family asked for */
    if (h->h_addrtype != b->af) {
      rs_set_errno(&b->st, EAFNOSUPPORT);
      return;
    }
    b->h = h;
    return;
  }
}

/* CPython's gethostbyname_ex: setipaddr(AF_INET) first (its errors are
 * gaierrors), then gethostbyname_r on the name as given. */
static void rs_byname_ex_run(void *p) {
  rs_host *b = p;
  struct sockaddr_storage ss;
  if (rs_setipaddr(b->name, &ss, AF_INET, &b->st) < 0) return;
  b->af = ss.ss_family;
  rs_hostent_call(b, b->name, NULL, 0);
}

/* CPython's gethostbyaddr body: resolve the argument with setipaddr
 * (AF_UNSPEC), then reverse-resolve that address. */
static void rs_byaddr(rs_host *b) {
  struct sockaddr_storage ss;
  const void *ap;
  socklen_t al;
  if (rs_setipaddr(b->name, &ss, AF_UNSPEC, &b->st) < 0) return;
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
    rs_set_msg(&b->st, "unsupported address family");
    return;
  }
  rs_hostent_call(b, NULL, ap, al);
}

static void rs_byaddr_run(void *p) {
  rs_byaddr(p);
}

/* Pushes a hostent as CPython's gethost_common does: name, [aliases],
 * [addresses as text]. */
static int rs_push_hostent(lua_State *L, rs_host *b) {
  struct hostent *h = b->h;
  char **pp;
  int n;
  lua_pushstring(L, h->h_name);
  n = 0;
  if (h->h_aliases)
    for (pp = h->h_aliases; *pp; pp++) n++;
  ms_push_list(L, n);
  n = 0;
  if (h->h_aliases)
    for (pp = h->h_aliases; *pp; pp++) {
      lua_pushstring(L, *pp);
      lua_rawseti(L, -2, ++n);
    }
  n = 0;
  for (pp = h->h_addr_list; *pp; pp++) n++;
  ms_push_list(L, n);
  n = 0;
  for (pp = h->h_addr_list; *pp; pp++) {
    char text[INET6_ADDRSTRLEN];
    inet_ntop(b->af, *pp, text, sizeof text);
    lua_pushstring(L, text);
    lua_rawseti(L, -2, ++n);
  }
  return 3;
}

/* Continuation of gethostbyname_ex/gethostbyaddr: error or the 3 values. */
static int rs_host_k(lua_State *L, int status, lua_KContext ctx) {
  ms_check_wake(L);
  rs_host *b = ms_work_data(L, (int)ctx);
  rs_raise_status(L, &b->st);
  return rs_push_hostent(L, b);
}

/* Shared entry of gethostbyname_ex and gethostbyaddr: both take one host
 * string (CPython's "et" with idna) and differ only in run(). */
static int rs_host_start(lua_State *L, void (*run)(void *)) {
  size_t n;
  const char *host = rs_checkcstr(L, 1, &n, "encoded string without null bytes expected");
  rs_check_idna(L, 1, host, n);
  rs_host *b = ms_work_new(L, sizeof *b + n + 1, run, rs_host_destroy);
  memcpy(b->name, host, n + 1);
  b->cap = n + 1;
  int idx = lua_gettop(L);
  return ms_work_run(L, idx, idx, rs_host_k);
}

static int rs_gethostbyname_ex(lua_State *L) {
  return rs_host_start(L, rs_byname_ex_run);
}

static int rs_gethostbyaddr(lua_State *L) {
  return rs_host_start(L, rs_byaddr_run);
}

/*
 * Lib/socket.py's getfqdn, all of it on the pool: the local host name for
 * '', '0.0.0.0' and '::'; then gethostbyaddr, whose OSError (any of them) is
 * swallowed; then the first of [hostname] + aliases containing a dot, else
 * the hostname. Only a failing gethostname() escapes, as in Python.
 */
static void rs_fqdn_run(void *p) {
  rs_host *b = p;
  if (b->name[0] == '\0' || strcmp(b->name, "0.0.0.0") == 0 || strcmp(b->name, "::") == 0) {
    if (gethostname(b->name, b->cap - 1) < 0) {
      rs_set_errno(&b->st, errno);
      return;
    }
    b->name[b->cap - 1] = '\0';
  }
  b->fqdn = b->name;
  rs_byaddr(b);
  if (b->st.kind != RS_OK) {
    b->st.kind = RS_OK;
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

/* Continuation of getfqdn: only gethostname's failure is an error. */
static int rs_fqdn_k(lua_State *L, int status, lua_KContext ctx) {
  ms_check_wake(L);
  rs_host *b = ms_work_data(L, (int)ctx);
  rs_raise_status(L, &b->st);
  lua_pushstring(L, b->fqdn);
  return 1;
}

/* getfqdn([name]): strips like str.strip() and applies gethostbyaddr's
 * argument checks up front (Python raises those: they are not OSError). */
static int rs_getfqdn(lua_State *L) {
  size_t n;
  const char *s;
  if (lua_isnoneornil(L, 1)) {
    s = "";
    n = 0;
  } else {
    s = rs_checkcstr(L, 1, &n, "encoded string without null bytes expected");
  }
  const unsigned char *u = (const unsigned char *)s;
  size_t k;
  while (n > 0 && (k = rs_space_len(u, n)) > 0) {
    u += k;
    n -= k;
  }
  for (;;) {
    size_t t = 0;
    for (k = 1; k <= 3 && k <= n; k++)
      if (rs_space_len(u + n - k, k) == k) {
        t = k;
        break;
      }
    if (!t) break;
    n -= t;
  }
  s = (const char *)u;
  rs_check_idna(L, 1, s, n);
  size_t cap = n + 1 > RS_HOSTNAME_MAX ? n + 1 : RS_HOSTNAME_MAX;
  rs_host *b = ms_work_new(L, sizeof *b + cap, rs_fqdn_run, rs_host_destroy);
  memcpy(b->name, s, n);
  b->name[n] = '\0';
  b->cap = cap;
  int idx = lua_gettop(L);
  return ms_work_run(L, idx, idx, rs_fqdn_k);
}

/* ---- getaddrinfo ---- */

typedef struct rs_gai {
  rs_status st;
  struct addrinfo hints;
  struct addrinfo *res;
  const char *host, *port; /* NULL, or into portbuf/data */
  char portbuf[32];
  char data[];
} rs_gai;

/* Pool thread: the one getaddrinfo call; the list lives until destroy. */
static void rs_gai_run(void *p) {
  rs_gai *b = p;
  int error = getaddrinfo(b->host, b->port, &b->hints, &b->res);
  if (error) {
    b->res = NULL;
    rs_set_gai(&b->st, error);
  }
}

static void rs_gai_destroy(void *p) {
  rs_gai *b = p;
  if (b->res) freeaddrinfo(b->res);
}

/* Continuation: the addrinfo chain, in libc's order, as a list of
 * (family, type, proto, canonname, sockaddr) tuples; canonname is '' where
 * libc gives none (only the first entry carries it, with AI_CANONNAME). */
static int rs_gai_k(lua_State *L, int status, lua_KContext ctx) {
  ms_check_wake(L);
  rs_gai *b = ms_work_data(L, (int)ctx);
  rs_raise_status(L, &b->st);
  int n = 0;
  for (struct addrinfo *ai = b->res; ai; ai = ai->ai_next) n++;
  ms_push_list(L, n);
  n = 0;
  for (struct addrinfo *ai = b->res; ai; ai = ai->ai_next) {
    ms_push_tuple(L, 5);
    lua_pushinteger(L, ai->ai_family);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, ai->ai_socktype);
    lua_rawseti(L, -2, 2);
    lua_pushinteger(L, ai->ai_protocol);
    lua_rawseti(L, -2, 3);
    lua_pushstring(L, ai->ai_canonname ? ai->ai_canonname : "");
    lua_rawseti(L, -2, 4);
    ms_push_sockaddr(L, ai->ai_addr, ai->ai_addrlen);
    lua_rawseti(L, -2, 5);
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

/*
 * getaddrinfo(host, port, family, type, proto, flags). host: string or nil;
 * port: integer (formatted in decimal, as CPython does with str(int)), string
 * (a service name or number) or nil. Strings reach libc as C strings, so an
 * embedded NUL truncates them exactly as it does in CPython.
 */
static int rs_getaddrinfo(lua_State *L) {
  size_t hn = 0, pn = 0;
  const char *host = NULL, *port = NULL;
  char portbuf[32];

  int ht = lua_type(L, 1);
  if (ht == LUA_TSTRING) {
    host = lua_tolstring(L, 1, &hn);
    rs_check_idna(L, 1, host, hn);
  } else if (ht != LUA_TNIL && ht != LUA_TNONE) {
    return luaL_typeerror(L, 1, "string or nil");
  }
  int pt = lua_type(L, 2);
  if (pt == LUA_TNUMBER) {
    snprintf(portbuf, sizeof portbuf, LUA_INTEGER_FMT, luaL_checkinteger(L, 2));
    port = portbuf;
    pn = strlen(portbuf);
  } else if (pt == LUA_TSTRING) {
    port = lua_tolstring(L, 2, &pn);
  } else if (pt != LUA_TNIL && pt != LUA_TNONE) {
    return luaL_typeerror(L, 2, "integer, string or nil");
  }
  int family = rs_optint(L, 3, AF_UNSPEC);
  int socktype = rs_optint(L, 4, 0);
  int proto = rs_optint(L, 5, 0);
  int flags = rs_optint(L, 6, 0);

  rs_gai *b = ms_work_new(L, sizeof *b + hn + 1 + pn + 1, rs_gai_run, rs_gai_destroy);
  b->hints.ai_family = family;
  b->hints.ai_socktype = socktype;
  b->hints.ai_protocol = proto;
  b->hints.ai_flags = flags;
  if (host) {
    memcpy(b->data, host, hn);
    b->data[hn] = '\0';
    b->host = b->data;
  }
  if (port) {
    char *dst = b->data + hn + 1;
    memcpy(dst, port, pn);
    dst[pn] = '\0';
    b->port = dst;
  }
  int idx = lua_gettop(L);
  return ms_work_run(L, idx, idx, rs_gai_k);
}

/* ---- getnameinfo ---- */

typedef struct rs_gni {
  rs_status st;
  int port, flags, ntuple;
  unsigned flowinfo, scope_id;
  char hbuf[NI_MAXHOST];
  char pbuf[NI_MAXSERV];
  char host[];
} rs_gni;

/*
 * CPython's getnameinfo body: the sockaddr's host must be numeric (it is
 * parsed with getaddrinfo AI_NUMERICHOST, port given as decimal text, so a
 * negative or out-of-range port fails or wraps exactly as there); then
 * getnameinfo(3), which may reverse-resolve.
 */
static void rs_gni_run(void *p) {
  rs_gni *b = p;
  struct addrinfo hints, *res = NULL;
  int error;

  snprintf(b->pbuf, sizeof b->pbuf, "%d", b->port);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICHOST;
  error = getaddrinfo(b->host, b->pbuf, &hints, &res);
  if (error) {
    rs_set_gai(&b->st, error);
    return;
  }
  if (res->ai_next) {
    rs_set_msg(&b->st, "sockaddr resolved to multiple addresses");
    goto done;
  }
  switch (res->ai_family) {
  case AF_INET:
    if (b->ntuple != 2) {
      rs_set_msg(&b->st, "IPv4 sockaddr must be 2 tuple");
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
  if (error) rs_set_gai(&b->st, error);
done:
  freeaddrinfo(res);
}

/* Continuation: host and service, two values (CPython's 2-tuple). */
static int rs_gni_k(lua_State *L, int status, lua_KContext ctx) {
  ms_check_wake(L);
  rs_gni *b = ms_work_data(L, (int)ctx);
  rs_raise_status(L, &b->st);
  lua_pushstring(L, b->hbuf);
  lua_pushstring(L, b->pbuf);
  return 2;
}

/* Reads sockaddr element i as CPython's "I" converter does: an integer
 * truncated to 32 bits, no range check. */
static unsigned rs_sockaddr_uint(lua_State *L, int i) {
  lua_rawgeti(L, 1, i);
  int ok;
  lua_Integer v = lua_tointegerx(L, -1, &ok);
  if (!ok) luaL_argerror(L, 1, "getnameinfo(): illegal sockaddr argument");
  lua_pop(L, 1);
  return (unsigned)(lua_Unsigned)v;
}

/*
 * getnameinfo(sockaddr, flags) -> host, port. The sockaddr is read the way
 * CPython parses it ("si|II" over a 2- to 4-tuple) rather than through
 * ms_check_sockaddr: CPython takes the family from the host text, not from a
 * socket, and lets getaddrinfo judge the host and port.
 */
static int rs_getnameinfo(lua_State *L) {
  int flags = rs_checkint(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  int ntuple = (int)lua_rawlen(L, 1);
  if (ntuple < 2 || ntuple > 4) return luaL_argerror(L, 1, "getnameinfo(): illegal sockaddr argument");

  lua_rawgeti(L, 1, 1);
  if (lua_type(L, -1) != LUA_TSTRING)
    return luaL_argerror(L, 1, "getnameinfo(): illegal sockaddr argument");
  size_t hn;
  const char *host = lua_tolstring(L, -1, &hn);
  if (strlen(host) != hn) return luaL_argerror(L, 1, "embedded null character");
  int hidx = lua_gettop(L);

  lua_rawgeti(L, 1, 2);
  int ok;
  lua_Integer port = lua_tointegerx(L, -1, &ok);
  if (!ok) return luaL_argerror(L, 1, "getnameinfo(): illegal sockaddr argument");
  if (port > INT_MAX) return luaL_argerror(L, 1, "signed integer is greater than maximum");
  if (port < INT_MIN) return luaL_argerror(L, 1, "signed integer is less than minimum");
  lua_pop(L, 1);
  unsigned flowinfo = ntuple >= 3 ? rs_sockaddr_uint(L, 3) : 0;
  unsigned scope_id = ntuple >= 4 ? rs_sockaddr_uint(L, 4) : 0;
  if (flowinfo > 0xfffff) return luaL_argerror(L, 1, "getnameinfo(): flowinfo must be 0-1048575.");

  rs_gni *b = ms_work_new(L, sizeof *b + hn + 1, rs_gni_run, NULL);
  memcpy(b->host, host, hn + 1);
  b->port = (int)port;
  b->flags = flags;
  b->ntuple = ntuple;
  b->flowinfo = flowinfo;
  b->scope_id = scope_id;
  lua_remove(L, hidx); /* the host string; the block holds a copy */
  int idx = lua_gettop(L);
  return ms_work_run(L, idx, idx, rs_gni_k);
}

/* ---- services and protocols (local databases, read in place) ---- */

/* getservbyname(name[, proto]) -> port. The _r variant keeps us clear of the
 * static buffer other threads of an embedding host might be using. */
static int rs_getservbyname(lua_State *L) {
  const char *name = rs_checkcstr(L, 1, NULL, "embedded null character");
  const char *proto = lua_isnoneornil(L, 2) ? NULL : rs_checkcstr(L, 2, NULL, "embedded null character");
  struct servent se, *sp = NULL;
  size_t size = RS_DBBUF_START;
  char *buf = NULL;
  int rc;
  for (;;) {
    char *nb = realloc(buf, size);
    if (!nb) {
      free(buf);
      return luaL_error(L, "not enough memory");
    }
    buf = nb;
    rc = getservbyname_r(name, proto, &se, buf, size, &sp);
    if (rc == ERANGE && size < RS_DBBUF_MAX) {
      size *= 2;
      continue;
    }
    break;
  }
  int port = sp ? ntohs((uint16_t)sp->s_port) : -1;
  free(buf);
  if (port < 0) return ms_raise(L, "OSError", 0, "service/proto not found");
  lua_pushinteger(L, port);
  return 1;
}

/* getservbyport(port[, proto]) -> name, with CPython's range check. */
static int rs_getservbyport(lua_State *L) {
  int port = rs_checkint(L, 1);
  const char *proto = lua_isnoneornil(L, 2) ? NULL : rs_checkcstr(L, 2, NULL, "embedded null character");
  if (port < 0 || port > 0xffff) return luaL_argerror(L, 1, "getservbyport: port must be 0-65535.");
  struct servent se, *sp = NULL;
  size_t size = RS_DBBUF_START;
  char *buf = NULL;
  int rc;
  for (;;) {
    char *nb = realloc(buf, size);
    if (!nb) {
      free(buf);
      return luaL_error(L, "not enough memory");
    }
    buf = nb;
    rc = getservbyport_r(htons((uint16_t)port), proto, &se, buf, size, &sp);
    if (rc == ERANGE && size < RS_DBBUF_MAX) {
      size *= 2;
      continue;
    }
    break;
  }
  if (sp) lua_pushstring(L, sp->s_name);
  free(buf);
  if (!sp) return ms_raise(L, "OSError", 0, "port/proto not found");
  return 1;
}

/* getprotobyname(name) -> number. */
static int rs_getprotobyname(lua_State *L) {
  const char *name = rs_checkcstr(L, 1, NULL, "embedded null character");
  struct protoent pe, *pp = NULL;
  size_t size = RS_DBBUF_START;
  char *buf = NULL;
  int rc;
  for (;;) {
    char *nb = realloc(buf, size);
    if (!nb) {
      free(buf);
      return luaL_error(L, "not enough memory");
    }
    buf = nb;
    rc = getprotobyname_r(name, &pe, buf, size, &pp);
    if (rc == ERANGE && size < RS_DBBUF_MAX) {
      size *= 2;
      continue;
    }
    break;
  }
  int proto = pp ? pp->p_proto : -1;
  free(buf);
  if (!pp) return ms_raise(L, "OSError", 0, "protocol not found");
  lua_pushinteger(L, proto);
  return 1;
}

/* ---- address text <-> packed ---- */

/* inet_aton(s) -> 4-byte string; glibc's inet_aton, so "1", "0x7f.1" and
 * trailing text after a space are accepted exactly as in CPython. */
static int rs_inet_aton(lua_State *L) {
  const char *s = rs_checkcstr(L, 1, NULL, "embedded null character");
  struct in_addr a;
  if (!inet_aton(s, &a)) return ms_raise(L, "OSError", 0, "illegal IP address string passed to inet_aton");
  lua_pushlstring(L, (const char *)&a, sizeof a);
  return 1;
}

/* inet_ntoa(packed) -> dotted quad (inet_ntop: same text, no static buffer). */
static int rs_inet_ntoa(lua_State *L) {
  size_t n;
  const char *p = rs_checklstr(L, 1, &n);
  if (n != sizeof(struct in_addr))
    return ms_raise(L, "OSError", 0, "packed IP wrong length for inet_ntoa");
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, p, text, sizeof text);
  lua_pushstring(L, text);
  return 1;
}

/* inet_pton(family, s) -> packed; an unknown family is libc's EAFNOSUPPORT. */
static int rs_inet_pton(lua_State *L) {
  int af = rs_checkint(L, 1);
  const char *s = rs_checkcstr(L, 2, NULL, "embedded null character");
  unsigned char packed[sizeof(struct in6_addr)];
  int rc = inet_pton(af, s, packed);
  if (rc < 0) return ms_raise_errno(L, errno);
  if (rc == 0) return ms_raise(L, "OSError", 0, "illegal IP address string passed to inet_pton");
  if (af == AF_INET) {
    lua_pushlstring(L, (const char *)packed, sizeof(struct in_addr));
  } else if (af == AF_INET6) {
    lua_pushlstring(L, (const char *)packed, sizeof(struct in6_addr));
  } else {
    return ms_raise(L, "OSError", 0, "unknown address family");
  }
  return 1;
}

/* inet_ntop(family, packed) -> text; CPython's ValueErrors become argument
 * errors on the argument at fault. */
static int rs_inet_ntop(lua_State *L) {
  int af = rs_checkint(L, 1);
  size_t n;
  const char *p = rs_checklstr(L, 2, &n);
  if (af == AF_INET) {
    if (n != sizeof(struct in_addr))
      return luaL_argerror(L, 2, "invalid length of packed IP address string");
  } else if (af == AF_INET6) {
    if (n != sizeof(struct in6_addr))
      return luaL_argerror(L, 2, "invalid length of packed IP address string");
  } else {
    return luaL_argerror(L, 1, lua_pushfstring(L, "unknown address family %d", af));
  }
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(af, p, text, sizeof text)) return ms_raise_errno(L, errno);
  lua_pushstring(L, text);
  return 1;
}

/* ---- byte order ---- */

/* htons/ntohs: CPython 3.11 parses a C int, then insists on 0..65535. */
static uint16_t rs_check16(lua_State *L, const char *fname) {
  int v = rs_checkint(L, 1);
  if (v < 0)
    luaL_argerror(L, 1,
                  lua_pushfstring(L, "%s: can't convert negative Python int to C 16-bit unsigned integer", fname));
  if (v > 0xffff)
    luaL_argerror(L, 1,
                  lua_pushfstring(L, "%s: Python int too large to convert to C 16-bit unsigned integer", fname));
  return (uint16_t)v;
}

/* htonl/ntohl: an unsigned long that must fit 32 bits. */
static uint32_t rs_check32(lua_State *L) {
  lua_Integer v = luaL_checkinteger(L, 1);
  if (v < 0) luaL_argerror(L, 1, "can't convert negative value to unsigned int");
  if ((lua_Unsigned)v > 0xffffffffu) luaL_argerror(L, 1, "int larger than 32 bits");
  return (uint32_t)v;
}

static int rs_htons(lua_State *L) {
  lua_pushinteger(L, htons(rs_check16(L, "htons")));
  return 1;
}

static int rs_ntohs(lua_State *L) {
  lua_pushinteger(L, ntohs(rs_check16(L, "ntohs")));
  return 1;
}

static int rs_htonl(lua_State *L) {
  lua_pushinteger(L, htonl(rs_check32(L)));
  return 1;
}

static int rs_ntohl(lua_State *L) {
  lua_pushinteger(L, ntohl(rs_check32(L)));
  return 1;
}

/* ---- network interfaces ---- */

/* if_nameindex() -> list of {index, name}, in the kernel's order. */
static int rs_if_nameindex(lua_State *L) {
  struct if_nameindex *ni = if_nameindex();
  if (!ni) return ms_raise_errno(L, errno);
  int n = 0;
  while (ni[n].if_index != 0) n++;
  ms_push_list(L, n);
  for (int i = 0; i < n; i++) {
    ms_push_tuple(L, 2);
    lua_pushinteger(L, ni[i].if_index);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, ni[i].if_name);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, -2, i + 1);
  }
  if_freenameindex(ni);
  return 1;
}

/* if_nametoindex(name); it does not set errno, hence CPython's fixed text. */
static int rs_if_nametoindex(lua_State *L) {
  const char *name = rs_checkcstr(L, 1, NULL, "embedded null byte");
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return ms_raise(L, "OSError", 0, "no interface with this name");
  lua_pushinteger(L, idx);
  return 1;
}

/* if_indextoname(index): CPython 3.11 takes an unsigned long and truncates it
 * to the C unsigned int; only negatives are refused. */
static int rs_if_indextoname(lua_State *L) {
  lua_Integer v = luaL_checkinteger(L, 1);
  if (v < 0) return luaL_argerror(L, 1, "can't convert negative value to unsigned int");
  char name[IF_NAMESIZE + 1];
  if (!if_indextoname((unsigned)(lua_Unsigned)v, name)) return ms_raise_errno(L, errno);
  lua_pushstring(L, name);
  return 1;
}

/* ---- registration ---- */

static const luaL_Reg rs_funcs[] = {
    {"gethostname", rs_gethostname},
    {"gethostbyname", rs_gethostbyname},
    {"gethostbyname_ex", rs_gethostbyname_ex},
    {"gethostbyaddr", rs_gethostbyaddr},
    {"getfqdn", rs_getfqdn},
    {"getaddrinfo", rs_getaddrinfo},
    {"getnameinfo", rs_getnameinfo},
    {"getservbyname", rs_getservbyname},
    {"getservbyport", rs_getservbyport},
    {"getprotobyname", rs_getprotobyname},
    {"inet_aton", rs_inet_aton},
    {"inet_ntoa", rs_inet_ntoa},
    {"inet_pton", rs_inet_pton},
    {"inet_ntop", rs_inet_ntop},
    {"htons", rs_htons},
    {"ntohs", rs_ntohs},
    {"htonl", rs_htonl},
    {"ntohl", rs_ntohl},
    {"if_nameindex", rs_if_nameindex},
    {"if_nametoindex", rs_if_nametoindex},
    {"if_indextoname", rs_if_indextoname},
    {NULL, NULL}};

int ms_open_resolver(lua_State *L) {
  luaL_setfuncs(L, rs_funcs, 0);
  return 0;
}
