/*
 * The scheduler's verbs for the front door (moonsock.c) and the command
 * (main.c): opening and closing the runtime, spawning the main and the
 * host's tasks, running the loop, and what a run left behind. The
 * scheduler's fields stay in its own files (scheduler_int.h); the verbs every
 * module uses (ms_park, ms_task_wake, ...) are in ms.h.
 */
#ifndef MS_SCHEDULER_H
#define MS_SCHEDULER_H

#include "ms.h"

/* ---- the runtime's lifetime (scheduler.c) ---- */

/* Makes a runtime for L's main thread on loop, or on a loop of its own when
 * loop is NULL. Raises (having freed what it made) when memory runs out or
 * the loop cannot be made. */
ms_runtime *ms_sched_new(lua_State *L, uv_loop_t *loop);
/* Makes the registry slots where the loop's callbacks keep errors, so that
 * keeping one later cannot run out of memory. May raise. */
void ms_sched_make_slots(lua_State *L, ms_runtime *rt);
/* Closes what the runtime holds (its handles, its own loop after finishing
 * every pending close and off-loop work) and frees it. */
void ms_sched_free(ms_runtime *rt);
/* Makes rt the runtime ms_rt(L) answers for every thread of L's state; NULL
 * unpublishes it (allocating nothing). */
void ms_sched_bind(lua_State *L, ms_runtime *rt);
/* L's runtime, or NULL when moonsock is not opened in it; never raises. */
ms_runtime *ms_sched_find(lua_State *L);
/* The runtime of the state L belongs to (shared by all its threads); raises
 * when moonsock is not opened in it. */
ms_runtime *ms_rt(lua_State *L);

/* ---- running (scheduler.c) ---- */

/* Runs the loop until the main task and every non-daemon task have ended
 * (or moonsock_stop); returns 1 if a host's task failed meanwhile. */
int ms_sched_run(ms_runtime *rt);
/* Runs the loop until the main task has ended, leaving the other tasks to
 * run later (the REPL after `moonsock -i script`). */
void ms_sched_run_main(ms_runtime *rt);
/* One turn of the loop in mode: 1 while ms_sched_run would go on, 0 once it
 * would have returned, -1 if a host's task failed during the turn. */
int ms_sched_turn(ms_runtime *rt, uv_run_mode mode);
/* Inside the loop (uv_run or a task): running it again would nest it. */
int ms_sched_busy(ms_runtime *rt);
/* Inside uv_run. */
int ms_sched_in_loop(ms_runtime *rt);
/* Milliseconds until the scheduler must run again: 0 now, -1 never. */
int ms_sched_timeout(ms_runtime *rt);
/* Makes ms_sched_run return after the current turn; no effect outside it. */
void ms_sched_stop(ms_runtime *rt);

/* ---- what a run leaves (scheduler.c) ---- */

/* Pops the message on top of L into the host's last-error slot. */
void ms_sched_keep_error(lua_State *L, ms_runtime *rt);
/* The last uncaught error of a host's task (or kept message), NULL if none.
 * The registry keeps the string alive. */
const char *ms_sched_last_error(lua_State *L, ms_runtime *rt);
/* fn hears the main task's error message as soon as it fails. */
void ms_sched_on_main_error(ms_runtime *rt, void (*fn)(ms_runtime *rt, const char *msg));
/* LUA_OK, or the status the main task ended with. */
int ms_sched_main_status(ms_runtime *rt);
/* An uncaught KeyboardInterrupt ended the code the command ran. */
void ms_sched_set_main_interrupted(ms_runtime *rt);
/* The process ends on SIGINT, or the main code died of an uncaught
 * KeyboardInterrupt (exit status 130). 0 when moonsock is not opened in L;
 * never raises. */
int ms_sched_interrupted(lua_State *L);

/* ---- tasks of the command and of hosts (task.c) ---- */

/* Pops a function and the nargs arguments above it and makes them the main
 * task. */
ms_task *ms_spawn_main(lua_State *L, int nargs);
/* Pops a function and the nargs arguments above it and makes them a task of
 * the embedding host's: its uncaught error is kept for ms_sched_last_error
 * instead of being printed. */
void ms_spawn_host(lua_State *L, int nargs);

/* ---- signals (signal.c) ---- */

/* Delivers SIGINT as KeyboardInterrupt (the command's; a host keeps its own
 * handling). Ignored if the process started with SIGINT ignored. */
void ms_signal_install(ms_runtime *rt);
/* Closes the signal module's watches; restores SIGINT's default if
 * ms_signal_install set it. */
void ms_signal_close(ms_runtime *rt);

#endif
