/*
 * Every function of include/moonsock.h, on its normal and its error paths.
 * Expected values come from the C library and the kernel (AF_INET,
 * strerror, /proc), from stock lua5.4 (its loader's messages) and from
 * python3 (the text of an uncaught socket error).
 *
 * usage: bin/tests/test_api        (TAP on stdout)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <uv.h>

#include "tap.h"

/* ---- moonsock_newstate, moonsock_spawn* ---- */

static int c_record(lua_State *L) {
  /* RECORD = its arguments joined with "," */
  int n = lua_gettop(L);
  for (int i = 1; i <= n; i++) {
    luaL_tolstring(L, i, NULL);
    if (i < n) lua_pushliteral(L, ",");
  }
  lua_concat(L, n > 0 ? 2 * n - 1 : 0);
  lua_setglobal(L, "RECORD");
  return 0;
}

static void test_newstate_and_spawn(void) {
  lua_State *L = moonsock_newstate();
  if (!ok(L != NULL, "moonsock_newstate returns a state")) return;

  const char *af = eval(L, "return require('socket').AF_INET");
  ok(af && atoi(af) == AF_INET, "require \"socket\" works in it (AF_INET is %d, got %s)", AF_INET, af);
  ok(contains(eval(L, "return type(require('task').spawn)"), "function"),
     "require \"task\" works in it");

  /* a Lua function and its arguments */
  int top = lua_gettop(L);
  luaL_loadstring(L, "ARGS = table.concat({...}, ',') .. ';' .. select('#', ...)");
  lua_pushstring(L, "a");
  lua_pushinteger(L, 7);
  int rc = moonsock_spawn(L, 2);
  ok(rc == 0 && lua_gettop(L) == top, "moonsock_spawn pops the function and its arguments");
  ok(global_str(L, "ARGS") == NULL, "a spawned task does not start before the loop runs");
  rc = moonsock_run(L);
  const char *args = global_str(L, "ARGS");
  ok(rc == 0 && args && strcmp(args, "a,7;2") == 0, "the task gets its arguments (got %s)", args);

  /* a C function */
  lua_pushcfunction(L, c_record);
  lua_pushboolean(L, 1);
  lua_pushliteral(L, "x");
  lua_pushnil(L);
  ok(moonsock_spawn(L, 3) == 0 && moonsock_run(L) == 0, "moonsock_spawn runs a C function");
  const char *rec = global_str(L, "RECORD");
  ok(rec && strcmp(rec, "true,x,nil") == 0, "the C function gets its arguments, nil included (got %s)", rec);

  /* order */
  spawn_code(L, "ORDER = (ORDER or '') .. '1'", "=first");
  spawn_code(L, "ORDER = (ORDER or '') .. '2'", "=second");
  moonsock_run(L);
  const char *order = global_str(L, "ORDER");
  ok(order && strcmp(order, "12") == 0, "tasks start in the order they were spawned (got %s)", order);

  /* a non-function */
  top = lua_gettop(L);
  lua_pushinteger(L, 42);
  lua_pushliteral(L, "arg");
  rc = moonsock_spawn(L, 1);
  ok(rc == -1, "moonsock_spawn of a number returns -1");
  ok(lua_gettop(L) == top + 1 && contains(lua_tostring(L, -1), "not a function"),
     "... pops the value and its argument and pushes the message (%s)", lua_tostring(L, -1));
  lua_settop(L, top);

  lua_pushliteral(L, "only one value");
  rc = moonsock_spawn(L, 3);
  ok(rc == -1 && contains(lua_tostring(L, -1), "not enough values"),
     "moonsock_spawn with more arguments than the stack holds returns -1 (%s)", lua_tostring(L, -1));
  lua_settop(L, top);
  lua_pushcfunction(L, c_record);
  rc = moonsock_spawn(L, -1);
  ok(rc == -1 && contains(lua_tostring(L, -1), "not enough values"),
     "moonsock_spawn with a negative count returns -1");
  lua_settop(L, top);
  ok(moonsock_run(L) == 0, "nothing was spawned by the failed calls: moonsock_run returns 0");
  moonsock_close(L);
}

