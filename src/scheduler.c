/*
 * The scheduler's core: the runtime (one per Lua state) and what it does
 * with tasks between their waits. A wake-up only queues the task; the
 * queue is run after each poll, so a task is never resumed from inside
 * another one. Here too: how a task ends (its error kept or printed, its
 * joiners woken), the run loop and its end, and a fork's child.
 *
 * Parking (park.c), off-loop work (work.c), the Lua task type (task.c) and
 * signals (signal.c) sit on top of this file; it calls none of them.
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler_int.h"

const char ms_sched_park_marker = 0;

/* ---- the runtime ---- */

static const char scheduler_runtime_key = 0;

/* The runtime lives in the registry. Lua's per-thread extra space would be
 * quicker, but a coroutine made before moonsock was opened copies whatever
 * the host left there, and a host may keep its own pointer in it. */
ms_runtime *ms_sched_find(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &scheduler_runtime_key);
  ms_runtime *rt = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return rt;
}

ms_runtime *ms_rt(lua_State *L) {
  ms_runtime *rt = ms_sched_find(L);
  if (!rt) luaL_error(L, "moonsock is not opened in this Lua state");
  return rt;
}

void ms_sched_bind(lua_State *L, ms_runtime *rt) {
  if (rt)
    lua_pushlightuserdata(L, rt);
  else
    lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &scheduler_runtime_key);
}

uv_loop_t *ms_loop(lua_State *L) { return ms_rt(L)->loop; }

ms_iomap *ms_iomap_of(lua_State *L) { return &ms_rt(L)->iomap; }

/* ---- the ready queue ---- */

static void scheduler_on_idle(uv_idle_t *h);

void ms_sched_enqueue(ms_runtime *rt, ms_task *t) {
  t->state = MS_T_READY;
  t->next_ready = NULL;
  *rt->ready_tail = t;
  rt->ready_tail = &t->next_ready;
  if (!uv_is_active((uv_handle_t *)&rt->idle)) uv_idle_start(&rt->idle, scheduler_on_idle);
}

void ms_sched_unlink_joiner(ms_task *t) {
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
  if (t->timer) uv_timer_stop(t->timer);
  ms_sched_unlink_joiner(t);
  if (t->io) {
    ms_io_unwait(t->io, &t->waiter);
    t->io = NULL;
  }
  if (t->work_link) { /* the request lives on; nobody waits for it */
    *t->work_link = NULL;
    t->work_link = NULL;
  }
  if (t->co) {
    ms_sched_enqueue(t->rt, t);
  } else {
    t->state = MS_T_READY; /* a wait outside any task: its loop sees this */
    /* ... once its loop turn ends. A deadline already past fires at the top
     * of the turn, before the poll, which would then block as long as any
     * other handle or timer asks (libuv 1.44 does not shorten it): stopping
     * the loop makes that poll return at once. */
    uv_stop(t->rt->loop);
  }
}

void ms_sched_io_ready(ms_waiter *w, int status) {
  ms_task *t = (ms_task *)((char *)w - offsetof(ms_task, waiter));
  t->io = NULL; /* already unlinked by io.c */
  ms_task_wake(t, status == MS_IO_CLOSED ? MS_WAKE_CLOSED : MS_WAKE_READY);
}

static void scheduler_free_handle(uv_handle_t *h) { free(h); }

void ms_sched_drop_timer(ms_task *t) {
  if (!t->timer) return;
  uv_timer_stop(t->timer);
  t->timer->data = NULL;
  uv_close((uv_handle_t *)t->timer, scheduler_free_handle);
  t->timer = NULL;
}

ms_task *ms_sched_outside(lua_State *L, ms_runtime *rt) {
  if (!rt->outside) {
    ms_task *t = lua_newuserdatauv(L, sizeof *t, 1);
    memset(t, 0, sizeof *t);
    t->rt = rt;
    t->state = MS_T_RUNNING;
    t->started = 1;
    luaL_setmetatable(L, MS_TASK_META);
    t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    rt->outside = t;
  }
  return rt->outside;
}

ms_task *ms_parking_task(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  return rt->current ? rt->current : ms_sched_outside(L, rt);
}

/* ---- ending a task ---- */

