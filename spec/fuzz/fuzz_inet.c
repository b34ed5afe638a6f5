/*
 * socket.inet_aton, inet_pton, inet_ntop and inet_ntoa against glibc's own
 * converters, which CPython calls as they are: on any text or bytes, moonsock
 * must give glibc's answer, or the error CPython raises where glibc is not
 * reached (embedded NULs, wrong lengths, unknown families).
 *
 * Input: byte 0 picks the function, byte 1 the family (AF_INET, AF_INET6,
 * AF_UNIX, or any int from the next 4 bytes); the rest is the argument.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"

/* glibc.aton(s) -> packed | false; the NUL-terminated text, as C sees it. */
static int g_aton(lua_State *L) {
  struct in_addr a;
  if (!inet_aton(luaL_checkstring(L, 1), &a)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushlstring(L, (const char *)&a, sizeof a);
  return 1;
}

/* glibc.pton(af, s) -> packed | false, errno (0: the text is invalid). */
static int g_pton(lua_State *L) {
  int af = (int)luaL_checkinteger(L, 1);
  unsigned char buf[sizeof(struct in6_addr)];
  errno = 0;
  int rc = inet_pton(af, luaL_checkstring(L, 2), buf);
  if (rc != 1) {
    lua_pushboolean(L, 0);
    lua_pushinteger(L, rc < 0 ? errno : 0);
    return 2;
  }
  lua_pushlstring(L, (const char *)buf, af == AF_INET ? 4 : 16);
  return 1;
}

/* glibc.ntop(af, packed) -> text; packed has the family's length. */
static int g_ntop(lua_State *L) {
  int af = (int)luaL_checkinteger(L, 1);
  const char *p = luaL_checkstring(L, 2);
  char text[INET6_ADDRSTRLEN];
  if (!inet_ntop(af, p, text, sizeof text)) return luaL_error(L, "inet_ntop failed");
  lua_pushstring(L, text);
  return 1;
}

static const char checker[] =
  "local socket = require 'socket'\n"
  "local fuzz = require 'fuzz'\n"
  "local glibc = fz_glibc\n"
  "local q, check, try = fuzz.q, fuzz.check, fuzz.try\n"
  "local AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6\n"
  "local allowed = fuzz.allow({'OSError'}, {\n"
  "  \"^bad argument #1 to 'socket%.inet_aton' %(embedded null character%)$\",\n"
  "  \"^bad argument #2 to 'socket%.inet_pton' %(embedded null character%)$\",\n"
  "  \"^bad argument #2 to 'socket%.inet_ntop' %(invalid length of packed IP address string%)$\",\n"
  "  \"^bad argument #1 to 'socket%.inet_ntop' %(unknown address family %-?%d+%)$\",\n"
  "})\n"
  "local function same_error(err, text)\n"
  "  return socket.error:matches(err) and tostring(err) == text\n"
  "end\n"
  // Python's texts; the errno ones are strerror's, as CPython prints them.
  "local function pton_error(errno)\n"
  "  if errno == 0 then return 'illegal IP address string passed to inet_pton' end\n"
  "  return string.format('[Errno %d] %s', errno, require('moonsock.posix').strerror(errno))\n"
  "end\n"
  "local function has_nul(s) return s:find('\\0', 1, true) ~= nil end\n"
  "\n"
  "local function aton(s)\n"
  "  local ok, r = try(allowed, socket.inet_aton, s)\n"
  "  if has_nul(s) then\n"
  "    check(not ok and type(r) == 'string', 'inet_aton(%s) took a NUL: %s', q(s), q(r))\n"
  "    return\n"
  "  end\n"
  "  local want = glibc.aton(s)\n"
  "  if want then\n"
  "    check(ok and r == want, 'inet_aton(%s) = %s, glibc %s', q(s), q(r), q(want))\n"
  "  else\n"
  "    check(not ok and same_error(r, 'illegal IP address string passed to inet_aton'),\n"
  "      'inet_aton(%s) = %s, glibc refuses it', q(s), fuzz.describe(r))\n"
  "  end\n"
  "end\n"
  "\n"
  "local function ntop(af, b)\n"
  "  local ok, r = try(allowed, socket.inet_ntop, af, b)\n"
  "  local len = af == AF_INET and 4 or af == AF_INET6 and 16 or nil\n"
  "  if len == nil or #b ~= len then\n"
  "    check(not ok and type(r) == 'string', 'inet_ntop(%d, %s) took it: %s', af, q(b), q(r))\n"
  "    return\n"
  "  end\n"
  "  local want = glibc.ntop(af, b)\n"
  "  check(ok and r == want, 'inet_ntop(%d, %s) = %s, glibc %s', af, q(b), q(r), q(want))\n"
  // glibc's text reads back as the same bytes: the round trip holds.
  "  local back = socket.inet_pton(af, r)\n"
  "  check(back == b, 'inet_pton(%d, inet_ntop(%s)) = %s', af, q(b), q(back))\n"
  "end\n"
  "\n"
  "local function pton(af, s)\n"
  "  local ok, r = try(allowed, socket.inet_pton, af, s)\n"
  "  if has_nul(s) then\n"
  "    check(not ok and type(r) == 'string', 'inet_pton(%d, %s) took a NUL: %s', af, q(s), q(r))\n"
  "    return\n"
  "  end\n"
  "  local want, errno = glibc.pton(af, s)\n"
  "  if want then\n"
  "    check(ok and r == want, 'inet_pton(%d, %s) = %s, glibc %s', af, q(s), q(r), q(want))\n"
  "    ntop(af, r)\n"
  "  else\n"
  "    check(not ok and same_error(r, pton_error(errno)),\n"
  "      'inet_pton(%d, %s) = %s, glibc: %s', af, q(s), fuzz.describe(r), pton_error(errno))\n"
  "  end\n"
  "end\n"
  "\n"
  "local function ntoa(b)\n"
  "  local ok, r = try(allowed, socket.inet_ntoa, b)\n"
  "  if #b ~= 4 then\n"
  "    check(not ok and same_error(r, 'packed IP wrong length for inet_ntoa'),\n"
  "      'inet_ntoa(%s) = %s', q(b), fuzz.describe(r))\n"
  "    return\n"
  "  end\n"
  "  local want = glibc.ntop(AF_INET, b)\n"
  "  check(ok and r == want, 'inet_ntoa(%s) = %s, glibc %s', q(b), q(r), q(want))\n"
  "  check(socket.inet_aton(r) == b, 'inet_aton(inet_ntoa(%s)) differs', q(b))\n"
  "end\n"
  "\n"
  "return function(op, af, s)\n"
  "  if op == 0 then aton(s)\n"
  "  elseif op == 1 then pton(af, s)\n"
  "  elseif op == 2 then ntop(af, s)\n"
  "  else ntoa(s) end\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ref = LUA_NOREF;
  lua_State *L = fz_state();
  if (ref == LUA_NOREF) {
    static const luaL_Reg glibc[] = {{"aton", g_aton}, {"pton", g_pton}, {"ntop", g_ntop}, {NULL, NULL}};
    luaL_newlib(L, glibc);
    lua_setglobal(L, "fz_glibc");
    ref = fz_chunk(L, "=fuzz_inet", checker);
  }
  fz_input in = {data, size};
  int op = fz_byte(&in) % 4;
  int af;
  switch (fz_byte(&in) % 4) {
    case 0: af = AF_INET; break;
    case 1: af = AF_INET6; break;
    case 2: af = AF_UNIX; break;
    default: af = (int)(uint32_t)fz_u64(&in); break;
  }
  fz_push(L, ref);
  lua_pushinteger(L, op);
  lua_pushinteger(L, af);
  lua_pushlstring(L, (const char *)in.p, in.n);
  fz_call(L, 3);
  fz_done(L);
  return 0;
}
