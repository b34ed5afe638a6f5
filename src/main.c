/*
 * The moonsock command: lua.c's command line, with the script run as the
 * main task of a libuv loop. Options and their order follow lua.c, so that
 * `moonsock` can stand wherever `lua5.4` does (busted's runner included).
 */
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <lualib.h>

#include "lineedit.h"
#include "scheduler.h"

#define LUA_IGMARK "-"
#define LUA_INIT_VAR "LUA_INIT"
#define LUA_INITVARVERSION LUA_INIT_VAR LUA_VERSUFFIX

static const char *progname = "moonsock";

static void print_usage(const char *badoption) {
  lua_writestringerror("%s: ", progname);
  if (badoption[1] == 'e' || badoption[1] == 'l' || strcmp(badoption, "--attach") == 0)
    lua_writestringerror("'%s' needs argument\n", badoption);
  else
    lua_writestringerror("unrecognized option '%s'\n", badoption);
  lua_writestringerror(
      "usage: %s [options] [script [args]]\n"
      "Available options are:\n"
      "  -e stat   execute string 'stat'\n"
      "  -i        enter interactive mode after executing 'script'\n"
      "  -l mod    require library 'mod' into global 'mod'\n"
      "  -l g=mod  require library 'mod' into global 'g'\n"
      "  -v        show version information\n"
      "  -E        ignore environment variables\n"
      "  -W        turn warnings on\n"
      "  --        stop handling options\n"
      "  -         stop handling options and execute stdin\n",
      progname);
  lua_writestringerror("   or: %s --attach path  (the REPL of repl.serve(path))\n", progname);
}

/* lua.c's l_message: the REPL sets progname to NULL, for no prefix. */
static void print_message(const char *msg) {
  if (progname) lua_writestringerror("%s: ", progname);
  lua_writestringerror("%s\n", msg);
}

static void print_version(void) {
  printf("moonsock %s (%s, libuv %s)\n", MS_VERSION, LUA_RELEASE, uv_version_string());
  fflush(stdout);
}

/* Errors are described Python-style (class: text), then traced back. An
 * uncaught KeyboardInterrupt outside any task makes the exit status 130. */
static int msghandler(lua_State *L) {
  if (luaL_getmetafield(L, 1, "__name") != LUA_TNIL) {
    if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "KeyboardInterrupt") == 0)
      ms_sched_set_main_interrupted(ms_rt(L));
    lua_pop(L, 1);
  }
  ms_push_describer(L);
  if (lua_isfunction(L, -1)) {
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
  } else {
    lua_pop(L, 1);
    lua_pushstring(L, luaL_tolstring(L, 1, NULL));
  }
  luaL_traceback(L, L, lua_tostring(L, -1), 1);
  return 1;
}

static void print_main_error(ms_runtime *rt, const char *msg) {
  (void)rt;
  print_message(msg);
  fflush(stderr);
}

static int report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    print_message(msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}

static int docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  int status = lua_pcall(L, narg, nres, base);
  lua_remove(L, base);
  return status;
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l [g=]mod: require mod and store it in global g (default: mod). */
static int dolibrary(lua_State *L, char *globname) {
  char *modname = strchr(globname, '=');
  if (modname == NULL) {
    modname = globname;
    char *suffix = strchr(modname, *LUA_IGMARK);
    if (suffix) *suffix = '\0';
  } else {
    *modname = '\0';
    modname++;
  }
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  int status = docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, globname);
  return report(L, status);
}

/* arg: script args at 1.., the script at 0, the interpreter and options below. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;
  int narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

enum { has_error = 1, has_i = 2, has_v = 4, has_e = 8, has_E = 16 };

static int collectargs(char **argv, int *first) {
  int args = 0, i;
  if (argv[0] != NULL) {
    if (argv[0][0]) progname = argv[0];
  } else {
    *first = -1;
    return 0;
  }
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args;
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] != '\0') return has_error;
        *first = i + 1;
        return args;
      case '\0': return args;
      case 'E':
        if (argv[i][2] != '\0') return has_error;
        args |= has_E;
        break;
      case 'W':
        if (argv[i][2] != '\0') return has_error;
        break;
      case 'i': /* lua.c's -i implies -v; here the REPL's banner names the version */
        if (argv[i][2] != '\0') return has_error;
        args |= has_i;
        break;
      case 'v':
        if (argv[i][2] != '\0') return has_error;
        args |= has_v;
        break;
      case 'e':
        args |= has_e;
        /* fall through */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return has_error;
        }
        break;
      default: return has_error;
    }
  }
  *first = 0;
  return args;
}

