/*
 * The task scheduler and the `moonsock.core.task` module.
 *
 * A task is a coroutine. A C function that would block parks its task: it
 * registers what it waits for (an fd, a timer, off-loop work), marks the task
 * parked and yields a PARK marker with lua_yieldk, naming a continuation that
 * retries. Wake-ups only queue the task; the queue is run after each poll, so
 * a task is never resumed from inside another one.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_int.h"

/* The value a parking task yields: a plain coroutine.yield() yields anything
 * else, and the scheduler then only requeues the task. */
static const char park_marker = 0;
#define PARK ((void *)&park_marker)

static const char task_meta[] = "moonsock.task";

/* ---- the ready queue ---- */

static void on_idle(uv_idle_t *h);

static void enqueue(ms_runtime *rt, ms_task *t) {
  t->state = MS_T_READY;
  t->next_ready = NULL;
  *rt->ready_tail = t;
  rt->ready_tail = &t->next_ready;
  if (!uv_is_active((uv_handle_t *)&rt->idle)) uv_idle_start(&rt->idle, on_idle);
}

static void stop_timer(ms_task *t) {
  if (t->timer) uv_timer_stop(t->timer);
}

static void forget_work(ms_task *t);

static void unlink_joiner(ms_task *t) {
  if (!t->join_pprev) return;
  *t->join_pprev = t->join_next;
  if (t->join_next) t->join_next->join_pprev = t->join_pprev;
  t->join_next = NULL;
  t->join_pprev = NULL;
}

/* Detaches a task from whatever it waited on; the first wake wins. */
void ms_task_wake(ms_task *t, int reason) {
  if (t->state != MS_T_PARKED) return;
  t->wake = reason;
  t->in_park = 0;
  stop_timer(t);
  unlink_joiner(t);
  if (t->io) {
    ms_io_unwait(t->io, &t->waiter);
    t->io = NULL;
  }
  if (t->work) forget_work(t); /* the request lives on; nobody waits for it */
  if (t->co)
    enqueue(t->rt, t);
  else
    t->state = MS_T_READY; /* a wait outside any task: its loop sees this */
}

/* ---- ending a task ---- */

static void release_timer(ms_task *t);

/* The text of a task's uncaught error: Python's description and Lua's
 * traceback. Runs under lua_pcall: it allocates, and report_error is called
 * from a loop callback, where a memory error would reach lua_atpanic. */
static int describe_p(lua_State *L) {
  ms_task *t = lua_touserdata(L, 1);
  ms_runtime *rt = t->rt;
  lua_getfield(L, LUA_REGISTRYINDEX, "moonsock.describe");
  lua_pushvalue(L, 2); /* the error value */
  if (t == rt->main && luaL_getmetafield(L, -1, "__name") != LUA_TNIL) {
    rt->main_interrupted = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "KeyboardInterrupt") == 0;
    lua_pop(L, 1);
  }
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isstring(L, -1)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "(error object is not a string)");
  }
  /* The dead coroutine keeps its stack, so the traceback still shows where
   * the error came from. */
  luaL_traceback(L, t->co, lua_tostring(L, -1), 0);
  return 1;
}

/* The hook task.lua sets with core.on_failed(fn): fn(handle, err) records
 * the error for join and answers true to keep it quiet (a Cancelled). The
 * error reaches it here rather than through an xpcall in every task, whose
 * C frame would reserve stack in every idle coroutine. Runs under lua_pcall
 * as describe_p does. */
static const char failed_hook_key = 0;

static int failed_hook_p(lua_State *L) {
  ms_task *t = lua_touserdata(L, 1);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &failed_hook_key) != LUA_TFUNCTION) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref); /* the handle */
  luaL_checkstack(t->co, 1, NULL);
  lua_pushvalue(t->co, -1); /* the error value, which the coroutine keeps */
  lua_xmove(t->co, L, 1);
  lua_call(L, 2, 1);
  return 1;
}

