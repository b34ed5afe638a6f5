/*
 * Child processes, `moonsock.core.process`: the C core under io.popen,
 * os.execute (lua/moonsock/popen.lua) and Python's subprocess
 * (lua/subprocess.lua). libuv spawns and reaps (uv_spawn, its SIGCHLD
 * watcher): waiting parks only the calling task until libuv's exit callback.
 *
 * The uv_process_t is malloc'd, not part of the userdata: uv_close finishes
 * on a later loop turn, after the userdata may be gone. A process object
 * collected while its child runs detaches the handle (data = NULL) and lets
 * the exit callback close it, so the child is still reaped, never a zombie.
 * Detached handles wait in a list that the state's closing frees: the
 * module's reaper userdata is made before any process object, so its __gc
 * runs after theirs and before the runtime's teardown runs the loop.
 * libuv reaps each child with waitpid(pid): a waitpid(-1) elsewhere in the
 * process can take the exit from it; a wait then finds the pid gone
 * (process_stolen) and answers as Python's subprocess does.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ms.h"

#define PROCESS_META "moonsock.process"
/* The shortest wait: one loop turn that reads libuv's SIGCHLD pipe. */
#define PROCESS_MIN_WAIT 0.001
/* How often a waiting task looks for a child reaped behind libuv's back. */
#define PROCESS_CHECK_EVERY 0.5

enum process_state { PROCESS_RUNNING, PROCESS_EXITED, PROCESS_CLOSED };

/* A handle with its links in the reaper's list of detached handles. */
typedef struct process_handle process_handle;
struct process_handle {
  uv_process_t h; /* first: a uv_process_t * is a process_handle * */
  process_handle *next, **pprev; /* in the reaper's list once detached */
};

typedef struct process_reaper {
  process_handle *detached;
} process_reaper;

typedef struct process {
  uv_process_t *h; /* NULL once the exit callback or the closer let it go */
  process_reaper *reaper;
  int pid;
  int state;
  int64_t exit_status;
  int term_signal;
  /* The tasks parked in wait(); each removes itself when it wakes. */
  ms_task **waiters;
  int nwaiters, cap;
} process;

static void process_free_handle(uv_handle_t *h) { free(h); }

static void process_unlink(process_handle *ph) {
  if (!ph->pprev) return;
  *ph->pprev = ph->next;
  if (ph->next) ph->next->pprev = ph->pprev;
  ph->next = NULL;
  ph->pprev = NULL;
}

static void process_ended(process *p, int64_t exit_status, int term_signal);

/* libuv has reaped the child. */
static void process_on_exit(uv_process_t *h, int64_t exit_status, int term_signal) {
  process *p = h->data;
  process_unlink((process_handle *)h);
  uv_close((uv_handle_t *)h, process_free_handle);
  if (p) process_ended(p, exit_status, term_signal); /* else detached by the collector */
}

/* The one closer of close, __close and __gc; safe twice. A child still
 * running is left to the exit callback, which reaps it and frees the handle. */
static void process_closer(process *p) {
  if (p->state == PROCESS_CLOSED) return;
  if (p->h) {
    process_handle *ph = (process_handle *)p->h;
    p->h->data = NULL;
    uv_unref((uv_handle_t *)p->h); /* a forgotten child does not keep the loop */
    ph->next = p->reaper->detached;
    if (ph->next) ph->next->pprev = &ph->next;
    ph->pprev = &p->reaper->detached;
    p->reaper->detached = ph;
    p->h = NULL;
  }
  free(p->waiters);
  p->waiters = NULL;
  p->nwaiters = p->cap = 0;
  p->state = PROCESS_CLOSED;
}

static process *process_to(lua_State *L, int idx) { return luaL_checkudata(L, idx, PROCESS_META); }

/* Every method but close rejects a closed process object. */
static process *process_check(lua_State *L, int idx) {
  process *p = process_to(L, idx);
  if (p->state == PROCESS_CLOSED) luaL_error(L, "attempt to use a closed process");
  return p;
}

/* Pushes (exit status, signal) of an ended child. */
static int process_push_result(lua_State *L, process *p) {
  lua_pushinteger(L, (lua_Integer)p->exit_status);
  lua_pushinteger(L, p->term_signal);
  return 2;
}

