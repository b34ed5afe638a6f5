-- A LuaSocket loaded before moonsock (stock lua5.4 running require
-- "socket" before require "moonsock") would go on being what require
-- "socket" gives, on its blocking C core. Its tables become moonsock's in
-- place, so code that already holds them (and socket.http, ltn12... loaded
-- meanwhile) gets the one combined module; objects it made before stay
-- LuaSocket's own.
return function(loaded)
  local foreign = {}
  for _, name in ipairs {"socket", "socket.core", "socket.unix"} do
    local t = loaded[name]
    if type(t) == "table" then foreign[name] = t end
    loaded[name] = nil
  end
  -- LuaSocket's socket and socket.core are one table: once it is ours
  -- (the first name done), require of the second gives it back, and
  -- clearing it would empty it.
  for name, t in pairs(foreign) do
    local ours = require(name)
    if ours ~= t then
      for k in pairs(t) do t[k] = nil end
      for k, v in pairs(ours) do t[k] = v end
      setmetatable(t, getmetatable(ours))
    end
    loaded[name] = t
  end
  if foreign["socket.core"] and not foreign.socket then loaded.socket = foreign["socket.core"] end
  if foreign.socket then loaded["socket.core"] = foreign.socket end
end
