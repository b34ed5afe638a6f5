-- socketserver_udp_client.lua
-- Source: the client of the socketserver.UDPServer example of the Python
--   documentation.
-- Shows: a UDP client for examples/socketserver_udp_server.lua: no
--   connect(), one sendto() and one recv().
-- Usage: bin/moonsock examples/socketserver_udp_client.lua port [words...]
--   The documentation's port is 9999 and its data is the command line.
local socket = require "socket"

local HOST, PORT = "localhost", math.tointeger(tonumber(arg[1] or "9999"))
local data = table.concat(arg, " ", 2)

-- SOCK_DGRAM is the socket type to use for UDP sockets
local sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

-- As you can see, there is no connect() call; UDP has no connections.
-- Instead, data is directly sent to the recipient via sendto().
sock:sendto(data .. "\n", {HOST, PORT})
local received = sock:recv(1024)

print(string.format("Sent:     %s", data))
print(string.format("Received: %s", received))