static const char *process_check_string(lua_State *L, int idx, int argn, const char *what) {
  if (lua_type(L, idx) != LUA_TSTRING)
    ms_argerror(L, argn, "spawn", lua_pushfstring(L, "%s must be strings", what));
  const char *s = lua_tostring(L, idx);
  if (strlen(s) != lua_rawlen(L, idx))
    ms_raise(L, "ValueError", 0, "embedded null byte");
  return s;
}

/* A NULL-terminated char* array in a userdata pushed on the stack, holding
 * the strings of the list at idx (kept alive by that list). */
static char **process_argv(lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  char **v = lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    v[i - 1] = (char *)process_check_string(L, -1, 2, "args");
    lua_pop(L, 1);
  }
  v[n] = NULL;
  return v;
}

/* env {name = value} as "name=value" strings, in a list left at the top
 * below the array, which is pushed last. */
static char **process_env(lua_State *L, int idx) {
  lua_newtable(L);
  int list = lua_gettop(L);
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k = process_check_string(L, -2, 3, "env names");
    const char *v = process_check_string(L, -1, 3, "env values");
    if (strchr(k, '=') || !*k) ms_raise(L, "ValueError", 0, "illegal environment variable name");
    lua_pushfstring(L, "%s=%s", k, v);
    lua_rawseti(L, list, ++n);
    lua_pop(L, 1);
  }
  return process_argv(L, list);
}

/*
 * spawn(file, args, opts) -> process. args is argv, argv[0] included; opts:
 * env (a table of names to values; nil inherits), cwd, stdio {[1]=, [2]=,
 * [3]=} for fds 0-2: an fd the child gets there, false for /dev/null, nil
 * to share the parent's. Other fds are close-on-exec and never reach it.
 */
static int process_spawn(lua_State *L) {
  const char *file = process_check_string(L, 1, 1, "file");
  luaL_checktype(L, 2, LUA_TTABLE);
  if (lua_isnoneornil(L, 3)) {
    lua_settop(L, 2);
    lua_newtable(L);
  }
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_settop(L, 3);
  uv_process_options_t o;
  memset(&o, 0, sizeof o);
  o.file = file;
  o.args = process_argv(L, 2);
  if (lua_getfield(L, 3, "env") != LUA_TNIL) {
    luaL_checktype(L, -1, LUA_TTABLE);
    o.env = process_env(L, lua_gettop(L));
  }
  if (lua_getfield(L, 3, "cwd") != LUA_TNIL) o.cwd = process_check_string(L, -1, 3, "cwd");
  uv_stdio_container_t stdio[3];
  int have = lua_getfield(L, 3, "stdio") != LUA_TNIL;
  for (int i = 0; i < 3; i++) {
    int t = have ? lua_geti(L, -1 - i, i + 1) : LUA_TNIL;
    if (t == LUA_TNIL) {
      stdio[i].flags = UV_INHERIT_FD;
      stdio[i].data.fd = i;
    } else if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
      stdio[i].flags = UV_IGNORE; /* libuv opens /dev/null for fds 0-2 */
    } else {
      lua_Integer fd = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
      if (fd < 0 || fd > INT32_MAX) ms_argerror(L, 3, "spawn", "stdio entries must be fds, false or nil");
      stdio[i].flags = UV_INHERIT_FD;
      stdio[i].data.fd = (int)fd;
    }
  }
  o.stdio = stdio;
  o.stdio_count = 3;
  o.exit_cb = process_on_exit;

  process *p = lua_newuserdatauv(L, sizeof *p, 1);
  memset(p, 0, sizeof *p);
  p->state = PROCESS_CLOSED; /* until the child exists */
  luaL_setmetatable(L, PROCESS_META);
  p->reaper = lua_touserdata(L, lua_upvalueindex(1));
  lua_pushvalue(L, lua_upvalueindex(1)); /* kept while any process lives */
  lua_setiuservalue(L, -2, 1);
  process_handle *ph = calloc(1, sizeof *ph);
  if (!ph) return ms_raise_errno(L, ENOMEM);
  uv_process_t *h = &ph->h;
  int rc = uv_spawn(ms_loop(L), h, &o);
  if (rc) {
    /* libuv initialised the handle even so: it must go through uv_close. */
    uv_close((uv_handle_t *)h, process_free_handle);
    lua_pushstring(L, file);
    ms_push_error(L, "OSError", -rc, strerror(-rc));
    lua_insert(L, -2);
    lua_setfield(L, -2, "filename");
    return lua_error(L);
  }
  h->data = p;
  p->h = h;
  p->pid = h->pid;
  p->state = PROCESS_RUNNING;
  return 1;
}

