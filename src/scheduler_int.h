/*
 * The scheduler's private header: the runtime and task structures, shared by
 * the scheduler's own files only (scheduler.c, park.c, work.c, task.c,
 * signal.c). Everything else, the front door (moonsock.c) and the command
 * included, reaches the scheduler through the verbs of ms.h and scheduler.h.
 */
#ifndef MS_SCHEDULER_INT_H
#define MS_SCHEDULER_INT_H

#include <signal.h>

#include "scheduler.h"

enum ms_task_state { MS_T_READY = 1, MS_T_RUNNING, MS_T_PARKED, MS_T_DONE };

/* The metatable of task handles (task.c's type; scheduler.c's stand-in is
 * one too). */
#define MS_TASK_META "moonsock.task"

/* The value a parking task yields: a plain coroutine.yield() yields anything
 * else, and the scheduler then only requeues the task. */
extern const char ms_sched_park_marker;
#define MS_PARK ((void *)&ms_sched_park_marker)

struct ms_task {
  lua_State *co;      /* the coroutine; NULL for a wait outside any task */
  ms_runtime *rt;
  int ref;            /* registry ref pinning the handle until the task ends */
  int state;          /* enum ms_task_state */
  int wake;           /* enum ms_wake: why it was last woken */
  int nargs;          /* arguments for the first resume */
  unsigned cancel : 1, daemon : 1, started : 1;
  unsigned in_park : 1; /* parked in core.park, so core.wake may wake it */
  unsigned host : 1;    /* spawned by an embedding host: its error is kept, not printed */
  unsigned gen;       /* rt->fork_gen when spawned: a forked child runs only its own */
  uv_timer_t *timer;  /* allocated on first timed wait */
  ms_io *io;          /* the io waited on, if any */
  ms_waiter waiter;
  /* The off-loop work request's link back to this task while it waits for
   * it (work.c): a wake clears both, so that work finishing later does not
   * wake the task out of whatever it waits for by then. */
  ms_task **work_link;
  ms_task *next_ready;
  /* core.join: the tasks parked until this one ends, linked through their
   * join_next; join_pprev is set while the task is in such a list. */
  ms_task *joiners;
  ms_task *join_next, **join_pprev;
};

struct ms_runtime {
  lua_State *L;       /* the main thread */
  uv_loop_t *loop;
  uv_loop_t own_loop;
  int owns_loop;
  ms_task *current;   /* the task being resumed, NULL when none */
  ms_task *main;      /* the script's main task, NULL when none */
  ms_task *ready_head, **ready_tail;
  uv_idle_t idle;     /* active while tasks are ready, so poll won't block */
  uv_check_t check;   /* runs the ready tasks after each poll */
  int running;        /* inside uv_run */
  int live;           /* tasks spawned and not yet ended, main excluded */
  int nondaemon;      /* the live ones that keep the process running */
  ms_task *outside;   /* stands for the caller in waits outside any task */
  int main_status;    /* LUA_OK, or the error status the main task ended with */
  int main_error_ref; /* registry slot of the main task's error message */
  /* Called with that message as soon as the main task fails (Python prints
   * the main thread's error at once, before other threads end). */
  void (*main_error)(ms_runtime *rt, const char *msg);
  /* Registry slot of the last uncaught error of a host's task (false when
   * none). Both slots are made when the runtime opens, so that storing an
   * error into them, in a loop callback, cannot run out of memory. */
  int last_error_ref;
  int last_error_oom; /* ... or that error was a memory error kept only here */
  int host_failed;    /* a host's task failed since moonsock_run began */
  int stop;           /* moonsock_stop was called */
  int interrupted;    /* the process is ending on SIGINT */
  int main_interrupted; /* the main task died of an uncaught KeyboardInterrupt */
  volatile sig_atomic_t interrupt; /* a SIGINT not yet delivered */
  uv_async_t sigint_async;
  int sigint_installed;
  uv_signal_t *signals[NSIG]; /* signal.c's watches, by number; NULL: never watched */
  int signal_error;   /* a handler's error waits for the main task (signal.c) */
  ms_iomap iomap;     /* fd -> ms_io, shared by sockets and select */
  ms_task *only;      /* in a forked child: the forking task, which goes on */
  unsigned fork_gen;  /* forks since the start: tasks of an older one are frozen */
  int main_only;      /* ms_sched_run_main: stop once the main task has ended */
};

/* SIGINT goes to the main task while it lives, else to code running outside
 * any task (-e, the REPL, a C host); with neither, the process ends. */
static inline int ms_sched_main_alive(ms_runtime *rt) {
  return rt->main && rt->main->state != MS_T_DONE;
}

/* ---- scheduler.c, for the scheduler's other files ---- */

/* Queues t to run on the next round of the loop. */
void ms_sched_enqueue(ms_runtime *rt, ms_task *t);
/* Stops the loop once everything the run waits for has ended. */
void ms_sched_check_exit(ms_runtime *rt);
/* The handle that stands for a caller outside any task (a C host, -e code):
 * made once, so core.current() and core.wake() work there too. */
ms_task *ms_sched_outside(lua_State *L, ms_runtime *rt);
/* An io waiter's callback (ms_task.waiter.ready): wakes its task. */
void ms_sched_io_ready(ms_waiter *w, int status);
/* Closes and frees t's timer, if it has one. */
void ms_sched_drop_timer(ms_task *t);
/* Takes t out of the join list it waits in, if any. */
void ms_sched_unlink_joiner(ms_task *t);
/* Makes the function at the top of L's stack the hook that hears of every
 * spawned task's uncaught error (core.on_failed); nil removes it. Pops it. */
void ms_sched_set_failed_hook(lua_State *L);

/* ---- park.c, for the scheduler's other files ---- */

/* Raises what is pending for t before it may park: a cancel, a SIGINT for
 * the main task, or a context that cannot yield. t is NULL outside any task. */
void ms_park_check(lua_State *L, ms_runtime *rt, ms_task *t);
/* Readies t for a new wait, with a timer when timeout >= 0. */
int ms_park_arm(lua_State *L, ms_task *t, double timeout);
/* Parks t (already registered with its wait sources) or, outside any task,
 * runs the loop until the wait ends and then calls k itself. */
int ms_park_task(lua_State *L, ms_runtime *rt, ms_task *t, lua_KContext ctx, lua_KFunction k);
/* ms_park, with in_park marking a wait that core.wake may end (core.park's,
 * not sleep's). */
int ms_park_timed(lua_State *L, double timeout, lua_KContext ctx, lua_KFunction k, int in_park);

#endif
