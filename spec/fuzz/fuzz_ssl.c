/*
 * The ssl module's sans-I/O form (lua/ssl.lua, src/ssl.c) against arbitrary
 * bytes from the network: the input is fed, in slices, to the incoming
 * MemoryBIO of a server-side SSLObject (a ClientHello and what follows) or of
 * a client-side one that has sent its ClientHello (a ServerHello...), and the
 * object is driven with do_handshake, read and write as a program would.
 * Every call must return or raise an SSLError (any of its subclasses): never
 * crash, never another error, never leak (the sanitizers watch the C side).
 *
 * Input: byte 0 picks the side and the slice size; the rest is the peer's
 * bytes.
 */
#include "fuzz.h"

static const char checker[] =
  "local ssl = require 'ssl'\n"
  "local fuzz = require 'fuzz'\n"
  "local try = fuzz.try\n"
  "local allowed = fuzz.allow({'SSLError'}, {})\n"
  // A server certificate made once with the openssl command line; without
  // it the server side still parses every ClientHello, then refuses.
  "local server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
  "local dir = io.popen('mktemp -d'):read('l')\n"
  "if dir and os.execute('openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes '\n"
  "    .. '-keyout ' .. dir .. '/k.pem -out ' .. dir .. '/c.pem -days 2 -subj /CN=localhost >/dev/null 2>&1') then\n"
  "  server:load_cert_chain(dir .. '/c.pem', dir .. '/k.pem')\n"
  "end\n"
  "if dir then os.execute('rm -rf ' .. dir) end\n"
  "local client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
  "client.check_hostname = false\n"
  "client.verify_mode = ssl.CERT_NONE\n"
  "\n"
  "return function(server_side, slice, data)\n"
  "  local incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()\n"
  "  local obj = server_side and server:wrap_bio(incoming, outgoing, {server_side = true})\n"
  "    or client:wrap_bio(incoming, outgoing, {server_hostname = 'localhost'})\n"
  "  try(allowed, obj.do_handshake, obj)\n"
  "  outgoing:read()\n"
  "  for i = 1, #data, slice do\n"
  "    incoming:write(data:sub(i, i + slice - 1))\n"
  "    local ok = try(allowed, obj.do_handshake, obj)\n"
  "    if ok then\n"
  "      try(allowed, obj.read, obj, 4096)\n"
  "      try(allowed, obj.write, obj, 'x')\n"
  "      try(allowed, obj.getpeercert, obj, false)\n"
  "    end\n"
  "    outgoing:read()\n"
  "  end\n"
  "  incoming:write_eof()\n"
  "  try(allowed, obj.read, obj, 10)\n"
  "end\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ref = LUA_NOREF;
  lua_State *L = fz_state();
  if (ref == LUA_NOREF) ref = fz_chunk(L, "=fuzz_ssl", checker);
  fz_input in = {data, size};
  uint8_t first = fz_byte(&in);
  static const int slices[] = {1, 5, 64, 1 << 20};
  fz_push(L, ref);
  lua_pushboolean(L, first & 1);
  lua_pushinteger(L, slices[(first >> 1) & 3]);
  lua_pushlstring(L, (const char *)in.p, in.n);
  fz_call(L, 3);
  fz_done(L);
  return 0;
}
