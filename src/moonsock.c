/*
 * The front door: where a Lua state gets moonsock and gives it back. Opening
 * (ms_runtime_open: the runtime, the module loaders, the error factory, the
 * boot code) and teardown (when the state closes) live here and nowhere
 * else; so do the embedding interface of include/moonsock.h and the Lua C
 * module that stock lua5.4 loads with require "moonsock". Everything below
 * reaches the scheduler through its verbs (scheduler.h); every entry point that
 * can raise runs under lua_pcall, since a host has no handler of its own
 * around it.
 *
 * The entry points call each other only through static functions: the
 * exported names can be interposed (a program that embeds moonsock and is
 * linked with -Wl,-E may also load moonsock.so), and a call from one copy
 * into the other would mix two runtimes in one state.
 */
#include <string.h>

#include <lualib.h>

#include "embedded.h"
#include "moonsock.h"
#include "scheduler.h"

/* The registry field holding the userdata that owns the runtime. */
#define MOONSOCK_RUNTIME_FIELD "moonsock.runtime"

/* ---- the embedded Lua modules ---- */

static int moonsock_load_embedded(lua_State *L) {
  const ms_embedded *m = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbuffer(L, m->source, m->size, m->chunkname) != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static void moonsock_preload(lua_State *L, const char *name, lua_CFunction f) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

static void moonsock_preload_embedded(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const ms_embedded *m = ms_embedded_modules; m->name; m++) {
    lua_pushlightuserdata(L, (void *)m);
    lua_pushcclosure(L, moonsock_load_embedded, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}

/* ---- the runtime's lifetime ---- */

/* A full userdata in the registry owns the runtime, so lua_close tears it
 * down after every socket's __gc has run. */
static int moonsock_runtime_gc(lua_State *L) {
  ms_runtime **box = lua_touserdata(L, 1);
  ms_runtime *rt = *box;
  if (!rt) return 0;
  *box = NULL;
  ms_signal_close(rt);
  ms_sched_free(rt);
  return 0;
}

/* What opening adds to the registry once the runtime exists: the module
 * loaders, the error factory, the boot code. Under lua_pcall, so that a
 * failure (out of memory) can take the half-opened runtime back. */
static int moonsock_open_modules_p(lua_State *L) {
  ms_runtime *rt = lua_touserdata(L, 1);
  ms_sched_make_slots(L, rt);

  /* The C cores, by the names the Lua modules require them under. */
  static const struct {
    const char *name;
    lua_CFunction open;
  } cores[] = {
      {"moonsock.core.task", ms_open_task},
      {"moonsock.core.socket", ms_open_socket},
      {"moonsock.core.ssl", ms_open_ssl},
      {"select", ms_open_select},
      {"moonsock.posix", ms_open_posix},
      {"moonsock.core.signal", ms_open_signal},
      {"moonsock.core.daemon", ms_open_daemon},
      {"errno", ms_open_errno},
      {"moonsock.core.luasocket", ms_open_luasocket},
      {"mime.core", ms_open_mime},
      {"moonsock.core.process", ms_open_process},
      {"moonsock.core.stream", ms_open_stream},
  };
  for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++) moonsock_preload(L, cores[i].name, cores[i].open);
  moonsock_preload(L, "moonsock", luaopen_moonsock); /* in bin/moonsock as in stock Lua */
  moonsock_preload_embedded(L);

  /* The error factory and the describer of uncaught errors live in Lua. */
  ms_errors_open(L);
  /* Blocking calls inside user coroutines must reach the scheduler. */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "moonsock.boot");
  lua_call(L, 1, 0);
  return 0;
}

/* Each step may run out of memory. The box that owns the runtime comes
 * first and frees whatever it holds when collected (moonsock_runtime_gc),
 * so a failure leaks neither memory nor the loop's fds; a failure after the
 * runtime was published in the registry unpublishes it, so the next open
 * starts afresh instead of finding half a runtime. */
