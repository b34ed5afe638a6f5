-- The one check of a timeout's value for moonsock's Lua modules (task,
-- moonsock.sync, selectors, asyncore, socketserver): NaN and a wait past
-- Python's threading.TIMEOUT_MAX are argument errors, where Python raises
-- ValueError and OverflowError. Each module checks the type itself: what it
-- accepts besides numbers (nil, false) and how it says so differ by API.
local argerror = require("moonsock.errors").argerror

local M = {}

-- Python's threading.TIMEOUT_MAX on 64-bit Linux: the seconds a C int64 of
-- nanoseconds holds. A longer wait is an OverflowError there, where it
-- would be a wait without end here.
M.TIMEOUT_MAX = 9223372036

-- CPython counts a wait in 64-bit nanoseconds (_PyTime_t): 2^63 ns or more
-- is refused, as src/timeout.c refuses it for the C modules. Its words
-- depend on the conversion that failed: a float's range, or an int's
-- multiplication.
local NS_LIMIT = 0x1p63
local NS_PER_SECOND = 1e9

-- check(v, n, fname[, nan_msg]) -> v: v is a number, nil or false (no
-- timeout); argument n of fname. nan_msg: the module's own words for NaN,
-- Python's select's by default. Negative values are the caller's to judge.
function M.check(v, n, fname, nan_msg)
  if v ~= v then argerror(n, fname, nan_msg or "Invalid value NaN (not a number)") end
  if v and v * NS_PER_SECOND >= NS_LIMIT then
    argerror(n, fname, math.type(v) == "integer" and "timestamp too large to convert to C _PyTime_t"
      or "timestamp out of range for platform time_t")
  end
  return v
end

return M