static void test_spawnfile(void) {
  lua_State *L = moonsock_newstate();
  char *good = temp_file("local n = select('#', ...)\nFILE_RAN = 'yes ' .. n\n", ".lua");
  ok(moonsock_spawnfile(L, good) == 0 && moonsock_run(L) == 0, "moonsock_spawnfile runs a file");
  const char *ran = global_str(L, "FILE_RAN");
  ok(ran && strcmp(ran, "yes 0") == 0, "... as a task with no arguments (got %s)", ran);
  unlink(good);
  free(good);

  /* a file that does not exist: the message names it and says why */
  const char *missing = "/nonexistent-moonsock-dir/missing.lua";
  int top = lua_gettop(L);
  int rc = moonsock_spawnfile(L, missing);
  const char *msg = lua_tostring(L, -1);
  ok(rc == -1 && lua_gettop(L) == top + 1, "moonsock_spawnfile of a missing file returns -1, message pushed");
  ok(contains(msg, missing) && contains(msg, strerror(ENOENT)),
     "... the message names the file and says \"%s\" (%s)", strerror(ENOENT), msg);
  lua_settop(L, top);

  /* a syntax error: the message is what stock lua5.4's loadfile says */
  char *bad = temp_file("local x = 1\nx = = 2\n", ".lua");
  rc = moonsock_spawnfile(L, bad);
  msg = lua_tostring(L, -1);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "F=%s lua5.4 -e 'print(select(2, loadfile(os.getenv([[F]]))))'", bad);
  const char *expected = command_line(cmd);
  ok(rc == -1 && expected && msg && strcmp(msg, expected) == 0,
     "a file with a syntax error returns -1 with lua5.4's message (%s | lua5.4: %s)", msg, expected);
  lua_settop(L, top);
  unlink(bad);
  free(bad);

  /* NULL reads the chunk from stdin */
  int fds[2];
  if (pipe(fds) == 0) {
    const char *code = "STDIN_RAN = 'from stdin'\n";
    ssize_t w = write(fds[1], code, strlen(code));
    close(fds[1]);
    int saved = dup(0);
    dup2(fds[0], 0);
    close(fds[0]);
    rc = moonsock_spawnfile(L, NULL);
    dup2(saved, 0);
    close(saved);
    clearerr(stdin);
    ok(w > 0 && rc == 0 && moonsock_run(L) == 0 && global_str(L, "STDIN_RAN") &&
           strcmp(global_str(L, "STDIN_RAN"), "from stdin") == 0,
       "moonsock_spawnfile(L, NULL) runs the chunk read from stdin");
  }
  ok(moonsock_run(L) == 0, "the failed loads spawned nothing");
  moonsock_close(L);
}

static void test_spawnstring(void) {
  lua_State *L = moonsock_newstate();
  ok(moonsock_spawnstring(L, "STR = 'ran'", "=s") == 0 && moonsock_run(L) == 0 &&
         global_str(L, "STR") && strcmp(global_str(L, "STR"), "ran") == 0,
     "moonsock_spawnstring runs a string");
  int top = lua_gettop(L);
  int rc = moonsock_spawnstring(L, "x = = 1", "=mychunk");
  const char *msg = lua_tostring(L, -1);
  ok(rc == -1 && lua_gettop(L) == top + 1 && strncmp(msg, "mychunk:1:", 10) == 0,
     "a syntax error returns -1, the message starts with the chunk name and line (%s)", msg);
  lua_settop(L, top);
  rc = moonsock_spawnstring(L, "y = = 2", NULL);
  msg = lua_tostring(L, -1);
  ok(rc == -1 && strncmp(msg, "[string \"y = = 2\"]:1:", 21) == 0,
     "with chunkname NULL the code names the chunk (%s)", msg);
  lua_settop(L, top);
  ok(moonsock_run(L) == 0, "and nothing was spawned");
  moonsock_close(L);
}

/* ---- errors: moonsock_run's -1 and moonsock_lasterror ---- */