/* The text of a task's uncaught error: Python's description and Lua's
 * traceback. Runs under lua_pcall: it allocates, and scheduler_report_error is
 * called from a loop callback, where a memory error would reach lua_atpanic. */
static int scheduler_describe_p(lua_State *L) {
  ms_task *t = lua_touserdata(L, 1);
  ms_runtime *rt = t->rt;
  ms_push_describer(L);
  lua_pushvalue(L, 2); /* the error value */
  if (t == rt->main && luaL_getmetafield(L, -1, "__name") != LUA_TNIL) {
    rt->main_interrupted =
        lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "KeyboardInterrupt") == 0;
    lua_pop(L, 1);
  }
  if (lua_pcall(L, 1, 2, 0) != LUA_OK || !lua_isstring(L, -2)) {
    lua_pop(L, 2);
    lua_pushliteral(L, "(error object is not a string)");
    lua_pushboolean(L, 1);
  }
  /* Not traced: an object with __tostring, as lua.c prints it. */
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    return 1;
  }
  lua_pop(L, 1);
  /* The dead coroutine keeps its stack, so the traceback still shows where
   * the error came from. */
  luaL_traceback(L, t->co, lua_tostring(L, -1), 0);
  return 1;
}

/* The hook task.lua sets with core.on_failed(fn): fn(handle, err, text)
 * records the error for join and answers true to keep it quiet here (a
 * Cancelled; an error task.lua prints itself unless join retrieves it). The
 * error reaches it here rather than through an xpcall in every task, whose
 * C frame would reserve stack in every idle coroutine. Runs under lua_pcall
 * as scheduler_describe_p does. */
static const char scheduler_failed_hook_key = 0;

void ms_sched_set_failed_hook(lua_State *L) {
  lua_rawsetp(L, LUA_REGISTRYINDEX, &scheduler_failed_hook_key);
}

static int scheduler_failed_hook_p(lua_State *L) {
  ms_task *t = lua_touserdata(L, 1);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &scheduler_failed_hook_key) != LUA_TFUNCTION) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->ref); /* the handle */
  luaL_checkstack(t->co, 1, NULL);
  lua_pushvalue(t->co, -1); /* the error value, which the coroutine keeps */
  lua_xmove(t->co, L, 1);
  lua_pushvalue(L, 2); /* the text, or nil when describing it failed */
  lua_call(L, 3, 1);
  return 1;
}

/* Keeps or prints a task's uncaught error. When memory runs out on the way
 * (scheduler_describe_p failed) the message is the memory error's own, which
 * Lua preallocates; the registry slots it goes to were made when the
 * runtime opened, so storing it allocates nothing either. A host whose
 * stack is full gets the text through a flag. */