static void process_unwait(process *p, ms_task *t) {
  for (int i = 0; i < p->nwaiters; i++)
    if (p->waiters[i] == t) {
      p->waiters[i] = p->waiters[--p->nwaiters];
      return;
    }
}

/* Records the child's end and wakes the tasks waiting for it. */
static void process_ended(process *p, int64_t exit_status, int term_signal) {
  p->h = NULL;
  p->exit_status = exit_status;
  p->term_signal = term_signal;
  p->state = PROCESS_EXITED;
  for (int i = 0; i < p->nwaiters; i++) ms_task_wake(p->waiters[i], MS_WAKE_READY);
  p->nwaiters = 0;
}

/* A child that no longer exists though libuv never reported its end was
 * reaped by a waitpid(-1) elsewhere in the process (a zombie still exists
 * for kill): its status is lost, and libuv will never call back. Python's
 * subprocess answers 0 then; so does this, rather than wait for ever. */
static int process_stolen(process *p) {
  if (p->state != PROCESS_RUNNING || kill(p->pid, 0) == 0 || errno != ESRCH) return 0;
  uv_process_t *h = p->h;
  uv_close((uv_handle_t *)h, process_free_handle);
  process_ended(p, 0, 0);
  return 1;
}

static int process_add_waiter(lua_State *L, process *p) {
  if (p->nwaiters == p->cap) {
    int cap = p->cap ? p->cap * 2 : 4;
    ms_task **w = realloc(p->waiters, sizeof *w * (size_t)cap);
    if (!w) return ms_raise_errno(L, ENOMEM);
    p->waiters = w;
    p->cap = cap;
  }
  p->waiters[p->nwaiters++] = ms_parking_task(L);
  return 0;
}

static int process_wait_k(lua_State *L, int status, lua_KContext ctx);

/* Parks until the child ends, the deadline (stack slot 2, < 0: none)
 * passes, or PROCESS_CHECK_EVERY seconds, to look for a stolen child. */
static int process_park(lua_State *L, process *p) {
  double deadline = lua_tonumber(L, 2);
  double slice = PROCESS_CHECK_EVERY;
  if (deadline >= 0) {
    double left = deadline - ms_now(L);
    /* A child's end reaches libuv through a signal pipe that only the
     * loop's poll phase reads, after the timers: a zero wait would never
     * see it. */
    if (left < PROCESS_MIN_WAIT) left = PROCESS_MIN_WAIT;
    if (left < slice) slice = left;
  }
  process_add_waiter(L, p);
  return ms_park(L, slice, 0, process_wait_k);
}

