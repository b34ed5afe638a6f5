/*
 * How the moonsock command speaks (report.c): lua.c's l_message, report,
 * msghandler and docall, shared by the command line (main.c) and the REPL
 * (repl.c).
 */
#ifndef MS_CLI_REPORT_H
#define MS_CLI_REPORT_H

#include <lua.h>

/* The name messages are prefixed with (argv[0], "moonsock" by default);
 * NULL for none, as in the REPL. Returns the previous one. */
const char *report_set_name(const char *name);
const char *report_name(void);

/* Prints msg on stderr, after the name. */
void report_message(const char *msg);
/* Prints the error message on top of L if status is not LUA_OK, and pops
 * it; returns status. */
int report_status(lua_State *L, int status);
/* lua_pcall with a message handler that describes the error Python-style
 * and adds a traceback. */
int report_call(lua_State *L, int narg, int nres);
/* Whether the value at idx is a KeyboardInterrupt (Ctrl-C). */
int report_is_interrupt(lua_State *L, int idx);
/* The version line of -v and the REPL's banner. */
void report_version(void);

#endif
