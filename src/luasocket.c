/*
 * "moonsock.core.luasocket": the few things LuaSocket's Lua layer
 * (lua/moonsock/luasocket/) needs from the system that Lua cannot ask for:
 * the wall clock with sub-second precision (socket.gettime), a monotonic
 * clock for timeouts and stats, and the process's fd limit (socket._SETSIZE).
 */
#include <sys/resource.h>
#include <time.h>

#include "ms.h"

static double luasocket_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int luasocket_gettime(lua_State *L) {
  lua_pushnumber(L, luasocket_clock(CLOCK_REALTIME));
  return 1;
}

static int luasocket_monotime(lua_State *L) {
  lua_pushnumber(L, luasocket_clock(CLOCK_MONOTONIC));
  return 1;
}

/* The soft limit: a descriptor number select can meet is below it. */
static int luasocket_fdlimit(lua_State *L) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
      rl.rlim_cur > (rlim_t)LUA_MAXINTEGER)
    lua_pushinteger(L, LUA_MAXINTEGER);
  else
    lua_pushinteger(L, (lua_Integer)rl.rlim_cur);
  return 1;
}

int ms_open_luasocket(lua_State *L) {
  static const luaL_Reg funcs[] = {{"gettime", luasocket_gettime},
                                   {"monotime", luasocket_monotime},
                                   {"fdlimit", luasocket_fdlimit},
                                   {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}