static int task_on_failed(lua_State *L) {
  if (!lua_isnil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &failed_hook_key);
  return 0;
}

/* Keeps or prints a task's uncaught error. When memory runs out on the way
 * (describe_p failed) the message is the memory error's own, which Lua
 * preallocates; the registry slots it goes to were made when the runtime
 * opened, so storing it allocates nothing either. A host whose stack is
 * full gets the text through a flag. */
static void report_error(ms_runtime *rt, ms_task *t) {
  lua_State *L = rt->L;
  const char *msg = "not enough memory";
  int kept = 0;
  if (lua_checkstack(L, 3)) {
    lua_pushcfunction(L, describe_p);
    lua_pushlightuserdata(L, t);
    /* A copy of the error value: the dead coroutine keeps the original
     * for core.error. */
    if (lua_checkstack(t->co, 1)) lua_pushvalue(t->co, -1);
    lua_xmove(t->co, L, 1);
    lua_pcall(L, 2, 1, 0);
    if (lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);
      kept = 1;
    } else {
      lua_pop(L, 1);
    }
  }
  if (t == rt->main) {
    if (rt->main_error) rt->main_error(rt, msg);
    if (kept) lua_rawseti(L, LUA_REGISTRYINDEX, rt->main_error_ref);
  } else if (t->host) {
    if (kept) lua_rawseti(L, LUA_REGISTRYINDEX, rt->last_error_ref);
    rt->last_error_oom = !kept;
    rt->host_failed = 1;
  } else {
    int quiet = 0;
    if (lua_checkstack(L, 2)) {
      lua_pushcfunction(L, failed_hook_p);
      lua_pushlightuserdata(L, t);
      if (lua_pcall(L, 1, 1, 0) == LUA_OK) quiet = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    if (!quiet) lua_writestringerror("moonsock: uncaught error in task: %s\n", msg);
    if (kept) lua_pop(L, 1);
  }
}

static int main_done(ms_runtime *rt) {
  if (rt->only) return rt->only->state == MS_T_DONE;
  return !rt->main || rt->main->state == MS_T_DONE;
}

static int others_done(ms_runtime *rt) { return rt->main_only || rt->nondaemon == 0; }

static void check_exit(ms_runtime *rt) {
  if (main_done(rt) && others_done(rt) && rt->running)
    uv_stop(rt->loop);
}

/* Wakes the tasks in core.join on t without allocating anything, so they
 * learn that t ended even when its last Lua code (task.lua's bookkeeping)
 * ran out of memory. */
static void finish(ms_runtime *rt, ms_task *t, int status) {
  t->state = MS_T_DONE;
  release_timer(t);
  while (t->joiners) {
    ms_task *j = t->joiners;
    unlink_joiner(j);
    ms_task_wake(j, MS_WAKE_READY);
  }
  if (status != LUA_OK) {
    report_error(rt, t);
    /* An error ends a coroutine without closing its pending to-be-closed
     * variables (a lock's hand-over, a socket's close): close them now, as
     * Python runs a dying thread's finally blocks. The error object stays
     * on the thread's stack for core.error. They run as the task (an RLock
     * checks its owner). */
    if (t->co) {
      ms_task *prev = rt->current;
      rt->current = t;
      lua_resetthread(t->co);
      rt->current = prev;
    }
  }
  if (t == rt->main) {
    rt->main_status = status;
  } else {
    rt->live--;
    if (!t->daemon) rt->nondaemon--;
  }
  luaL_unref(rt->L, LUA_REGISTRYINDEX, t->ref);
  t->ref = LUA_NOREF;
  check_exit(rt);
}

/* ---- running tasks ---- */

