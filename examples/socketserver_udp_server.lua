-- socketserver_udp_server.lua
-- Source: the socketserver.UDPServer example of the Python documentation
--   (MyUDPHandler).
-- Shows: a socketserver.UDPServer whose handler gets the request as the
--   pair {data, socket} and answers with sendto(), since there is no
--   connection to answer on.
-- Usage: bin/moonsock examples/socketserver_udp_server.lua [port [host [requests]]]
--   port defaults to 9999 and host to "localhost", as in the documentation.
--   The documentation serves forever; with `requests` the server handles
--   that many datagrams with handle_request() and ends.
--   Talk to it with examples/socketserver_udp_client.lua.
local socketserver = require "socketserver"

-- This class works like the TCP handler class, except that self.request
-- is the pair of data and client socket, and since there is no connection
-- the client address must be given explicitly when sending data back via
-- sendto().
local MyUDPHandler = socketserver.BaseRequestHandler:extend{__name = "MyUDPHandler"}

function MyUDPHandler:handle()
  local data = self.request[1]:match("^%s*(.-)%s*$")
  local socket = self.request[2]
  print(string.format("%s wrote:", self.client_address[1]))
  print(data)
  socket:sendto(data:upper(), self.client_address)
end

local PORT = math.tointeger(tonumber(arg[1] or "9999"))
local HOST = arg[2] or "localhost"
local REQUESTS = arg[3] and math.tointeger(tonumber(arg[3]))

local server <close> = socketserver.UDPServer({HOST, PORT}, MyUDPHandler)
if REQUESTS then
  for _ = 1, REQUESTS do server:handle_request() end
else
  server:serve_forever()
end
