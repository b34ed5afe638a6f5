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
 * This file is the Lua side; the libc calls themselves are in lookup.c,
 * which knows no Lua. Calls that may touch the network (anything that goes
 * through NSS hosts: getaddrinfo, getnameinfo, gethostby*) run on libuv's
 * thread pool: a binding here checks the arguments and copies them into a
 * work block (lookup.h), lookup.c's run function calls libc on the pool and
 * records a status, and the continuation here raises that status or turns
 * the outputs into Lua values. The services/protocols databases are local
 * files, read in place on the loop thread, as CPython does.
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

#include "lookup.h"
#include "ms.h"

/* The longest DNS label (RFC 1035), which the idna codec enforces. */
#define RESOLVER_LABEL_MAX 63

/* ---- failures recorded off the loop thread (lookup.c) ---- */

/* Raises the error a pool-thread call recorded; returns 0 if there is none. */
static int resolver_raise_status(lua_State *L, const lookup_status *st) {
  switch (st->kind) {
  case LOOKUP_GAI:
    return ms_raise(L, "gaierror", st->code, gai_strerror(st->code));
  case LOOKUP_HERR:
    return ms_raise(L, "herror", st->code, hstrerror(st->code));
  case LOOKUP_ERRNO:
    return ms_raise_errno(L, st->code);
  case LOOKUP_MSG:
    return ms_raise(L, "OSError", 0, st->msg);
  default:
    return 0;
  }
}

/* Sends the work block on top of the stack (made by ms_work_new) to the
 * pool; k continues when the lookup is done. The block's stack slot is k's
 * context, for resolver_result. */
static int resolver_run(lua_State *L, lua_KFunction k) {
  int idx = lua_gettop(L);
  return ms_work_run(L, idx, idx, k);
}

/* In a continuation: raises a cancel or an interrupt that came meanwhile,
 * then the failure the lookup recorded; else returns the block, whose
 * outputs are the lookup's answer. Every block begins with its status. */
static void *resolver_result(lua_State *L, lua_KContext ctx) {
  ms_check_wake(L);
  void *block = ms_work_data(L, (int)ctx);
  resolver_raise_status(L, block);
  return block;
}

/* ---- argument helpers ---- */

/* PyArg's "i" converter: a C int, with CPython's OverflowError texts. */
static int resolver_checkint(lua_State *L, int arg) {
  lua_Integer v = luaL_checkinteger(L, arg);
  if (v > INT_MAX) luaL_argerror(L, arg, "signed integer is greater than maximum");
  if (v < INT_MIN) luaL_argerror(L, arg, "signed integer is less than minimum");
  return (int)v;
}

static int resolver_optint(lua_State *L, int arg, int def) {
  return lua_isnoneornil(L, arg) ? def : resolver_checkint(L, arg);
}

/* A string argument, and only a string: luaL_checklstring would turn the
 * number 1 into the host "1", where CPython raises TypeError for an int. */
static const char *resolver_checklstr(lua_State *L, int arg, size_t *len) {
  if (lua_type(L, arg) != LUA_TSTRING) luaL_typeerror(L, arg, "string");
  return lua_tolstring(L, arg, len);
}

/* A string argument that C will read as a NUL-terminated string: CPython
 * refuses embedded NULs there rather than silently truncating; the text
 * differs per converter, so the caller passes CPython's. */
static const char *resolver_checkcstr(lua_State *L, int arg, size_t *len, const char *msg) {
  size_t n;
  const char *s = resolver_checklstr(L, arg, &n);
  if (strlen(s) != n) luaL_argerror(L, arg, msg);
  if (len) *len = n;
  return s;
}

/* CPython encodes host names with the "idna" codec, whose ASCII fast path
 * (encodings/idna.py) still rejects empty or over-long labels; reproduce that
 * check so that "a..b" fails the same way. Non-ASCII names are passed to libc
 * as they are (see the report on IDNA). */
static void resolver_check_idna(lua_State *L, int arg, const char *s, size_t n) {
  size_t i, start = 0;
  if (n == 0) return;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80) return;
  for (i = 0; i <= n; i++) {
    if (i < n && s[i] != '.') continue;
    size_t len = i - start;
    if (i < n && (len == 0 || len > RESOLVER_LABEL_MAX))
      luaL_argerror(L, arg,
                    "encoding with 'idna' codec failed (UnicodeError: label empty or too long)");
    if (i == n && len > RESOLVER_LABEL_MAX)
      luaL_argerror(L, arg, "encoding with 'idna' codec failed (UnicodeError: label too long)");
    start = i + 1;
  }
}

/* Length of the Python whitespace character (str.isspace) starting at s
 * within n bytes of UTF-8, or 0. Lets getfqdn strip like str.strip(). */
