-- line_client.lua
-- Source: ../shared/seeds/001_b22fa077275f9854.txt ("Python Module_Socket_网络编程"),
--   section "Socket 编程 > Demo > TCP 服务端", NOTE2: the client the welcome
--   message ("Type something and hit enter") speaks to, written with the
--   "TCP 客户端" steps (the tutorial used telnet).
-- Shows: a client that keeps one connection for many exchanges: it shows the
--   server's welcome, then sends each line read from standard input
--   (io.read("l")) followed by a newline and shows the reply; at the end of
--   the input it closes the connection.
-- Usage: bin/moonsock examples/line_client.lua [host [port]] < lines
--   host defaults to localhost, port to 8888 (examples/thread_per_client_server.lua).
local socket = require "socket"

local host = arg[1] or "localhost"
local port = math.tointeger(tonumber(arg[2] or "8888"))

local s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s:connect({host, port})

io.write(s:recv(1024))  -- the welcome message
while true do
  local line = io.read("l")
  if line == nil then break end
  s:sendall(line .. "\n")
  io.write(s:recv(1024))
end
s:close()
