/*
 * Signals: the core of Python's signal module ("moonsock.core.signal", under
 * lua/signal.lua) and SIGINT as KeyboardInterrupt.
 *
 * A Lua function cannot run inside a C signal handler: the signal may come
 * in the middle of the interpreter, or on one of libuv's threads. A signal
 * with a Lua handler is watched by a uv_signal_t, whose callback runs in the
 * loop, between tasks, on the main thread: there it calls signal.lua's
 * dispatcher, which calls the handler. A handler's error belongs to the main
 * task, as Python raises it in the main thread: a parked main task is woken
 * with it (MS_WAKE_SIGNAL), a ready one gets it from a hook at its next
 * instruction.
 *
 * SIGINT under default_int_handler, the command's start, is the exception:
 * a plain sigaction handler sets a flag and a hook, as lua.c does, so that
 * Ctrl-C also stops a main task busy in Lua code that never yields (the
 * uv_signal_t callback only runs when the loop turns). The main task gets it
 * while it lives, else the code running outside any task (-e, the REPL, a C
 * host); with neither, the process ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "scheduler_int.h"

/* A C signal handler gets no argument to find its runtime by. */
static ms_runtime *sigint_rt;

/* Registry keys: signal.lua's dispatcher, and a handler's error waiting for
 * the main task. */
static const char signal_dispatch_key = 0;
static const char signal_error_key = 0;

/* The fd set_wakeup_fd gave: a byte per signal handled, for a select loop. */
static int signal_wakeup_fd = -1;

/* Whether L runs the code a signal's error or KeyboardInterrupt is for:
 * the main task while it lives, else the code outside any task. */
static int signal_is_target(ms_runtime *rt) {
  return ms_sched_main_alive(rt) ? rt->current == rt->main : rt->current == NULL;
}

int ms_signal_raise_pending(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  if (!rt->signal_error) return 0;
  rt->signal_error = 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &signal_error_key);
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &signal_error_key);
  return lua_error(L);
}

static void signal_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  ms_runtime *rt = ms_rt(L);
  lua_sethook(L, NULL, 0, 0);
  /* Set on the thread that runs the target: off it, the next blocking call
   * of the target raises instead (ms_park_check). */
  if (!signal_is_target(rt)) return;
  if (rt->interrupt) {
    rt->interrupt = 0;
    ms_raise(L, "KeyboardInterrupt", 0, "");
  }
  ms_signal_raise_pending(L);
}

static const int signal_hook_mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT;

/* ---- SIGINT as KeyboardInterrupt ---- */

/* A C signal cannot touch the Lua state: it sets a flag, a hook for a main
 * task busy in Lua code, and wakes the loop for a main task that is parked. */
static void sigint_on_signal(int sig) {
  (void)sig;
  ms_runtime *rt = sigint_rt;
  if (!rt) return;
  rt->interrupt = 1;
  if (ms_sched_main_alive(rt) && rt->current == rt->main)
    lua_sethook(rt->main->co, signal_hook, signal_hook_mask, 1);
  else if (!ms_sched_main_alive(rt) && !rt->current)
    lua_sethook(rt->L, signal_hook, signal_hook_mask, 1); /* code outside any task */
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

static void sigint_set_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sigint_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

void ms_signal_install(ms_runtime *rt) {
  /* Started in the background with SIGINT ignored: keep ignoring it, as
   * Python does. */
  struct sigaction old;
  if (sigaction(SIGINT, NULL, &old) == 0 && old.sa_handler == SIG_IGN) return;
  uv_async_init(rt->loop, &rt->sigint_async, sigint_on_async);
  rt->sigint_async.data = rt;
  uv_unref((uv_handle_t *)&rt->sigint_async);
  sigint_rt = rt;
  sigint_set_handler();
  rt->sigint_installed = 1;
}

static void signal_free_handle(uv_handle_t *h) { free(h); }

void ms_signal_close(ms_runtime *rt) {
  for (int i = 1; i < NSIG; i++) {
    if (rt->signals[i]) uv_close((uv_handle_t *)rt->signals[i], signal_free_handle);
    rt->signals[i] = NULL;
  }
  if (!rt->sigint_installed) return;
  if (sigint_rt == rt) sigint_rt = NULL;
  signal(SIGINT, SIG_DFL);
  uv_close((uv_handle_t *)&rt->sigint_async, NULL);
}

/* ---- Lua handlers over uv_signal_t ---- */

static int signal_check_signum(lua_State *L, int idx) {
  lua_Integer sig = luaL_checkinteger(L, idx);
  if (sig < 1 || sig >= NSIG) return ms_raise(L, "ValueError", 0, "signal number out of range");
  return (int)sig;
}

/* A handler's error, on top of rt->L, goes to the main task (or the code
 * outside any task when none lives): woken if parked, or raised by the hook
 * at its next instruction. */
static void signal_deliver(ms_runtime *rt) {
  lua_State *L = rt->L;
  lua_rawsetp(L, LUA_REGISTRYINDEX, &signal_error_key);
  rt->signal_error = 1;
  ms_task *target = ms_sched_main_alive(rt) ? rt->main : rt->outside;
  if (target && target->state == MS_T_PARKED) ms_task_wake(target, MS_WAKE_SIGNAL);
  lua_sethook(target && target->co ? target->co : L, signal_hook, signal_hook_mask, 1);
}

static int signal_dispatch_p(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &signal_dispatch_key) != LUA_TFUNCTION) return 0;
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  return 0;
}