static void resume(ms_runtime *rt, ms_task *t) {
  ms_task *prev = rt->current;
  int nargs = 0, nres = 0;
  if (!t->started) {
    t->started = 1;
    nargs = t->nargs;
  }
  rt->current = t;
  t->state = MS_T_RUNNING;
  int status = lua_resume(t->co, NULL, nargs, &nres);
  rt->current = prev;
  if (status == LUA_YIELD) {
    int parked = nres == 1 && lua_touserdata(t->co, -1) == PARK;
    lua_pop(t->co, nres);
    /* A parking function set MS_T_PARKED before yielding; anything else is a
     * plain coroutine.yield() at the top of the task: run it again later. */
    if (!parked || t->state == MS_T_RUNNING) enqueue(rt, t);
  } else {
    finish(rt, t, status);
  }
}

/* Runs the tasks that were ready when it started; those they wake wait for
 * the next round, after the loop has polled, so io is never starved. */
static void run_ready(ms_runtime *rt) {
  ms_task *t = rt->ready_head;
  rt->ready_head = NULL;
  rt->ready_tail = &rt->ready_head;
  while (t) {
    ms_task *next = t->next_ready;
    t->next_ready = NULL;
    /* In a forked child the parent's other tasks are frozen: never resumed. */
    if (t->state == MS_T_READY && t->gen == rt->fork_gen) resume(rt, t);
    t = next;
  }
  if (!rt->ready_head) uv_idle_stop(&rt->idle);
}

static void on_idle(uv_idle_t *h) { run_ready(h->data); }
static void on_check(uv_check_t *h) { run_ready(h->data); }

/* ---- timers ---- */

static void on_timer(uv_timer_t *h) {
  ms_task *t = h->data;
  if (t) ms_task_wake(t, MS_WAKE_TIMEOUT);
}

static void free_handle(uv_handle_t *h) { free(h); }

static void release_timer(ms_task *t) {
  if (!t->timer) return;
  uv_timer_stop(t->timer);
  t->timer->data = NULL;
  uv_close((uv_handle_t *)t->timer, free_handle);
  t->timer = NULL;
}

static int start_timer(ms_task *t, double timeout) {
  if (!t->timer) {
    t->timer = malloc(sizeof *t->timer);
    if (!t->timer) return UV_ENOMEM;
    uv_timer_init(t->rt->loop, t->timer);
    t->timer->data = t;
  }
  /* libuv measures from the time cached at the top of the loop turn; a task
   * that ran long (or a blocking io.popen) would see its timer fire early. */
  uv_update_time(t->rt->loop);
  double ms = timeout * 1000.0;
  /* libuv's clock is whole milliseconds, truncated: a timer can fire up to
   * 1 ms early by the monotonic clock, and a wait must last at least as long
   * as asked, as Python's do. */
  uint64_t delay = ms <= 0 ? 0 : ms >= 1e15 ? (uint64_t)1e15 : (uint64_t)ceil(ms) + 1;
  return uv_timer_start(t->timer, on_timer, delay, 0);
}

/* ---- parking ---- */

ms_task *ms_current(lua_State *L) { return ms_rt(L)->current; }

double ms_now(lua_State *L) {
  (void)L;
  return (double)uv_hrtime() / 1e9;
}

int ms_wake_reason(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  return rt->current ? rt->current->wake : rt->outside ? rt->outside->wake : MS_WAKE_NONE;
}

int ms_check_wake(lua_State *L) {
  switch (ms_wake_reason(L)) {
    case MS_WAKE_READY: return 0;
    case MS_WAKE_TIMEOUT: return ms_raise(L, "timeout", 0, "timed out");
    case MS_WAKE_CLOSED: return ms_raise_errno(L, EBADF);
    case MS_WAKE_CANCEL: return ms_raise(L, "Cancelled", 0, "");
    case MS_WAKE_INTERRUPT: return ms_raise(L, "KeyboardInterrupt", 0, "");
    case MS_WAKE_DEADLOCK:
      return ms_raise(L, "RuntimeError", 0,
                      "deadlock: the task waits for something no other task can do");
    default: return 0;
  }
}

static void on_io_ready(ms_waiter *w, int status) {
  ms_task *t = (ms_task *)((char *)w - offsetof(ms_task, waiter));
  t->io = NULL; /* already unlinked by io.c */
  ms_task_wake(t, status == MS_IO_CLOSED ? MS_WAKE_CLOSED : MS_WAKE_READY);
}

