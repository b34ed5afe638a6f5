-- socketserver_tcp_client.lua
-- Source: the client of the socketserver.TCPServer example of the Python
--   documentation.
-- Shows: a TCP client for examples/socketserver_tcp_server.lua (and
--   examples/socketserver_forking_server.lua): connect, send one line,
--   print what came back. The socket is a <close> variable, as Python's
--   `with socket.socket(...) as sock`.
-- Usage: bin/moonsock examples/socketserver_tcp_client.lua port [words...]
--   The documentation's port is 9999 and its data is the command line.
local socket = require "socket"

local HOST, PORT = "localhost", math.tointeger(tonumber(arg[1] or "9999"))
local data = table.concat(arg, " ", 2)

local received
do
  -- Create a socket (SOCK_STREAM means a TCP socket)
  local sock <close> = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
  -- Connect to server and send data
  sock:connect({HOST, PORT})
  sock:sendall(data .. "\n")

  -- Receive data from the server and shut down
  received = sock:recv(1024)
end

print(string.format("Sent:     %s", data))
print(string.format("Received: %s", received))