static int process_wait_k(lua_State *L, int status, lua_KContext ctx) {
  process *p = process_to(L, 1);
  if (p->state == PROCESS_RUNNING) process_unwait(p, ms_parking_task(L));
  if (p->state == PROCESS_EXITED) return process_push_result(L, p);
  if (p->state == PROCESS_CLOSED) return luaL_error(L, "attempt to use a closed process");
  if (ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  if (process_stolen(p)) return process_push_result(L, p);
  double deadline = lua_tonumber(L, 2);
  if (deadline >= 0 && ms_now(L) >= deadline) {
    lua_pushnil(L);
    return 1;
  }
  return process_park(L, p);
}

/* wait([timeout]) -> exit status, signal; nil when timeout seconds pass
 * first (nil or none: no deadline). Only the calling task waits. */
static int process_wait(lua_State *L) {
  process *p = process_check(L, 1);
  double timeout = ms_timeout_opt(L, 2, 1, NULL);
  if (timeout < 0 && !lua_isnoneornil(L, 2)) timeout = 0; /* negative: now, as Python's */
  lua_settop(L, 1);
  if (p->state == PROCESS_EXITED) return process_push_result(L, p);
  lua_pushnumber(L, timeout < 0 ? -1 : ms_now(L) + timeout);
  return process_park(L, p);
}

/* poll() -> exit status, signal; nil while the child runs. */
static int process_poll(lua_State *L) {
  process *p = process_check(L, 1);
  if (p->state == PROCESS_EXITED) return process_push_result(L, p);
  lua_pushnil(L);
  return 1;
}

/* kill(sig): does nothing once the child has ended, as Python's send_signal. */
static int process_kill(lua_State *L) {
  process *p = process_check(L, 1);
  lua_Integer sig = luaL_checkinteger(L, 2);
  if (sig < 0 || sig >= NSIG) return ms_raise(L, "ValueError", 0, "signal number out of range");
  if (p->state != PROCESS_RUNNING) return 0;
  int rc = uv_process_kill(p->h, (int)sig);
  if (rc && rc != UV_ESRCH) return ms_raise_errno(L, -rc);
  return 0;
}

static int process_pid(lua_State *L) {
  lua_pushinteger(L, process_check(L, 1)->pid);
  return 1;
}

/* close(): a task waiting meanwhile is woken (a closed-process error). */
static int process_close(lua_State *L) {
  process *p = process_to(L, 1);
  for (int i = 0; i < p->nwaiters; i++) ms_task_wake(p->waiters[i], MS_WAKE_CLOSED);
  process_closer(p);
  return 0;
}

/* __gc, __close: no task can be waiting on an object it holds, except while
 * the state closes, when the tasks may be gone already: none is woken. */
static int process_gc(lua_State *L) {
  process_closer(process_to(L, 1));
  return 0;
}

/* pipe() -> parent fd, child fd: a connected pair as libuv makes for
 * UV_CREATE_PIPE, both close-on-exec and blocking (the child's end is the
 * child's stdio; the parent's is made non-blocking when wrapped as a
 * socket). */
static int process_pipe(lua_State *L) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) return ms_raise_errno(L, errno);
  lua_pushinteger(L, fds[0]);
  lua_pushinteger(L, fds[1]);
  return 2;
}

/* can_park() -> whether a wait here would park (inside a task, yieldable)
 * or run the loop (outside any task): false inside require or a metamethod,
 * where io.popen falls back to Lua's own, blocking one. */
static int process_can_park(lua_State *L) {
  lua_pushboolean(L, ms_current(L) == NULL || lua_isyieldable(L));
  return 1;
}

/* The state closes: the detached handles of children still running go,
 * uv_close'd here so that the runtime's teardown frees them. */
static int process_reaper_gc(lua_State *L) {
  process_reaper *r = lua_touserdata(L, 1);
  while (r->detached) {
    process_handle *ph = r->detached;
    process_unlink(ph);
    uv_close((uv_handle_t *)&ph->h, process_free_handle);
  }
  return 0;
}

/* ignored_signals() -> {signum...}: the signals this process ignores, but
 * for SIGPIPE and SIGXFSZ, which the runtime ignores for itself (Python's
 * restore_signals gives those back to children). libuv's child sets every
 * other disposition to SIG_DFL before exec, where fork and exec keep an
 * ignored one ignored (nohup's way): popen's shell re-ignores these. */
static int process_ignored_signals(lua_State *L) {
  lua_newtable(L);
  int n = 0;
  for (int sig = 1; sig < 32; sig++) {
    struct sigaction old;
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGPIPE || sig == SIGXFSZ) continue;
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_IGN) {
      lua_pushinteger(L, sig);
      lua_rawseti(L, -2, ++n);
    }
  }
  return 1;
}

int ms_open_process(lua_State *L) {
  static const luaL_Reg methods[] = {{"wait", process_wait}, {"poll", process_poll},
                                     {"kill", process_kill}, {"pid", process_pid},
                                     {"close", process_close}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"spawn", process_spawn}, {"pipe", process_pipe},
                                   {"can_park", process_can_park},
                                   {"ignored_signals", process_ignored_signals}, {NULL, NULL}};
  luaL_newmetatable(L, PROCESS_META);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, process_gc);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__gc");
  lua_setfield(L, -2, "__close");
  lua_pushliteral(L, "process");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  luaL_newlibtable(L, funcs);
  process_reaper *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->detached = NULL;
  lua_newtable(L);
  lua_pushcfunction(L, process_reaper_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  luaL_setfuncs(L, funcs, 1); /* spawn finds the reaper as its upvalue */
  return 1;
}
