/*
 * The moonsock command: lua.c's command line, with the script run as the
 * main task of a libuv loop. Options and their order follow lua.c, so that
 * `moonsock` can stand wherever `lua5.4` does (busted's runner included).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "runtime_int.h"

#define LUA_IGMARK "-"
#define LUA_INIT_VAR "LUA_INIT"
#define LUA_INITVARVERSION LUA_INIT_VAR LUA_VERSUFFIX

static const char *progname = "moonsock";

static void print_usage(const char *badoption) {
  lua_writestringerror("%s: ", progname);
  if (badoption[1] == 'e' || badoption[1] == 'l')
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
}

static void print_message(const char *msg) {
  lua_writestringerror("%s: ", progname);
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
      ms_rt(L)->main_interrupted = 1;
    lua_pop(L, 1);
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "moonsock.describe");
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
      case 'i': /* -i implies -v */
        args |= has_i;
        /* fall through */
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
 * has ended; returns false if the main task failed. */
static int runscript(lua_State *L, ms_runtime *rt, char **argv, int script) {
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
  ms_sched_run(rt);
  return rt->main_status == LUA_OK;
}

/* Reads stdin line by line as lua.c does when it is not a terminal or for
 * `-i`: each line runs to completion, tasks run while it blocks. */
static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= 5 && strcmp(msg + lmsg - 5, "<eof>") == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

static void dorepl(lua_State *L) {
  char line[4096];
  luaL_Buffer b;
  int tty = isatty(STDIN_FILENO);
  for (;;) {
    luaL_buffinit(L, &b);
    int more = 0, status;
    for (;;) {
      if (tty) {
        fputs(more ? ">> " : "> ", stdout);
        fflush(stdout);
      }
      if (!fgets(line, sizeof line, stdin)) {
        luaL_pushresult(&b);
        lua_pop(L, 1);
        if (tty) lua_writeline();
        return;
      }
      luaL_addstring(&b, line);
      luaL_pushresult(&b);
      const char *code = lua_tostring(L, -1);
      const char *retline = lua_pushfstring(L, "return %s", code[0] == '=' ? code + 1 : code);
      status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
      if (status == LUA_OK) {
        lua_remove(L, -2);
        lua_remove(L, -2);
        break;
      }
      lua_pop(L, 2);
      status = luaL_loadbuffer(L, code, strlen(code), "=stdin");
      if (!incomplete(L, status)) {
        lua_remove(L, -2);
        break;
      }
      luaL_buffinit(L, &b);
      luaL_addvalue(&b);
      more = 1;
    }
    int base = lua_gettop(L);
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      int n = lua_gettop(L) - base + 1;
      if (n > 0) {
        lua_getglobal(L, "print");
        lua_insert(L, -n - 1);
        if (lua_pcall(L, n, 0, 0) != LUA_OK) report(L, LUA_ERRRUN);
      }
    } else {
      report(L, status);
    }
    lua_settop(L, base - 1);
  }
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
  rt->main_error = print_main_error;
  ms_sched_install_sigint(rt);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & has_E) && handle_luainit(L) != LUA_OK) return 0;
  if (!runargs(L, argv, script > 0 ? script : argc)) return 0;
  int ok = 1;
  if (script > 0) ok = runscript(L, rt, argv, script);
  if (ok && ((args & has_i) || (script == 0 && !(args & (has_e | has_v))))) {
    if (isatty(STDIN_FILENO) && !(args & has_v)) print_version();
    if (isatty(STDIN_FILENO)) {
      dorepl(L);
    } else {
      int status = luaL_loadfile(L, NULL);
      if (status == LUA_OK) {
        ms_spawn_main(L, 0);
        ms_sched_run(rt);
        ok = rt->main_status == LUA_OK;
      } else {
        report(L, status);
        ok = 0;
      }
    }
  }
  if (ok && script == 0) ms_sched_run(rt); /* tasks spawned by -e */
  lua_pushboolean(L, ok);
  return 1;
}

int main(int argc, char **argv) {
  /* A write to a closed peer must raise EPIPE, not kill the process. */
  signal(SIGPIPE, SIG_IGN);
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    print_message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  *(ms_runtime **)lua_getextraspace(L) = NULL;
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = lua_toboolean(L, -1);
  report(L, status);
  int code = (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
  lua_getfield(L, LUA_REGISTRYINDEX, "moonsock.runtime");
  ms_runtime **box = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (box && *box && ((*box)->interrupted || (*box)->main_interrupted)) code = 130;
  fflush(stdout);
  lua_close(L); /* closes every socket still open */
  return code;
}
