/*
 * The REPL of the moonsock command.
 *
 * Shaped like lua.c's (doREPL, loadline, pushline, l_print), made
 * asynchronous: waiting for a key parks the code outside any task on fd 0,
 * so the loop runs and spawned tasks keep serving while the prompt waits.
 * Each statement then runs outside any task: a blocking call in it runs the
 * loop until it completes, and Ctrl-C reaches it as KeyboardInterrupt
 * (SIGINT goes to code outside any task once no main task is alive). What
 * was typed is compiled, and results shown, by lua/repl.lua, which
 * repl.serve shares with attached clients.
 */
#include "repl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lineedit.h"
#include "ms.h"
#include "report.h"

#define REPL_EOF (-1)  /* loadline: the input has ended */
#define REPL_SKIP (-2) /* loadline: Ctrl-C gave the statement up */
#define REPL_PROMPT_MAX 256
#define REPL_READ_MIN 4096    /* plain mode: room made before each read */
#define REPL_BUF_FIRST 8192   /* plain mode: the buffer's first size */
#define REPL_MIN_WIDTH 20     /* narrower terminals keep repl.width's default */
#define REPL_NO_DEADLINE (-1) /* ms_park_io's timeout: wait as long as it takes */

static struct {
  int edit;     /* libedit on a terminal; else plain lines, no prompts */
  int pollable; /* the loop can watch fd 0 (a regular file cannot be) */
  int eof;
  ms_io io;     /* fd 0, as the loop watches it */
  int io_open;
  char *buf;    /* plain mode: bytes read, not yet a whole line */
  size_t len, cap;
  int module;   /* registry refs: lua/repl.lua and the statements' env */
  int env;
  char prompt[REPL_PROMPT_MAX];
} repl;

static void repl_noop_ready(ms_waiter *w, int status) {
}

/* Registers fd 0 with the loop (shared with select through the fd map).
 * libuv makes a polled fd non-blocking, and on a terminal that flag is
 * shared with stdout: a non-blocking stdout would drop output when the
 * terminal is slow, so the flags are put back; the loop only reads fd 0
 * once it is readable. */
static void repl_open_input(lua_State *L) {
  struct stat st;
  repl.pollable = !(fstat(STDIN_FILENO, &st) == 0 && S_ISREG(st.st_mode));
  if (!repl.pollable) return;
  int flags = fcntl(STDIN_FILENO, F_GETFL);
  ms_io_init(&repl.io, ms_loop(L), ms_iomap_of(L), STDIN_FILENO);
  repl.io_open = 1;
  ms_waiter w;
  memset(&w, 0, sizeof w);
  w.ready = repl_noop_ready;
  if (ms_io_wait(&repl.io, &w, UV_READABLE) == 0)
    ms_io_unwait(&repl.io, &w);
  else
    repl.pollable = 0;
  if (flags >= 0) fcntl(STDIN_FILENO, F_SETFL, flags);
}

static void repl_close_input(void) {
  if (repl.io_open) ms_io_close(&repl.io);
  repl.io_open = 0;
  free(repl.buf);
  repl.buf = NULL;
}

static int repl_wait_k(lua_State *L, int status, lua_KContext ctx) {
  ms_check_wake(L);
  return 0;
}

static int repl_wait_input(lua_State *L) {
  return ms_park_io(L, &repl.io, UV_READABLE, REPL_NO_DEADLINE, 0, repl_wait_k);
}

/* Runs the loop until fd 0 is readable: 1 then, 0 on Ctrl-C, -1 when fd 0
 * cannot be waited for (read it directly then). */
static int repl_await_input(lua_State *L) {
  if (!repl.pollable) return -1;
  lua_pushcfunction(L, repl_wait_input);
  int status = lua_pcall(L, 0, 0, 0);
  if (status == LUA_OK) return 1;
  int interrupted = report_is_interrupt(L, -1);
  lua_pop(L, 1);
  if (!interrupted) repl.pollable = 0;
  return interrupted ? 0 : -1;
}