/* SIGINT goes to the main task while it lives, else to code running outside
 * any task (-e, the REPL, a C host); with neither, the process ends. */
static int main_alive(ms_runtime *rt) { return rt->main && rt->main->state != MS_T_DONE; }

/* Raises what is pending for the task before it may park: a cancel, a
 * SIGINT for the main task, or a context that cannot yield. */
static void check_can_park(lua_State *L, ms_runtime *rt, ms_task *t) {
  if (!t) {
    if (rt->running)
      luaL_error(L, "cannot block here: called from a loop callback outside any task");
    if (rt->interrupt && !main_alive(rt)) {
      rt->interrupt = 0;
      ms_raise(L, "KeyboardInterrupt", 0, "");
    }
    return;
  }
  if (t->cancel) {
    t->cancel = 0;
    ms_raise(L, "Cancelled", 0, "");
  }
  if (t == rt->main && rt->interrupt) {
    rt->interrupt = 0;
    ms_raise(L, "KeyboardInterrupt", 0, "");
  }
  if (!lua_isyieldable(L))
    luaL_error(L, "attempt to block in a non-yieldable context "
                  "(a metamethod or C callback that cannot yield)");
}

/* Parks t (already registered with its wait sources) or, outside any task,
 * runs the loop until the wait ends and then calls k itself. */
static int park(lua_State *L, ms_runtime *rt, ms_task *t, lua_KContext ctx, lua_KFunction k) {
  t->state = MS_T_PARKED;
  if (t->co) {
    lua_pushlightuserdata(L, PARK);
    return lua_yieldk(L, 1, ctx, k);
  }
  rt->running = 1;
  while (t->state == MS_T_PARKED) {
    if (!uv_run(rt->loop, UV_RUN_ONCE) && t->state == MS_T_PARKED && !rt->ready_head)
      ms_task_wake(t, MS_WAKE_DEADLOCK);
  }
  rt->running = 0;
  t->state = MS_T_RUNNING;
  return k(L, LUA_YIELD, ctx);
}

/* The handle that stands for a caller outside any task (a C host, -e code):
 * made once, so core.current() and core.wake() work there too. */
static ms_task *outside(lua_State *L, ms_runtime *rt) {
  if (!rt->outside) {
    ms_task *t = lua_newuserdatauv(L, sizeof *t, 1);
    memset(t, 0, sizeof *t);
    t->rt = rt;
    t->state = MS_T_RUNNING;
    t->started = 1;
    luaL_setmetatable(L, task_meta);
    t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    rt->outside = t;
  }
  return rt->outside;
}

static int arm(lua_State *L, ms_task *t, double timeout) {
  t->wake = MS_WAKE_NONE;
  t->in_park = 0;
  if (timeout >= 0) {
    int rc = start_timer(t, timeout);
    if (rc) return luaL_error(L, "cannot start timer: %s", uv_strerror(rc));
  }
  return 0;
}

/* in_park marks a wait that core.wake may end (core.park's, not sleep's). */
static int park_timed(lua_State *L, double timeout, lua_KContext ctx, lua_KFunction k,
                      int in_park) {
  ms_runtime *rt = ms_rt(L);
  ms_task *t = rt->current;
  check_can_park(L, rt, t);
  if (!t) t = outside(L, rt);
  arm(L, t, timeout);
  t->in_park = in_park;
  return park(L, rt, t, ctx, k);
}

int ms_park(lua_State *L, double timeout, lua_KContext ctx, lua_KFunction k) {
  return park_timed(L, timeout, ctx, k, 0);
}