static size_t resolver_space_len(const unsigned char *s, size_t n) {
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

/* ---- gethostname ---- */

/* gethostname() is a local system call (uname), so it runs in place. */
static int resolver_gethostname(lua_State *L) {
  char buf[LOOKUP_HOSTNAME_MAX];
  if (gethostname(buf, sizeof buf - 1) < 0) return ms_raise_errno(L, errno);
  buf[sizeof buf - 1] = '\0';
  lua_pushstring(L, buf);
  return 1;
}

/* ---- gethostbyname ---- */

/* Continuation: raises what setipaddr recorded, else the address as text. */
static int resolver_byname_k(lua_State *L, int status, lua_KContext ctx) {
  lookup_byname *b = resolver_result(L, ctx);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &((struct sockaddr_in *)&b->addr)->sin_addr, text, sizeof text);
  lua_pushstring(L, text);
  return 1;
}

/* CPython resolves through setipaddr(AF_INET), i.e. getaddrinfo, not through
 * gethostbyname(3); so do we, on the pool. */
static int resolver_gethostbyname(lua_State *L) {
  size_t n;
  const char *host = resolver_checkcstr(L, 1, &n, "encoded string without null bytes expected");
  resolver_check_idna(L, 1, host, n);
  lookup_byname *b = ms_work_new(L, sizeof *b + n + 1, lookup_byname_run, NULL);
  memcpy(b->name, host, n + 1);
  return resolver_run(L, resolver_byname_k);
}

/* ---- gethostbyname_ex, gethostbyaddr, getfqdn ---- */

/* Pushes a hostent as CPython's gethost_common does: name, [aliases],
 * [addresses as text]. */
