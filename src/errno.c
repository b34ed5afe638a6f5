/*
 * Python's errno module: `require "errno"`. The names are Python's (listed
 * in errno.inc by scripts/gen-errno); the values come from <errno.h> here,
 * and errorcode maps each value to the name Python's errorcode picks.
 */
#include <errno.h>

#include "ms.h"

int ms_open_errno(lua_State *L) {
  lua_newtable(L);
  lua_newtable(L); /* errorcode */
#define MS_ERRNO(name)          \
  lua_pushinteger(L, name);     \
  lua_setfield(L, -3, #name);
/* Not through MS_ERRNO: an argument passed on is macro-expanded first. */
#define MS_ERRCODE(name)        \
  lua_pushinteger(L, name);     \
  lua_setfield(L, -3, #name);   \
  lua_pushliteral(L, #name);    \
  lua_rawseti(L, -2, name);
#include "errno.inc"
#undef MS_ERRNO
#undef MS_ERRCODE
  lua_setfield(L, -2, "errorcode");
  return 1;
}
