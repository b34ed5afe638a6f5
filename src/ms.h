/*
 * moonsock's internal interface, shared by the C files under src/.
 * Not installed: the public embedding header is include/moonsock.h.
 *
 * Layers, bottom up: io.c (fd readiness over libuv) knows nothing of Lua;
 * errors.c raises Python's exceptions through lua/moonsock/errors.lua; the
 * scheduler (scheduler.c, with park.c, work.c, task.c and signal.c on top;
 * its verbs for the front door in scheduler.h) runs tasks and parks them;
 * the modules (socket.c, select.c, resolver.c, posix.c, address.c...) bind
 * Python's; the front door moonsock.c opens and closes it all in a state.
 */
#ifndef MS_H
#define MS_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "io.h"

#define MS_VERSION "0.1.0"

typedef struct ms_runtime ms_runtime;
typedef struct ms_task ms_task;

/* Why a parked task was resumed; a continuation reads it with ms_wake_reason. */
enum ms_wake {
  MS_WAKE_NONE = 0,
  MS_WAKE_READY,     /* the fd is ready, the work is done, or ms_task_wake */
  MS_WAKE_TIMEOUT,   /* the deadline passed */
  MS_WAKE_CLOSED,    /* the socket was closed under the parked task */
  MS_WAKE_CANCEL,    /* task:cancel() */
  MS_WAKE_INTERRUPT, /* SIGINT, delivered to the main task */
  MS_WAKE_DEADLOCK,  /* nothing else can ever wake it */
  MS_WAKE_SIGNAL     /* a signal handler raised: the error is the main task's */
};

/* ---- opening (moonsock.c) ---- */

/* Opens every moonsock module into L's package.preload, creating the runtime
 * on first use; with own_loop NULL moonsock makes and owns a loop. */
ms_runtime *ms_runtime_open(lua_State *L, uv_loop_t *own_loop);

/* ---- errors (errors.c) ---- */

/* Raises an OSError (subclass chosen by errno, as Python does) for err. */
int ms_raise_errno(lua_State *L, int err);
/* Raises an error of class cls ("OSError", "gaierror", "herror", "timeout",
 * "BlockingIOError", ...); err 0 means Python's errno None, and msg is then the
 * whole text; otherwise the text is "[Errno err] msg". */
int ms_raise(lua_State *L, const char *cls, int err, const char *msg);
/* Pushes (does not raise) the same error object as ms_raise. */
void ms_push_error(lua_State *L, const char *cls, int err, const char *msg);
/* Raises the argument error "bad argument #n to 'fname' (msg)", blamed on
 * the first frame outside moonsock (a C method under a Lua wrapper names the
 * user's line, not the wrapper's); numbering the argument is the caller's. */
int ms_argerror(lua_State *L, int n, const char *fname, const char *msg);
/* Loads lua/moonsock/errors.lua and keeps its factory, describer and argerror. */
void ms_errors_open(lua_State *L);
/* Pushes the describer of uncaught errors (describe(err) -> Python's text)
 * and returns its type: nil before ms_errors_open. */
int ms_push_describer(lua_State *L);

/* ---- the loop (scheduler.c) ---- */

uv_loop_t *ms_loop(lua_State *L);
/* The fd -> ms_io map of L's runtime. */
ms_iomap *ms_iomap_of(lua_State *L);

/* ---- tasks and parking (park.c; ms_task_wake and fork in scheduler.c) ---- */

/* The task now running, or NULL outside any task (a C host calling in). */
ms_task *ms_current(lua_State *L);
/* The task ms_park would park: the running one or, outside any task, the
 * handle that stands for the caller there (what core.current() returns). */
ms_task *ms_parking_task(lua_State *L);

/*
 * Parks the calling task until ms_task_wake() or until timeout seconds pass
 * (timeout < 0: no deadline), then continues in k(L, LUA_YIELD, ctx).
 * Outside any task it runs the loop until then and calls k itself.
 * In a non-yieldable context inside a task it raises a clear error.
 * Like lua_yieldk, it does not return when it yields: write `return ms_park(...)`.
 */
int ms_park(lua_State *L, double timeout, lua_KContext ctx, lua_KFunction k);
/* The same, also waking when fd io becomes ready for events (UV_READABLE,
 * UV_WRITABLE). */
int ms_park_io(lua_State *L, ms_io *io, int events, double timeout,
               lua_KContext ctx, lua_KFunction k);
/* 1 where ms_park can wait without raising: in a task at a point that can
 * yield, or outside any task while the loop is not running. Code that has a
 * blocking way to do its work (stdio) takes it elsewhere. */
int ms_can_park(lua_State *L);
/* Why the caller's task was last woken (an enum ms_wake). */
int ms_wake_reason(lua_State *L);
/* After a wake other than MS_WAKE_READY: raises the matching error (timed
 * out, EBADF, cancelled, interrupted, deadlock); returns 0 on MS_WAKE_READY. */
