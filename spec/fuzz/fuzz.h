/*
 * What every libFuzzer target under spec/fuzz/ shares (harness.c): one Lua
 * state with moonsock opened, kept for the whole run; Lua line coverage fed
 * to libFuzzer, so inputs that reach new lines of lua/ count as new
 * coverage although the Lua VM itself is not instrumented; and one rule for
 * findings: a checker (Lua) that lets an error escape has found something,
 * and the process aborts so libFuzzer saves the input.
 */
#ifndef FZ_FUZZ_H
#define FZ_FUZZ_H

#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* The shared state: Lua's libraries, moonsock (on its own loop), the
 * coverage hook and the "fuzz" helper module (see harness.c). */
lua_State *fz_state(void);

/* Runs a target's Lua chunk once and keeps the value it returns (its
 * checker function) in the registry; returns the reference. A chunk that
 * does not load or run is a broken target: it aborts. */
int fz_chunk(lua_State *L, const char *name, const char *code);

/* fz_push(L, ref) pushes the checker; push its nargs arguments, then
 * fz_call(L, nargs) calls it and drops its results. Any error out of it is
 * a finding: printed with its traceback, then abort(). */
void fz_push(lua_State *L, int ref);
void fz_call(lua_State *L, int nargs);

/* Ends one input: the stack must be back to empty (a leak on it is a
 * harness bug); one turn of the loop lets closed sockets finish closing;
 * and every few thousand inputs a full collection keeps the state's memory
 * bounded. */
void fz_done(lua_State *L);

/* Prints "fuzz finding: <what>" on stderr and aborts. */
void fz_abort(const char *what);

/* A cursor over the fuzz input, for targets that decode it into values. */
typedef struct {
  const uint8_t *p;
  size_t n;
} fz_input;

/* The next byte (0 once the input is used up). */
uint8_t fz_byte(fz_input *in);
/* The next 8 bytes as an integer, little-endian, zero-filled at the end. */
uint64_t fz_u64(fz_input *in);

#endif
