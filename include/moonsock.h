/*
 * moonsock: Python's socket module for Lua 5.4, on a libuv loop.
 * The embedding interface. Link with -lmoonsock (pkg-config moonsock).
 *
 * A lua_State with moonsock opened runs Lua functions as tasks: a socket
 * call that would block parks its task until the loop says it can go on.
 * Calls made outside any task (straight from the host) run the loop
 * themselves until they complete. Every function below takes such a state.
 */
#ifndef MOONSOCK_H
#define MOONSOCK_H

#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOONSOCK_VERSION "0.1.0"

#if defined(__GNUC__)
#define MOONSOCK_API __attribute__((visibility("default")))
#else
#define MOONSOCK_API
#endif

struct uv_loop_s; /* libuv's uv_loop_t, for hosts that run one */

/* Opens moonsock's modules into L, so that require "socket", "task",
 * "select"... (and require "moonsock") give moonsock's; loop NULL makes
 * moonsock own a loop, otherwise it runs on the host's. L needs Lua's
 * standard libraries (luaL_openlibs) first; the threads' extra space stays
 * the host's. Opening again is a no-op (0) unless loop is another loop (-1).
 * Returns 0, or -1 with an error message pushed. */
MOONSOCK_API int moonsock_open(lua_State *L, struct uv_loop_s *loop);

/* Creates a state with Lua's standard libraries and moonsock opened on a
 * loop of its own; NULL if memory runs out. */
MOONSOCK_API lua_State *moonsock_newstate(void);

/* Pops a function and the nargs arguments above it and makes them a task
 * that starts on the next turn of the loop; returns 0, or -1 with an error
 * message pushed. */
MOONSOCK_API int moonsock_spawn(lua_State *L, int nargs);

/* Loads a file (NULL: stdin) and spawns it as a task; 0 or -1 (message pushed). */
MOONSOCK_API int moonsock_spawnfile(lua_State *L, const char *path);

/* Loads a string as a chunk named chunkname and spawns it; 0 or -1 (message pushed). */
MOONSOCK_API int moonsock_spawnstring(lua_State *L, const char *code, const char *chunkname);

/* Runs the loop until every task that is not a daemon has ended (or none
 * can ever be woken), or moonsock_stop is called; returns 0, or -1 if a task
 * spawned by the host ended with an uncaught error (see moonsock_lasterror).
 * Not from inside the loop (a task's C function): that returns -1 at once. */
MOONSOCK_API int moonsock_run(lua_State *L);

/* Runs one turn of the loop, waiting for events if nothing is ready. Returns
 * 1 while moonsock_run would go on, 0 once it would have returned, -1 if a
 * task spawned by the host failed during the turn (or the call came from
 * inside the loop); moonsock_lasterror then says why. */
MOONSOCK_API int moonsock_run_once(lua_State *L);

/* Runs one turn of the loop without waiting; returns as moonsock_run_once. */
MOONSOCK_API int moonsock_run_nowait(lua_State *L);

/* The fd that becomes readable when moonsock has work to do, for a host's
 * own poll/epoll loop: poll it for POLLIN with moonsock_timeout(L) as the
 * timeout, then call moonsock_run_nowait(L). */
MOONSOCK_API int moonsock_fd(lua_State *L);

/* Milliseconds until moonsock must run again: 0 now, -1 no deadline (only
 * the fd can wake it, or nothing is left to run). */
MOONSOCK_API int moonsock_timeout(lua_State *L);

/* Makes moonsock_run return after the current turn of the loop; meant for
 * a C function that a task calls. No effect outside the loop. */
MOONSOCK_API void moonsock_stop(lua_State *L);

/* The last uncaught error of a task spawned by the host, as Python prints
 * an exception ("ConnectionRefusedError: [Errno 111] Connection refused")
 * followed by Lua's stack traceback (an error object of the script's own
 * with __tostring: that text alone, as lua.c prints it); or why the last
 * run call was refused;
 * NULL if none. Valid until the next call into L. */
MOONSOCK_API const char *moonsock_lasterror(lua_State *L);

/* Closes L and everything moonsock holds in it: sockets, tasks, its loop
 * (a host's loop is left open, with none of moonsock's handles in it: call
 * this outside that loop's uv_run, as it runs one turn to finish closing).
 * NULL is ignored. */
MOONSOCK_API void moonsock_close(lua_State *L);

/* The Lua C module: require "moonsock" from a stock lua5.4. Returns a
 * table with version, run() (runs the spawned tasks to completion, from
 * outside any task) and every moonsock module as a field (moonsock.socket). */
MOONSOCK_API int luaopen_moonsock(lua_State *L);

#ifdef __cplusplus
}
#endif
#endif
