/*
 * ipaddress (lua/ipaddress.lua) on any text: ip_address, ip_network (strict
 * both ways), ip_interface and the six class constructors. A text must
 * either make an object or raise ValueError (AddressValueError and
 * NetmaskValueError are ValueErrors), as Python's module does; anything else
 * out of the module ("attempt to index a nil value"...) is a finding. What
 * is made must hold together: its text parses back to an equal object, its
 * packed bytes and its int give it back, every property reads (or raises
 * ValueError, as exploded of a scoped address does), an interface's network
 * holds its address, and the address constructors agree with glibc's
 * inet_pton on every text both can read (no scope id, no NUL, not the
 * all-digit texts that moonsock reads as integers). x:format(spec) takes a
 * format spec from the input too.
 *
 * Input: byte 0 the function and strict, byte 1 the length of the format
 * spec that follows it (0-15 bytes); the rest is the text.
 */
#include <arpa/inet.h>
#include <string.h>

#include "fuzz.h"

/* glibc_pton(family, text) -> packed | false */
static int fz_glibc_pton(lua_State *L) {
  int family = (int)luaL_checkinteger(L, 1);
  unsigned char buf[sizeof(struct in6_addr)];
  if (inet_pton(family, luaL_checkstring(L, 2), buf) != 1) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushlstring(L, (const char *)buf, family == AF_INET ? 4 : 16);
  return 1;
}

