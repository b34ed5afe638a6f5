-- Run once when moonsock opens into a state. A blocking call made inside a
-- coroutine of the user's parks by yielding a marker; coroutine.resume and
-- coroutine.wrap pass that yield up to the task and resume the inner
-- coroutine when the task wakes, so blocking calls work at any depth (as
-- OpenResty does for its cosockets).
local core = require "moonsock.core.task"
require "moonsock.repr"

local PARK = core.PARK
local co_resume, co_yield, co_create, co_close = coroutine.resume, coroutine.yield,
  coroutine.create, coroutine.close

local function forward(co, ok, first, ...)
  if ok and first == PARK then
    co_yield(PARK)
    return forward(co, co_resume(co))
  end
  return ok, first, ...
end

function coroutine.resume(co, ...)
  return forward(co, co_resume(co, ...))
end

local function unwrap(co, ok, ...)
  if ok then return ... end
  local err = ...
  co_close(co)
  error(err, type(err) == "string" and 2 or 0)
end

function coroutine.wrap(f)
  local co = co_create(f)
  return function(...) return unwrap(co, forward(co, co_resume(co, ...))) end
end

-- io.popen and os.execute park only their task.
require("moonsock.popen").install()

-- LuaSocket's C core loaded before moonsock: moonsock's takes its place.
if package.loaded.socket ~= nil or package.loaded["socket.core"] ~= nil then
  require("moonsock.luasocket.takeover")(package.loaded)
end

-- io.read and io.write on a pipe or terminal park only their task.
require("moonsock.stdio").install()

return true
