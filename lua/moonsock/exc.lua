-- Python's try/except/finally and sys.exc_info() for socketserver's tasks:
-- which errors `except Exception` catches, the error being handled (per
-- task, as sys.exc_info() is per thread), a `finally` for <close>
-- variables, and handle_error's frame of dashes. socketserver and its
-- prefork servers (moonsock.prefork) share them.
local task = require "task"
local errors = require "moonsock.errors"

local M = {}

-- Python's `except Exception` lets KeyboardInterrupt (and moonsock's
-- Cancelled, a BaseException too) through; any other Lua value is an error.
function M.is_exception(err)
  return not errors.BaseException:matches(err) or errors.Exception:matches(err)
end

-- The error being handled, per task, as sys.exc_info() is per thread.
local exc_state = setmetatable({}, {__mode = "k"})

-- xpcall's handler: notes the error with the traceback where it was raised.
function M.capture(err)
  exc_state[task.current()] = {
    err = err,
    tb = debug.traceback(errors.describe(err), 2),
  }
  return err
end

-- exc_info() -> the error being handled and its traceback text, or nil.
function M.exc_info()
  local st = exc_state[task.current()]
  if st then return st.err, st.tb end
  return nil
end

function M.clear() exc_state[task.current()] = nil end

-- A `finally` clause: fn runs when the variable goes out of scope, also
-- when an error passes (after xpcall's handler has seen where it came from).
local finally_meta = {__close = function(f) f[1](table.unpack(f, 2, f.n)) end}
function M.finally(fn, ...)
  return setmetatable(table.pack(fn, ...), finally_meta)
end

local DASHES = string.rep("-", 40)

-- Writes its arguments to stderr between two lines of dashes, as Python's
-- socketserver frames the traceback handle_error prints.
-- One write, so that processes sharing stderr do not cut into the frame.
function M.report(...)
  local n = select("#", ...)
  local parts = {DASHES, "\n", ...}
  parts[n + 3], parts[n + 4], parts[n + 5] = "\n", DASHES, "\n"
  io.stderr:write(table.unpack(parts, 1, n + 5))
end

return M