int ms_park_io(lua_State *L, ms_io *io, int events, double timeout, lua_KContext ctx,
               lua_KFunction k) {
  ms_runtime *rt = ms_rt(L);
  ms_task *t = rt->current;
  check_can_park(L, rt, t);
  if (!t) t = outside(L, rt);
  t->waiter.ready = on_io_ready;
  int rc = ms_io_wait(io, &t->waiter, events);
  if (rc == UV_EBADF) return ms_raise_errno(L, EBADF);
  if (rc) return ms_raise_errno(L, -rc);
  t->io = io;
  arm(L, t, timeout);
  return park(L, rt, t, ctx, k);
}

/* ---- off-loop work ---- */

enum { W_IDLE, W_FLIGHT, W_DONE };

struct ms_workreq {
  uv_work_t req;
  ms_task *task;     /* waiting for it; NULL once nobody is */
  int state;
  int orphaned;      /* its holder was collected while in flight */
  void (*run)(void *);
  void (*destroy)(void *);
  union {
    max_align_t align;
    char bytes[1];
  } data[];
};

static const char work_meta[] = "moonsock.work";

/* Both links go: a request that finishes later must not wake the task out of
 * whatever it waits for by then. */
static void forget_work(ms_task *t) {
  t->work->task = NULL;
  t->work = NULL;
}

static void work_free(ms_workreq *w) {
  if (w->destroy) w->destroy(w->data);
  free(w);
}

static int work_gc(lua_State *L) {
  ms_workreq **box = luaL_checkudata(L, 1, work_meta);
  ms_workreq *w = *box;
  *box = NULL;
  if (!w) return 0;
  if (w->state == W_FLIGHT) {
    w->orphaned = 1; /* after_work frees it */
    w->task = NULL;
  } else {
    work_free(w);
  }
  return 0;
}

void *ms_work_new(lua_State *L, size_t size, void (*run)(void *), void (*destroy)(void *)) {
  ms_workreq **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  /* Checked by its field, not by luaL_newmetatable's answer: an earlier
   * call that ran out of memory may have left the metatable without it. */
  luaL_newmetatable(L, work_meta);
  if (lua_getfield(L, -1, "__gc") != LUA_TFUNCTION) {
    lua_pop(L, 1);
    lua_pushcfunction(L, work_gc);
    lua_setfield(L, -2, "__gc");
  } else {
    lua_pop(L, 1);
  }
  lua_setmetatable(L, -2);
  ms_workreq *w = calloc(1, sizeof *w + size);
  if (!w) luaL_error(L, "not enough memory");
  w->run = run;
  w->destroy = destroy;
  *box = w;
  return w->data;
}

void *ms_work_data(lua_State *L, int idx) {
  ms_workreq **box = luaL_checkudata(L, idx, work_meta);
  return *box ? (*box)->data : NULL;
}

static void work_run(uv_work_t *req) {
  ms_workreq *w = req->data;
  w->run(w->data);
}

static void work_after(uv_work_t *req, int status) {
  ms_workreq *w = req->data;
  (void)status;
  w->state = W_DONE;
  if (w->orphaned) {
    work_free(w);
    return;
  }
  ms_task *t = w->task;
  w->task = NULL;
  if (t) {
    t->work = NULL;
    ms_task_wake(t, MS_WAKE_READY);
  }
}

int ms_work_run(lua_State *L, int idx, lua_KContext ctx, lua_KFunction k) {
  ms_runtime *rt = ms_rt(L);
  ms_workreq **box = luaL_checkudata(L, idx, work_meta);
  ms_workreq *w = *box;
  ms_task *t = rt->current;
  check_can_park(L, rt, t);
  if (!t) t = outside(L, rt);
  w->req.data = w;
  int rc = uv_queue_work(rt->loop, &w->req, work_run, work_after);
  if (rc) return ms_raise_errno(L, -rc);
  w->state = W_FLIGHT;
  w->task = t;
  t->work = w;
  arm(L, t, -1);
  return park(L, rt, t, ctx, k);
}

/* ---- the Lua-visible task core ---- */

static ms_task *check_task(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, task_meta);
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
  luaL_setmetatable(L, task_meta);
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
  enqueue(rt, t);
  return 1;
}

