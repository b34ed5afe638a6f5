/*
 * The runtime: one per Lua state, created the first time moonsock's modules
 * are opened into it. It owns (or borrows) the libuv loop and the scheduler,
 * makes the embedded Lua modules requirable, and raises Python-style errors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "moonsock.h"
#include "runtime_int.h"

const char ms_errors_key = 0;
static const char runtime_key = 0;

/* The runtime lives in the registry. Lua's per-thread extra space would be
 * quicker, but a coroutine made before moonsock was opened copies whatever
 * the host left there, and a host may keep its own pointer in it. */
ms_runtime *ms_rt(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &runtime_key);
  ms_runtime *rt = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!rt) luaL_error(L, "moonsock is not opened in this Lua state");
  return rt;
}

uv_loop_t *ms_loop(lua_State *L) { return ms_rt(L)->loop; }

ms_iomap *ms_iomap_of(lua_State *L) { return &ms_rt(L)->iomap; }

/* ---- errors ---- */

/* Calls moonsock.errors' factory; it picks the class from cls or, for an
 * OSError, from the errno, as Python's OSError constructor does. */
void ms_push_error(lua_State *L, const char *cls, int err, const char *msg) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &ms_errors_key);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_pushstring(L, msg);
    return;
  }
  lua_pushstring(L, cls);
  if (err)
    lua_pushinteger(L, err);
  else
    lua_pushnil(L);
  lua_pushstring(L, msg);
  lua_call(L, 3, 1);
}

int ms_raise(lua_State *L, const char *cls, int err, const char *msg) {
  ms_push_error(L, cls, err, msg);
  return lua_error(L);
}

int ms_raise_errno(lua_State *L, int err) {
  return ms_raise(L, "OSError", err, strerror(err));
}

/* ---- embedded modules ---- */

static int load_embedded(lua_State *L) {
  const ms_embedded *m = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbuffer(L, m->source, m->size, m->chunkname) != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static void preload(lua_State *L, const char *name, lua_CFunction f) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

static void preload_embedded(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const ms_embedded *m = ms_embedded_modules; m->name; m++) {
    lua_pushlightuserdata(L, (void *)m);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}

static void require_into(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
}

/* ---- the runtime's lifetime ---- */

static void close_leftover(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

/* A full userdata in the registry owns the runtime, so lua_close tears it
 * down after every socket's __gc has run. */
static int runtime_gc(lua_State *L) {
  ms_runtime **box = lua_touserdata(L, 1);
  ms_runtime *rt = *box;
  if (!rt) return 0;
  *box = NULL;
  ms_sched_close(rt);
  if (rt->owns_loop) {
    /* Sockets and timers closed theirs in __gc; anything left (a handle a
     * module forgot) is closed here, and in-flight resolver work is waited
     * for, so uv_loop_close cannot fail and nothing leaks. */
    uv_walk(rt->loop, close_leftover, NULL);
    uv_run(rt->loop, UV_RUN_DEFAULT);
    uv_loop_close(rt->loop);
  } else {
    uv_run(rt->loop, UV_RUN_NOWAIT); /* the host's loop: just finish our closes */
  }
  ms_iomap_free(&rt->iomap);
  free(rt);
  return 0;
}

/* What opening adds to the registry once the runtime exists: the module
 * loaders, the error factory, the boot code. Under lua_pcall, so that a
 * failure (out of memory) can take the half-opened runtime back. */
static int open_modules_p(lua_State *L) {
  ms_runtime *rt = lua_touserdata(L, 1);
  /* Registry slots for the errors the loop's callbacks keep (task.c): made
   * now, so storing an error there later cannot run out of memory. */
  lua_pushboolean(L, 0);
  rt->last_error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushboolean(L, 0);
  rt->main_error_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  preload(L, "moonsock.core.task", ms_open_task);
  preload(L, "moonsock.core.socket", ms_open_socket);
  preload(L, "select", ms_open_select);
  preload(L, "moonsock.posix", ms_open_posix);
  preload(L, "errno", ms_open_errno);
  preload(L, "moonsock.core.luasocket", ms_open_luasocket);
  preload(L, "mime.core", ms_open_mime);
  preload(L, "moonsock", luaopen_moonsock); /* in bin/moonsock as in stock Lua */
  preload_embedded(L);

  /* The error factory and the describer of uncaught errors live in Lua. */
  require_into(L, "moonsock.errors");
  lua_getfield(L, -1, "raise_new");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &ms_errors_key);
  lua_getfield(L, -1, "describe");
  lua_setfield(L, LUA_REGISTRYINDEX, "moonsock.describe");
  lua_pop(L, 1);
  /* Blocking calls inside user coroutines must reach the scheduler. */
  require_into(L, "moonsock.boot");
  lua_pop(L, 1);
  return 0;
}

/* Each step may run out of memory. The box that owns the runtime comes
 * first and frees whatever it holds when collected (runtime_gc), so a
 * failure leaks neither memory nor the loop's fds; a failure after the
 * runtime was published in the registry unpublishes it, so the next open
 * starts afresh instead of finding half a runtime. */
ms_runtime *ms_runtime_open(lua_State *L, uv_loop_t *loop) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &runtime_key);
  ms_runtime *rt = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (rt) return rt;

  ms_runtime **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  lua_newtable(L);
  lua_pushcfunction(L, runtime_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);

  rt = calloc(1, sizeof *rt);
  if (!rt) {
    luaL_error(L, "not enough memory");
    return NULL;
  }
  if (loop) {
    rt->loop = loop;
  } else {
    int rc = uv_loop_init(&rt->own_loop);
    if (rc) {
      free(rt);
      luaL_error(L, "cannot create the event loop: %s", uv_strerror(rc));
      return NULL;
    }
    rt->loop = &rt->own_loop;
    rt->owns_loop = 1;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  rt->L = lua_tothread(L, -1);
  lua_pop(L, 1);
  ms_sched_init(rt);
  *box = rt;

  lua_setfield(L, LUA_REGISTRYINDEX, "moonsock.runtime");
  lua_pushlightuserdata(L, rt);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &runtime_key);

  lua_pushcfunction(L, open_modules_p);
  lua_pushlightuserdata(L, rt);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    /* Setting existing keys to nil allocates nothing. */
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &runtime_key);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "moonsock.runtime");
    lua_error(L);
  }
  return rt;
}
