-- Shared by the scenarios: print results with their types, so that stock
-- lua5.4 with LuaSocket and moonsock can be compared line by line. Values
-- that differ between any two runs (ports, fds, addresses of objects) are
-- printed by kind only.
local M = {}

local function fmt(v)
  local t = math.type(v) or type(v)
  if t == "string" then return string.format("%q", v) end
  if t == "table" or t == "userdata" or t == "function" then
    local s = tostring(v)
    local class = s:match("^([%w]+{[%w,]+}): ")
    return class and (class .. ":" .. type(v):sub(1, 0) .. "object") or t
  end
  return tostring(v) .. ":" .. t
end

function M.show(label, ...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = fmt((select(i, ...))) end
  print(label .. " -> " .. n .. ": " .. table.concat(parts, ", "))
end

-- An error's message without the position Lua puts in front.
function M.err(label, f, ...)
  local ok, e = pcall(f, ...)
  if ok then return print(label .. " -> no error") end
  -- LuaSocket names a module function by the first loaded table that
  -- holds it, "socket.select" or "socket.core.select" (the same table)
  if type(e) == "string" then e = e:gsub("^[^:]*:%d+: ", ""):gsub("'socket%.core%.", "'socket.") end
  print(label .. " -> error: " .. tostring(e))
end

return M
