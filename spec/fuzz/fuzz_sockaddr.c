/*
 * Lua addresses into sockaddrs: ms_check_sockaddr (src/address.c), which
 * bind, connect, sendto and sendmsg call on what socket.lua hands them, and
 * ms_push_sockaddr back. For AF_INET, AF_INET6, AF_UNIX and a family it does
 * not take, any Lua value must either give the sockaddr CPython's
 * getsockaddrarg would build (checked field by field after the round trip
 * through ms_push_sockaddr, the host against glibc's inet_pton/inet_ntop)
 * or raise the error CPython raises: argument errors for its TypeErrors and
 * OverflowErrors, OSError, gaierror.
 *
 * Input: byte 0 the family; byte 1 what the address is (a table, a string,
 * or another type); for a table, byte 2 the host's type, byte 3 the port's
 * kind, byte 4 how many fields and the kinds of flowinfo and scope_id, each
 * number then taking 8 bytes; the rest of the input is the host or path.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz.h"
#include "ms.h"

/* fz_sockaddr(family, addr) -> address as ms_push_sockaddr gives it, len */
static int fz_sockaddr(lua_State *L) {
  int family = (int)luaL_checkinteger(L, 1);
  struct sockaddr_storage ss;
  socklen_t len = ms_check_sockaddr(L, 2, family, &ss, "bind");
  if (len > sizeof ss) return luaL_error(L, "sockaddr length %d > %d", (int)len, (int)sizeof ss);
  ms_push_sockaddr(L, (struct sockaddr *)&ss, len);
  lua_pushinteger(L, len);
  return 2;
}

/* glibc_ntop(family, text) -> canonical text | false: inet_pton, inet_ntop. */
static int fz_glibc_ntop(lua_State *L) {
  int family = (int)luaL_checkinteger(L, 1);
  unsigned char buf[sizeof(struct in6_addr)];
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(family, luaL_checkstring(L, 2), buf) != 1) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushstring(L, inet_ntop(family, buf, text, sizeof text));
  return 1;
}

static const char checker[] =
  "local socket = require 'socket'\n"
  "local fuzz = require 'fuzz'\n"
  "local q, check, try = fuzz.q, fuzz.check, fuzz.try\n"
  "local AF_INET, AF_INET6, AF_UNIX = socket.AF_INET, socket.AF_INET6, socket.AF_UNIX\n"
  // An argument error names the first frame outside moonsock (errors.argerror):
  // here the checker's own chunk, "fuzz:LINE:".
  "local allowed = fuzz.allow({'OSError'}, {\"^bad argument #1 to 'bind' %(\", \"^fuzz:%d+: bad argument #1 to 'bind' %(\"})\n"
  "local SUN_PATH = 108\n"
  "\n"
  "local function show(v)\n"
  "  if type(v) ~= 'table' then return type(v) == 'string' and q(v) or tostring(v) end\n"
  "  local parts = {}\n"
  "  for i = 1, 5 do parts[i] = show(rawget(v, i)) end\n"
  "  return '{' .. table.concat(parts, ', ') .. '}'\n"
  "end\n"
  "\n"
  // What CPython's getsockaddrarg does with addr: 'ok' and the host text and
  // sockaddr length it builds, or the kind of error and its text (a Lua
  // pattern for an argument error, whose wording is moonsock's).
  "local function int_in(v, lo, hi)\n"
  "  return math.type(v) == 'integer' and v >= lo and v <= hi\n"
  "    or math.type(v) == 'float' and v == math.floor(v) and v >= lo and v <= hi\n"
  "end\n"
  "local function expect(family, addr)\n"
  "  if family == AF_UNIX then\n"
  "    if type(addr) ~= 'string' then return 'arg', 'AF_UNIX address must be a string' end\n"
  "    local n = #addr\n"
  "    if n == 0 or addr:byte(1) == 0 then\n"
  "      if n > SUN_PATH then return 'os', 'AF_UNIX path too long' end\n"
  "      return 'ok', addr, 2 + n\n"
  "    end\n"
  "    if n >= SUN_PATH then return 'os', 'AF_UNIX path too long' end\n"
  "    return 'ok', addr:match('^[^\\0]*'), 2 + n + 1\n"
  "  end\n"
  "  if family ~= AF_INET and family ~= AF_INET6 then return 'os', 'getsockaddrarg: bad family' end\n"
  "  if type(addr) ~= 'table' then return 'arg', 'address must be a table' end\n"
  "  local host, port = addr[1], addr[2]\n"
  "  if type(port) ~= 'number' then return 'arg', 'port must be an integer' end\n"
  "  if not int_in(port, 0, 65535) then\n"
  "    if math.tointeger(port) == nil then return 'arg', 'port must be an integer' end\n"
  "    return 'arg', 'port must be 0%-65535'\n"
  "  end\n"
  "  local flow, scope = 0, 0\n"
  "  if family == AF_INET6 then\n"
  "    local n = #addr\n"
  "    if n >= 3 then flow = addr[3] end\n"
  "    if n >= 4 then scope = addr[4] end\n"
  "    if type(flow) ~= 'number' or math.tointeger(flow) == nil then return 'arg', 'flowinfo must be an integer' end\n"
  "    if type(scope) ~= 'number' or math.tointeger(scope) == nil then return 'arg', 'scope_id must be an integer' end\n"
  "    if not int_in(flow, 0, 0xfffff) then return 'arg', 'flowinfo must be 0%-1048575' end\n"
  "    if not int_in(scope, 0, 0xffffffff) then return 'arg', 'scope_id must be 0%-4294967295' end\n"
  "  end\n"
  "  if type(host) ~= 'string' then return 'arg', 'host must be a string' end\n"
  // CPython's idna_converter: TypeError before any lookup.
  "  if host:find('\\0', 1, true) then return 'arg', 'host name must not contain null character' end\n"
  "  local len = family == AF_INET and 16 or 28\n"
  "  if host == '' then return 'ok', family == AF_INET and '0.0.0.0' or '::', len, flow, scope end\n"
  "  if family == AF_INET and host == '<broadcast>' then return 'ok', '255.255.255.255', len end\n"
  "  local text = fz_glibc_ntop(family, host)\n"
  "  if not text then return 'gai', '[Errno -2] Name or service not known' end\n"
  "  return 'ok', text, len, math.tointeger(flow), math.tointeger(scope)\n"
  "end\n"
  "\n"
  "return function(family, addr)\n"
  "  local ok, got, len = try(allowed, fz_sockaddr, family, addr)\n"
  "  local kind, want, wlen, flow, scope = expect(family, addr)\n"
  "  local what = string.format('family %d, address %s', family, show(addr))\n"
  "  if kind == 'ok' then\n"
  "    check(ok, '%s: raised %s', what, fuzz.describe(got))\n"
  "    check(len == wlen, '%s: length %d, CPython %d', what, len, wlen)\n"
  "    if family == AF_UNIX then\n"
  "      check(got == want, '%s: reads back as %s', what, q(got))\n"
  "      return\n"
  "    end\n"
  "    check(got[1] == want and got[2] == math.tointeger(addr[2]),\n"
  "      '%s: reads back as %s, CPython (%s, %s)', what, show(got), q(want), tostring(addr[2]))\n"
  "    if family == AF_INET6 then\n"
  "      check(got[3] == flow and got[4] == scope, '%s: reads back as %s', what, show(got))\n"
  "    end\n"
  "  elseif kind == 'arg' then\n"
  "    check(not ok and type(got) == 'string' and got:find(want),\n"
  "      '%s: got %s, want an argument error: %s', what, ok and show(got) or fuzz.describe(got), want)\n"
  "  else\n"
  "    local cls = kind == 'gai' and socket.gaierror or socket.error\n"
  "    check(not ok and cls:matches(got) and tostring(got) == want,\n"
  "      '%s: got %s, want %s', what, ok and show(got) or fuzz.describe(got), want)\n"
  "  end\n"
  "end\n";