/* A loopback port with nothing listening: bound, then closed. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    close(fd);
    return -1;
  }
  close(fd);
  return ntohs(sa.sin_port);
}

static int first_line_is(const char *text, const char *line) {
  size_t n = strlen(line);
  return text && line && strncmp(text, line, n) == 0 && text[n] == '\n';
}

static void test_errors(void) {
  lua_State *L = moonsock_newstate();
  ok(moonsock_lasterror(L) == NULL, "moonsock_lasterror is NULL in a new state");

  spawn_code(L,
             "local function inner() error('boom in inner') end\n"
             "local function outer() inner() end\n"
             "outer()\n",
             "=job");
  int rc = moonsock_run(L);
  const char *err = moonsock_lasterror(L);
  ok(rc == -1, "a host task that errors makes moonsock_run return -1");
  ok(first_line_is(err, "job:1: boom in inner"), "moonsock_lasterror has the message (%s)", err);
  ok(contains(err, "stack traceback:") && contains(err, "inner") && contains(err, "outer") &&
         contains(err, "job:3:"),
     "... and a traceback through inner, outer and the chunk's line 3");

  ok(moonsock_run(L) == 0 && moonsock_lasterror(L) && first_line_is(moonsock_lasterror(L), "job:1: boom in inner"),
     "the next clean run returns 0; moonsock_lasterror keeps the last error");

  /* A socket error reads as Python prints it. */
  int port = closed_port();
  char code[512], cmd[1024];
  snprintf(code, sizeof code,
           "local socket = require 'socket'\n"
           "local s = socket.socket()\n"
           "s:connect({'127.0.0.1', %d})\n", port);
  spawn_code(L, code, "=connect");
  rc = moonsock_run(L);
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import socket\ntry:\n socket.create_connection((\"127.0.0.1\", %d))\n"
           "except OSError as e:\n print(type(e).__name__ + \": \" + str(e))'", port);
  const char *python = command_line(cmd);
  err = moonsock_lasterror(L);
  ok(rc == -1 && python && first_line_is(err, python),
     "a refused connect: the first line is Python's \"%s\" (%s)", python, err);

  /* An error object with __tostring: its text alone, no traceback, as lua.c
   * prints it (`lua5.4 -e 'error(setmetatable({}, {__tostring = ...}))'`). */
  spawn_code(L, "error(setmetatable({}, {__tostring = function() return 'custom error' end}))", "=obj");
  rc = moonsock_run(L);
  ok(rc == -1 && moonsock_lasterror(L) && strcmp(moonsock_lasterror(L), "custom error") == 0,
     "an error object prints with its __tostring, untraced as lua.c prints it (%s)", moonsock_lasterror(L));

  /* Two failures in one run: the last one is kept. */
  spawn_code(L, "error('first', 0)", "=a");
  spawn_code(L, "require('task').sleep(0.01) error('second', 0)", "=b");
  rc = moonsock_run(L);
  ok(rc == -1 && first_line_is(moonsock_lasterror(L), "second"),
     "two failing tasks in one run: moonsock_lasterror has the last (%s)", moonsock_lasterror(L));

  /* A task spawned by a task is not the host's: its error is printed if
   * nobody joins it (when its handle is collected), and not if a join
   * retrieves it. */
  char *errpath = temp_file("", ".err");
  int saved = dup(2);
  int errfd = open(errpath, O_WRONLY);
  fflush(stderr);
  dup2(errfd, 2);
  close(errfd);
  spawn_code(L,
             "local task = require 'task'\n"
             "local h = task.spawn(function() error('joined task failed', 0) end)\n"
             "pcall(h.join, h, 5)\n"
             "task.spawn(function() error('inner task failed', 0) end)\n"
             "task.sleep(0.01)\n",
             "=parent");
  rc = moonsock_run(L);
  lua_gc(L, LUA_GCCOLLECT);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  FILE *f = fopen(errpath, "r");
  char printed[4096] = "";
  size_t n = f ? fread(printed, 1, sizeof printed - 1, f) : 0;
  printed[n] = '\0';
  if (f) fclose(f);
  unlink(errpath);
  free(errpath);
  ok(rc == 0, "a failing task spawned by a host task does not fail moonsock_run");
  ok(contains(printed, "inner task failed"), "... its error goes to stderr once its handle is collected (%s)", printed);
  ok(!contains(printed, "joined task failed"), "... but not the error a join retrieved (%s)", printed);
  ok(first_line_is(moonsock_lasterror(L), "second"), "... and moonsock_lasterror is unchanged");
  moonsock_close(L);
}

/* ---- the loop: run_once, run_nowait, fd, timeout, stop ---- */

static lua_State *stop_state;
static int c_stop(lua_State *L) {
  (void)L;
  moonsock_stop(stop_state);
  return 0;
}

