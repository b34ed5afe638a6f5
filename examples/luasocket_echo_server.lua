-- luasocket_echo_server.lua: a LuaSocket-style echo server, runnable unchanged
-- under stock lua5.4 with LuaSocket and under moonsock.
-- Shows: socket.bind, accept, receive("*l") and send as LuaSocket programs
-- write them; under moonsock each client gets a task of its own (the calls
-- park only that task), under lua5.4 the clients are served one at a time.
-- Usage: luasocket_echo_server.lua [port [clients]] (8891, serve for ever).
local socket = require "socket"
local has_tasks, task = pcall(require, "task")

local port = tonumber(arg[1]) or 8891
local clients = tonumber(arg[2])

local server = assert(socket.bind("127.0.0.1", port))
print("listening on 127.0.0.1:" .. port)
io.stdout:flush()

local function serve(client)
  client:settimeout(10)
  while true do
    local line, err = client:receive("*l")
    if not line then
      if err ~= "closed" then print("receive failed: " .. err) end
      break
    end
    if line == "bye" then
      client:send("bye\n")
      break
    end
    client:send("echo: " .. line .. "\n")
  end
  client:close()
end

local served, running = 0, {}
while not clients or served < clients do
  local client = assert(server:accept())
  served = served + 1
  if has_tasks then
    running[#running + 1] = task.spawn(serve, client)
  else
    serve(client)
  end
end
for _, t in ipairs(running) do t:join() end
server:close()
print("served " .. served .. " clients")