static void signal_on_uv(uv_signal_t *h, int signum) {
  ms_runtime *rt = h->data;
  lua_State *L = rt->L;
  if (signal_wakeup_fd >= 0) {
    unsigned char byte = (unsigned char)signum;
    ssize_t n;
    do n = write(signal_wakeup_fd, &byte, 1);
    while (n < 0 && errno == EINTR);
  }
  if (!lua_checkstack(L, 3)) return;
  lua_pushcfunction(L, signal_dispatch_p);
  lua_pushinteger(L, signum);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) signal_deliver(rt);
}

/* set_dispatch(fn): fn(signum) runs in the loop for each watched signal. */
static int signal_set_dispatch(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &signal_dispatch_key);
  return 0;
}

/* watch(signum, mode): 0 stops watching (libuv then restores SIG_DFL: set
 * the disposition wanted afterwards); 1 watches for a handler, without
 * keeping the loop alive, as Python exits with handlers set; 2 watches for
 * a waiter, which does keep it alive. */
static int signal_watch(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  int sig = signal_check_signum(L, 1);
  lua_Integer mode = luaL_checkinteger(L, 2);
  uv_signal_t *h = rt->signals[sig];
  if (mode == 0) {
    if (h) uv_signal_stop(h);
    return 0;
  }
  if (!h) {
    h = malloc(sizeof *h);
    if (!h) return ms_raise_errno(L, ENOMEM);
    uv_signal_init(rt->loop, h);
    h->data = rt;
    rt->signals[sig] = h;
  }
  if (!uv_is_active((uv_handle_t *)h)) {
    int rc = uv_signal_start(h, signal_on_uv, sig);
    if (rc) return ms_raise_errno(L, -rc);
  }
  if (mode == 2)
    uv_ref((uv_handle_t *)h);
  else
    uv_unref((uv_handle_t *)h);
  return 0;
}

static const char *const signal_kinds[] = {"default", "ignore", "int", NULL};

/* action(signum[, kind]) -> the disposition before: "default", "ignore",
 * "int" (KeyboardInterrupt's handler) or "other" (a watch, or one a host
 * set); with kind, sets it. "int" needs ms_signal_install (int_ready()). */
static int signal_action(lua_State *L) {
  ms_runtime *rt = ms_rt(L);
  int sig = signal_check_signum(L, 1);
  struct sigaction old;
  int rc;
  if (lua_isnoneornil(L, 2)) {
    rc = sigaction(sig, NULL, &old);
  } else {
    int kind = luaL_checkoption(L, 2, NULL, signal_kinds);
    luaL_argcheck(L, kind != 2 || (sig == SIGINT && rt->sigint_installed), 2,
                  "KeyboardInterrupt's handler is not installed");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = kind == 0 ? SIG_DFL : kind == 1 ? SIG_IGN : sigint_on_signal;
    rc = sigaction(sig, &sa, &old);
  }
  if (rc < 0) return ms_raise_errno(L, errno);
  lua_pushstring(L, old.sa_handler == SIG_DFL          ? "default"
                    : old.sa_handler == SIG_IGN        ? "ignore"
                    : old.sa_handler == sigint_on_signal ? "int"
                                                       : "other");
  return 1;
}

static int signal_int_ready(lua_State *L) {
  lua_pushboolean(L, ms_rt(L)->sigint_installed);
  return 1;
}