static int runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int option = argv[i][1];
    switch (option) {
      case 'e':
      case 'l': {
        char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        int status = option == 'e' ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W': lua_warning(L, "@on", 0); break;
    }
  }
  return 1;
}

static int handle_luainit(lua_State *L) {
  const char *name = "=" LUA_INITVARVERSION;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" LUA_INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, name);
}

/* Runs the script as the main task and the loop until every non-daemon task
 * has ended (with main_only, only until the main task has: the REPL of -i
 * then runs with the others); returns false if the main task failed. */
static int runscript(lua_State *L, ms_runtime *rt, char **argv, int script, int main_only) {
  const char *fname = argv[script];
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status != LUA_OK) {
    report(L, status);
    return 0;
  }
  lua_getglobal(L, "arg");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -n - 1);
  ms_spawn_main(L, n);
  if (main_only)
    ms_sched_run_main(rt);
  else
    ms_sched_run(rt);
  return ms_sched_main_status(rt) == LUA_OK;
}

/* ---- the REPL ----
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

#define REPL_EOF (-1)  /* loadline: the input has ended */
#define REPL_SKIP (-2) /* loadline: Ctrl-C gave the statement up */
#define HISTORY_MAX 1000

static struct {
  int edit;     /* libedit on a terminal; else plain lines, no prompts */
  int pollable; /* the loop can watch fd 0 (a regular file cannot be) */
  int eof;
  ms_io io;     /* fd 0, as the loop watches it */
  int io_open;
  char *buf;    /* plain mode: bytes read, not yet a whole line */
  size_t len, cap;
  int repl;     /* registry refs: the repl module and the statements' env */
  int env;
  char prompt[256];
} R;

static const char *history_path(char *buf, size_t size) {
  const char *env = getenv("MOONSOCK_HISTORY");
  if (env) return *env ? env : NULL; /* set and empty: no history */
  const char *home = getenv("HOME");
  if (!home || !*home) return NULL;
  snprintf(buf, size, "%s/.moonsock_history", home);
  return buf;
}

/* libedit decodes keys by the locale's character set, and drops what the
 * C locale's ASCII cannot say: take the user's locale for LC_CTYPE, and
 * UTF-8 when that is plain C (as Python does). Lua's lexer ignores it. */
static void editing_locale(void) {
  setlocale(LC_CTYPE, "");
  const char *cs = nl_langinfo(CODESET);
  if (!cs || strcmp(cs, "ANSI_X3.4-1968") == 0) setlocale(LC_CTYPE, "C.UTF-8");
}

static int is_interrupt(lua_State *L, int idx) {
  int yes = 0;
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    yes = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "KeyboardInterrupt") == 0;
    lua_pop(L, 1);
  }
  return yes;
}

static void noop_ready(ms_waiter *w, int status) {
  (void)w;
  (void)status;
}

/* Registers fd 0 with the loop (shared with select through the fd map).
 * libuv makes a polled fd non-blocking, and on a terminal that flag is
 * shared with stdout: a non-blocking stdout would drop output when the
 * terminal is slow, so the flags are put back; the loop only reads fd 0
 * once it is readable. */
static void open_input(lua_State *L) {
  struct stat st;
  R.pollable = !(fstat(0, &st) == 0 && S_ISREG(st.st_mode));
  if (!R.pollable) return;
  int flags = fcntl(0, F_GETFL);
  ms_io_init(&R.io, ms_loop(L), ms_iomap_of(L), 0);
  R.io_open = 1;
  ms_waiter w;
  memset(&w, 0, sizeof w);
  w.ready = noop_ready;
  if (ms_io_wait(&R.io, &w, UV_READABLE) == 0)
    ms_io_unwait(&R.io, &w);
  else
    R.pollable = 0;
  if (flags >= 0) fcntl(0, F_SETFL, flags);
}

static void close_input(void) {
  if (R.io_open) ms_io_close(&R.io);
  R.io_open = 0;
  free(R.buf);
  R.buf = NULL;
}

static int wait_k(lua_State *L, int status, lua_KContext ctx) {
  (void)status;
  (void)ctx;
  ms_check_wake(L);
  return 0;
}

static int wait_input(lua_State *L) {
  return ms_park_io(L, &R.io, UV_READABLE, -1, 0, wait_k);
}

