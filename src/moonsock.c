/*
 * The embedding interface of include/moonsock.h, and the Lua C module that
 * stock lua5.4 loads with require "moonsock". Both sit on the runtime
 * (runtime.c) and the scheduler (task.c); every entry point that can raise
 * runs under lua_pcall, since a host has no handler of its own around it.
 *
 * The entry points call each other only through static functions: the
 * exported names can be interposed (a program that embeds moonsock and is
 * linked with -Wl,-E may also load moonsock.so), and a call from one copy
 * into the other would mix two runtimes in one state.
 */
#include <string.h>

#include <lualib.h>

#include "moonsock.h"
#include "runtime_int.h"

/* ---- opening ---- */

static int open_module(lua_State *L);

/* require "moonsock" then gives this copy's module, never moonsock.so from
 * package.cpath (a second runtime in the same state). */
static void preload_module(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, open_module);
  lua_setfield(L, -2, "moonsock");
  lua_pop(L, 1);
}

/* moonsock's Lua modules use these as they load; checking first keeps a
 * failed moonsock_open from leaving a half-opened runtime behind. */
static void check_libs(lua_State *L) {
  static const char *const libs[] = {"package", "string", "table", "coroutine",
                                     "math",    "io",     "debug", NULL};
  for (const char *const *lib = libs; *lib; lib++) {
    if (lua_getglobal(L, *lib) != LUA_TTABLE)
      luaL_error(L, "moonsock_open: Lua's '%s' library is not open "
                    "(open the standard libraries with luaL_openlibs first)", *lib);
    lua_pop(L, 1);
  }
  if (lua_getglobal(L, "require") != LUA_TFUNCTION)
    luaL_error(L, "moonsock_open: the global 'require' is missing "
                  "(open the standard libraries with luaL_openlibs first)");
  lua_pop(L, 1);
}

static int open_p(lua_State *L) {
  uv_loop_t *loop = lua_touserdata(L, 1);
  check_libs(L);
  ms_runtime *rt = ms_runtime_open(L, loop);
  if (loop && rt->loop != loop)
    return luaL_error(L, "moonsock_open: moonsock already runs on another loop in this state");
  preload_module(L);
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
  preload_module(L);
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

static int spawn(lua_State *L, int nargs) {
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

int moonsock_spawn(lua_State *L, int nargs) { return spawn(L, nargs); }

int moonsock_spawnfile(lua_State *L, const char *path) {
  if (luaL_loadfile(L, path) != LUA_OK) return -1;
  return spawn(L, 0);
}

int moonsock_spawnstring(lua_State *L, const char *code, const char *chunkname) {
  if (luaL_loadbuffer(L, code, strlen(code), chunkname ? chunkname : code) != LUA_OK) return -1;
  return spawn(L, 0);
}

/* ---- the loop ---- */

/* Calling into the loop from inside it (a task's C function, a callback of
 * the loop) would nest uv_run: refused, with the reason for lasterror. */
static int refuse_nested(lua_State *L, ms_runtime *rt, const char *fname) {
  lua_pushfstring(L, "%s called while moonsock's loop runs (from a task or a loop callback)", fname);
  lua_rawseti(L, LUA_REGISTRYINDEX, rt->last_error_ref);
  rt->last_error_oom = 0;
  return -1;
}

static int nested(ms_runtime *rt) { return rt->running || rt->current != NULL; }

/* What moonsock_run waits for (task.c's main_done and others_done): every
 * task that is not a daemon has ended. */
static int pending(ms_runtime *rt) {
  if (rt->only) return rt->only->state != MS_T_DONE;
  if (rt->main && rt->main->state != MS_T_DONE) return 1;
  return rt->nondaemon > 0;
}

int moonsock_run(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (nested(rt)) return refuse_nested(L, rt, "moonsock_run");
  rt->host_failed = 0;
  ms_sched_run(rt);
  return rt->host_failed ? -1 : 0;
}

/* 1 while moonsock_run would go on, 0 when it would have returned (every
 * non-daemon task ended, or none can ever be woken), -1 when a host's task
 * failed during the turn. */
static int run_mode(lua_State *L, uv_run_mode mode, const char *fname) {
  ms_runtime *rt = ms_rt(L);
  if (nested(rt)) return refuse_nested(L, rt, fname);
  rt->host_failed = 0;
  rt->running = 1;
  int alive = uv_run(rt->loop, mode);
  rt->running = 0;
  if (rt->host_failed) return -1;
  return pending(rt) && (alive || rt->ready_head != NULL);
}

int moonsock_run_once(lua_State *L) { return run_mode(L, UV_RUN_ONCE, "moonsock_run_once"); }
int moonsock_run_nowait(lua_State *L) { return run_mode(L, UV_RUN_NOWAIT, "moonsock_run_nowait"); }

int moonsock_fd(lua_State *L) { return uv_backend_fd(ms_rt(L)->loop); }

int moonsock_timeout(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (rt->ready_head) return 0;
  /* libuv answers 0 for a loop with nothing in it: no deadline is the truth. */
  if (!uv_loop_alive(rt->loop)) return -1;
  /* libuv's view is only as fresh as its clock. */
  uv_update_time(rt->loop);
  return uv_backend_timeout(rt->loop);
}

void moonsock_stop(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  /* Outside the loop libuv would keep the request for the next turn. */
  if (!rt->running) return;
  rt->stop = 1;
  uv_stop(rt->loop);
}

const char *moonsock_lasterror(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (rt->last_error_oom) return "not enough memory";
  /* The slot holds false until a host's task fails. The registry keeps the
   * string alive after the pop. */
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->last_error_ref);
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1);
  return msg;
}

void moonsock_close(lua_State *L) {
  if (L) lua_close(L);
}

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

static int open_module(lua_State *L) {
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

/* Another copy of moonsock (bin/moonsock, or a program that embeds it) may
 * have opened this state: its preloaded task core is not this copy's. */
static int foreign_runtime(lua_State *L) {
  int opened = lua_getfield(L, LUA_REGISTRYINDEX, "moonsock.runtime") != LUA_TNIL;
  lua_pop(L, 1);
  if (!opened) return 0;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_getfield(L, -1, "moonsock.core.task");
  int ours = lua_tocfunction(L, -1) == ms_open_task;
  lua_pop(L, 2);
  return !ours;
}

int luaopen_moonsock(lua_State *L) {
  if (!foreign_runtime(L)) return open_module(L);
  /* A second runtime would take over the state's tasks halfway: the copy
   * already running gives its own module, if it has one. */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  if (lua_getfield(L, -1, "moonsock") == LUA_TFUNCTION && lua_tocfunction(L, -1) != open_module) {
    lua_pushliteral(L, "moonsock");
    lua_call(L, 1, 1);
    return 1;
  }
  return luaL_error(L, "moonsock is already running in this Lua state (built into the program): "
                       "require its modules (\"socket\", \"task\", ...) directly");
}
