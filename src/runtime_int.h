/*
 * The runtime and task structures, shared by runtime.c and task.c only: the
 * other C files reach them through the functions in ms.h.
 */
#ifndef MS_RUNTIME_INT_H
#define MS_RUNTIME_INT_H

#include <signal.h>

#include "ms.h"

enum ms_task_state { MS_T_READY = 1, MS_T_RUNNING, MS_T_PARKED, MS_T_DONE };

typedef struct ms_workreq ms_workreq;

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
  ms_workreq *work;   /* the off-loop work waited on, if any */
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
  ms_iomap iomap;     /* fd -> ms_io, shared by sockets and select */
  ms_task *only;      /* in a forked child: the forking task, which goes on */
  unsigned fork_gen;  /* forks since the start: tasks of an older one are frozen */
  int main_only;      /* ms_sched_run_main: stop once the main task has ended */
};

/* task.c */
void ms_sched_init(ms_runtime *rt);
void ms_sched_close(ms_runtime *rt);
/* Makes fn (at the top of L's stack, with nargs arguments below... above it)
 * the main task. */
ms_task *ms_spawn_main(lua_State *L, int nargs);
/* Makes the function at the top of L's stack, with nargs arguments above
 * it, a task of the embedding host's: its uncaught error is kept in
 * last_error_ref instead of being printed. Pops them. */
void ms_spawn_host(lua_State *L, int nargs);
/* Runs the loop until the main task and every non-daemon task have ended
 * (or moonsock_stop). */
void ms_sched_run(ms_runtime *rt);
/* Runs the loop until the main task has ended, leaving the other tasks to
 * run later (the REPL after `moonsock -i script`). */
void ms_sched_run_main(ms_runtime *rt);
void ms_sched_install_sigint(ms_runtime *rt);

#endif