/* A number, or a value of another type where the address wants one. */
static void push_number(lua_State *L, fz_input *in, int kind) {
  uint64_t v = fz_u64(in);
  switch (kind % 8) {
    case 0: case 1: case 2: lua_pushinteger(L, (lua_Integer)(v & 0xffff)); break;
    case 3: lua_pushinteger(L, (lua_Integer)(v & 0x1fffff)); break;
    case 4: lua_pushinteger(L, (lua_Integer)v); break; /* anything, negative too */
    case 5: lua_pushnumber(L, (lua_Number)(int64_t)v / (double)(1 + (v >> 60))); break;
    case 6: {
      double d;
      memcpy(&d, &v, sizeof d); /* any double: NaN, inf, huge */
      lua_pushnumber(L, d);
      break;
    }
    default: lua_pushfstring(L, "%d", (int)(v & 0xffff)); break; /* Python refuses "80" too */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ref = LUA_NOREF;
  lua_State *L = fz_state();
  if (ref == LUA_NOREF) {
    lua_register(L, "fz_sockaddr", fz_sockaddr);
    lua_register(L, "fz_glibc_ntop", fz_glibc_ntop);
    ref = fz_chunk(L, "=fuzz_sockaddr", checker);
  }
  fz_input in = {data, size};
  static const int families[] = {AF_INET, AF_INET6, AF_UNIX, AF_PACKET};
  int family = families[fz_byte(&in) % 4];
  uint8_t shape = fz_byte(&in);
  fz_push(L, ref);
  lua_pushinteger(L, family);
  switch (shape % 8) {
    case 0: case 1: case 2: case 3: { /* a table */
      uint8_t host = fz_byte(&in), port = fz_byte(&in), fields = fz_byte(&in);
      int n = 2 + fields % 4; /* {host, port[, flowinfo[, scope_id[, extra]]]} */
      lua_createtable(L, n, 0);
      push_number(L, &in, port);
      lua_rawseti(L, -2, 2);
      for (int i = 3; i <= n; i++) {
        push_number(L, &in, i == 3 ? fields >> 2 : fields >> 5);
        lua_rawseti(L, -2, i);
      }
      if (host % 8 == 6)
        lua_pushinteger(L, 2130706433); /* Python refuses an int host */
      else if (host % 8 == 7)
        lua_pushnil(L);
      else
        lua_pushlstring(L, (const char *)in.p, in.n);
      lua_rawseti(L, -2, 1);
      break;
    }
    case 4: case 5: case 6: lua_pushlstring(L, (const char *)in.p, in.n); break;
    default: lua_pushboolean(L, 1); break;
  }
  fz_call(L, 2);
  fz_done(L);
  return 0;
}
