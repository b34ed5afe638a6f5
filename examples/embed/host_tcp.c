/*
 * host_tcp: a C program that embeds moonsock as a library, the way programs
 * embed Lua. It gives Lua one function of its own, host.crc32, runs a Lua
 * script that serves TCP clients with it, and ends when the script's tasks
 * have ended.
 *
 * usage: host_tcp script.lua [args...]
 *   bin/examples/host_tcp examples/embed/host_tcp.lua 3
 * The script's arguments reach it as `...`. Exit status 0, or 1 with the
 * error (and its Lua traceback) on stderr.
 */
#include <stdint.h>
#include <stdio.h>

#include <lauxlib.h>
#include <lua.h>

#include "moonsock.h"

/* CRC-32 as zlib, PNG and Ethernet compute it (reflected, 0xEDB88320). */
static uint32_t crc32_of(const unsigned char *p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  while (n--) {
    crc ^= *p++;
    for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

/* host.crc32(s) -> integer. An ordinary Lua C function: it runs inside the
 * task that calls it and must not block. */
static int l_crc32(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_pushinteger(L, (lua_Integer)crc32_of((const unsigned char *)s, n));
  return 1;
}

/* require "host" gives the script this table. */
static int open_host(lua_State *L) {
  static const luaL_Reg funcs[] = {{"crc32", l_crc32}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
    return 2;
  }
  /* A Lua state with the standard libraries and moonsock's modules. */
  lua_State *L = moonsock_newstate();
  if (!L) {
    fprintf(stderr, "%s: not enough memory\n", argv[0]);
    return 1;
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, open_host);
  lua_setfield(L, -2, "host");
  lua_pop(L, 1);

  /* The script, with its arguments, becomes a task. */
  int loaded = luaL_loadfile(L, argv[1]) == LUA_OK;
  if (loaded)
    for (int i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
  if (!loaded || moonsock_spawn(L, argc - 2) != 0) {
    fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
    moonsock_close(L);
    return 1;
  }

  /* The loop runs until every task has ended. */
  int rc = moonsock_run(L);
  if (rc != 0) fprintf(stderr, "%s: %s\n", argv[0], moonsock_lasterror(L));
  moonsock_close(L);
  return rc == 0 ? 0 : 1;
}