static int nested_results[3];
static int c_nested(lua_State *L) {
  nested_results[0] = moonsock_run(stop_state);
  nested_results[1] = moonsock_run_once(stop_state);
  nested_results[2] = moonsock_run_nowait(stop_state);
  lua_pushstring(L, moonsock_lasterror(stop_state));
  return 1;
}

static void test_loop(void) {
  lua_State *L = moonsock_newstate();
  stop_state = L;
  lua_register(L, "host_stop", c_stop);
  lua_register(L, "host_nested", c_nested);

  double t0 = now_ms();
  ok(moonsock_run_nowait(L) == 0 && moonsock_run_once(L) == 0 && now_ms() - t0 < 500,
     "with nothing spawned run_nowait and run_once return 0 at once");
  ok(moonsock_timeout(L) == -1, "with nothing to run moonsock_timeout is -1 (got %d)", moonsock_timeout(L));

  /* the epoll fd */
  int fd = moonsock_fd(L);
  char link[64], target[256] = "";
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t len = readlink(link, target, sizeof target - 1);
  if (len > 0) target[len] = '\0';
  ok(fd >= 0 && strcmp(target, "anon_inode:[eventpoll]") == 0,
     "moonsock_fd is the loop's epoll fd (fd %d -> %s)", fd, target);

  /* a sleeping task, stepped */
  spawn_code(L, "require('task').sleep(0.1) SLEPT = 'yes'", "=sleeper");
  ok(moonsock_timeout(L) == 0, "a task ready to start: moonsock_timeout is 0");
  t0 = now_ms();
  int first = moonsock_run_nowait(L);
  int timeout = moonsock_timeout(L);
  ok(first == 1, "run_nowait returns 1 while the task sleeps");
  /* The scheduler adds 1 ms to every timer (libuv's clock is truncated to
   * whole milliseconds), so a 100 ms sleep is due in at most 101 ms. */
  ok(timeout > 0 && timeout <= 101, "moonsock_timeout is the sleep's deadline (0 < %d <= 101)", timeout);
  int calls = 0, r;
  while ((r = moonsock_run_once(L)) == 1 && calls < 1000) calls++;
  double elapsed = now_ms() - t0;
  ok(r == 0 && global_str(L, "SLEPT"), "run_once returns 0 once the task has ended");
  ok(calls <= 5 && elapsed >= 95, "run_once waits for the timer: %d calls in %.0f ms", calls + 1, elapsed);

  /* only a daemon left: run_once stops where moonsock_run would */
  spawn_code(L, "local task = require 'task' task.spawn_daemon(function() task.sleep(30) end)", "=daemon");
  t0 = now_ms();
  calls = 0;
  while ((r = moonsock_run_once(L)) == 1 && calls < 1000) calls++;
  ok(r == 0 && now_ms() - t0 < 5000, "a sleeping daemon does not keep run_once going (%d calls)", calls + 1);
  t0 = now_ms();
  ok(moonsock_run(L) == 0 && now_ms() - t0 < 5000, "... nor moonsock_run");
  moonsock_close(L);

  /* a task nothing can wake (the daemon's timer could have: a new state) */
  L = moonsock_newstate();
  spawn_code(L, "require('moonsock.core.task').park() NEVER = true", "=stuck");
  t0 = now_ms();
  calls = 0;
  while ((r = moonsock_run_once(L)) == 1 && calls < 1000) calls++;
  ok(r == 0 && calls < 10, "a task nothing can wake: run_once returns 0, no spinning (%d calls)", calls + 1);
  ok(moonsock_run(L) == 0 && now_ms() - t0 < 5000 && global_str(L, "NEVER") == NULL,
     "... moonsock_run returns 0 and the task stays parked");
  moonsock_close(L);

  /* a failing task while stepping */
  L = moonsock_newstate();
  stop_state = L;
  lua_register(L, "host_stop", c_stop);
  lua_register(L, "host_nested", c_nested);
  spawn_code(L, "error('stepped into an error', 0)", "=fail");
  spawn_code(L, "require('task').sleep(0.05)", "=sleep");
  r = moonsock_run_nowait(L);
  ok(r == -1 && first_line_is(moonsock_lasterror(L), "stepped into an error"),
     "run_nowait returns -1 for the turn a host task failed in (%d)", r);
  calls = 0;
  while ((r = moonsock_run_once(L)) == 1 && calls < 1000) calls++;
  ok(r == 0, "... then 1 while the other task sleeps, and 0 (after %d calls)", calls + 1);

  /* moonsock_stop from a task's C function */
  spawn_code(L, "host_stop() require('task').sleep(0.3) AFTER_STOP = 'ran'", "=stopper");
  t0 = now_ms();
  r = moonsock_run(L);
  elapsed = now_ms() - t0;
  ok(r == 0 && global_str(L, "AFTER_STOP") == NULL,
     "moonsock_stop from a task's C function: moonsock_run returns before the task ends (%.0f ms)", elapsed);
  r = moonsock_run(L);
  ok(r == 0 && global_str(L, "AFTER_STOP"), "a second moonsock_run finishes the task");
  moonsock_stop(L);
  spawn_code(L, "AFTER_OUTSIDE_STOP = 'ran'", "=later");
  ok(moonsock_run(L) == 0 && global_str(L, "AFTER_OUTSIDE_STOP"), "moonsock_stop outside the loop has no effect");

  /* calls into the loop from inside it are refused */
  spawn_code(L, "NESTED_ERR = host_nested()", "=nested");
  r = moonsock_run(L);
  ok(r == 0 && nested_results[0] == -1 && nested_results[1] == -1 && nested_results[2] == -1,
     "run, run_once and run_nowait from a task's C function return -1 (%d %d %d)", nested_results[0],
     nested_results[1], nested_results[2]);
  const char *nested = global_str(L, "NESTED_ERR");
  ok(contains(nested, "called while moonsock's loop runs"), "... with the reason in moonsock_lasterror (%s)", nested);
  moonsock_close(L);
}

