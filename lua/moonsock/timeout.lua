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

local TIMEOUT_MAX = M.TIMEOUT_MAX

-- check(v, n, fname[, nan_msg]) -> v: v is a number, nil or false (no
-- timeout); argument n of fname. nan_msg: the module's own words for NaN,
-- Python's select's by default.
function M.check(v, n, fname, nan_msg)
  if v ~= v then argerror(n, fname, nan_msg or "Invalid value NaN (not a number)") end
  if v and v > TIMEOUT_MAX then argerror(n, fname, "timeout value is too large") end
  return v
end

return M
