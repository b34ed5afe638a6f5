/*
 * Timeout arguments, checked once for every C module as CPython checks them
 * (_PyTime_FromSecondsObject, then the caller's own sign rule): the
 * socket timeouts, select.select, poll.poll, epoll.poll and task.sleep.
 *
 * The order is CPython's: NaN first, then the range (so -1e300 is out of
 * range, not negative), then the caller's rule for negative values. Errors
 * are Lua argument errors carrying CPython's texts.
 */
#include <math.h>

#include "ms.h"

/* CPython counts every timeout in 64-bit nanoseconds: one of 2^63 ns or
 * more is an OverflowError there, and would be a wait without end here
 * (math.huge among them). */
#define TIMEOUT_NS_LIMIT 0x1p63
#define TIMEOUT_NS_PER_SECOND 1e9

double ms_timeout_check(lua_State *L, int idx, double per_second, const char *negative) {
  double t = luaL_checknumber(L, idx);
  luaL_argcheck(L, !isnan(t), idx, "Invalid value NaN (not a number)");
  double ns = t * (TIMEOUT_NS_PER_SECOND / per_second);
  if (!(ns > -TIMEOUT_NS_LIMIT && ns < TIMEOUT_NS_LIMIT))
    /* CPython's words depend on which conversion failed: an int's
     * multiplication or a float's range. */
    luaL_argerror(L, idx,
                  lua_isinteger(L, idx) ? "timestamp too large to convert to C _PyTime_t"
                                        : "timestamp out of range for platform time_t");
  if (t < 0) {
    luaL_argcheck(L, !negative, idx, negative);
    return -1;
  }
  return t / per_second;
}

double ms_timeout_opt(lua_State *L, int idx, double per_second, const char *negative) {
  return lua_isnoneornil(L, idx) ? -1 : ms_timeout_check(L, idx, per_second, negative);
}