/* ---- Python's functions ---- */

/* Python checks no range: raise() answers (0 sends nothing, as kill). */
static int signal_raise_signal(lua_State *L) {
  lua_Integer sig = luaL_checkinteger(L, 1);
  luaL_argcheck(L, sig >= INT_MIN && sig <= INT_MAX, 1, "Python int too large to convert to C int");
  if (raise((int)sig) != 0) return ms_raise_errno(L, errno);
  return 0;
}

static int signal_strsignal(lua_State *L) {
  int sig = signal_check_signum(L, 1);
  errno = 0;
  const char *s = strsignal(sig);
  /* CPython's test: glibc names an unknown number rather than fail. */
  if (errno || !s || strstr(s, "Unknown signal")) return 0;
  lua_pushstring(L, s);
  return 1;
}

/* Pushes the signals of set as a Python list of numbers, as Python's sets
 * of signals come out (valid_signals, pthread_sigmask). */
static int signal_push_set(lua_State *L, const sigset_t *set) {
  ms_push_list(L, 0);
  int n = 0;
  for (int i = 1; i < NSIG; i++)
    if (sigismember(set, i) == 1) {
      lua_pushinteger(L, i);
      lua_rawseti(L, -2, ++n);
    }
  return 1;
}

static int signal_valid_signals(lua_State *L) {
  sigset_t all;
  sigfillset(&all);
  return signal_push_set(L, &all);
}

/* Python takes a C int and passes it on as alarm's unsigned. */
static int signal_alarm(lua_State *L) {
  lua_Integer s = luaL_checkinteger(L, 1);
  luaL_argcheck(L, s >= INT_MIN && s <= INT_MAX, 1, "Python int too large to convert to C int");
  lua_pushinteger(L, alarm((unsigned)(int)s));
  return 1;
}

