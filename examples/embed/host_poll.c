/*
 * host_poll: a C program with a poll() loop of its own that steps moonsock
 * inside it. The loop watches the host's own input (stdin) and moonsock's
 * fd, sleeping at most moonsock_timeout(); after each wake-up it runs one
 * turn of moonsock with moonsock_run_nowait().
 *
 * Each line read from stdin goes to the script's host.on_line(line), the end
 * of stdin to host.on_eof(). The host calls them directly, outside any task,
 * so they must not block: the script queues the work for its tasks. The
 * program ends when stdin has ended and moonsock has nothing left to run.
 *
 * usage: host_poll script.lua
 *   bin/examples/host_poll examples/embed/host_poll.lua
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "moonsock.h"

/* Calls host[name](arg) from the host's loop, outside any task; 0, or 1
 * with the error printed. */
static int call_hook(lua_State *L, const char *name, const char *arg, size_t len) {
  int top = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "host");
  if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
    fprintf(stderr, "host_poll: the script did not set host.%s\n", name);
    lua_settop(L, top);
    return 1;
  }
  int nargs = 0;
  if (arg) {
    lua_pushlstring(L, arg, len);
    nargs = 1;
  }
  int status = lua_pcall(L, nargs, 0, 0);
  if (status != LUA_OK) fprintf(stderr, "host_poll: host.%s: %s\n", name, lua_tostring(L, -1));
  lua_settop(L, top);
  return status != LUA_OK;
}

/* The host's own input: the bytes of a line not yet complete. */
struct input {
  char buf[4096];
  size_t have;
};

/* Reads what stdin has, hands each complete line (or a full buffer) to
 * host.on_line; at the end of stdin, the last partial line, then
 * host.on_eof. Returns 0 while stdin is open, 1 at its end, -1 if a hook
 * failed. */
static int read_stdin(lua_State *L, struct input *in) {
  ssize_t n = read(STDIN_FILENO, in->buf + in->have, sizeof in->buf - in->have);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
  int eof = n <= 0, failed = 0;
  if (n > 0) in->have += (size_t)n;
  char *start = in->buf, *nl;
  while ((nl = memchr(start, '\n', in->have - (size_t)(start - in->buf))) != NULL) {
    failed |= call_hook(L, "on_line", start, (size_t)(nl - start));
    start = nl + 1;
  }
  in->have -= (size_t)(start - in->buf);
  memmove(in->buf, start, in->have);
  if (in->have == sizeof in->buf || (eof && in->have > 0)) {
    failed |= call_hook(L, "on_line", in->buf, in->have);
    in->have = 0;
  }
  if (eof) failed |= call_hook(L, "on_eof", NULL, 0);
  return failed ? -1 : eof;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s script.lua\n", argv[0]);
    return 2;
  }
  /* The host's own Lua state, with moonsock opened into it. */
  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "host_poll: not enough memory\n");
    return 1;
  }
  luaL_openlibs(L);
  if (moonsock_open(L, NULL) != 0) {
    fprintf(stderr, "host_poll: %s\n", lua_tostring(L, -1));
    moonsock_close(L);
    return 1;
  }
  /* require "host" gives the script an empty table for its hooks. */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_newtable(L);
  lua_setfield(L, -2, "host");
  lua_pop(L, 1);
  if (moonsock_spawnfile(L, argv[1]) != 0) {
    fprintf(stderr, "host_poll: %s\n", lua_tostring(L, -1));
    moonsock_close(L);
    return 1;
  }
  /* The script sets its hooks in its first turn, before stdin is read. */
  int failed = moonsock_run_nowait(L) < 0, stdin_open = 1;
  struct input in = {.have = 0};
  while (!failed) {
    /* Sleep until stdin or moonsock's fd has something, or until
     * moonsock's next deadline (-1: none). */
    struct pollfd fds[2] = {{.fd = moonsock_fd(L), .events = POLLIN},
                            {.fd = STDIN_FILENO, .events = POLLIN}};
    if (poll(fds, stdin_open ? 2 : 1, moonsock_timeout(L)) < 0 && errno != EINTR) {
      perror("host_poll: poll");
      failed = 1;
      break;
    }
    if (stdin_open && fds[1].revents) {
      int r = read_stdin(L, &in);
      failed |= r < 0;
      stdin_open = r == 0;
    }
    /* One turn of moonsock: 1 while its tasks go on, 0 once they have
     * all ended, -1 if one failed (moonsock_lasterror says how). */
    int r = moonsock_run_nowait(L);
    failed |= r < 0;
    if (r == 0 && !stdin_open) break; /* nothing left to read or to run */
  }
  if (failed && moonsock_lasterror(L)) fprintf(stderr, "host_poll: %s\n", moonsock_lasterror(L));
  moonsock_close(L);
  return failed ? 1 : 0;
}
