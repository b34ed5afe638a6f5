-- lua_module.lua: one script for a stock lua5.4 and for bin/moonsock.
-- Under lua5.4, require "moonsock" loads the C module (lib/lua/5.4/moonsock.so
-- in LUA_CPATH, or where scripts/install put it) and opens moonsock's
-- modules into the interpreter; bin/moonsock has them built in.
-- lua5.4 runs the main chunk outside any task: its blocking calls (accept,
-- join) run the loop themselves, and the tasks spawned meanwhile run too.
--
-- It serves `clients` TCP clients on 127.0.0.1, one task each: every line is
-- answered with the client's address and the line in capitals; a client
-- silent for 0.5 s is told why it is dropped. Then it prints what each did.
-- usage: lua5.4 examples/embed/lua_module.lua [clients]    (default 1)
local moonsock = require "moonsock"
local socket, task = moonsock.socket, moonsock.task

local clients = math.tointeger(tonumber(arg[1])) or 1

local server = socket.create_server({"127.0.0.1", 0})
print(("moonsock %s, listening on port %d"):format(moonsock.version, server:getsockname()[2]))
io.stdout:flush() -- the port is what a client waits for

local function serve(conn, peer)
  conn:settimeout(0.5)
  local file = conn:makefile("rb")
  local count = 0
  local ok, err = pcall(function()
    for line in file:lines() do
      count = count + 1
      conn:sendall(("%s %s\n"):format(tostring(peer), line:upper()))
    end
  end)
  if not ok then
    if not socket.timeout:matches(err) then error(err, 0) end
    conn:sendall(tostring(err) .. "\n")
  end
  file:close()
  conn:close()
  return ("%s: %d lines%s"):format(tostring(peer), count, ok and "" or ", then " .. tostring(err))
end

local handlers = {}
for _ = 1, clients do
  local conn, peer = server:accept()
  handlers[#handlers + 1] = task.spawn(serve, conn, peer)
end
server:close()
for i, h in ipairs(handlers) do print(("client %d %s"):format(i, h:join())) end
