-- LuaSocket's try/newtry/protect. A failed try raises its error wrapped in a
-- table that only this module makes; protect returns nil and the error for
-- those and lets every other error through. protect uses pcall, which lets
-- the function it protects park its task (socket.http runs inside it).
local M = {}

local wrapped = {}

-- newtry([finalizer]): a try that calls finalizer (with no arguments)
-- before raising.
function M.newtry(finalizer)
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
  return function(...) return finish(pcall(f, ...)) end
end

return M