/* Runs the loop until fd 0 is readable: 1 then, 0 on Ctrl-C, -1 when fd 0
 * cannot be waited for (read it directly then). */
static int await_input(lua_State *L) {
  if (!R.pollable) return -1;
  lua_pushcfunction(L, wait_input);
  int status = lua_pcall(L, 0, 0, 0);
  if (status == LUA_OK) return 1;
  int interrupted = is_interrupt(L, -1);
  lua_pop(L, 1);
  if (!interrupted) R.pollable = 0;
  return interrupted ? 0 : -1;
}

/* Plain mode: the next line of fd 0, without its newline. */
static int plain_line(lua_State *L, char **line) {
  for (;;) {
    char *nl = R.len ? memchr(R.buf, '\n', R.len) : NULL;
    if (nl || (R.eof && R.len)) {
      size_t n = nl ? (size_t)(nl - R.buf) : R.len;
      *line = malloc(n + 1);
      if (!*line) return REPL_EOF;
      memcpy(*line, R.buf, n);
      (*line)[n] = '\0';
      size_t used = nl ? n + 1 : n;
      memmove(R.buf, R.buf + used, R.len - used);
      R.len -= used;
      return 1;
    }
    if (R.eof) return REPL_EOF;
    if (await_input(L) == 0) return 0;
    if (R.cap - R.len < 4096) {
      size_t cap = R.cap ? R.cap * 2 : 8192;
      char *b = realloc(R.buf, cap);
      if (!b) return REPL_EOF;
      R.buf = b;
      R.cap = cap;
    }
    ssize_t n = read(0, R.buf + R.len, R.cap - R.len);
    if (n > 0)
      R.len += (size_t)n;
    else if (n == 0 || (errno != EINTR && errno != EAGAIN))
      R.eof = 1;
  }
}

/* Edit mode: the line typed at prompt, read key by key as keys come. */
static int edit_line(lua_State *L, const char *prompt, char **line) {
  le_prompt(prompt);
  for (;;) {
    int w = await_input(L);
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
static const char *get_prompt(lua_State *L, int firstline) {
  const char *dflt = firstline ? "> " : ">> ";
  if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TSTRING)
    snprintf(R.prompt, sizeof R.prompt, "%s", lua_tostring(L, -1));
  else
    snprintf(R.prompt, sizeof R.prompt, "%s", dflt);
  lua_pop(L, 1);
  return R.prompt;
}

/* Pushes the next line: 1, 0 on Ctrl-C, REPL_EOF at the end of input. */
static int pushline(lua_State *L, int firstline) {
  char *b = NULL;
  int r = R.edit ? edit_line(L, get_prompt(L, firstline), &b) : plain_line(L, &b);
  if (r != 1) return r;
  lua_pushstring(L, b);
  free(b);
  return 1;
}

/* repl.compile(code, env) -> fn | nil, message, incomplete. */
static int compile(lua_State *L, int code, int *incomplete) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, R.repl);
  lua_getfield(L, -1, "compile");
  lua_remove(L, -2);
  lua_pushvalue(L, code);
  lua_rawgeti(L, LUA_REGISTRYINDEX, R.env);
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
static int loadline(lua_State *L) {
  int r = pushline(L, 1);
  if (r != 1) return r == 0 ? REPL_SKIP : REPL_EOF;
  int code = lua_gettop(L);
  int status, incomplete;
  for (;;) {
    status = compile(L, code, &incomplete);
    if (status == LUA_OK || !incomplete) break;
    r = pushline(L, 0);
    if (r == 0) {
      lua_settop(L, code);
      if (R.edit) le_remember(lua_tostring(L, code));
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
  if (R.edit) le_remember(lua_tostring(L, code));
  lua_remove(L, code);
  return status;
}

/* A statement's results, shown by repl.show. */
static void l_print(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, R.repl);
  lua_getfield(L, -1, "show");
  lua_remove(L, -2);
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    print_message(lua_pushfstring(L, "error calling 'repl.show' (%s)", lua_tostring(L, -1)));
}

/* Runs a statement with repl.traceback as the message handler. */
static int repl_call(lua_State *L) {
  int fn = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, R.repl);
  lua_getfield(L, -1, "traceback");
  lua_remove(L, -2);
  lua_insert(L, fn);
  int status = lua_pcall(L, 0, LUA_MULTRET, fn);
  lua_remove(L, fn);
  return status;
}

