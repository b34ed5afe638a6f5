/*
 * The few process calls Python's os module offers that socketserver's
 * ForkingMixIn needs and Lua lacks: fork, waitpid, _exit, getpid, kill and
 * the wait-status macros. `require "moonsock.posix"`.
 *
 * waitpid without WNOHANG must not block the loop: it asks with WNOHANG and
 * parks between tries, briefly at first, then at most 50 ms apart.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ms.h"

static int check_int(lua_State *L, int idx) {
  lua_Integer v = luaL_checkinteger(L, idx);
  luaL_argcheck(L, v >= INT_MIN && v <= INT_MAX, idx, "value out of range");
  return (int)v;
}

/* fork() -> 0 in the child, the child's pid in the parent. Buffered output
 * is flushed first, or both processes would write it. */
static int px_fork(lua_State *L) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return ms_raise_errno(L, errno);
  if (pid == 0) ms_after_fork_child(L);
  lua_pushinteger(L, pid);
  return 1;
}

/* Stack: 1 pid, 2 options, 3 the next pause in seconds. */
static int waitpid_k(lua_State *L, int status, lua_KContext ctx) {
  (void)ctx;
  if (status == LUA_YIELD && ms_wake_reason(L) != MS_WAKE_TIMEOUT) ms_check_wake(L);
  pid_t pid = (pid_t)lua_tointeger(L, 1);
  int options = (int)lua_tointeger(L, 2);
  int st = 0;
  pid_t r;
  do r = waitpid(pid, &st, options | WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0) return ms_raise_errno(L, errno);
  if (r > 0 || (options & WNOHANG)) {
    lua_pushinteger(L, r);
    lua_pushinteger(L, r > 0 ? st : 0);
    return 2;
  }
  double pause = lua_tonumber(L, 3);
  lua_pushnumber(L, pause * 2 > 0.05 ? 0.05 : pause * 2);
  lua_replace(L, 3);
  return ms_park(L, pause, 0, waitpid_k);
}

/* waitpid(pid, options) -> pid, status (0, 0 with WNOHANG and no change). */
static int px_waitpid(lua_State *L) {
  check_int(L, 1);
  check_int(L, 2);
  lua_settop(L, 2);
  lua_pushnumber(L, 0.001);
  return waitpid_k(L, LUA_OK, 0);
}

static int px_exit(lua_State *L) {
  _exit(check_int(L, 1));
  return 0;
}

/* os.strerror(code) */
static int px_strerror(lua_State *L) {
  lua_pushstring(L, strerror(check_int(L, 1)));
  return 1;
}

/* os.umask(mask) -> the previous mask. */
static int px_umask(lua_State *L) {
  lua_Integer mask = luaL_checkinteger(L, 1);
  luaL_argcheck(L, mask >= 0 && mask <= 0777, 1, "mask out of range");
  lua_pushinteger(L, umask((mode_t)mask));
  return 1;
}

static int px_getpid(lua_State *L) {
  lua_pushinteger(L, getpid());
  return 1;
}

static int px_getppid(lua_State *L) {
  lua_pushinteger(L, getppid());
  return 1;
}

static int px_kill(lua_State *L) {
  if (kill((pid_t)check_int(L, 1), check_int(L, 2)) < 0) return ms_raise_errno(L, errno);
  return 0;
}

#define STATUS_FN(name, expr)                  \
  static int px_##name(lua_State *L) {         \
    int status = check_int(L, 1);              \
    lua_pushinteger(L, (lua_Integer)(expr));   \
    return 1;                                  \
  }
#define STATUS_BOOL(name, expr)                \
  static int px_##name(lua_State *L) {         \
    int status = check_int(L, 1);              \
    lua_pushboolean(L, (expr) != 0);           \
    return 1;                                  \
  }
STATUS_BOOL(WIFEXITED, WIFEXITED(status))
STATUS_FN(WEXITSTATUS, WEXITSTATUS(status))
STATUS_BOOL(WIFSIGNALED, WIFSIGNALED(status))
STATUS_FN(WTERMSIG, WTERMSIG(status))
STATUS_BOOL(WIFSTOPPED, WIFSTOPPED(status))
STATUS_FN(WSTOPSIG, WSTOPSIG(status))
STATUS_BOOL(WIFCONTINUED, WIFCONTINUED(status))
STATUS_BOOL(WCOREDUMP, WCOREDUMP(status))

/* waitstatus_to_exitcode: the exit code, or minus the signal, as Python. */
static int px_waitstatus_to_exitcode(lua_State *L) {
  int status = check_int(L, 1);
  if (WIFEXITED(status)) {
    lua_pushinteger(L, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    lua_pushinteger(L, -WTERMSIG(status));
  } else if (WIFSTOPPED(status)) {
    return ms_raise(L, "ValueError", 0,
                    lua_pushfstring(L, "process stopped by delivery of signal %d", WSTOPSIG(status)));
  } else {
    return ms_raise(L, "ValueError", 0, lua_pushfstring(L, "invalid wait status: %d", status));
  }
  return 1;
}

int ms_open_posix(lua_State *L) {
  static const luaL_Reg funcs[] = {{"fork", px_fork},
                                   {"waitpid", px_waitpid},
                                   {"_exit", px_exit},
                                   {"getpid", px_getpid},
                                   {"strerror", px_strerror},
                                   {"umask", px_umask},
                                   {"getppid", px_getppid},
                                   {"kill", px_kill},
                                   {"WIFEXITED", px_WIFEXITED},
                                   {"WEXITSTATUS", px_WEXITSTATUS},
                                   {"WIFSIGNALED", px_WIFSIGNALED},
                                   {"WTERMSIG", px_WTERMSIG},
                                   {"WIFSTOPPED", px_WIFSTOPPED},
                                   {"WSTOPSIG", px_WSTOPSIG},
                                   {"WIFCONTINUED", px_WIFCONTINUED},
                                   {"WCOREDUMP", px_WCOREDUMP},
                                   {"waitstatus_to_exitcode", px_waitstatus_to_exitcode},
                                   {NULL, NULL}};
  luaL_newlib(L, funcs);
  static const struct {
    const char *name;
    int value;
  } consts[] = {{"WNOHANG", WNOHANG}, {"SIGTERM", SIGTERM}, {"SIGKILL", SIGKILL},
                {"SIGINT", SIGINT},   {"SIGHUP", SIGHUP},   {"SIGCHLD", SIGCHLD},
                {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {NULL, 0}};
  for (int i = 0; consts[i].name; i++) {
    lua_pushinteger(L, consts[i].value);
    lua_setfield(L, -2, consts[i].name);
  }
  return 1;
}
