/*
 * The moonsock command's interactive prompt (repl.c), over lua/repl.lua.
 */
#ifndef MS_CLI_REPL_H
#define MS_CLI_REPL_H

#include <lua.h>

/* What is printed before the first prompt. */
enum { REPL_BANNER_NONE, REPL_BANNER_HELP, REPL_BANNER_VERSION };

/* Reads, runs and prints statements from stdin until it ends, while the
 * loop keeps the tasks spawned so far (and by the statements) running. */
void repl_run(lua_State *L, int banner);

#endif