/* Completion candidates from repl.complete, for lineedit. */
static char **complete(const char *text, void *ud) {
  lua_State *L = ud;
  int top = lua_gettop(L);
  char **list = NULL;
  lua_rawgeti(L, LUA_REGISTRYINDEX, R.repl);
  lua_getfield(L, -1, "complete");
  lua_pushstring(L, text);
  lua_rawgeti(L, LUA_REGISTRYINDEX, R.env);
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

static int guard_hide(lua_State *L) {
  (void)L;
  le_hide();
  return 0;
}

static int guard_show(lua_State *L) {
  le_show(lua_toboolean(L, 1));
  return 0;
}

/* Loads lua/repl.lua and the environment statements run in. */
static int open_repl(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "repl");
  if (docall(L, 1, 1) != LUA_OK) return report(L, LUA_ERRRUN);
  lua_getfield(L, -1, "new_env");
  if (docall(L, 0, 1) != LUA_OK) {
    lua_pop(L, 1);
    return report(L, LUA_ERRRUN);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "env");
  R.env = luaL_ref(L, LUA_REGISTRYINDEX);
  if (R.edit) {
    struct winsize ws;
    if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) {
      lua_pushinteger(L, ws.ws_col - 1);
      lua_setfield(L, -2, "width");
    }
    lua_getfield(L, -1, "guard_output");
    lua_pushcfunction(L, guard_hide);
    lua_pushcfunction(L, guard_show);
    lua_call(L, 2, 0);
  }
  R.repl = luaL_ref(L, LUA_REGISTRYINDEX);
  return LUA_OK;
}

static void doREPL(lua_State *L, int banner) {
  const char *oldprogname = progname;
  char hist[4096];
  R.edit = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  if (open_repl(L) != LUA_OK) return;
  open_input(L);
  if (R.edit) {
    editing_locale();
    le_open(history_path(hist, sizeof hist), HISTORY_MAX, complete, L);
  }
  if (banner) {
    if (banner > 1) print_version();
    fputs("Type help() for help, Ctrl-D to exit.\n", stdout);
    fflush(stdout);
  }
  progname = NULL;
  for (;;) {
    int base = lua_gettop(L);
    int status = loadline(L);
    if (status == REPL_EOF) break;
    if (status == REPL_SKIP) continue;
    if (status == LUA_OK) status = repl_call(L);
    if (status == LUA_OK)
      l_print(L, base);
    else
      report(L, status);
    lua_settop(L, base);
    fflush(stdout);
  }
  if (R.edit) {
    lua_writeline();
    le_close();
  }
  close_input();
  progname = oldprogname;
}

/* ---- moonsock --attach path: the client of repl.serve ----
 *
 * The server evaluates; this side edits lines, sends each one, and prints
 * what comes back until the server's next prompt. It needs no Lua at all.
 * Frames: a kind byte, a 4-byte big-endian length, the payload (see
 * lua/repl.lua).
 */

static struct {
  int fd;
  char *in;
  size_t len, cap;
  volatile sig_atomic_t sigint;
} A;

static int send_frame(char kind, const char *data, size_t len) {
  unsigned char head[5] = {(unsigned char)kind, (unsigned char)(len >> 24),
                           (unsigned char)(len >> 16), (unsigned char)(len >> 8),
                           (unsigned char)len};
  struct iovec iov[2] = {{head, 5}, {(void *)data, len}};
  size_t left = 5 + len;
  while (left > 0) {
    ssize_t n = writev(A.fd, iov, 2);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    left -= (size_t)n;
    for (int i = 0; i < 2 && n > 0; i++) {
      size_t take = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
      iov[i].iov_base = (char *)iov[i].iov_base + take;
      iov[i].iov_len -= take;
      n -= (ssize_t)take;
    }
  }
  return 0;
}

/* Takes a whole frame out of what was received: 1, or 0 if none yet. */
static int next_frame(char *kind, char **data, size_t *len) {
  if (A.len < 5) return 0;
  const unsigned char *h = (const unsigned char *)A.in;
  size_t n = ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | h[4];
  if (A.len < 5 + n) return 0;
  *kind = A.in[0];
  *data = malloc(n + 1);
  if (!*data) return 0;
  memcpy(*data, A.in + 5, n);
  (*data)[n] = '\0';
  *len = n;
  memmove(A.in, A.in + 5 + n, A.len - 5 - n);
  A.len -= 5 + n;
  return 1;
}

