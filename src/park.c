/*
 * Parking: how a C function that would block waits. It registers what it
 * waits for (an fd, a timer), marks its task parked and yields the PARK
 * marker with lua_yieldk, naming a continuation that retries once the
 * scheduler (scheduler.c) resumes it. Outside any task the same call runs the
 * loop itself until the wait ends. Also the timers that end a wait, and
 * what a continuation learns about why it was woken.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "scheduler_int.h"

/* libuv takes a timer's delay as a uint64_t of milliseconds: longer waits
 * (about 31,700 years) are capped here rather than overflowing it. */
#define PARK_MAX_DELAY_MS 1e15

/* ---- timers ---- */

static void park_on_timer(uv_timer_t *h) {
  ms_task *t = h->data;
  if (t) ms_task_wake(t, MS_WAKE_TIMEOUT);
}

static int park_start_timer(ms_task *t, double timeout) {
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
  uint64_t delay = ms <= 0                   ? 0
                   : ms >= PARK_MAX_DELAY_MS ? (uint64_t)PARK_MAX_DELAY_MS
                                             : (uint64_t)ceil(ms) + 1;
  return uv_timer_start(t->timer, park_on_timer, delay, 0);
}

/* ---- parking ---- */

ms_task *ms_current(lua_State *L) { return ms_rt(L)->current; }

double ms_now(lua_State *L) { return (double)uv_hrtime() / 1e9; }

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
    case MS_WAKE_SIGNAL: return ms_signal_raise_pending(L);
    case MS_WAKE_DEADLOCK:
      return ms_raise(L, "RuntimeError", 0,
                      "deadlock: the task waits for something no other task can do");
    default: return 0;
  }
}

/* Static, with an exported twin below, so that the hot path (ms_park_io)
 * may inline it as before. */
static void park_check(lua_State *L, ms_runtime *rt, ms_task *t) {
  if (!t) {
    if (rt->running)
      luaL_error(L, "cannot block here: called from a loop callback outside any task");
    if (rt->interrupt && !ms_sched_main_alive(rt)) {
      rt->interrupt = 0;
      ms_raise(L, "KeyboardInterrupt", 0, "");
    }
    if (!ms_sched_main_alive(rt)) ms_signal_raise_pending(L);
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
  if (t == rt->main) ms_signal_raise_pending(L);
  if (!lua_isyieldable(L))
    luaL_error(L, "attempt to block in a non-yieldable context "
                  "(a metamethod or C callback that cannot yield)");
}

static int park_task(lua_State *L, ms_runtime *rt, ms_task *t, lua_KContext ctx, lua_KFunction k) {
  t->state = MS_T_PARKED;
  if (t->co) {
    lua_pushlightuserdata(L, MS_PARK);
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

static int park_arm(lua_State *L, ms_task *t, double timeout) {
  t->wake = MS_WAKE_NONE;
  t->in_park = 0;
  if (timeout >= 0) {
    int rc = park_start_timer(t, timeout);
    if (rc) return luaL_error(L, "cannot start timer: %s", uv_strerror(rc));
  }
  return 0;
}

void ms_park_check(lua_State *L, ms_runtime *rt, ms_task *t) { park_check(L, rt, t); }

int ms_park_arm(lua_State *L, ms_task *t, double timeout) { return park_arm(L, t, timeout); }

int ms_park_task(lua_State *L, ms_runtime *rt, ms_task *t, lua_KContext ctx, lua_KFunction k) {
  return park_task(L, rt, t, ctx, k);
}

int ms_park_timed(lua_State *L, double timeout, lua_KContext ctx, lua_KFunction k, int in_park) {
  ms_runtime *rt = ms_rt(L);
  ms_task *t = rt->current;
  park_check(L, rt, t);
  if (!t) t = ms_sched_outside(L, rt);
  park_arm(L, t, timeout);
  t->in_park = in_park;
  return park_task(L, rt, t, ctx, k);
}

int ms_can_park(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (rt->current) return lua_isyieldable(L);
  return !rt->running;
}

int ms_park(lua_State *L, double timeout, lua_KContext ctx, lua_KFunction k) {
  return ms_park_timed(L, timeout, ctx, k, 0);
}

int ms_park_io(lua_State *L, ms_io *io, int events, double timeout, lua_KContext ctx,
               lua_KFunction k) {
  ms_runtime *rt = ms_rt(L);
  ms_task *t = rt->current;
  park_check(L, rt, t);
  if (!t) t = ms_sched_outside(L, rt);
  t->waiter.ready = ms_sched_io_ready;
  int rc = ms_io_wait(io, &t->waiter, events);
  if (rc == UV_EBADF) return ms_raise_errno(L, EBADF);
  if (rc) return ms_raise_errno(L, -rc);
  t->io = io;
  park_arm(L, t, timeout);
  return park_task(L, rt, t, ctx, k);
}