static void scheduler_report_error(ms_runtime *rt, ms_task *t) {
  lua_State *L = rt->L;
  const char *msg = "not enough memory";
  int kept = 0;
  if (lua_checkstack(L, 3)) {
    lua_pushcfunction(L, scheduler_describe_p);
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
    if (lua_checkstack(L, 3)) {
      int text = lua_gettop(L);
      lua_pushcfunction(L, scheduler_failed_hook_p);
      lua_pushlightuserdata(L, t);
      if (kept)
        lua_pushvalue(L, text);
      else
        lua_pushnil(L);
      if (lua_pcall(L, 2, 1, 0) == LUA_OK) quiet = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    if (!quiet) lua_writestringerror("moonsock: uncaught error in task: %s\n", msg);
    if (kept) lua_pop(L, 1);
  }
}

static int scheduler_main_done(ms_runtime *rt) {
  if (rt->only) return rt->only->state == MS_T_DONE;
  return !rt->main || rt->main->state == MS_T_DONE;
}

static int scheduler_others_done(ms_runtime *rt) { return rt->main_only || rt->nondaemon == 0; }

void ms_sched_check_exit(ms_runtime *rt) {
  if (scheduler_main_done(rt) && scheduler_others_done(rt) && rt->running)
    uv_stop(rt->loop);
}

/* Wakes the tasks in core.join on t without allocating anything, so they
 * learn that t ended even when its last Lua code (task.lua's bookkeeping)
 * ran out of memory. */
static void scheduler_finish(ms_runtime *rt, ms_task *t, int status) {
  t->state = MS_T_DONE;
  ms_sched_drop_timer(t);
  while (t->joiners) {
    ms_task *j = t->joiners;
    ms_sched_unlink_joiner(j);
    ms_task_wake(j, MS_WAKE_READY);
  }
  if (status != LUA_OK) {
    scheduler_report_error(rt, t);
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
  ms_sched_check_exit(rt);
}

/* ---- running tasks ---- */

static void scheduler_resume(ms_runtime *rt, ms_task *t) {
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
    int parked = nres == 1 && lua_touserdata(t->co, -1) == MS_PARK;
    lua_pop(t->co, nres);
    /* A parking function set MS_T_PARKED before yielding; anything else is a
     * plain coroutine.yield() at the top of the task: run it again later. */
    if (!parked || t->state == MS_T_RUNNING) ms_sched_enqueue(rt, t);
  } else {
    scheduler_finish(rt, t, status);
  }
}

/* Runs the tasks that were ready when it started; those they wake wait for
 * the next round, after the loop has polled, so io is never starved. */
static void scheduler_run_ready(ms_runtime *rt) {
  ms_task *t = rt->ready_head;
  rt->ready_head = NULL;
  rt->ready_tail = &rt->ready_head;
  while (t) {
    ms_task *next = t->next_ready;
    t->next_ready = NULL;
    /* In a forked child the parent's other tasks are frozen: never resumed. */
    if (t->state == MS_T_READY && t->gen == rt->fork_gen) scheduler_resume(rt, t);
    t = next;
  }
  if (!rt->ready_head) uv_idle_stop(&rt->idle);
}

static void scheduler_on_idle(uv_idle_t *h) { scheduler_run_ready(h->data); }
static void scheduler_on_check(uv_check_t *h) { scheduler_run_ready(h->data); }

/* ---- the runtime's lifetime ---- */

ms_runtime *ms_sched_new(lua_State *L, uv_loop_t *loop) {
  ms_runtime *rt = calloc(1, sizeof *rt);
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
  rt->ready_head = NULL;
  rt->ready_tail = &rt->ready_head;
  uv_idle_init(rt->loop, &rt->idle);
  rt->idle.data = rt;
  uv_check_init(rt->loop, &rt->check);
  rt->check.data = rt;
  uv_check_start(&rt->check, scheduler_on_check);
  uv_unref((uv_handle_t *)&rt->check);
  return rt;
}

void ms_sched_make_slots(lua_State *L, ms_runtime *rt) {
  lua_pushboolean(L, 0);
  rt->last_error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushboolean(L, 0);
  rt->main_error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static void scheduler_close_leftover(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

void ms_sched_free(ms_runtime *rt) {
  /* A finalizer run by lua_close may wait outside any task (os.execute in a
   * __gc) after the stand-in's own __gc, or make the stand-in then: its
   * timer is freed here, the last finalizer, where no __gc would. */
  if (rt->outside) ms_sched_drop_timer(rt->outside);
  uv_close((uv_handle_t *)&rt->idle, NULL);
  uv_close((uv_handle_t *)&rt->check, NULL);
  if (rt->owns_loop) {
    /* Sockets and timers closed theirs in __gc; anything left (a handle a
     * module forgot) is closed here, and in-flight resolver work is waited
     * for, so uv_loop_close cannot fail and nothing leaks. */
    uv_walk(rt->loop, scheduler_close_leftover, NULL);
    uv_run(rt->loop, UV_RUN_DEFAULT);
    uv_loop_close(rt->loop);
  } else {
    uv_run(rt->loop, UV_RUN_NOWAIT); /* the host's loop: just finish our closes */
  }
  ms_iomap_free(&rt->iomap);
  free(rt);
}

/* ---- the run loop ---- */

int ms_sched_run(ms_runtime *rt) {
  rt->host_failed = 0;
  rt->stop = 0;
  for (;;) {
    if (scheduler_main_done(rt) && scheduler_others_done(rt)) break;
    if (rt->interrupted) break;
    rt->running = 1;
    int alive = uv_run(rt->loop, UV_RUN_DEFAULT);
    rt->running = 0;
    if (rt->interrupted || rt->stop) break;
    if (scheduler_main_done(rt) && scheduler_others_done(rt)) break;
    if (!alive && !rt->ready_head) {
      /* Nothing can ever wake the parked tasks: tell the main task rather
       * than hang; once it has ended, give up on the others. */
      if (rt->main && rt->main->state == MS_T_PARKED)
        ms_task_wake(rt->main, MS_WAKE_DEADLOCK);
      else
        break;
    }
  }
  return rt->host_failed;
}

/* The same, but only until the main task has ended: the other tasks stay as
 * they are, parked or ready, for the REPL of `-i` to run on. */
void ms_sched_run_main(ms_runtime *rt) {
  rt->main_only = 1;
  ms_sched_run(rt);
  rt->main_only = 0;
}

/* What a turn reports as left to run: in a forked child the forking task,
 * otherwise the main task or a non-daemon one. Unlike ms_sched_run's test,
 * it ignores a child's own non-daemon tasks, as moonsock_run_once always
 * has. */
static int scheduler_pending(ms_runtime *rt) {
  if (rt->only) return rt->only->state != MS_T_DONE;
  if (rt->main && rt->main->state != MS_T_DONE) return 1;
  return rt->nondaemon > 0;
}

int ms_sched_turn(ms_runtime *rt, uv_run_mode mode) {
  rt->host_failed = 0;
  rt->running = 1;
  int alive = uv_run(rt->loop, mode);
  rt->running = 0;
  if (rt->host_failed) return -1;
  return scheduler_pending(rt) && (alive || rt->ready_head != NULL);
}

int ms_sched_busy(ms_runtime *rt) { return rt->running || rt->current != NULL; }

int ms_sched_in_loop(ms_runtime *rt) { return rt->running; }

int ms_sched_timeout(ms_runtime *rt) {
  if (rt->ready_head) return 0;
  /* libuv answers 0 for a loop with nothing in it: no deadline is the truth. */
  if (!uv_loop_alive(rt->loop)) return -1;
  /* libuv's view is only as fresh as its clock. */
  uv_update_time(rt->loop);
  return uv_backend_timeout(rt->loop);
}

void ms_sched_stop(ms_runtime *rt) {
  /* Outside the loop libuv would keep the request for the next turn. */
  if (!rt->running) return;
  rt->stop = 1;
  uv_stop(rt->loop);
}

/* ---- what a run leaves ---- */

void ms_sched_keep_error(lua_State *L, ms_runtime *rt) {
  lua_rawseti(L, LUA_REGISTRYINDEX, rt->last_error_ref);
  rt->last_error_oom = 0;
}

const char *ms_sched_last_error(lua_State *L, ms_runtime *rt) {
  if (rt->last_error_oom) return "not enough memory";
  /* The slot holds false until a host's task fails. The registry keeps the
   * string alive after the pop. */
  lua_rawgeti(L, LUA_REGISTRYINDEX, rt->last_error_ref);
  const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  lua_pop(L, 1);
  return msg;
}

void ms_sched_on_main_error(ms_runtime *rt, void (*fn)(ms_runtime *rt, const char *msg)) {
  rt->main_error = fn;
}

int ms_sched_main_status(ms_runtime *rt) { return rt->main_status; }

void ms_sched_set_main_interrupted(ms_runtime *rt) { rt->main_interrupted = 1; }

int ms_sched_interrupted(lua_State *L) {
  ms_runtime *rt = ms_sched_find(L);
  return rt && (rt->interrupted || rt->main_interrupted);
}

/* ---- fork ---- */

/* As in Python, where only the forking thread survives: the parent's other
 * tasks are frozen (never resumed, not counted), and tasks spawned in the
 * child run; the child ends once the forking task and its own non-daemon
 * tasks have ended. */
void ms_after_fork_child(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  uv_loop_fork(rt->loop);
  ms_task *t = rt->current ? rt->current : ms_sched_outside(L, rt);
  rt->fork_gen++;
  t->gen = rt->fork_gen;
  rt->only = t;
  int spawned = t != rt->main && t->co != NULL;
  rt->live = spawned;
  rt->nondaemon = spawned && !t->daemon;
}