ms_runtime *ms_runtime_open(lua_State *L, uv_loop_t *loop) {
  ms_runtime *rt = ms_sched_find(L);
  if (rt) return rt;

  ms_runtime **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  lua_newtable(L);
  lua_pushcfunction(L, moonsock_runtime_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);

  rt = ms_sched_new(L, loop);
  *box = rt;

  lua_setfield(L, LUA_REGISTRYINDEX, MOONSOCK_RUNTIME_FIELD);
  ms_sched_bind(L, rt);

  lua_pushcfunction(L, moonsock_open_modules_p);
  lua_pushlightuserdata(L, rt);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    /* Setting existing keys to nil allocates nothing. */
    ms_sched_bind(L, NULL);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, MOONSOCK_RUNTIME_FIELD);
    lua_error(L);
  }
  return rt;
}

/* ---- opening ---- */

static int moonsock_open_module(lua_State *L);

/* require "moonsock" then gives this copy's module, never moonsock.so from
 * package.cpath (a second runtime in the same state). */
static void moonsock_preload_module(lua_State *L) {
  moonsock_preload(L, "moonsock", moonsock_open_module);
}

/* moonsock's Lua modules use these as they load; checking first keeps a
 * failed moonsock_open from leaving a half-opened runtime behind. */
static void moonsock_check_libs(lua_State *L) {
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

static int moonsock_open_p(lua_State *L) {
  uv_loop_t *loop = lua_touserdata(L, 1);
  moonsock_check_libs(L);
  ms_runtime_open(L, loop);
  if (loop && ms_loop(L) != loop)
    return luaL_error(L, "moonsock_open: moonsock already runs on another loop in this state");
  moonsock_preload_module(L);
  return 0;
}

int moonsock_open(lua_State *L, struct uv_loop_s *loop) {
  lua_pushcfunction(L, moonsock_open_p);
  lua_pushlightuserdata(L, loop);
  return lua_pcall(L, 1, 0, 0) == LUA_OK ? 0 : -1;
}

static int moonsock_newstate_p(lua_State *L) {
  luaL_openlibs(L);
  ms_runtime_open(L, NULL);
  moonsock_preload_module(L);
  return 0;
}

lua_State *moonsock_newstate(void) {
  lua_State *L = luaL_newstate();
  if (!L) return NULL;
  lua_pushcfunction(L, moonsock_newstate_p);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_close(L);
    return NULL;
  }
  return L;
}

/* Closing the state runs moonsock_runtime_gc, after every socket's __gc. */
void moonsock_close(lua_State *L) {
  if (L) lua_close(L);
}

/* ---- tasks ---- */

static int moonsock_spawn_p(lua_State *L) {
  ms_spawn_host(L, lua_gettop(L) - 1);
  return 0;
}

static int moonsock_spawn_n(lua_State *L, int nargs) {
  if (nargs < 0 || lua_gettop(L) < nargs + 1) {
    lua_pushliteral(L, "moonsock_spawn: not enough values on the stack");
    return -1;
  }
  if (lua_type(L, -(nargs + 1)) != LUA_TFUNCTION) {
    lua_pop(L, nargs + 1);
    lua_pushliteral(L, "moonsock_spawn: not a function");
    return -1;
  }
  lua_pushcfunction(L, moonsock_spawn_p);
  lua_insert(L, -(nargs + 2));
  return lua_pcall(L, nargs + 1, 0, 0) == LUA_OK ? 0 : -1;
}

int moonsock_spawn(lua_State *L, int nargs) { return moonsock_spawn_n(L, nargs); }

int moonsock_spawnfile(lua_State *L, const char *path) {
  if (luaL_loadfile(L, path) != LUA_OK) return -1;
  return moonsock_spawn_n(L, 0);
}

int moonsock_spawnstring(lua_State *L, const char *code, const char *chunkname) {
  if (luaL_loadbuffer(L, code, strlen(code), chunkname ? chunkname : code) != LUA_OK) return -1;
  return moonsock_spawn_n(L, 0);
}

/* ---- the loop ---- */

/* Calling into the loop from inside it (a task's C function, a callback of
 * the loop) would nest uv_run: refused, with the reason for lasterror. */