static int resolver_push_hostent(lua_State *L, lookup_host *b) {
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
static int resolver_host_k(lua_State *L, int status, lua_KContext ctx) {
  lookup_host *b = resolver_result(L, ctx);
  return resolver_push_hostent(L, b);
}

/* Shared entry of gethostbyname_ex and gethostbyaddr: both take one host
 * string (CPython's "et" with idna) and differ only in run(). */
static int resolver_host_start(lua_State *L, void (*run)(void *)) {
  size_t n;
  const char *host = resolver_checkcstr(L, 1, &n, "encoded string without null bytes expected");
  resolver_check_idna(L, 1, host, n);
  lookup_host *b = ms_work_new(L, sizeof *b + n + 1, run, lookup_host_free);
  memcpy(b->name, host, n + 1);
  b->cap = n + 1;
  return resolver_run(L, resolver_host_k);
}

static int resolver_gethostbyname_ex(lua_State *L) {
  return resolver_host_start(L, lookup_byname_ex_run);
}

static int resolver_gethostbyaddr(lua_State *L) {
  return resolver_host_start(L, lookup_byaddr_run);
}

/* Continuation of getfqdn: only gethostname's failure is an error. */
static int resolver_fqdn_k(lua_State *L, int status, lua_KContext ctx) {
  lookup_host *b = resolver_result(L, ctx);
  lua_pushstring(L, b->fqdn);
  return 1;
}

/* getfqdn([name]): strips like str.strip() and applies gethostbyaddr's
 * argument checks up front (Python raises those: they are not OSError). */
static int resolver_getfqdn(lua_State *L) {
  size_t n;
  const char *s;
  if (lua_isnoneornil(L, 1)) {
    s = "";
    n = 0;
  } else {
    s = resolver_checkcstr(L, 1, &n, "encoded string without null bytes expected");
  }
  const unsigned char *u = (const unsigned char *)s;
  size_t k;
  while (n > 0 && (k = resolver_space_len(u, n)) > 0) {
    u += k;
    n -= k;
  }
  for (;;) {
    size_t t = 0;
    for (k = 1; k <= 3 && k <= n; k++)
      if (resolver_space_len(u + n - k, k) == k) {
        t = k;
        break;
      }
    if (!t) break;
    n -= t;
  }
  s = (const char *)u;
  resolver_check_idna(L, 1, s, n);
  size_t cap = n + 1 > LOOKUP_HOSTNAME_MAX ? n + 1 : LOOKUP_HOSTNAME_MAX;
  lookup_host *b = ms_work_new(L, sizeof *b + cap, lookup_fqdn_run, lookup_host_free);
  memcpy(b->name, s, n);
  b->name[n] = '\0';
  b->cap = cap;
  return resolver_run(L, resolver_fqdn_k);
}

/* ---- getaddrinfo ---- */

/* Continuation: the addrinfo chain, in libc's order, as a list of
 * (family, type, proto, canonname, sockaddr) tuples; canonname is '' where
 * libc gives none (only the first entry carries it, with AI_CANONNAME). */
static int resolver_gai_k(lua_State *L, int status, lua_KContext ctx) {
  lookup_gai *b = resolver_result(L, ctx);
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
static int resolver_getaddrinfo(lua_State *L) {
  size_t hn = 0, pn = 0;
  const char *host = NULL, *port = NULL;
  char portbuf[32];

  int ht = lua_type(L, 1);
  if (ht == LUA_TSTRING) {
    host = lua_tolstring(L, 1, &hn);
    resolver_check_idna(L, 1, host, hn);
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
  int family = resolver_optint(L, 3, AF_UNSPEC);
  int socktype = resolver_optint(L, 4, 0);
  int proto = resolver_optint(L, 5, 0);
  int flags = resolver_optint(L, 6, 0);

  lookup_gai *b = ms_work_new(L, sizeof *b + hn + 1 + pn + 1, lookup_gai_run, lookup_gai_free);
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
  return resolver_run(L, resolver_gai_k);
}

/* ---- getnameinfo ---- */

/* Continuation: host and service, two values (CPython's 2-tuple). */
static int resolver_gni_k(lua_State *L, int status, lua_KContext ctx) {
  lookup_gni *b = resolver_result(L, ctx);
  lua_pushstring(L, b->hbuf);
  lua_pushstring(L, b->pbuf);
  return 2;
}

/* Reads sockaddr element i as CPython's "I" converter does: an integer
 * truncated to 32 bits, no range check. */
static unsigned resolver_sockaddr_uint(lua_State *L, int i) {
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
static int resolver_getnameinfo(lua_State *L) {
  int flags = resolver_checkint(L, 2);
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
  unsigned flowinfo = ntuple >= 3 ? resolver_sockaddr_uint(L, 3) : 0;
  unsigned scope_id = ntuple >= 4 ? resolver_sockaddr_uint(L, 4) : 0;
  if (flowinfo > 0xfffff) return luaL_argerror(L, 1, "getnameinfo(): flowinfo must be 0-1048575.");

  lookup_gni *b = ms_work_new(L, sizeof *b + hn + 1, lookup_gni_run, NULL);
  memcpy(b->host, host, hn + 1);
  b->port = (int)port;
  b->flags = flags;
  b->ntuple = ntuple;
  b->flowinfo = flowinfo;
  b->scope_id = scope_id;
  lua_remove(L, hidx); /* the host string; the block holds a copy */
  return resolver_run(L, resolver_gni_k);
}

/* ---- services and protocols (local databases, read in place) ---- */

/* getservbyname(name[, proto]) -> port. */
static int resolver_getservbyname(lua_State *L) {
  const char *name = resolver_checkcstr(L, 1, NULL, "embedded null character");
  const char *proto = lua_isnoneornil(L, 2) ? NULL : resolver_checkcstr(L, 2, NULL, "embedded null character");
  int port, found = lookup_servbyname(name, proto, &port);
  if (found < 0) return luaL_error(L, "not enough memory");
  if (!found) return ms_raise(L, "OSError", 0, "service/proto not found");
  lua_pushinteger(L, port);
  return 1;
}

/* getservbyport(port[, proto]) -> name, with CPython's range check. */
static int resolver_getservbyport(lua_State *L) {
  int port = resolver_checkint(L, 1);
  const char *proto = lua_isnoneornil(L, 2) ? NULL : resolver_checkcstr(L, 2, NULL, "embedded null character");
  if (port < 0 || port > 0xffff) return luaL_argerror(L, 1, "getservbyport: port must be 0-65535.");
  char *name;
  int found = lookup_servbyport(port, proto, &name);
  if (found < 0) return luaL_error(L, "not enough memory");
  if (!found) return ms_raise(L, "OSError", 0, "port/proto not found");
  lua_pushstring(L, name);
  free(name);
  return 1;
}

/* getprotobyname(name) -> number. */
static int resolver_getprotobyname(lua_State *L) {
  const char *name = resolver_checkcstr(L, 1, NULL, "embedded null character");
  int proto, found = lookup_protobyname(name, &proto);
  if (found < 0) return luaL_error(L, "not enough memory");
  if (!found) return ms_raise(L, "OSError", 0, "protocol not found");
  lua_pushinteger(L, proto);
  return 1;
}

/* ---- address text <-> packed ---- */

/* inet_aton(s) -> 4-byte string; glibc's inet_aton, so "1", "0x7f.1" and
 * trailing text after a space are accepted exactly as in CPython. */
static int resolver_inet_aton(lua_State *L) {
  const char *s = resolver_checkcstr(L, 1, NULL, "embedded null character");
  struct in_addr a;
  if (!inet_aton(s, &a)) return ms_raise(L, "OSError", 0, "illegal IP address string passed to inet_aton");
  lua_pushlstring(L, (const char *)&a, sizeof a);
  return 1;
}

/* inet_ntoa(packed) -> dotted quad (inet_ntop: same text, no static buffer). */
static int resolver_inet_ntoa(lua_State *L) {
  size_t n;
  const char *p = resolver_checklstr(L, 1, &n);
  if (n != sizeof(struct in_addr))
    return ms_raise(L, "OSError", 0, "packed IP wrong length for inet_ntoa");
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, p, text, sizeof text);
  lua_pushstring(L, text);
  return 1;
}

/* inet_pton(family, s) -> packed; an unknown family is libc's EAFNOSUPPORT. */
static int resolver_inet_pton(lua_State *L) {
  int af = resolver_checkint(L, 1);
  const char *s = resolver_checkcstr(L, 2, NULL, "embedded null character");
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
static int resolver_inet_ntop(lua_State *L) {
  int af = resolver_checkint(L, 1);
  size_t n;
  const char *p = resolver_checklstr(L, 2, &n);
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
static uint16_t resolver_check16(lua_State *L, const char *fname) {
  int v = resolver_checkint(L, 1);
  if (v < 0)
    luaL_argerror(L, 1,
                  lua_pushfstring(L, "%s: can't convert negative Python int to C 16-bit unsigned integer", fname));
  if (v > 0xffff)
    luaL_argerror(L, 1,
                  lua_pushfstring(L, "%s: Python int too large to convert to C 16-bit unsigned integer", fname));
  return (uint16_t)v;
}

/* htonl/ntohl: an unsigned long that must fit 32 bits. */
static uint32_t resolver_check32(lua_State *L) {
  lua_Integer v = luaL_checkinteger(L, 1);
  if (v < 0) luaL_argerror(L, 1, "can't convert negative value to unsigned int");
  if ((lua_Unsigned)v > 0xffffffffu) luaL_argerror(L, 1, "int larger than 32 bits");
  return (uint32_t)v;
}

static int resolver_htons(lua_State *L) {
  lua_pushinteger(L, htons(resolver_check16(L, "htons")));
  return 1;
}

static int resolver_ntohs(lua_State *L) {
  lua_pushinteger(L, ntohs(resolver_check16(L, "ntohs")));
  return 1;
}

static int resolver_htonl(lua_State *L) {
  lua_pushinteger(L, htonl(resolver_check32(L)));
  return 1;
}

static int resolver_ntohl(lua_State *L) {
  lua_pushinteger(L, ntohl(resolver_check32(L)));
  return 1;
}

/* ---- network interfaces ---- */

/* if_nameindex() -> list of {index, name}, in the kernel's order. */
static int resolver_if_nameindex(lua_State *L) {
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
static int resolver_if_nametoindex(lua_State *L) {
  const char *name = resolver_checkcstr(L, 1, NULL, "embedded null byte");
  unsigned idx = if_nametoindex(name);
  if (idx == 0) return ms_raise(L, "OSError", 0, "no interface with this name");
  lua_pushinteger(L, idx);
  return 1;
}

/* if_indextoname(index): CPython 3.11 takes an unsigned long and truncates it
 * to the C unsigned int; only negatives are refused. */
static int resolver_if_indextoname(lua_State *L) {
  lua_Integer v = luaL_checkinteger(L, 1);
  if (v < 0) return luaL_argerror(L, 1, "can't convert negative value to unsigned int");
  char name[IF_NAMESIZE + 1];
  if (!if_indextoname((unsigned)(lua_Unsigned)v, name)) return ms_raise_errno(L, errno);
  lua_pushstring(L, name);
  return 1;
}

/* ---- registration ---- */

static const luaL_Reg resolver_funcs[] = {
    {"gethostname", resolver_gethostname},
    {"gethostbyname", resolver_gethostbyname},
    {"gethostbyname_ex", resolver_gethostbyname_ex},
    {"gethostbyaddr", resolver_gethostbyaddr},
    {"getfqdn", resolver_getfqdn},
    {"getaddrinfo", resolver_getaddrinfo},
    {"getnameinfo", resolver_getnameinfo},
    {"getservbyname", resolver_getservbyname},
    {"getservbyport", resolver_getservbyport},
    {"getprotobyname", resolver_getprotobyname},
    {"inet_aton", resolver_inet_aton},
    {"inet_ntoa", resolver_inet_ntoa},
    {"inet_pton", resolver_inet_pton},
    {"inet_ntop", resolver_inet_ntop},
    {"htons", resolver_htons},
    {"ntohs", resolver_ntohs},
    {"htonl", resolver_htonl},
    {"ntohl", resolver_ntohl},
    {"if_nameindex", resolver_if_nameindex},
    {"if_nametoindex", resolver_if_nametoindex},
    {"if_indextoname", resolver_if_indextoname},
    {NULL, NULL}};

int ms_open_resolver(lua_State *L) {
  luaL_setfuncs(L, resolver_funcs, 0);
  return 0;
}
