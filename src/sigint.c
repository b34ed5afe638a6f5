/*
 * SIGINT as Python's KeyboardInterrupt, as luv's signal.c turns a signal
 * into a loop event. The main task gets it while it lives, else the code
 * running outside any task (-e, the REPL, a C host); with neither, the
 * process ends. The command installs it; a host keeps its own handling.
 */
#include <string.h>

#include "scheduler_int.h"

/* A C signal handler gets no argument to find its runtime by. */
static ms_runtime *sigint_rt;

static void sigint_hook(lua_State *L, lua_Debug *ar) {
  lua_sethook(L, NULL, 0, 0);
  ms_runtime *rt = ms_rt(L);
  int target = ms_sched_main_alive(rt) ? rt->current == rt->main : rt->current == NULL;
  if (rt->interrupt && target) {
    rt->interrupt = 0;
    ms_raise(L, "KeyboardInterrupt", 0, "");
  }
}

/* A C signal cannot touch the Lua state: it sets a flag, a hook for a main
 * task busy in Lua code, and wakes the loop for a main task that is parked. */
static void sigint_on_signal(int sig) {
  ms_runtime *rt = sigint_rt;
  if (!rt) return;
  rt->interrupt = 1;
  const int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT;
  if (ms_sched_main_alive(rt) && rt->current == rt->main)
    lua_sethook(rt->main->co, sigint_hook, mask, 1);
  else if (!ms_sched_main_alive(rt) && !rt->current)
    lua_sethook(rt->L, sigint_hook, mask, 1); /* code outside any task */
  uv_async_send(&rt->sigint_async);
}

static void sigint_on_async(uv_async_t *h) {
  ms_runtime *rt = h->data;
  if (!rt->interrupt) return;
  ms_task *m = rt->main;
  if (ms_sched_main_alive(rt)) {
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

void ms_sigint_install(ms_runtime *rt) {
  /* Started in the background with SIGINT ignored: keep ignoring it, as
   * Python does. */
  struct sigaction old;
  if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN) return;
  uv_async_init(rt->loop, &rt->sigint_async, sigint_on_async);
  rt->sigint_async.data = rt;
  uv_unref((uv_handle_t *)&rt->sigint_async);
  sigint_rt = rt;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sigint_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  rt->sigint_installed = 1;
}

void ms_sigint_close(ms_runtime *rt) {
  if (!rt->sigint_installed) return;
  signal(SIGINT, SIG_DFL);
  uv_close((uv_handle_t *)&rt->sigint_async, NULL);
}
