-- LuaSocket's try/newtry/protect. A failed try raises its error wrapped in a
-- table that only this module makes; protect returns nil and the error for
-- those and lets every other error through. protect uses pcall, which lets
-- the function it protects park its task (socket.http runs inside it).
local argerror = require("moonsock.luasocket.core").argerror
local typename = require("moonsock.errors").typename

local M = {}

local callable = require("moonsock.errors")._callable

local wrapped = {}

-- newtry([finalizer]): a try that calls finalizer (with no arguments)
-- before raising.
function M.newtry(finalizer)
  if finalizer ~= nil and not callable(finalizer) then
    argerror(1, "function expected, got " .. typename(finalizer))
  end
  return function(...)
    if not ... then
      if finalizer ~= nil then finalizer() end
      error(setmetatable({(select(2, ...))}, wrapped), 0)
    end
    return ...
  end
end

M.try = M.newtry()

local function finish(ok, ...)
  if ok then return ... end
  local err = ...
  if getmetatable(err) == wrapped then return nil, err[1] end
  error(err, 0)
end

function M.protect(f)
  if not callable(f) then argerror(1, "function expected, got " .. typename(f)) end
  return function(...) return finish(pcall(f, ...)) end
end

return M