void ms_spawn_host(lua_State *L, int nargs) {
  lua_pushcfunction(L, task_spawn);
  lua_insert(L, -(nargs + 2));
  lua_call(L, nargs + 1, 1);
  check_task(L, -1)->host = 1;
  lua_pop(L, 1);
}

ms_task *ms_spawn_main(lua_State *L, int nargs) {
  ms_runtime *rt = ms_rt(L);
  lua_pushcfunction(L, task_spawn);
  lua_insert(L, -(nargs + 2));
  lua_call(L, nargs + 1, 1);
  ms_task *t = check_task(L, -1);
  rt->live--;
  rt->nondaemon--;
  rt->main = t;
  lua_pop(L, 1);
  return t;
}

static int task_current(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  ms_task *t = rt->current ? rt->current : outside(L, rt);
  if (t->ref == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref);
  return 1;
}

static int park_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  int reason = ms_wake_reason(L);
  if (reason == MS_WAKE_TIMEOUT && ctx) {
    lua_pushboolean(L, 0);
    return 1;
  }
  ms_check_wake(L);
  lua_pushboolean(L, 1);
  return 1;
}

static double opt_timeout(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return -1;
  double s = luaL_checknumber(L, idx);
  luaL_argcheck(L, s == s, idx, "timeout is NaN");
  return s < 0 ? 0 : s;
}

/* core.park([timeout]) -> true when woken by core.wake, false on timeout. */
static int task_park(lua_State *L) {
  double timeout = opt_timeout(L, 1);
  lua_settop(L, 0);
  return park_timed(L, timeout, 1, park_k, 1);
}

/* core.wake(handle) -> true if the task was parked in core.park and is now ready. */
static int task_wake(lua_State *L) {
  ms_task *t = check_task(L, 1);
  int parked = t->state == MS_T_PARKED && t->in_park;
  if (parked) ms_task_wake(t, MS_WAKE_READY);
  lua_pushboolean(L, parked);
  return 1;
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  if (ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  return 0;
}

static int task_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  luaL_argcheck(L, s == s, 1, "must be a number, not NaN");
  luaL_argcheck(L, s >= 0, 1, "sleep length must be non-negative");
  /* CPython's OverflowError: math.huge would sleep for ever here */
  luaL_argcheck(L, s <= 9223372036.0, 1, "sleep length is too large");
  lua_settop(L, 0);
  return ms_park(L, s, 0, sleep_k);
}

static int yield_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  return 0;
}

/* core.yield(): lets every other ready task run once. */
static int task_yield(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  ms_task *t = rt->current;
  lua_settop(L, 0);
  if (!t) return 0;
  check_can_park(L, rt, t);
  t->wake = MS_WAKE_READY;
  enqueue(rt, t);
  lua_pushlightuserdata(L, PARK);
  return lua_yieldk(L, 1, 0, yield_k);
}

static int task_now(lua_State *L) {
  lua_pushnumber(L, ms_now(L));
  return 1;
}

/* core.cancel(handle): the task gets a Cancelled error where it waits now,
 * or at its next blocking call. */