/* Reads what the server sent: >0, 0 when it closed, -1 on EINTR. */
static ssize_t receive(void) {
  if (A.cap - A.len < 4096) {
    size_t cap = A.cap ? A.cap * 2 : 16384;
    char *b = realloc(A.in, cap);
    if (!b) return 0;
    A.in = b;
    A.cap = cap;
  }
  ssize_t n = read(A.fd, A.in + A.len, A.cap - A.len);
  if (n < 0 && errno == EINTR) return -1;
  if (n <= 0) return 0;
  A.len += (size_t)n;
  return n;
}

static void show_output(const char *data, size_t len, int edit) {
  if (!len) return;
  if (edit) le_hide();
  fwrite(data, 1, len, stdout);
  fflush(stdout);
  if (edit) le_show(data[len - 1] == '\n');
}

/* Asks the server to complete text; waits for the answer. */
static char **attach_complete(const char *text, void *ud) {
  (void)ud;
  if (send_frame('C', text, strlen(text)) < 0) return NULL;
  for (;;) {
    char kind, *data;
    size_t len;
    while (next_frame(&kind, &data, &len)) {
      if (kind != 'C') {
        if (kind == 'O') show_output(data, len, 0);
        free(data);
        continue;
      }
      size_t n = 1;
      for (size_t i = 0; i < len; i++) n += data[i] == '\n';
      char **list = calloc(n + 1, sizeof *list);
      size_t k = 0;
      for (char *p = data; list && len > 0 && p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        list[k++] = strdup(p);
        p = nl ? nl + 1 : NULL;
      }
      free(data);
      return list;
    }
    if (receive() == 0) return NULL;
  }
}

static void on_attach_sigint(int sig) {
  (void)sig;
  A.sigint = 1;
}