static const char checker[] =
  "local ip = require 'ipaddress'\n"
  "local fuzz = require 'fuzz'\n"
  "local q, check, try = fuzz.q, fuzz.check, fuzz.try\n"
  "local allowed = fuzz.allow({'ValueError'})\n"
  // format's own errors are Python's: ValueError, TypeError for a spec
  // that the class does not know.
  "local allowed_format = fuzz.allow({'ValueError', 'TypeError'})\n"
  "local ctors = {\n"
  "  {'ip_address', ip.ip_address}, {'ip_network', ip.ip_network},\n"
  "  {'ip_interface', ip.ip_interface}, {'IPv4Address', ip.IPv4Address},\n"
  "  {'IPv4Network', ip.IPv4Network}, {'IPv4Interface', ip.IPv4Interface},\n"
  "  {'IPv6Address', ip.IPv6Address}, {'IPv6Network', ip.IPv6Network},\n"
  "  {'IPv6Interface', ip.IPv6Interface},\n"
  "}\n"
  "local common = {'version', 'max_prefixlen', 'compressed', 'exploded', 'reverse_pointer',\n"
  "  'is_multicast', 'is_private', 'is_global', 'is_unspecified', 'is_reserved',\n"
  "  'is_loopback', 'is_link_local', 'is_site_local'}\n"
  "local addr_props = {'packed', 'scope_id', 'ipv4_mapped', 'teredo', 'sixtofour'}\n"
  "local iface_props = {'ip', 'network', 'netmask', 'hostmask', 'with_prefixlen',\n"
  "  'with_netmask', 'with_hostmask'}\n"
  "local net_props = {'network_address', 'broadcast_address', 'netmask', 'hostmask',\n"
  "  'prefixlen', 'num_addresses', 'with_prefixlen', 'with_netmask', 'with_hostmask'}\n"
  "\n"
  "local function read_all(x, names, what)\n"
  "  for _, name in ipairs(names) do\n"
  "    try(allowed, function() return x[name] end)\n"
  "  end\n"
  "end\n"
  "\n"
  "local function class_of(x)\n"
  "  for _, c in ipairs {'IPv4Interface', 'IPv6Interface', 'IPv4Network', 'IPv6Network',\n"
  "                      'IPv4Address', 'IPv6Address'} do\n"
  "    if x:isinstance(ip[c]) then return c end\n"
  "  end\n"
  "end\n"
  "\n"
  "local function all_digits(s) return s:find('^%-?%d+$') ~= nil end\n"
  "\n"
  // IPv4Address/IPv6Address against glibc, on the texts both read alike.
  "local function versus_glibc(name, s, ok, x)\n"
  "  local family = name == 'IPv4Address' and 2 or name == 'IPv6Address' and 10 or nil\n"
  "  if not family or s:find('[%z%%/]') or all_digits(s) then return end\n"
  "  local want = fz_glibc_pton(family, s)\n"
  "  if want then\n"
  "    check(ok and x.packed == want, '%s(%s): %s, glibc reads it as %s', name, q(s),\n"
  "      ok and q(x.packed) or fuzz.describe(x), q(want))\n"
  "  else\n"
  "    check(not ok, '%s(%s) = %s, glibc refuses it', name, q(s), ok and tostring(x) or '')\n"
  "  end\n"
  "end\n"
  "\n"
  "return function(op, strict, spec, s)\n"
  "  local name, f = ctors[op][1], ctors[op][2]\n"
  "  local ok, x\n"
  "  if name:find('Network') or name == 'ip_network' then\n"
  "    ok, x = try(allowed, f, s, strict)\n"
  "  else\n"
  "    ok, x = try(allowed, f, s)\n"
  "  end\n"
  "  versus_glibc(name, s, ok, x)\n"
  "  if not ok then return end\n"
  "  local cls = class_of(x)\n"
  "  check(cls, '%s(%s) made no ipaddress object', name, q(s))\n"
  "  local text = tostring(x)\n"
  "  local ok2, y = try(allowed, ip[cls], text)\n"
  "  check(ok2 and y == x, '%s(%s) = %s, which reads back as %s', name, q(s), q(text),\n"
  "    ok2 and q(tostring(y)) or fuzz.describe(y))\n"
  "  read_all(x, common)\n"
  "  if cls:find('Network') then\n"
  "    read_all(x, net_props)\n"
  "    check(x.network_address:int() == x:getitem(0):int(), '%s: getitem(0)', q(s))\n"
  "    local it = x:hosts()\n"
  "    for _ = 1, 3 do if it() == nil then break end end\n"
  "  else\n"
  "    read_all(x, addr_props)\n"
  "    local a = x\n"
  "    if cls:find('Interface') then\n"
  "      read_all(x, iface_props)\n"
  "      check(x.network:contains(x.ip), '%s: %s is not in its network %s', q(s),\n"
  "        tostring(x.ip), tostring(x.network))\n"
  "      a = x.ip\n"
  "    end\n"
  "    local bare = ip.ip_address(ip.bytes(a.packed))\n"
  "    check(bare:int() == a:int() and bare.version == a.version, '%s: packed %s reads back as %s',\n"
  "      q(s), q(a.packed), tostring(bare))\n"
  "    local from_int = ip['IPv' .. a.version .. 'Address'](a:int())\n"
  "    check(from_int.packed == a.packed, '%s: int %s reads back as %s', q(s), a:int(), tostring(from_int))\n"
  "    try(allowed_format, x.format, x, spec)\n"
  "  end\n"
  "  try(allowed, x.repr, x)\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ref = LUA_NOREF;
  lua_State *L = fz_state();
  if (ref == LUA_NOREF) {
    lua_register(L, "fz_glibc_pton", fz_glibc_pton);
    ref = fz_chunk(L, "=fuzz_ipaddress", checker);
  }
  fz_input in = {data, size};
  uint8_t op = fz_byte(&in);
  size_t speclen = fz_byte(&in) % 16;
  if (speclen > in.n) speclen = in.n;
  fz_push(L, ref);
  lua_pushinteger(L, 1 + op % 9);
  lua_pushboolean(L, (op / 9) % 2 == 0);
  lua_pushlstring(L, (const char *)in.p, speclen);
  lua_pushlstring(L, (const char *)in.p + speclen, in.n - speclen);
  fz_call(L, 4);
  fz_done(L);
  return 0;
}