/* Plain mode: the next line of fd 0, without its newline. */
static int repl_plain_line(lua_State *L, char **line) {
  for (;;) {
    char *nl = repl.len ? memchr(repl.buf, '\n', repl.len) : NULL;
    if (nl || (repl.eof && repl.len)) {
      size_t n = nl ? (size_t)(nl - repl.buf) : repl.len;
      *line = malloc(n + 1);
      if (!*line) return REPL_EOF;
      memcpy(*line, repl.buf, n);
      (*line)[n] = '\0';
      size_t used = nl ? n + 1 : n;
      memmove(repl.buf, repl.buf + used, repl.len - used);
      repl.len -= used;
      return 1;
    }
    if (repl.eof) return REPL_EOF;
    if (repl_await_input(L) == 0) return 0;
    if (repl.cap - repl.len < REPL_READ_MIN) {
      size_t cap = repl.cap ? repl.cap * 2 : REPL_BUF_FIRST;
      char *b = realloc(repl.buf, cap);
      if (!b) return REPL_EOF;
      repl.buf = b;
      repl.cap = cap;
    }
    ssize_t n = read(STDIN_FILENO, repl.buf + repl.len, repl.cap - repl.len);
    if (n > 0)
      repl.len += (size_t)n;
    else if (n == 0 || (errno != EINTR && errno != EAGAIN))
      repl.eof = 1;
  }
}

/* Edit mode: the line typed at prompt, read key by key as keys come. */
static int repl_edit_line(lua_State *L, const char *prompt, char **line) {
  le_prompt(prompt);
  for (;;) {
    int w = repl_await_input(L);
    if (w == 0) {
      le_abandon("^C");
      return 0;
    }
    int r = le_read(line);
    if (r == 1) return 1;
    if (r < 0) return REPL_EOF;
  }
}

/* _PROMPT and _PROMPT2 as lua.c reads them. */
static const char *repl_prompt(lua_State *L, int firstline) {
  const char *dflt = firstline ? "> " : ">> ";
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TSTRING)
    snprintf(repl.prompt, sizeof repl.prompt, "%s", lua_tostring(L, -1));
  else
    snprintf(repl.prompt, sizeof repl.prompt, "%s", dflt);
  lua_pop(L, 1);
  return repl.prompt;
}

/* Pushes the next line: 1, 0 on Ctrl-C, REPL_EOF at the end of input. */
static int repl_pushline(lua_State *L, int firstline) {
  char *b = NULL;
  int r = repl.edit ? repl_edit_line(L, repl_prompt(L, firstline), &b) : repl_plain_line(L, &b);
  if (r != 1) return r;
  lua_pushstring(L, b);
  free(b);
  return 1;
}

/* repl.compile(code, env) -> fn | nil, message, incomplete. */
static int repl_compile(lua_State *L, int code, int *incomplete) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl.module);
  lua_getfield(L, -1, "compile");
  lua_remove(L, -2);
  lua_pushvalue(L, code);
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl.env);
  int status = lua_pcall(L, 2, 3, 0);
  *incomplete = 0;
  if (status != LUA_OK) return status;
  if (lua_isfunction(L, -3)) {
    lua_pop(L, 2);
    return LUA_OK;
  }
  *incomplete = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_remove(L, -2);
  return LUA_ERRSYNTAX;
}

/* Reads a statement, with continuation lines while lua.c would ask for
 * them (a syntax error at <eof>), and compiles it. Returns LUA_OK with the
 * function on the stack, an error status with its message, REPL_EOF or
 * REPL_SKIP. The whole statement goes to the history. */
static int repl_loadline(lua_State *L) {
  int r = repl_pushline(L, 1);
  if (r != 1) return r == 0 ? REPL_SKIP : REPL_EOF;
  int code = lua_gettop(L);
  int status, incomplete;
  for (;;) {
    status = repl_compile(L, code, &incomplete);
    if (status == LUA_OK || !incomplete) break;
    r = repl_pushline(L, 0);
    if (r == 0) {
      lua_settop(L, code);
      if (repl.edit) le_remember(lua_tostring(L, code));
      lua_pop(L, 1);
      return REPL_SKIP;
    }
    if (r != 1) break; /* the end of input inside a statement: report <eof> */
    lua_remove(L, -2); /* the message */
    lua_pushvalue(L, code);
    lua_pushliteral(L, "\n");
    lua_rotate(L, -3, 2); /* code, "\n", line */
    lua_concat(L, 3);
    lua_replace(L, code);
  }
  if (repl.edit) le_remember(lua_tostring(L, code));
  lua_remove(L, code);
  return status;
}

