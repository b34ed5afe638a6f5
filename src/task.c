/*
 * The Lua task type, `moonsock.core.task`: the C core of lua/task.lua. A
 * task is a coroutine run by the scheduler (scheduler.c); its handle is a
 * userdata that the scheduler pins while the task lives. Here are spawning,
 * the handle's state and the waits a script asks for by name (park, sleep,
 * yield, join).
 */
#include <string.h>

#include "scheduler_int.h"

/* By enum ms_task_state. */
static const char *const task_state_names[] = {"?", "ready", "running", "parked", "done"};

static ms_task *task_check(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, MS_TASK_META);
}

/* core.spawn(fn, ...) -> handle: the task starts on a later loop turn. */
static int task_spawn(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  int n = lua_gettop(L);
  ms_task *t = lua_newuserdatauv(L, sizeof *t, 1);
  memset(t, 0, sizeof *t);
  t->rt = rt;
  t->ref = LUA_NOREF;
  luaL_setmetatable(L, MS_TASK_META);
  lua_State *co = lua_newthread(L);
  lua_setiuservalue(L, -2, 1); /* the handle keeps its coroutine alive */
  t->co = co;
  /* A new thread's stack holds about 40 values: room for the rest first,
   * before anything refers to the task. */
  if (!lua_checkstack(co, n)) return luaL_error(L, "too many arguments to spawn");
  lua_pushvalue(L, -1);
  t->ref = luaL_ref(L, LUA_REGISTRYINDEX); /* alive until it ends */
  lua_rotate(L, 1, 1);                      /* handle, fn, args... */
  lua_xmove(L, co, n);
  t->nargs = n - 1;
  t->gen = rt->fork_gen;
  rt->live++;
  rt->nondaemon++;
  ms_sched_enqueue(rt, t);
  return 1;
}

void ms_spawn_host(lua_State *L, int nargs) {
  lua_pushcfunction(L, task_spawn);
  lua_insert(L, -(nargs + 2));
  lua_call(L, nargs + 1, 1);
  task_check(L, -1)->host = 1;
  lua_pop(L, 1);
}

ms_task *ms_spawn_main(lua_State *L, int nargs) {
  ms_runtime *rt = ms_rt(L);
  lua_pushcfunction(L, task_spawn);
  lua_insert(L, -(nargs + 2));
  lua_call(L, nargs + 1, 1);
  ms_task *t = task_check(L, -1);
  rt->live--;
  rt->nondaemon--;
  rt->main = t;
  lua_pop(L, 1);
  return t;
}

