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
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ms.h"

/* waitpid's pauses between WNOHANG tries: short at first, for a child that
 * is about to end, doubling up to a bound that keeps a late exit noticed
 * within a blink without waking the loop often. */
#define POSIX_WAITPID_FIRST_PAUSE 0.001
#define POSIX_WAITPID_MAX_PAUSE 0.05

static int posix_check_int(lua_State *L, int idx) {
  lua_Integer v = luaL_checkinteger(L, idx);
  luaL_argcheck(L, v >= INT_MIN && v <= INT_MAX, idx, "value out of range");
  return (int)v;
}

/* fork() -> 0 in the child, the child's pid in the parent. Buffered output
 * is flushed first, or both processes would write it. */
static int posix_fork(lua_State *L) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return ms_raise_errno(L, errno);
  if (pid == 0) ms_after_fork_child(L);
  lua_pushinteger(L, pid);
  return 1;
}

/* Stack: 1 pid, 2 options, 3 the next pause in seconds. */
static int posix_waitpid_k(lua_State *L, int status, lua_KContext ctx) {
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
  lua_pushnumber(L, pause * 2 > POSIX_WAITPID_MAX_PAUSE ? POSIX_WAITPID_MAX_PAUSE : pause * 2);
  lua_replace(L, 3);
  return ms_park(L, pause, 0, posix_waitpid_k);
}

/* waitpid(pid, options) -> pid, status (0, 0 with WNOHANG and no change). */
static int posix_waitpid(lua_State *L) {
  posix_check_int(L, 1);
  posix_check_int(L, 2);
  lua_settop(L, 2);
  lua_pushnumber(L, POSIX_WAITPID_FIRST_PAUSE);
  return posix_waitpid_k(L, LUA_OK, 0);
}

static int posix_exit(lua_State *L) {
  _exit(posix_check_int(L, 1));
  return 0;
}

/* os.strerror(code) */
static int posix_strerror(lua_State *L) {
  lua_pushstring(L, strerror(posix_check_int(L, 1)));
  return 1;
}

/* os.umask(mask) -> the previous mask. */
static int posix_umask(lua_State *L) {
  lua_Integer mask = luaL_checkinteger(L, 1);
  luaL_argcheck(L, mask >= 0 && mask <= 0777, 1, "mask out of range");
  lua_pushinteger(L, umask((mode_t)mask));
  return 1;
}

static int posix_getpid(lua_State *L) {
  lua_pushinteger(L, getpid());
  return 1;
}

static int posix_getppid(lua_State *L) {
  lua_pushinteger(L, getppid());
  return 1;
}

static int posix_kill(lua_State *L) {
  if (kill((pid_t)posix_check_int(L, 1), posix_check_int(L, 2)) < 0) return ms_raise_errno(L, errno);
  return 0;
}

#define STATUS_FN(name, expr)                  \
  static int posix_##name(lua_State *L) {      \
    int status = posix_check_int(L, 1);        \
    lua_pushinteger(L, (lua_Integer)(expr));   \
    return 1;                                  \
  }
#define STATUS_BOOL(name, expr)                \
  static int posix_##name(lua_State *L) {      \
    int status = posix_check_int(L, 1);        \
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
static int posix_waitstatus_to_exitcode(lua_State *L) {
  int status = posix_check_int(L, 1);
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

/* ---- For prefork servers (socketserver.PreforkMixIn): how many workers,
 * and workers that die with their parent (signals: src/signal.c). ---- */

/* os.cpu_count(): the CPUs online; nil when unknown, as Python's None. */
static int posix_cpu_count(lua_State *L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1)
    lua_pushnil(L);
  else
    lua_pushinteger(L, n);
  return 1;
}

/* Python 3.13's os.process_cpu_count(): the CPUs this process may run on,
 * fewer than cpu_count() under taskset or a cpuset. A fixed cpu_set_t holds
 * 1024 CPUs; on a larger machine the call fails and cpu_count() answers. */
static int posix_process_cpu_count(lua_State *L) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
    lua_pushinteger(L, CPU_COUNT(&set));
    return 1;
  }
  return posix_cpu_count(L);
}

/* Python's check and message for a signal number. */
static int posix_check_signum(lua_State *L, int idx) {
  lua_Integer sig = luaL_checkinteger(L, idx);
  if (sig < 1 || sig >= NSIG) return ms_raise(L, "ValueError", 0, "signal number out of range");
  return (int)sig;
}

/* set_pdeathsig(sig): prctl(PR_SET_PDEATHSIG), so that a worker gets sig
 * when its parent dies, even by SIGKILL; 0 clears it. It ends at the next
 * fork (the new child has none), and it is not sent if the parent died
 * before the call: check getppid() afterwards. */
static int posix_set_pdeathsig(lua_State *L) {
  lua_Integer sig = luaL_checkinteger(L, 1);
  if (sig != 0) sig = posix_check_signum(L, 1);
#ifdef PR_SET_PDEATHSIG
  if (prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL) < 0) return ms_raise_errno(L, errno);
  return 0;
#else
  return ms_raise_errno(L, ENOSYS);
#endif
}

/* Adds the functions above to the module on top. */
static void posix_open_prefork(lua_State *L) {
  static const luaL_Reg funcs[] = {{"cpu_count", posix_cpu_count},
                                   {"process_cpu_count", posix_process_cpu_count},
                                   {"set_pdeathsig", posix_set_pdeathsig},
                                   {NULL, NULL}};
  luaL_setfuncs(L, funcs, 0);
}

/* _issock(path) -> true if path names a socket file itself (lstat: a
 * symlink is not one). repl.serve replaces a stale socket file, and must
 * never remove anything else: connect(2) answers ECONNREFUSED for a regular
 * file, a directory or a FIFO as for a socket nobody listens on. Private:
 * Python's os has stat, not this. */
static int posix_issock(lua_State *L) {
  struct stat st;
  lua_pushboolean(L, lstat(luaL_checkstring(L, 1), &st) == 0 && S_ISSOCK(st.st_mode));
  return 1;
}

int ms_open_posix(lua_State *L) {
  static const luaL_Reg funcs[] = {{"fork", posix_fork},
                                   {"waitpid", posix_waitpid},
                                   {"_exit", posix_exit},
                                   {"getpid", posix_getpid},
                                   {"strerror", posix_strerror},
                                   {"umask", posix_umask},
                                   {"getppid", posix_getppid},
                                   {"kill", posix_kill},
                                   {"WIFEXITED", posix_WIFEXITED},
                                   {"WEXITSTATUS", posix_WEXITSTATUS},
                                   {"WIFSIGNALED", posix_WIFSIGNALED},
                                   {"WTERMSIG", posix_WTERMSIG},
                                   {"WIFSTOPPED", posix_WIFSTOPPED},
                                   {"WSTOPSIG", posix_WSTOPSIG},
                                   {"WIFCONTINUED", posix_WIFCONTINUED},
                                   {"WCOREDUMP", posix_WCOREDUMP},
                                   {"waitstatus_to_exitcode", posix_waitstatus_to_exitcode},
                                   {"_issock", posix_issock},
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
  posix_open_prefork(L);
  return 1;
}
