-- Echo server in the tutorials' style: accept in the main task, one task per
-- connection, recv then sendall until the client closes.
-- usage: bin/moonsock bench/servers/moonsock_echo.lua PORT
local socket = require "socket"
local task = require "task"

local PORT = math.tointeger(tonumber(arg[1]))

local function client(conn)
  -- A reset from a client killed at the end of a run is not the server's
  -- error: end this connection quietly.
  pcall(function()
    while true do
      local data = conn:recv(65536)
      if data == "" then break end
      conn:sendall(data)
    end
  end)
  conn:close()
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