/* ---- moonsock_open ---- */

static void *dirty_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  void *p = realloc(ptr, nsize);
  /* New blocks hold garbage, as reused memory does. */
  if (p && !ptr) memset(p, 0xA5, nsize);
  return p;
}

/* A host's state with coroutines of its own, made before moonsock_open. */
static int coroutine_before_open(void *arg) {
  (void)arg;
  lua_State *L = lua_newstate(dirty_alloc, NULL);
  luaL_openlibs(L);
  if (luaL_dostring(L, "CO = coroutine.wrap(function() return tostring(require('socket').socket().family) end)"))
    return 2;
  if (moonsock_open(L, NULL) != 0) return 3;
  const char *family = eval(L, "return CO()");
  int good = family && atoi(family) == AF_INET;
  moonsock_close(L);
  return good ? 0 : 4;
}

static void test_open(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  ok(moonsock_open(L, NULL) == 0, "moonsock_open on a host's state returns 0");
  const char *af = eval(L, "return require('socket').AF_INET");
  ok(af && atoi(af) == AF_INET, "require \"socket\" then gives moonsock's (AF_INET %s)", af);
  const char *version = eval(L, "return require('moonsock').version");
  ok(version && strcmp(version, MOONSOCK_VERSION) == 0, "require \"moonsock\" gives its module (version %s)", version);
  eval(L, "SOCKET_MODULE = require('socket')");
  ok(moonsock_open(L, NULL) == 0, "opening again returns 0");
  ok(contains(eval(L, "return tostring(SOCKET_MODULE == require('socket'))"), "true"),
     "... and keeps the same runtime and modules");
  uv_loop_t other;
  uv_loop_init(&other);
  int top = lua_gettop(L);
  int rc = moonsock_open(L, &other);
  const char *msg = lua_tostring(L, -1);
  ok(rc == -1 && contains(msg, "another loop"), "opening again on another loop returns -1 (%s)", msg);
  lua_settop(L, top);
  uv_loop_close(&other);
  spawn_code(L, "OPENED_RAN = 'yes'", "=opened");
  ok(moonsock_run(L) == 0 && global_str(L, "OPENED_RAN"), "tasks run on the opened state");
  moonsock_close(L);

  /* a state without the standard libraries */
  L = luaL_newstate();
  rc = moonsock_open(L, NULL);
  msg = lua_tostring(L, -1);
  ok(rc == -1 && contains(msg, "luaL_openlibs"), "moonsock_open without the standard libraries returns -1 (%s)", msg);
  lua_settop(L, 0);
  luaL_requiref(L, "_G", luaopen_base, 1);
  luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 1);
  lua_settop(L, 0);
  rc = moonsock_open(L, NULL);
  msg = lua_tostring(L, -1);
  ok(rc == -1 && contains(msg, "'string'"), "with only base and package it names the first library missing (%s)", msg);
  lua_settop(L, 0);
  rc = moonsock_open(L, NULL);
  ok(rc == -1, "and fails again: no half-opened runtime was left behind");
  lua_close(L);

  int status = in_child(coroutine_before_open, NULL);
  ok(status == 0, "a coroutine the host made before moonsock_open can use moonsock (child: %s)",
     describe_status(status));
}

