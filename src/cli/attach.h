/*
 * `moonsock --attach path`: the client of repl.serve(path) (lua/repl.lua).
 * No Lua here: the server evaluates, this side only edits and shows lines.
 */
#ifndef MS_CLI_ATTACH_H
#define MS_CLI_ATTACH_H

/* Connects to the REPL server at path and runs the session until the
 * input ends; errors are printed prefixed with progname. Returns the exit
 * status (EXIT_FAILURE if the server refused, closed or was not there). */
int attach_run(const char *progname, const char *path);

#endif
