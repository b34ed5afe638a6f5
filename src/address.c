/*
 * Python's address tuples to and from sockaddrs. Hostnames never reach this
 * file: socket.lua resolves them (off the loop thread) before calling in, as
 * CPython's setipaddr does before it fills a sockaddr.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "ms.h"

void ms_push_tuple(lua_State *L, int narr) {
  lua_createtable(L, narr, 0);
  luaL_setmetatable(L, "moonsock.tuple");
}

void ms_push_list(lua_State *L, int narr) {
  lua_createtable(L, narr, 0);
  luaL_setmetatable(L, "moonsock.list");
}

/* glibc's inet_ntop formats IPv4 with sprintf: two thirds of what a UDP
 * echo server spent per datagram outside Lua. Same text, by hand. */
static size_t address_format_ipv4(const struct in_addr *addr, char *out) {
  const unsigned char *b = (const unsigned char *)addr;
  char *p = out;
  for (int i = 0; i < 4; i++) {
    unsigned v = b[i];
    if (v >= 100) *p++ = (char)('0' + v / 100);
    if (v >= 10) *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    if (i < 3) *p++ = '.';
  }
  return (size_t)(p - out);
}

void ms_push_sockaddr(lua_State *L, const struct sockaddr *sa, socklen_t len) {
  char host[INET6_ADDRSTRLEN];
  if (len == 0) {
    lua_pushnil(L);
    return;
  }
  switch (sa->sa_family) {
    case AF_INET: {
      const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
      size_t n = address_format_ipv4(&in->sin_addr, host);
      ms_push_tuple(L, 2);
      lua_pushlstring(L, host, n);
      lua_rawseti(L, -2, 1);
      lua_pushinteger(L, ntohs(in->sin_port));
      lua_rawseti(L, -2, 2);
      return;
    }
    case AF_INET6: {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
      inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
      ms_push_tuple(L, 4);
      lua_pushstring(L, host);
      lua_rawseti(L, -2, 1);
      lua_pushinteger(L, ntohs(in6->sin6_port));
      lua_rawseti(L, -2, 2);
      lua_pushinteger(L, ntohl(in6->sin6_flowinfo));
      lua_rawseti(L, -2, 3);
      lua_pushinteger(L, in6->sin6_scope_id);
      lua_rawseti(L, -2, 4);
      return;
    }
    case AF_UNIX: {
      const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
      size_t off = offsetof(struct sockaddr_un, sun_path);
      if (len <= off) {
        lua_pushliteral(L, "");
      } else if (un->sun_path[0] == '\0') {
        /* Linux abstract name: every byte counts, the leading NUL too. */
        lua_pushlstring(L, un->sun_path, len - off);
      } else {
        lua_pushlstring(L, un->sun_path, strnlen(un->sun_path, len - off));
      }
      return;
    }
    default:
      ms_push_tuple(L, 2);
      lua_pushinteger(L, sa->sa_family);
      lua_rawseti(L, -2, 1);
      lua_pushlstring(L, sa->sa_data, len > sizeof sa->sa_family ? len - sizeof sa->sa_family : 0);
      lua_rawseti(L, -2, 2);
      return;
  }
}

/* Addresses are checked for socket methods that lua/socket.lua wraps: the
 * argument is numbered after self and blamed on the user's line. */
static int address_arg_fail(lua_State *L, int idx, const char *fname, const char *msg) {
  return ms_argerror(L, idx - 1, fname, msg);
}

static lua_Integer address_check_field_int(lua_State *L, int idx, int i, const char *fname,
                                   const char *what) {
  lua_rawgeti(L, idx, i);
  int isnum;
  lua_Integer v = lua_tointegerx(L, -1, &isnum);
  if (!isnum || lua_type(L, -1) != LUA_TNUMBER) {
    const char *got = luaL_typename(L, -1);
    lua_pop(L, 1);
    lua_pushfstring(L, "%s must be an integer, got %s", what, got);
    address_arg_fail(L, idx, fname, lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  return v;
}

/* The host of an INET address: '' and '<broadcast>' as in CPython. A NUL
 * inside it is CPython's TypeError (idna_converter): inet_pton would read
 * "::1\0junk" as "::1". */
static void address_check_host(lua_State *L, int idx, int family, void *dst, const char *fname) {
  lua_rawgeti(L, idx, 1);
  if (lua_type(L, -1) != LUA_TSTRING)
    address_arg_fail(L, idx, fname, lua_pushfstring(L, "host must be a string, got %s", luaL_typename(L, -1)));
  size_t n;
  const char *host = lua_tolstring(L, -1, &n);
  if (strlen(host) != n) address_arg_fail(L, idx, fname, "host name must not contain null character");
  if (family == AF_INET && host[0] == '\0') {
    ((struct in_addr *)dst)->s_addr = htonl(INADDR_ANY);
  } else if (family == AF_INET && strcmp(host, "<broadcast>") == 0) {
    ((struct in_addr *)dst)->s_addr = htonl(INADDR_BROADCAST);
  } else if (family == AF_INET6 && host[0] == '\0') {
    memcpy(dst, &in6addr_any, sizeof in6addr_any);
  } else if (inet_pton(family, host, dst) != 1) {
    ms_raise(L, "gaierror", -2, "Name or service not known");
  }
  lua_pop(L, 1);
}

socklen_t ms_check_sockaddr(lua_State *L, int idx, int family, struct sockaddr_storage *ss,
                            const char *fname) {
  idx = lua_absindex(L, idx);
  memset(ss, 0, sizeof *ss);
  if (family == AF_UNIX) {
    size_t n;
    if (lua_type(L, idx) != LUA_TSTRING)
      address_arg_fail(L, idx, fname,
               lua_pushfstring(L, "AF_UNIX address must be a string, got %s", luaL_typename(L, idx)));
    const char *path = lua_tolstring(L, idx, &n);
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    if (n >= sizeof un->sun_path + (path[0] == '\0'))
      ms_raise(L, "OSError", 0, "AF_UNIX path too long");
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] != '\0' && n > 0));
  }
  if (family != AF_INET && family != AF_INET6)
    return (socklen_t)ms_raise(L, "OSError", 0, "getsockaddrarg: bad family");
  if (!lua_istable(L, idx))
    address_arg_fail(L, idx, fname,
             lua_pushfstring(L, "%s address must be a table {host, port}, got %s",
                             family == AF_INET ? "AF_INET" : "AF_INET6", luaL_typename(L, idx)));
  lua_Integer port = address_check_field_int(L, idx, 2, fname, "port");
  if (port < 0 || port > 65535) address_arg_fail(L, idx, fname, "port must be 0-65535.");
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    address_check_host(L, idx, AF_INET, &in->sin_addr, fname);
    return sizeof *in;
  }
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons((uint16_t)port);
  lua_Integer flowinfo = 0, scope = 0;
  if (lua_rawlen(L, idx) >= 3) flowinfo = address_check_field_int(L, idx, 3, fname, "flowinfo");
  if (lua_rawlen(L, idx) >= 4) scope = address_check_field_int(L, idx, 4, fname, "scope_id");
  if (flowinfo < 0 || flowinfo > 0xfffff) address_arg_fail(L, idx, fname, "flowinfo must be 0-1048575.");
  if (scope < 0 || scope > 0xffffffffLL) address_arg_fail(L, idx, fname, "scope_id must be 0-4294967295.");
  in6->sin6_flowinfo = htonl((uint32_t)flowinfo);
  in6->sin6_scope_id = (uint32_t)scope;
  address_check_host(L, idx, AF_INET6, &in6->sin6_addr, fname);
  return sizeof *in6;
}