/* ---- moonsock_close ---- */

static void test_close(void) {
  int fds_before = open_fds();
  lua_State *L = moonsock_newstate();
  int loopfd = moonsock_fd(L);
  spawn_code(L,
             "local socket, task = require 'socket', require 'task'\n"
             "SERVER = socket.create_server({'127.0.0.1', 0})\n"
             "SERVER_FD = SERVER:fileno()\n"
             "task.spawn_daemon(function() SERVER:accept() end)\n"
             "task.spawn_daemon(function() task.sleep(60) end)\n",
             "=leftovers");
  ok(moonsock_run(L) == 0, "a task leaves a listening socket open, two daemons parked on it and a timer");
  int sfd = (int)global_int(L, "SERVER_FD", -1);
  ok(sfd >= 0 && fcntl(sfd, F_GETFD) != -1, "the socket's fd %d is open", sfd);
  double t0 = now_ms();
  moonsock_close(L);
  ok(now_ms() - t0 < 1000, "moonsock_close returns at once");
  errno = 0;
  ok(fcntl(sfd, F_GETFD) == -1 && errno == EBADF, "moonsock_close closed the socket");
  errno = 0;
  ok(fcntl(loopfd, F_GETFD) == -1 && errno == EBADF, "... and the loop's fd");
  ok(open_fds() == fds_before, "the process has as many fds as before the state (%d, %d)", fds_before, open_fds());
  moonsock_close(NULL);
  ok(1, "moonsock_close(NULL) is ignored");
}

/* ---- luaopen_moonsock: the module of stock Lua ---- */

static void test_luaopen(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  luaL_requiref(L, "moonsock", luaopen_moonsock, 1);
  lua_pop(L, 1);
  const char *version = eval(L, "return moonsock.version");
  ok(version && strcmp(version, MOONSOCK_VERSION) == 0, "luaopen_moonsock: version is " MOONSOCK_VERSION " (%s)",
     version);
  const char *af = eval(L, "return moonsock.socket.AF_INET");
  ok(af && atoi(af) == AF_INET, "moonsock.socket is the socket module (AF_INET %s)", af);
  ok(contains(eval(L, "return tostring(moonsock.task == require('task'))"), "true"),
     "moonsock.task is require \"task\"");
  ok(contains(eval(L, "return tostring(moonsock.nosuchmodule)"), "nil"), "an unknown field is nil");
  const char *order = eval(L,
                           "local task = moonsock.task\n"
                           "local seen = {}\n"
                           "task.spawn(function() task.sleep(0.02) seen[#seen + 1] = 'b' end)\n"
                           "task.spawn(function() seen[#seen + 1] = 'a' end)\n"
                           "moonsock.run()\n"
                           "return table.concat(seen)\n");
  ok(order && strcmp(order, "ab") == 0, "moonsock.run() runs the spawned tasks to completion (%s)", order);
  const char *inside = eval(L,
                            "local task = moonsock.task\n"
                            "local h = task.spawn(function() return pcall(moonsock.run) end)\n"
                            "local _, err = h:join(5)\n"
                            "return err\n");
  ok(contains(inside, "inside a task"), "moonsock.run() inside a task raises (%s)", inside);
  luaL_requiref(L, "moonsock2", luaopen_moonsock, 0);
  lua_pop(L, 1);
  ok(contains(eval(L, "return tostring(package.loaded.moonsock2.task == require('task'))"), "true"),
     "opening the module again keeps the same runtime");
  spawn_code(L, "MODULE_STATE_RAN = 'yes'", "=m");
  ok(moonsock_run(L) == 0 && global_str(L, "MODULE_STATE_RAN"), "the embedding functions work on that state too");
  moonsock_close(L);
}

int main(void) {
  tap_name = "test_api";
  test_newstate_and_spawn();
  test_spawnfile();
  test_spawnstring();
  test_errors();
  test_loop();
  test_open();
  test_close();
  test_luaopen();
  return done_testing();
}
