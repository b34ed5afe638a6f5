/*
 * Off-loop work, as luv's work.c: a call that may block in the C library
 * (name resolution) runs on libuv's thread pool while its task is parked.
 * The request outlives a task that stops waiting for it (a cancel, a
 * timeout): its holder userdata frees it once both are done with it.
 */
#include <errno.h>
#include <stdlib.h>

#include "scheduler_int.h"

enum { WORK_IDLE, WORK_FLIGHT, WORK_DONE };

typedef struct work_req {
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
} work_req;

static const char work_meta[] = "moonsock.work";

static void work_free(work_req *w) {
  if (w->destroy) w->destroy(w->data);
  free(w);
}

static int work_gc(lua_State *L) {
  work_req **box = luaL_checkudata(L, 1, work_meta);
  work_req *w = *box;
  *box = NULL;
  if (!w) return 0;
  if (w->state == WORK_FLIGHT) {
    w->orphaned = 1; /* work_after frees it */
    w->task = NULL;
  } else {
    work_free(w);
  }
  return 0;
}

void *ms_work_new(lua_State *L, size_t size, void (*run)(void *), void (*destroy)(void *)) {
  work_req **box = lua_newuserdatauv(L, sizeof *box, 0);
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
  work_req *w = calloc(1, sizeof *w + size);
  if (!w) luaL_error(L, "not enough memory");
  w->run = run;
  w->destroy = destroy;
  *box = w;
  return w->data;
}

void *ms_work_data(lua_State *L, int idx) {
  work_req **box = luaL_checkudata(L, idx, work_meta);
  return *box ? (*box)->data : NULL;
}

static void work_run(uv_work_t *req) {
  work_req *w = req->data;
  w->run(w->data);
}

static void work_after(uv_work_t *req, int status) {
  work_req *w = req->data;
  w->state = WORK_DONE;
  if (w->orphaned) {
    work_free(w);
    return;
  }
  ms_task *t = w->task;
  w->task = NULL;
  if (t) {
    t->work_link = NULL;
    ms_task_wake(t, MS_WAKE_READY);
  }
}

int ms_work_run(lua_State *L, int idx, lua_KContext ctx, lua_KFunction k) {
  ms_runtime *rt = ms_rt(L);
  work_req **box = luaL_checkudata(L, idx, work_meta);
  work_req *w = *box;
  ms_task *t = rt->current;
  ms_park_check(L, rt, t);
  if (!t) t = ms_sched_outside(L, rt);
  w->req.data = w;
  int rc = uv_queue_work(rt->loop, &w->req, work_run, work_after);
  if (rc) return ms_raise_errno(L, -rc);
  w->state = WORK_FLIGHT;
  w->task = t;
  t->work_link = &w->task;
  ms_park_arm(L, t, -1);
  return ms_park_task(L, rt, t, ctx, k);
}