static int attach(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) {
    lua_writestringerror("%s: ", progname);
    lua_writestringerror("cannot attach to %s: path too long\n", path);
    return EXIT_FAILURE;
  }
  strcpy(sa.sun_path, path);
  A.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (A.fd < 0 || connect(A.fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    lua_writestringerror("%s: ", progname);
    lua_writestringerror("cannot attach to %s: ", path);
    lua_writestringerror("%s\n", strerror(errno));
    return EXIT_FAILURE;
  }
  /* Whoever can write the socket's directory can put a server of their own
   * at the path: it would see every line typed. Only a server of our own
   * uid (the kernel's record of who called listen) gets a line. */
  struct ucred cred;
  socklen_t clen = sizeof cred;
  memset(&cred, 0, sizeof cred);
  int known = getsockopt(A.fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0;
  if (!known || cred.uid != geteuid()) {
    lua_writestringerror("%s: ", progname);
    lua_writestringerror("attach refused: the server at %s ", path);
    if (known) {
      lua_writestringerror("runs as uid %ld, ", (long)cred.uid);
      lua_writestringerror("not this user's uid %ld\n", (long)geteuid());
    } else {
      lua_writestringerror("gave no credentials: %s\n", strerror(errno));
    }
    close(A.fd);
    return EXIT_FAILURE;
  }
  int edit = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
  char hist[4096];
  if (edit) {
    editing_locale();
    le_open(history_path(hist, sizeof hist), HISTORY_MAX, attach_complete, NULL);
  }
  struct sigaction sa_int;
  memset(&sa_int, 0, sizeof sa_int);
  sa_int.sa_handler = on_attach_sigint; /* no SA_RESTART: poll must return */
  sigemptyset(&sa_int.sa_mask);
  sigaction(SIGINT, &sa_int, NULL);
  int at_prompt = 0, input_done = 0, code = EXIT_SUCCESS;
  char *pending = NULL; /* plain mode: lines read, sent one per prompt */
  size_t plen = 0;
  for (;;) {
    char kind, *data;
    size_t len;
    int refused = 0;
    while (!refused && next_frame(&kind, &data, &len)) {
      if (kind == 'O' || (kind == 'B' && edit)) {
        show_output(data, len, edit);
      } else if (kind == 'P') {
        at_prompt = 1;
        if (edit) le_prompt(data);
      } else if (kind == 'X') {
        fwrite(data, 1, len, stderr);
        refused = 1;
      }
      free(data);
    }
    if (refused) {
      code = EXIT_FAILURE;
      break;
    }
    if (A.sigint) {
      A.sigint = 0;
      if (edit && at_prompt) le_abandon("^C");
      at_prompt = 0;
      if (send_frame('I', "", 0) < 0) break;
      continue;
    }
    if (at_prompt && !edit) {
      char *nl = plen ? memchr(pending, '\n', plen) : NULL;
      if (nl || (input_done && plen)) {
        size_t n = nl ? (size_t)(nl - pending) : plen;
        if (send_frame('L', pending, n) < 0) break;
        size_t used = nl ? n + 1 : n;
        memmove(pending, pending + used, plen - used);
        plen -= used;
        at_prompt = 0;
        continue;
      }
      if (input_done) break;
    }
    struct pollfd p[2] = {{A.fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    int nfds = at_prompt && !input_done ? 2 : 1;
    if (poll(p, (nfds_t)nfds, -1) < 0) continue; /* EINTR: Ctrl-C */
    if (p[0].revents) {
      if (receive() == 0) { /* the program ended, or closed its server */
        if (edit) le_abandon("");
        lua_writestringerror("%s: the program closed the connection\n", progname);
        code = EXIT_FAILURE;
        break;
      }
      continue;
    }
    if (nfds < 2 || !p[1].revents) continue;
    if (edit) {
      char *line;
      int r = le_read(&line);
      if (r < 0) break;
      if (r == 1) {
        int failed = send_frame('L', line, strlen(line)) < 0;
        le_remember(line);
        free(line);
        at_prompt = 0;
        if (failed) break;
      }
    } else {
      char chunk[4096];
      ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        input_done = 1;
        continue;
      }
      char *b = realloc(pending, plen + (size_t)n);
      if (!b) break;
      pending = b;
      memcpy(pending + plen, chunk, (size_t)n);
      plen += (size_t)n;
    }
  }
  if (edit) {
    lua_writeline();
    le_close();
  }
  free(pending);
  free(A.in);
  close(A.fd);
  return code;
}

/* ---- moonsock.cli: what the command adds for lua/repl.lua ---- */

/* umask(mask) -> the old mask: repl.serve creates its socket file 0600. */
static int cli_umask(lua_State *L) {
  lua_Integer mask = luaL_checkinteger(L, 1);
  luaL_argcheck(L, mask >= 0 && mask <= 0777, 1, "mask out of range");
  lua_pushinteger(L, (lua_Integer)umask((mode_t)mask));
  return 1;
}

static int open_cli(lua_State *L) {
  static const luaL_Reg funcs[] = {{"umask", cli_umask}, {NULL, NULL}};
  luaL_newlib(L, funcs);
  return 1;
}

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = collectargs(argv, &script);
  luaL_checkversion(L);
  if (args == has_error) {
    print_usage(argv[script]);
    return 0;
  }
  if (args & has_v) print_version();
  if (args & has_E) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  ms_runtime *rt = ms_runtime_open(L, NULL);
  ms_sched_on_main_error(rt, print_main_error);
  ms_sigint_install(rt);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, open_cli);
  lua_setfield(L, -2, "moonsock.cli");
  lua_pop(L, 1);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & has_E) && handle_luainit(L) != LUA_OK) return 0;
  if (!runargs(L, argv, script > 0 ? script : argc)) return 0;
  int ok = 1;
  if (script > 0) ok = runscript(L, rt, argv, script, args & has_i);
  if (!ok) {
    /* lua.c does not go on to the REPL after a failed script */
  } else if (args & has_i) {
    doREPL(L, !isatty(STDIN_FILENO) ? 0 : (args & has_v) ? 1 : 2);
  } else if (script == 0 && !(args & (has_e | has_v))) {
    if (isatty(STDIN_FILENO)) {
      doREPL(L, 2);
    } else { /* lua.c runs a non-terminal stdin as a file */
      int status = luaL_loadfile(L, NULL);
      if (status == LUA_OK) {
        ms_spawn_main(L, 0);
        ms_sched_run(rt);
        ok = ms_sched_main_status(rt) == LUA_OK;
      } else {
        report(L, status);
        ok = 0;
      }
    }
  } else if (script == 0) {
    ms_sched_run(rt); /* tasks spawned by -e */
  }
  lua_pushboolean(L, ok);
  return 1;
}

int main(int argc, char **argv) {
  /* A write to a closed peer must raise EPIPE, not kill the process. */
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && strcmp(argv[1], "--attach") == 0) {
    if (argv[0] && argv[0][0]) progname = argv[0];
    if (argc != 3) {
      print_usage(argv[1]);
      return EXIT_FAILURE;
    }
    return attach(argv[2]);
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    print_message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = lua_toboolean(L, -1);
  report(L, status);
  int code = (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
  if (ms_sched_interrupted(L)) code = 130;
  fflush(stdout);
  lua_close(L); /* closes every socket still open */
  return code;
}
