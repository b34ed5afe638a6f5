/*
 * The moonsock command: lua.c's command line, with the script run as the
 * main task of a libuv loop. Options and their order follow lua.c, so that
 * `moonsock` can stand wherever `lua5.4` does (busted's runner included).
 * The REPL is repl.c's; `--attach path` hands the process to attach.c
 * before any Lua state exists.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "attach.h"
#include "repl.h"
#include "report.h"
#include "scheduler.h"

#define LUA_IGMARK "-"
#define LUA_INIT_VAR "LUA_INIT"
#define LUA_INITVARVERSION LUA_INIT_VAR LUA_VERSUFFIX

/* A shell's status for a process ended by SIGINT. */
#define CLI_EXIT_INTERRUPTED (128 + SIGINT)

/* What collectargs found on the command line. */
enum {
  CLI_BAD_OPTION = 1,
  CLI_INTERACTIVE = 2, /* -i */
  CLI_VERSION = 4,     /* -v */
  CLI_EXECUTE = 8,     /* -e */
  CLI_NO_ENV = 16      /* -E */
};

static void cli_usage(const char *badoption) {
  const char *progname = report_name();
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

/* The runtime calls it as soon as the main task fails (Python prints the
 * main thread's error at once, before other threads end). */
static void cli_main_error(ms_runtime *rt, const char *msg) {
  report_message(msg);
  fflush(stderr);
}

static int cli_dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = report_call(L, 0, 0);
  return report_status(L, status);
}

static int cli_dostring(lua_State *L, const char *s, const char *name) {
  return cli_dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l [g=]mod: require mod and store it in global g (default: mod). */
static int cli_dolibrary(lua_State *L, char *globname) {
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
  int status = report_call(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, globname);
  return report_status(L, status);
}

/* arg: script args at 1.., the script at 0, the interpreter and options below. */
static void cli_createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;
  int narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int cli_collectargs(char **argv, int *first) {
  int args = 0, i;
  if (argv[0] != NULL) {
    if (argv[0][0]) report_set_name(argv[0]);
  } else {
    *first = -1;
    return 0;
  }
  for (i = 1; argv[i] != NULL; i++) {
    *first = i;
    if (argv[i][0] != '-') return args;
    switch (argv[i][1]) {
      case '-':
        if (argv[i][2] != '\0') return CLI_BAD_OPTION;
        *first = i + 1;
        return args;
      case '\0': return args;
      case 'E':
        if (argv[i][2] != '\0') return CLI_BAD_OPTION;
        args |= CLI_NO_ENV;
        break;
      case 'W':
        if (argv[i][2] != '\0') return CLI_BAD_OPTION;
        break;
      case 'i': /* lua.c's -i implies -v; here the REPL's banner names the version */
        if (argv[i][2] != '\0') return CLI_BAD_OPTION;
        args |= CLI_INTERACTIVE;
        break;
      case 'v':
        if (argv[i][2] != '\0') return CLI_BAD_OPTION;
        args |= CLI_VERSION;
        break;
      case 'e':
        args |= CLI_EXECUTE;
        /* fall through */
      case 'l':
        if (argv[i][2] == '\0') {
          i++;
          if (argv[i] == NULL || argv[i][0] == '-') return CLI_BAD_OPTION;
        }
        break;
      default: return CLI_BAD_OPTION;
    }
  }
  *first = 0;
  return args;
}

static int cli_runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    int option = argv[i][1];
    switch (option) {
      case 'e':
      case 'l': {
        char *extra = argv[i] + 2;
        if (*extra == '\0') extra = argv[++i];
        int status = option == 'e' ? cli_dostring(L, extra, "=(command line)")
                                   : cli_dolibrary(L, extra);
        if (status != LUA_OK) return 0;
        break;
      }
      case 'W': lua_warning(L, "@on", 0); break;
    }
  }
  return 1;
}

static int cli_handle_luainit(lua_State *L) {
  const char *name = "=" LUA_INITVARVERSION;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" LUA_INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return cli_dochunk(L, luaL_loadfile(L, init + 1));
  return cli_dostring(L, init, name);
}

/* Runs the script as the main task and the loop until every non-daemon task
 * has ended (with main_only, only until the main task has: the REPL of -i
 * then runs with the others); returns false if the main task failed. */
static int cli_runscript(lua_State *L, ms_runtime *rt, char **argv, int script, int main_only) {
  const char *fname = argv[script];
  if (strcmp(fname, "-") == 0 && strcmp(argv[script - 1], "--") != 0) fname = NULL;
  int status = luaL_loadfile(L, fname);
  if (status != LUA_OK) {
    report_status(L, status);
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

/* lua.c runs a non-terminal stdin as a file; here as the main task. */
static int cli_runstdin(lua_State *L, ms_runtime *rt) {
  int status = luaL_loadfile(L, NULL);
  if (status != LUA_OK) {
    report_status(L, status);
    return 0;
  }
  ms_spawn_main(L, 0);
  ms_sched_run(rt);
  return ms_sched_main_status(rt) == LUA_OK;
}

static int cli_pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script;
  int args = cli_collectargs(argv, &script);
  luaL_checkversion(L);
  if (args == CLI_BAD_OPTION) {
    cli_usage(argv[script]);
    return 0;
  }
  if (args & CLI_VERSION) report_version();
  if (args & CLI_NO_ENV) {
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  ms_runtime *rt = ms_runtime_open(L, NULL);
  ms_sched_on_main_error(rt, cli_main_error);
  ms_signal_install(rt);
  cli_createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & CLI_NO_ENV) && cli_handle_luainit(L) != LUA_OK) return 0;
  if (!cli_runargs(L, argv, script > 0 ? script : argc)) return 0;
  int ok = 1;
  if (script > 0) ok = cli_runscript(L, rt, argv, script, args & CLI_INTERACTIVE);
  if (!ok) {
    /* lua.c does not go on to the REPL after a failed script */
  } else if (args & CLI_INTERACTIVE) {
    repl_run(L, !isatty(STDIN_FILENO)      ? REPL_BANNER_NONE
                : (args & CLI_VERSION)     ? REPL_BANNER_HELP
                                           : REPL_BANNER_VERSION);
  } else if (script == 0 && !(args & (CLI_EXECUTE | CLI_VERSION))) {
    if (isatty(STDIN_FILENO))
      repl_run(L, REPL_BANNER_VERSION);
    else
      ok = cli_runstdin(L, rt);
  } else if (script == 0) {
    ms_sched_run(rt); /* tasks spawned by -e */
  }
  lua_pushboolean(L, ok);
  return 1;
}

int main(int argc, char **argv) {
  /* A write to a closed peer must raise EPIPE, not kill the process. */
  signal(SIGPIPE, SIG_IGN);
  /* A write past the file size limit must raise EFBIG, as in Python. */
  signal(SIGXFSZ, SIG_IGN);
  if (argc >= 2 && strcmp(argv[1], "--attach") == 0) {
    if (argv[0] && argv[0][0]) report_set_name(argv[0]);
    if (argc != 3) {
      cli_usage(argv[1]);
      return EXIT_FAILURE;
    }
    return attach_run(report_name(), argv[2]);
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    report_message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, cli_pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = lua_toboolean(L, -1);
  report_status(L, status);
  int code = (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
  if (ms_sched_interrupted(L)) code = CLI_EXIT_INTERRUPTED;
  fflush(stdout);
  lua_close(L); /* closes every socket still open */
  return code;
}