static int moonsock_refuse_nested(lua_State *L, ms_runtime *rt, const char *fname) {
  lua_pushfstring(L, "%s called while moonsock's loop runs (from a task or a loop callback)", fname);
  ms_sched_keep_error(L, rt);
  return -1;
}

int moonsock_run(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (ms_sched_busy(rt)) return moonsock_refuse_nested(L, rt, "moonsock_run");
  return ms_sched_run(rt) ? -1 : 0;
}

static int moonsock_run_mode(lua_State *L, uv_run_mode mode, const char *fname) {
  ms_runtime *rt = ms_rt(L);
  if (ms_sched_busy(rt)) return moonsock_refuse_nested(L, rt, fname);
  return ms_sched_turn(rt, mode);
}

int moonsock_run_once(lua_State *L) {
  return moonsock_run_mode(L, UV_RUN_ONCE, "moonsock_run_once");
}

int moonsock_run_nowait(lua_State *L) {
  return moonsock_run_mode(L, UV_RUN_NOWAIT, "moonsock_run_nowait");
}

int moonsock_fd(lua_State *L) { return uv_backend_fd(ms_loop(L)); }

int moonsock_timeout(lua_State *L) { return ms_sched_timeout(ms_rt(L)); }

void moonsock_stop(lua_State *L) { ms_sched_stop(ms_rt(L)); }

const char *moonsock_lasterror(lua_State *L) { return ms_sched_last_error(L, ms_rt(L)); }

/* ---- require "moonsock" from stock Lua ---- */

/* moonsock.run(): runs the spawned tasks to completion, from code outside
 * any task (a stock lua5.4's main chunk). */
static int moonsock_mod_run(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (ms_current(L)) return luaL_error(L, "moonsock.run() called from inside a task");
  if (ms_sched_in_loop(rt)) return luaL_error(L, "moonsock.run() called while the loop runs");
  ms_sched_run(rt);
  return 0;
}

/* The modules load on first use: moonsock.socket is require "socket". */
static int moonsock_mod_index(lua_State *L) {
  const char *name = luaL_checkstring(L, 2);
  if (strcmp(name, "urllib") == 0) name = "urllib.parse";
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) return 0;
  lua_pushvalue(L, -1);
  lua_setfield(L, 1, luaL_checkstring(L, 2));
  return 1;
}

static int moonsock_open_module(lua_State *L) {
  ms_runtime_open(L, NULL);
  lua_newtable(L);
  lua_pushcfunction(L, moonsock_mod_run);
  lua_setfield(L, -2, "run");
  lua_pushliteral(L, MOONSOCK_VERSION);
  lua_setfield(L, -2, "version");
  lua_newtable(L);
  lua_pushcfunction(L, moonsock_mod_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  return 1;
}

/* Another copy of moonsock (bin/moonsock, or a program that embeds it) may
 * have opened this state: its preloaded task core is not this copy's. */
static int moonsock_foreign_runtime(lua_State *L) {
  int opened = lua_getfield(L, LUA_REGISTRYINDEX, MOONSOCK_RUNTIME_FIELD) != LUA_TNIL;
  lua_pop(L, 1);
  if (!opened) return 0;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_getfield(L, -1, "moonsock.core.task");
  int ours = lua_tocfunction(L, -1) == ms_open_task;
  lua_pop(L, 2);
  return !ours;
}

int luaopen_moonsock(lua_State *L) {
  if (!moonsock_foreign_runtime(L)) return moonsock_open_module(L);
  /* A second runtime would take over the state's tasks halfway: the copy
   * already running gives its own module, if it has one. */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  if (lua_getfield(L, -1, "moonsock") == LUA_TFUNCTION &&
      lua_tocfunction(L, -1) != moonsock_open_module) {
    lua_pushliteral(L, "moonsock");
    lua_call(L, 1, 1);
    return 1;
  }
  return luaL_error(L, "moonsock is already running in this Lua state (built into the program): "
                       "require its modules (\"socket\", \"task\", ...) directly");
}