static double signal_tv_seconds(struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Python rounds up, so that a tiny positive time does not disarm the timer. */
static struct timeval signal_seconds_tv(double s) {
  struct timeval tv;
  double whole = floor(s);
  tv.tv_sec = (time_t)whole;
  tv.tv_usec = (suseconds_t)ceil((s - whole) * 1e6);
  if (tv.tv_usec >= 1000000) {
    tv.tv_sec++;
    tv.tv_usec -= 1000000;
  }
  return tv;
}

static int signal_push_itimer(lua_State *L, const struct itimerval *v) {
  lua_pushnumber(L, signal_tv_seconds(v->it_value));
  lua_pushnumber(L, signal_tv_seconds(v->it_interval));
  return 2;
}

/* setitimer(which, seconds, interval) -> old value, old interval; on
 * failure nil, errno (signal.lua raises ItimerError). */
static int signal_setitimer(lua_State *L) {
  int which = (int)luaL_checkinteger(L, 1);
  double value = luaL_checknumber(L, 2), interval = luaL_checknumber(L, 3);
  /* signal.lua bounds them; a negative time is the kernel's EINVAL, as in
   * Python. */
  struct itimerval nv, ov;
  nv.it_value = signal_seconds_tv(value);
  nv.it_interval = signal_seconds_tv(interval);
  if (setitimer(which, &nv, &ov) < 0) {
    lua_pushnil(L);
    lua_pushinteger(L, errno);
    return 2;
  }
  return signal_push_itimer(L, &ov);
}

static int signal_getitimer(lua_State *L) {
  int which = (int)luaL_checkinteger(L, 1);
  struct itimerval v;
  if (getitimer(which, &v) < 0) {
    lua_pushnil(L);
    lua_pushinteger(L, errno);
    return 2;
  }
  return signal_push_itimer(L, &v);
}

/* pthread_sigmask(how, {signums}) -> the previous mask, a sorted list.
 * signal.lua checks the numbers. */
static int signal_pthread_sigmask(lua_State *L) {
  int how = (int)luaL_checkinteger(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  sigset_t set, old;
  sigemptyset(&set);
  lua_Integer n = luaL_len(L, 2);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    sigaddset(&set, (int)lua_tointeger(L, -1));
    lua_pop(L, 1);
  }
  int rc = pthread_sigmask(how, &set, &old);
  if (rc) return ms_raise_errno(L, rc);
  return signal_push_set(L, &old);
}

/* set_wakeup_fd(fd) -> the previous one (-1: none), with Python's checks. */
static int signal_set_wakeup_fd(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  if (fd != -1) {
    struct stat st;
    if (fd < 0 || fd > INT_MAX || fstat((int)fd, &st) < 0)
      return ms_raise_errno(L, fd < 0 || fd > INT_MAX ? EBADF : errno);
    int fl = fcntl((int)fd, F_GETFL);
    if (fl < 0) return ms_raise_errno(L, errno);
    if (!(fl & O_NONBLOCK))
      return ms_raise(L, "ValueError", 0,
                      lua_pushfstring(L, "the fd %d must be in non-blocking mode", (int)fd));
  }
  lua_pushinteger(L, signal_wakeup_fd);
  signal_wakeup_fd = (int)fd;
  return 1;
}

/* The platform's signal numbers, by Python's names. */
static void signal_push_constants(lua_State *L) {
  static const struct {
    const char *name;
    int value;
  } consts[] = {
      {"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},       {"SIGQUIT", SIGQUIT},   {"SIGILL", SIGILL},
      {"SIGTRAP", SIGTRAP}, {"SIGABRT", SIGABRT},     {"SIGIOT", SIGIOT},     {"SIGBUS", SIGBUS},
      {"SIGFPE", SIGFPE},   {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1},   {"SIGSEGV", SIGSEGV},
      {"SIGUSR2", SIGUSR2}, {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM},   {"SIGTERM", SIGTERM},
      {"SIGCHLD", SIGCHLD}, {"SIGCONT", SIGCONT},     {"SIGSTOP", SIGSTOP},   {"SIGTSTP", SIGTSTP},
      {"SIGTTIN", SIGTTIN}, {"SIGTTOU", SIGTTOU},     {"SIGURG", SIGURG},     {"SIGXCPU", SIGXCPU},
      {"SIGXFSZ", SIGXFSZ}, {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF},   {"SIGWINCH", SIGWINCH},
      {"SIGIO", SIGIO},     {"SIGSYS", SIGSYS},
#ifdef SIGSTKFLT
      {"SIGSTKFLT", SIGSTKFLT},
#endif
#ifdef SIGPOLL
      {"SIGPOLL", SIGPOLL},
#endif
#ifdef SIGCLD
      {"SIGCLD", SIGCLD},
#endif
#ifdef SIGPWR
      {"SIGPWR", SIGPWR},
#endif
      {NULL, 0}};
  lua_newtable(L);
  for (int i = 0; consts[i].name; i++) {
    lua_pushinteger(L, consts[i].value);
    lua_setfield(L, -2, consts[i].name);
  }
#ifdef SIGRTMIN
  lua_pushinteger(L, SIGRTMIN);
  lua_setfield(L, -2, "SIGRTMIN");
  lua_pushinteger(L, SIGRTMAX);
  lua_setfield(L, -2, "SIGRTMAX");
#endif
}

int ms_open_signal(lua_State *L) {
  static const luaL_Reg funcs[] = {{"set_dispatch", signal_set_dispatch},
                                   {"watch", signal_watch},
                                   {"action", signal_action},
                                   {"int_ready", signal_int_ready},
                                   {"raise_signal", signal_raise_signal},
                                   {"strsignal", signal_strsignal},
                                   {"valid_signals", signal_valid_signals},
                                   {"alarm", signal_alarm},
                                   {"setitimer", signal_setitimer},
                                   {"getitimer", signal_getitimer},
                                   {"pthread_sigmask", signal_pthread_sigmask},
                                   {"set_wakeup_fd", signal_set_wakeup_fd},
                                   {NULL, NULL}};
  luaL_newlib(L, funcs);
  signal_push_constants(L);
  lua_setfield(L, -2, "signals");
  static const struct {
    const char *name;
    int value;
  } consts[] = {{"NSIG", NSIG},
                {"SIG_BLOCK", SIG_BLOCK},
                {"SIG_UNBLOCK", SIG_UNBLOCK},
                {"SIG_SETMASK", SIG_SETMASK},
                {"ITIMER_REAL", ITIMER_REAL},
                {"ITIMER_VIRTUAL", ITIMER_VIRTUAL},
                {"ITIMER_PROF", ITIMER_PROF},
                {NULL, 0}};
  for (int i = 0; consts[i].name; i++) {
    lua_pushinteger(L, consts[i].value);
    lua_setfield(L, -2, consts[i].name);
  }
  return 1;
}