/* A statement's results, shown by repl.show. */
static void repl_print(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl.module);
  lua_getfield(L, -1, "show");
  lua_remove(L, -2);
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    report_message(lua_pushfstring(L, "error calling 'repl.show' (%s)", lua_tostring(L, -1)));
}

/* Runs a statement with repl.traceback as the message handler. */
static int repl_call(lua_State *L) {
  int fn = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl.module);
  lua_getfield(L, -1, "traceback");
  lua_remove(L, -2);
  lua_insert(L, fn);
  int status = lua_pcall(L, 0, LUA_MULTRET, fn);
  lua_remove(L, fn);
  return status;
}

/* Completion candidates from repl.complete, for lineedit. */
static char **repl_complete(const char *text, void *ud) {
  lua_State *L = ud;
  int top = lua_gettop(L);
  char **list = NULL;
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl.module);
  lua_getfield(L, -1, "complete");
  lua_pushstring(L, text);
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl.env);
  if (lua_pcall(L, 2, 1, 0) == LUA_OK && lua_istable(L, -1)) {
    size_t n = lua_rawlen(L, -1);
    list = calloc(n + 1, sizeof *list);
    for (size_t i = 0; list && i < n; i++) {
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      const char *s = lua_tostring(L, -1);
      list[i] = strdup(s ? s : "");
      lua_pop(L, 1);
    }
  }
  lua_settop(L, top);
  return list;
}

/* Around what tasks print while a prompt is shown (repl.guard_output). */
static int repl_guard_hide(lua_State *L) {
  le_hide();
  return 0;
}

static int repl_guard_show(lua_State *L) {
  le_show(lua_toboolean(L, 1));
  return 0;
}

/* Loads lua/repl.lua and the environment statements run in. */
static int repl_open(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "repl");
  if (report_call(L, 1, 1) != LUA_OK) return report_status(L, LUA_ERRRUN);
  lua_getfield(L, -1, "new_env");
  if (report_call(L, 0, 1) != LUA_OK) {
    lua_pop(L, 1);
    return report_status(L, LUA_ERRRUN);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "env");
  repl.env = luaL_ref(L, LUA_REGISTRYINDEX);
  if (repl.edit) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > REPL_MIN_WIDTH) {
      lua_pushinteger(L, ws.ws_col - 1);
      lua_setfield(L, -2, "width");
    }
    lua_getfield(L, -1, "guard_output");
    lua_pushcfunction(L, repl_guard_hide);
    lua_pushcfunction(L, repl_guard_show);
    lua_call(L, 2, 0);
  }
  repl.module = luaL_ref(L, LUA_REGISTRYINDEX);
  return LUA_OK;
}

void repl_run(lua_State *L, int banner) {
  repl.edit = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  if (repl_open(L) != LUA_OK) return;
  repl_open_input(L);
  if (repl.edit) le_open(repl_complete, L);
  if (banner != REPL_BANNER_NONE) {
    if (banner == REPL_BANNER_VERSION) report_version();
    fputs("Type help() for help, Ctrl-D to exit.\n", stdout);
    fflush(stdout);
  }
  /* lua.c's REPL prints errors without the program's name */
  const char *oldname = report_set_name(NULL);
  for (;;) {
    int base = lua_gettop(L);
    int status = repl_loadline(L);
    if (status == REPL_EOF) break;
    if (status == REPL_SKIP) continue;
    if (status == LUA_OK) status = repl_call(L);
    if (status == LUA_OK)
      repl_print(L, base);
    else
      report_status(L, status);
    lua_settop(L, base);
    fflush(stdout);
  }
  if (repl.edit) {
    lua_writeline();
    le_close();
  }
  repl_close_input();
  report_set_name(oldname);
}
