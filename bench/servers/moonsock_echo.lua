-- Echo server in the tutorials' style: accept in the main task, one task per
-- connection, recv then sendall until the client closes.
-- usage: bin/moonsock bench/servers/moonsock_echo.lua PORT
local socket = require "socket"
local task = require "task"

local PORT = math.tointeger(tonumber(arg[1]))

local function client(conn)
  -- Closed however the task ends; a reset from a client (none in a clean
  -- run) ends the task with the error printed, as an uncaught exception
  -- ends a Python thread.
  local c <close> = conn
  while true do
    local data = c:recv(65536)
    if data == "" then break end
    c:sendall(data)
  end
end

local s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s:bind({"127.0.0.1", PORT})
s:listen(1024)
while true do
  local conn = s:accept()
  conn:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
  task.spawn(client, conn)
end
