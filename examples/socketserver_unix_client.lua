-- socketserver_unix_client.lua
-- Source: the client of the socketserver.TCPServer example of the Python
--   documentation, over a UNIX socket.
-- Shows: an AF_UNIX stream client for examples/socketserver_unix_server.lua:
--   it sends each word as a line, shuts down its sending side
--   (shutdown(SHUT_WR)) so the server sees the end, and reads the replies
--   until the server closes.
-- Usage: bin/moonsock examples/socketserver_unix_client.lua path [words...]
local socket = require "socket"

local PATH = arg[1] or "/tmp/socketserver_example.sock"

local received = {}
do
  local sock <close> = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
  sock:connect(PATH)
  for i = 2, #arg do sock:sendall(arg[i] .. "\n") end
  sock:shutdown(socket.SHUT_WR)
  while true do
    local data = sock:recv(1024)
    if data == "" then break end
    received[#received + 1] = data
  end
end

for line in table.concat(received):gmatch("[^\n]+") do
  print("Received: " .. line)
end