static int task_cancel(lua_State *L) {
  ms_task *t = check_task(L, 1);
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

static int join_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  if (ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  lua_pushboolean(L, check_task(L, 1)->state == MS_T_DONE);
  return 1;
}

/* core.join(handle[, timeout]) -> true once the task has ended, false if
 * the timeout passed first. The wake comes from finish(), not from Lua: see
 * there. Raises like core.park on a cancel or an interrupt. */
static int task_join(lua_State *L) {
  ms_task *t = check_task(L, 1);
  double timeout = opt_timeout(L, 2);
  lua_settop(L, 1); /* the handle stays referenced while the caller waits */
  if (t->state == MS_T_DONE) {
    lua_pushboolean(L, 1);
    return 1;
  }
  ms_runtime *rt = ms_rt(L);
  ms_task *me = rt->current;
  if (me == t) return luaL_error(L, "cannot join the current task");
  check_can_park(L, rt, me);
  if (!me) me = outside(L, rt);
  arm(L, me, timeout);
  me->join_next = t->joiners;
  if (t->joiners) t->joiners->join_pprev = &me->join_next;
  me->join_pprev = &t->joiners;
  t->joiners = me;
  return park(L, rt, me, 0, join_k);
}

/* core.error(handle) -> the error a task's coroutine itself ended with (its
 * function's own errors are task.lua's business: this is for task.lua's
 * code failing, out of memory), or nothing. */
static int task_error(lua_State *L) {
  ms_task *t = check_task(L, 1);
  lua_State *co = t->co;
  if (t->state != MS_T_DONE || !co || lua_status(co) <= LUA_YIELD || lua_gettop(co) == 0) return 0;
  if (!lua_checkstack(co, 1)) return 0;
  lua_pushvalue(co, -1);
  lua_xmove(co, L, 1);
  return 1;
}

static int task_status(lua_State *L) {
  ms_task *t = check_task(L, 1);
  static const char *const names[] = {"?", "ready", "running", "parked", "done"};
  lua_pushstring(L, names[t->state]);
  return 1;
}

static int task_setdaemon(lua_State *L) {
  ms_task *t = check_task(L, 1);
  int d = lua_toboolean(L, 2);
  ms_runtime *rt = ms_rt(L);
  if (t != rt->main && t->state != MS_T_DONE && t->gen == rt->fork_gen && d != t->daemon)
    rt->nondaemon += d ? -1 : 1;
  t->daemon = d;
  check_exit(rt);
  return 0;
}

static int task_isdaemon(lua_State *L) {
  lua_pushboolean(L, check_task(L, 1)->daemon);
  return 1;
}

static int task_ismain(lua_State *L) {
  lua_pushboolean(L, check_task(L, 1) == ms_rt(L)->main);
  return 1;
}

static int task_count(lua_State *L) {
  lua_pushinteger(L, ms_rt(L)->live);
  return 1;
}

static int task_tostring(lua_State *L) {
  ms_task *t = check_task(L, 1);
  static const char *const names[] = {"?", "ready", "running", "parked", "done"};
  lua_pushfstring(L, "<task %p %s%s>", (void *)t, names[t->state], t->daemon ? " daemon" : "");
  return 1;
}

static int task_gc(lua_State *L) {
  ms_task *t = check_task(L, 1);
  release_timer(t);
  return 0;
}

void ms_sched_init(ms_runtime *rt) {
  rt->ready_head = NULL;
  rt->ready_tail = &rt->ready_head;
  uv_idle_init(rt->loop, &rt->idle);
  rt->idle.data = rt;
  uv_check_init(rt->loop, &rt->check);
  rt->check.data = rt;
  uv_check_start(&rt->check, on_check);
  uv_unref((uv_handle_t *)&rt->check);
}

void ms_sched_close(ms_runtime *rt) {
  uv_close((uv_handle_t *)&rt->idle, NULL);
  uv_close((uv_handle_t *)&rt->check, NULL);
  if (rt->sigint_installed) {
    signal(SIGINT, SIG_DFL);
    uv_close((uv_handle_t *)&rt->sigint_async, NULL);
  }
}

void ms_sched_run(ms_runtime *rt) {
  rt->stop = 0;
  for (;;) {
    if (main_done(rt) && others_done(rt)) break;
    if (rt->interrupted) break;
    rt->running = 1;
    int alive = uv_run(rt->loop, UV_RUN_DEFAULT);
    rt->running = 0;
    if (rt->interrupted || rt->stop) break;
    if (main_done(rt) && others_done(rt)) break;
    if (!alive && !rt->ready_head) {
      /* Nothing can ever wake the parked tasks: tell the main task rather
       * than hang; once it has ended, give up on the others. */
      if (rt->main && rt->main->state == MS_T_PARKED)
        ms_task_wake(rt->main, MS_WAKE_DEADLOCK);
      else
        break;
    }
  }
}

/* The same, but only until the main task has ended: the other tasks stay as
 * they are, parked or ready, for the REPL of `-i` to run on. */
void ms_sched_run_main(ms_runtime *rt) {
  rt->main_only = 1;
  ms_sched_run(rt);
  rt->main_only = 0;
}

/* As in Python, where only the forking thread survives: the parent's other
 * tasks are frozen (never resumed, not counted), and tasks spawned in the
 * child run; the child ends once the forking task and its own non-daemon
 * tasks have ended. */
void ms_after_fork_child(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  uv_loop_fork(rt->loop);
  ms_task *t = rt->current ? rt->current : outside(L, rt);
  rt->fork_gen++;
  t->gen = rt->fork_gen;
  rt->only = t;
  int spawned = t != rt->main && t->co != NULL;
  rt->live = spawned;
  rt->nondaemon = spawned && !t->daemon;
}

/* ---- SIGINT ---- */

static ms_runtime *sigint_rt;

static void interrupt_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  ms_runtime *rt = ms_rt(L);
  int target = main_alive(rt) ? rt->current == rt->main : rt->current == NULL;
  if (rt->interrupt && target) {
    rt->interrupt = 0;
    ms_raise(L, "KeyboardInterrupt", 0, "");
  }
}