int ms_check_wake(lua_State *L);

/* Raises the error a signal handler left for the caller (the main task, or
 * the code outside any task when none lives); returns 0 when there is none. */
int ms_signal_raise_pending(lua_State *L);

/* Makes a task parked in ms_park ready to run with reason MS_WAKE_READY. */
void ms_task_wake(ms_task *t, int reason);

/*
 * Off-loop work (work.c) for calls that may block in the C library (name
 * resolution). ms_work_new pushes a holder userdata owning a zeroed block of size bytes and
 * returns the block: fill in the inputs, then `return ms_work_run(L, idx, ctx,
 * k)`. run(block) executes on libuv's thread pool and must not touch Lua;
 * destroy(block), if not NULL, frees what run produced and is called exactly
 * once when the holder is collected, even if the task was cancelled meanwhile.
 * In k, the block is ms_work_data(L, idx) and holds run's outputs.
 */
void *ms_work_new(lua_State *L, size_t size, void (*run)(void *),
                  void (*destroy)(void *));
int ms_work_run(lua_State *L, int idx, lua_KContext ctx, lua_KFunction k);
void *ms_work_data(lua_State *L, int idx);

/* In a child just forked: reinitialises the loop and keeps only the calling
 * task (or the code outside any task) running, as only the forking thread
 * survives a fork in Python. */
void ms_after_fork_child(lua_State *L);

/* Monotonic seconds. */
double ms_now(lua_State *L);

/* ---- addresses (address.c) ---- */

/* Pushes a Python-style address: a {host, port[, flowinfo, scope_id]} table
 * that prints like a tuple, a string for AF_UNIX, or {family, bytes}. */
void ms_push_sockaddr(lua_State *L, const struct sockaddr *sa, socklen_t len);
/* Reads the address at idx for family into ss. Hosts must be numeric, '' or
 * '<broadcast>' (socket.lua resolves names first). Raises an argument error
 * naming arg / fname on a malformed address. */
socklen_t ms_check_sockaddr(lua_State *L, int idx, int family,
                            struct sockaddr_storage *ss, const char *fname);
/* Pushes a table with the metatable that prints it as a Python tuple or list. */
void ms_push_tuple(lua_State *L, int narr);
void ms_push_list(lua_State *L, int narr);

/* ---- sockets (socket.c), for C modules layered on them ---- */

/* The open socket object at idx's io (its fd is io->fd) and, if timeout is
 * not NULL, its timeout (< 0 None, 0 non-blocking, > 0 seconds). Raises a
 * bad-argument error for a non-socket and EBADF for a closed one. */
ms_io *ms_socket_io(lua_State *L, int idx, double *timeout);

/* ---- module openers (one per C file) ---- */
int ms_open_task(lua_State *L);     /* "moonsock.core.task" */
int ms_open_socket(lua_State *L);   /* "moonsock.core.socket" */
int ms_open_ssl(lua_State *L);      /* "moonsock.core.ssl" */
int ms_open_resolver(lua_State *L); /* adds resolver functions to the table on top */
int ms_open_select(lua_State *L);   /* "select" */
int ms_open_errno(lua_State *L);    /* "errno" */
int ms_open_posix(lua_State *L);    /* "moonsock.posix": fork, waitpid, _exit... */
int ms_open_signal(lua_State *L);   /* "moonsock.core.signal", under lua/signal.lua */
int ms_open_daemon(lua_State *L);   /* "moonsock.core.daemon": sd_listen_fds, sd_is_* checks */
int ms_open_luasocket(lua_State *L); /* "moonsock.core.luasocket": clocks, fd limit */
int ms_open_mime(lua_State *L);     /* "mime.core": LuaSocket's codecs */
int ms_open_process(lua_State *L);  /* "moonsock.core.process": child processes */
int ms_open_stream(lua_State *L);   /* "moonsock.core.stream": fds 0-2 without blocking */
void ms_socket_constants(lua_State *L); /* sets every constant into the table on top */

/* Registry key (a light userdata address) of the Lua-side error factory. */
extern const char ms_errors_key;

/* ---- timeout arguments (timeout.c) ---- */

/* Python's timeout argument at idx, given in units of 1/per_second s (1:
 * seconds, 1000: poll's milliseconds), as seconds. NaN and values past
 * CPython's clock (2^63 ns, math.huge included) are argument errors with
 * CPython's texts; a negative value is the argument error `negative`, or
 * with negative NULL means no deadline (-1), as poll and epoll take it. */
double ms_timeout_check(lua_State *L, int idx, double per_second, const char *negative);
/* The same, with nil or none also meaning no deadline (-1). */
double ms_timeout_opt(lua_State *L, int idx, double per_second, const char *negative);

#endif
