/*
 * How C raises Python's exceptions: through the factory of
 * lua/moonsock/errors.lua, which picks the class (an OSError's from its
 * errno, as Python's constructor does) and makes the error object. Also
 * keeps that module's describer of uncaught errors for those who print them,
 * and its argerror, the one argument error of Lua and C alike.
 */
#include <string.h>

#include "ms.h"

/* The registry key of the factory, moonsock.errors.raise_new: no other file
 * reads it (they raise through the functions below). */
const char ms_errors_key = 0;

/* The describer, moonsock.errors.describe. */
#define ERRORS_DESCRIBER_KEY "moonsock.describe"

/* moonsock.errors.argerror, kept at this address's registry key. */
static const char errors_argerror_key = 0;

void ms_errors_open(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "moonsock.errors");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "raise_new");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &ms_errors_key);
  lua_getfield(L, -1, "describe");
  lua_setfield(L, LUA_REGISTRYINDEX, ERRORS_DESCRIBER_KEY);
  lua_getfield(L, -1, "argerror");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &errors_argerror_key);
  lua_pop(L, 1);
}

int ms_push_describer(lua_State *L) {
  return lua_getfield(L, LUA_REGISTRYINDEX, ERRORS_DESCRIBER_KEY);
}

/* Before moonsock.errors is loaded (a failure while opening) the error is
 * its message alone. */
void ms_push_error(lua_State *L, const char *cls, int err, const char *msg) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &ms_errors_key);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_pushstring(L, msg);
    return;
  }
  lua_pushstring(L, cls);
  if (err)
    lua_pushinteger(L, err);
  else
    lua_pushnil(L);
  lua_pushstring(L, msg);
  lua_call(L, 3, 1);
}

int ms_raise(lua_State *L, const char *cls, int err, const char *msg) {
  ms_push_error(L, cls, err, msg);
  return lua_error(L);
}

int ms_raise_errno(lua_State *L, int err) {
  return ms_raise(L, "OSError", err, strerror(err));
}

/*
 * Raises "bad argument #n to 'fname' (msg)" through errors.argerror, which
 * blames the first frame outside moonsock's own modules and C: a C method
 * that lua/socket.lua wraps (bind resolves names first) would otherwise,
 * with luaL_error's level 1, name the wrapper's line instead of the user's.
 * Before moonsock.errors is loaded, luaL_error's position has to do.
 */
int ms_argerror(lua_State *L, int n, const char *fname, const char *msg) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &errors_argerror_key);
  if (!lua_isfunction(L, -1)) return luaL_error(L, "bad argument #%d to '%s' (%s)", n, fname, msg);
  lua_pushinteger(L, n);
  lua_pushstring(L, fname);
  lua_pushstring(L, msg);
  lua_call(L, 3, 0);
  return 0; /* not reached: argerror raises */
}
