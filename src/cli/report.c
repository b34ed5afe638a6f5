/*
 * How the moonsock command speaks: its messages, errors described
 * Python-style and traced back, and the version line. Shaped like lua.c's
 * l_message, report, msghandler and docall, for the command line and the
 * REPL alike.
 */
#include "report.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "scheduler.h"

static const char *report_progname = "moonsock";

const char *report_set_name(const char *name) {
  const char *old = report_progname;
  report_progname = name;
  return old;
}

const char *report_name(void) {
  return report_progname;
}

void report_message(const char *msg) {
  if (report_progname) lua_writestringerror("%s: ", report_progname);
  lua_writestringerror("%s\n", msg);
}

int report_status(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    report_message(msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

int report_is_interrupt(lua_State *L, int idx) {
  int yes = 0;
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    yes = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "KeyboardInterrupt") == 0;
    lua_pop(L, 1);
  }
  return yes;
}

/* Errors are described Python-style (class: text), then traced back unless
 * the describer says lua.c would not (an object with __tostring). An
 * uncaught KeyboardInterrupt outside any task makes the exit status 130. */
static int report_msghandler(lua_State *L) {
  if (report_is_interrupt(L, 1)) ms_sched_set_main_interrupted(ms_rt(L));
  ms_push_describer(L);
  if (lua_isfunction(L, -1)) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 2);
    if (!lua_toboolean(L, -1)) {
      lua_pop(L, 1);
      return 1;
    }
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
    lua_pushstring(L, luaL_tolstring(L, 1, NULL));
  }
  luaL_traceback(L, L, lua_tostring(L, -1), 1);
  return 1;
}

int report_call(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, report_msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

void report_version(void) {
  printf("moonsock %s (%s, libuv %s)\n", MS_VERSION, LUA_RELEASE, uv_version_string());
  fflush(stdout);
}
