/*
 * The embedding interface of include/moonsock.h, and the Lua C module that
 * stock lua5.4 loads with require "moonsock". Both sit on the runtime
 * (runtime.c) and the scheduler (task.c); every entry point that can raise
 * runs under lua_pcall, since a host has no handler of its own around it.
 */
#include <string.h>

#include <lualib.h>

#include "moonsock.h"
#include "runtime_int.h"

/* ---- opening ---- */

static int open_p(lua_State *L) {
  ms_runtime_open(L, lua_touserdata(L, 1));
  return 0;
}

int moonsock_open(lua_State *L, struct uv_loop_s *loop) {
  lua_pushcfunction(L, open_p);
  lua_pushlightuserdata(L, loop);
  return lua_pcall(L, 1, 0, 0) == LUA_OK ? 0 : -1;
}

static int newstate_p(lua_State *L) {
  luaL_openlibs(L);
  ms_runtime_open(L, NULL);
  return 0;
}

lua_State *moonsock_newstate(void) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  lua_pushcfunction(L, newstate_p);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return NULL;
  }
  return L;
}

/* ---- tasks ---- */

static int spawn_p(lua_State *L) {
  ms_spawn_host(L, lua_gettop(L) - 1);
  return 0;
}

int moonsock_spawn(lua_State *L, int nargs) {
  if (nargs < 0 || lua_gettop(L) < nargs + 1) {
    lua_pushliteral(L, "moonsock_spawn: not enough values on the stack");
    return -1;
  }
  if (lua_type(L, -(nargs + 1)) != LUA_TFUNCTION) {
    lua_pop(L, nargs + 1);
    lua_pushliteral(L, "moonsock_spawn: not a function");
    return -1;
  }
  lua_pushcfunction(L, spawn_p);
  lua_insert(L, -(nargs + 2));
  return lua_pcall(L, nargs + 1, 0, 0) == LUA_OK ? 0 : -1;
}

int moonsock_spawnfile(lua_State *L, const char *path) {
  if (luaL_loadfile(L, path) != LUA_OK) return -1;
  return moonsock_spawn(L, 0);
}

int moonsock_spawnstring(lua_State *L, const char *code, const char *chunkname) {
  if (luaL_loadbuffer(L, code, strlen(code), chunkname ? chunkname : code) != LUA_OK) return -1;
  return moonsock_spawn(L, 0);
}

/* ---- the loop ---- */

int moonsock_run(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  rt->host_failed = 0;
  ms_sched_run(rt);
  return rt->host_failed ? -1 : 0;
}

static int run_mode(lua_State *L, uv_run_mode mode) {
  ms_runtime *rt = ms_rt(L);
  rt->running = 1;
  int alive = uv_run(rt->loop, mode);
  rt->running = 0;
  return alive || rt->ready_head != NULL;
}

int moonsock_run_once(lua_State *L) { return run_mode(L, UV_RUN_ONCE); }
int moonsock_run_nowait(lua_State *L) { return run_mode(L, UV_RUN_NOWAIT); }

int moonsock_fd(lua_State *L) { return uv_backend_fd(ms_rt(L)->loop); }

int moonsock_timeout(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (rt->ready_head) return 0;
  /* libuv's view is only as fresh as its clock. */
  uv_update_time(rt->loop);
  return uv_backend_timeout(rt->loop);
}

void moonsock_stop(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  rt->stop = 1;
  uv_stop(rt->loop);
}

const char *moonsock_lasterror(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (rt->last_error_ref == LUA_NOREF) return NULL;
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->last_error_ref);
  /* The registry keeps the string alive after the pop. */
  const char *msg = lua_tostring(L, -1);
  lua_pop(L, 1);
  return msg;
}

void moonsock_close(lua_State *L) { lua_close(L); }

/* ---- require "moonsock" from stock Lua ---- */

/* moonsock.run(): runs the spawned tasks to completion, from code outside
 * any task (a stock lua5.4's main chunk). */
static int mod_run(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (rt->current) return luaL_error(L, "moonsock.run() called from inside a task");
  if (rt->running) return luaL_error(L, "moonsock.run() called while the loop runs");
  ms_sched_run(rt);
  return 0;
}

/* The modules load on first use: moonsock.socket is require "socket". */
static int mod_index(lua_State *L) {
  const char *name = luaL_checkstring(L, 2);
  if (strcmp(name, "urllib") == 0) name = "urllib.parse";
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) return 0;
  lua_pushvalue(L, -1);
  lua_setfield(L, 1, luaL_checkstring(L, 2));
  return 1;
}

int luaopen_moonsock(lua_State *L) {
  ms_runtime_open(L, NULL);
  lua_newtable(L);
  lua_pushcfunction(L, mod_run);
  lua_setfield(L, -2, "run");
  lua_pushliteral(L, MOONSOCK_VERSION);
  lua_setfield(L, -2, "version");
  lua_newtable(L);
  lua_pushcfunction(L, mod_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  return 1;
}