static int task_current(lua_State *L) {
  ms_task *t = ms_parking_task(L);
  if (t->ref == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
  return 1;
}

static int task_park_k(lua_State *L, int status, lua_KContext ctx) {
  int reason = ms_wake_reason(L);
  if (reason == MS_WAKE_TIMEOUT && ctx) {
    lua_pushboolean(L, 0);
    return 1;
  }
  ms_check_wake(L);
  lua_pushboolean(L, 1);
  return 1;
}

static double task_opt_timeout(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return -1;
  double s = luaL_checknumber(L, idx);
  luaL_argcheck(L, s == s, idx, "timeout is NaN");
  return s < 0 ? 0 : s;
}

/* core.park([timeout]) -> true when woken by core.wake, false on timeout. */
static int task_park(lua_State *L) {
  double timeout = task_opt_timeout(L, 1);
  lua_settop(L, 0);
  return ms_park_timed(L, timeout, 1, task_park_k, 1);
}

/* core.wake(handle) -> true if the task was parked in core.park and is now ready. */
static int task_wake(lua_State *L) {
  ms_task *t = task_check(L, 1);
  int parked = t->state == MS_T_PARKED && t->in_park;
  if (parked) ms_task_wake(t, MS_WAKE_READY);
  lua_pushboolean(L, parked);
  return 1;
}

static int task_sleep_k(lua_State *L, int status, lua_KContext ctx) {
  if (ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  return 0;
}

static int task_sleep(lua_State *L) {
  double s = ms_timeout_check(L, 1, 1, "sleep length must be non-negative");
  lua_settop(L, 0);
  return ms_park(L, s, 0, task_sleep_k);
}

static int task_yield_k(lua_State *L, int status, lua_KContext ctx) {
  return 0;
}

/* core.yield(): lets every other ready task run once. */
static int task_yield(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  ms_task *t = rt->current;
  lua_settop(L, 0);
  if (!t) return 0;
  ms_park_check(L, rt, t);
  t->wake = MS_WAKE_READY;
  ms_sched_enqueue(rt, t);
  lua_pushlightuserdata(L, MS_PARK);
  return lua_yieldk(L, 1, 0, task_yield_k);
}

static int task_now(lua_State *L) {
  lua_pushnumber(L, ms_now(L));
  return 1;
}

/* core.cancel(handle): the task gets a Cancelled error where it waits now,
 * or at its next blocking call. */
static int task_cancel(lua_State *L) {
  ms_task *t = task_check(L, 1);
  if (t->state == MS_T_DONE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  if (t->state == MS_T_PARKED)
    ms_task_wake(t, MS_WAKE_CANCEL);
  else
    t->cancel = 1;
  lua_pushboolean(L, 1);
  return 1;
}

/* core.cancelled() -> true once, if the current task has a cancel pending. */
static int task_cancelled(lua_State *L) {
  ms_task *t = ms_current(L);
  int c = t && t->cancel;
  if (c) t->cancel = 0;
  lua_pushboolean(L, c);
  return 1;
}

static int task_join_k(lua_State *L, int status, lua_KContext ctx) {
  if (ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  lua_pushboolean(L, task_check(L, 1)->state == MS_T_DONE);
  return 1;
}

/* core.join(handle[, timeout]) -> true once the task has ended, false if
 * the timeout passed first. The wake comes from scheduler.c's scheduler_finish(),
 * not from Lua: see there. Raises like core.park on a cancel or an
 * interrupt. */
static int task_join(lua_State *L) {
  ms_task *t = task_check(L, 1);
  double timeout = task_opt_timeout(L, 2);
  lua_settop(L, 1); /* the handle stays referenced while the caller waits */
  if (t->state == MS_T_DONE) {
    lua_pushboolean(L, 1);
    return 1;
  }
  ms_runtime *rt = ms_rt(L);
  ms_task *me = rt->current;
  if (me == t) return luaL_error(L, "cannot join the current task");
  ms_park_check(L, rt, me);
  if (!me) me = ms_sched_outside(L, rt);
  ms_park_arm(L, me, timeout);
  me->join_next = t->joiners;
  if (t->joiners) t->joiners->join_pprev = &me->join_next;
  me->join_pprev = &t->joiners;
  t->joiners = me;
  return ms_park_task(L, rt, me, 0, task_join_k);
}

/* core.error(handle) -> the error a task's coroutine itself ended with (its
 * function's own errors are task.lua's business: this is for task.lua's
 * code failing, out of memory), or nothing. */
static int task_error(lua_State *L) {
  ms_task *t = task_check(L, 1);
  lua_State *co = t->co;
  if (t->state != MS_T_DONE || !co || lua_status(co) <= LUA_YIELD || lua_gettop(co) == 0) return 0;
  if (!lua_checkstack(co, 1)) return 0;
  lua_pushvalue(co, -1);
  lua_xmove(co, L, 1);
  return 1;
}

static int task_status(lua_State *L) {
  ms_task *t = task_check(L, 1);
  lua_pushstring(L, task_state_names[t->state]);
  return 1;
}

static int task_setdaemon(lua_State *L) {
  ms_task *t = task_check(L, 1);
  int d = lua_toboolean(L, 2);
  ms_runtime *rt = ms_rt(L);
  if (t != rt->main && t->state != MS_T_DONE && t->gen == rt->fork_gen && d != t->daemon)
    rt->nondaemon += d ? -1 : 1;
  t->daemon = d;
  ms_sched_check_exit(rt);
  return 0;
}

static int task_isdaemon(lua_State *L) {
  lua_pushboolean(L, task_check(L, 1)->daemon);
  return 1;
}

static int task_ismain(lua_State *L) {
  lua_pushboolean(L, task_check(L, 1) == ms_rt(L)->main);
  return 1;
}

static int task_count(lua_State *L) {
  lua_pushinteger(L, ms_rt(L)->live);
  return 1;
}

static int task_tostring(lua_State *L) {
  ms_task *t = task_check(L, 1);
  lua_pushfstring(L, "<task %p %s%s>", (void *)t, task_state_names[t->state],
                  t->daemon ? " daemon" : "");
  return 1;
}

static int task_gc(lua_State *L) {
  ms_task *t = task_check(L, 1);
  ms_sched_drop_timer(t);
  return 0;
}

/* core.on_failed(fn): fn(handle, err) hears of every spawned task's
 * uncaught error (scheduler.c calls it). */
static int task_on_failed(lua_State *L) {
  if (!lua_isnil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  ms_sched_set_failed_hook(L);
  return 0;
}

int ms_open_task(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"spawn", task_spawn},         {"current", task_current},
      {"park", task_park},           {"wake", task_wake},
      {"sleep", task_sleep},         {"yield", task_yield},
      {"now", task_now},             {"cancel", task_cancel},
      {"cancelled", task_cancelled}, {"status", task_status},
      {"setdaemon", task_setdaemon}, {"isdaemon", task_isdaemon},
      {"ismain", task_ismain},       {"count", task_count},
      {"join", task_join},           {"error", task_error},
      {"on_failed", task_on_failed}, {NULL, NULL}};
  /* Filled unless a former open got as far as __index, which is set last:
   * an open that ran out of memory halfway leaves the registry's metatable
   * behind, and luaL_newmetatable would then answer that it exists. */
  luaL_newmetatable(L, MS_TASK_META);
  if (lua_getfield(L, -1, "__index") == LUA_TTABLE) {
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
    lua_pushcfunction(L, task_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, task_gc);
    lua_setfield(L, -2, "__gc");
    lua_newtable(L); /* methods, filled by lua/task.lua */
    lua_setfield(L, -2, "__index");
  }
  luaL_newlib(L, funcs);
  lua_getfield(L, -2, "__index");
  lua_setfield(L, -2, "methods");
  lua_pushlightuserdata(L, MS_PARK);
  lua_setfield(L, -2, "PARK");
  return 1;
}