/* A C signal cannot touch the Lua state: it sets a flag, a hook for a main
 * task busy in Lua code, and wakes the loop for a main task that is parked. */
static void on_sigint_signal(int sig) {
  (void)sig;
  ms_runtime *rt = sigint_rt;
  if (!rt) return;
  rt->interrupt = 1;
  const int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT;
  if (main_alive(rt) && rt->current == rt->main)
    lua_sethook(rt->main->co, interrupt_hook, mask, 1);
  else if (!main_alive(rt) && !rt->current)
    lua_sethook(rt->L, interrupt_hook, mask, 1); /* code outside any task */
  uv_async_send(&rt->sigint_async);
}

static void on_sigint_async(uv_async_t *h) {
  ms_runtime *rt = h->data;
  if (!rt->interrupt) return;
  ms_task *m = rt->main;
  if (main_alive(rt)) {
    if (m->state == MS_T_PARKED) {
      rt->interrupt = 0;
      ms_task_wake(m, MS_WAKE_INTERRUPT);
    } /* else its hook or its next blocking call raises */
  } else if (rt->outside && rt->outside->state == MS_T_PARKED) {
    rt->interrupt = 0;
    ms_task_wake(rt->outside, MS_WAKE_INTERRUPT);
  } else {
    rt->interrupt = 0;
    rt->interrupted = 1;
    uv_stop(rt->loop);
  }
}

void ms_sched_install_sigint(ms_runtime *rt) {
  /* Started in the background with SIGINT ignored: keep ignoring it, as
   * Python does. */
  struct sigaction old;
  if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN) return;
  uv_async_init(rt->loop, &rt->sigint_async, on_sigint_async);
  rt->sigint_async.data = rt;
  uv_unref((uv_handle_t *)&rt->sigint_async);
  sigint_rt = rt;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  rt->sigint_installed = 1;
}

int ms_open_task(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"spawn", task_spawn},       {"current", task_current},   {"park", task_park},
      {"wake", task_wake},         {"sleep", task_sleep},       {"yield", task_yield},
      {"now", task_now},           {"cancel", task_cancel},     {"cancelled", task_cancelled},
      {"status", task_status},     {"setdaemon", task_setdaemon}, {"isdaemon", task_isdaemon},
      {"ismain", task_ismain},     {"count", task_count},       {"join", task_join},
      {"error", task_error},       {"on_failed", task_on_failed}, {NULL, NULL}};
  /* Filled unless a former open got as far as __index, which is set last:
   * an open that ran out of memory halfway leaves the registry's metatable
   * behind, and luaL_newmetatable would then answer that it exists. */
  luaL_newmetatable(L, task_meta);
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
  lua_pushlightuserdata(L, PARK);
  lua_setfield(L, -2, "PARK");
  return 1;
}
