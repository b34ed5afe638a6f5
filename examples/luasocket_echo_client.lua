-- luasocket_echo_client.lua: the client of luasocket_echo_server.lua, runnable
-- unchanged under stock lua5.4 with LuaSocket and under moonsock.
-- Shows: socket.connect, send, receive("*l") and LuaSocket's error values
-- (nil, "connection refused") instead of exceptions.
-- Usage: luasocket_echo_client.lua [port [line...]] (8891, "hello" "world").
local socket = require "socket"

local port = tonumber(arg[1]) or 8891
local lines = {table.unpack(arg, 2)}
if #lines == 0 then lines = {"hello", "world"} end

local conn, err = socket.connect("127.0.0.1", port)
if not conn then
  print("cannot connect: " .. err)
  os.exit(1)
end
conn:settimeout(10)
-- receive returns three values (data, err, partial): keep the first
local function receive_line()
  local line = assert(conn:receive("*l"))
  return line
end
for _, line in ipairs(lines) do
  conn:send(line .. "\n")
  print(receive_line())
end
conn:send("bye\n")
print(receive_line())
conn:close()
