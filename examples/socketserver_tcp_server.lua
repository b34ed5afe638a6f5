-- socketserver_tcp_server.lua
-- Source: the socketserver.TCPServer example of the Python documentation
--   (MyTCPHandler, in its StreamRequestHandler form).
-- Shows: a request handler class made the moonsock way
--   (socketserver.StreamRequestHandler:extend{handle = ...}), its rfile
--   (readline) and wfile (write), the client_address field, and a server
--   closed by a <close> variable as Python's `with` closes it.
-- Usage: bin/moonsock examples/socketserver_tcp_server.lua [port [host [requests]]]
--   port defaults to 9999 and host to "localhost", as in the documentation.
--   The documentation serves forever (serve_forever); with `requests` the
--   server handles that many requests with handle_request() and ends.
--   Talk to it with examples/socketserver_tcp_client.lua.
local socketserver = require "socketserver"

-- The request handler class for our server: an instance per connection,
-- whose handle() talks to the client.
local MyTCPHandler = socketserver.StreamRequestHandler:extend{__name = "MyTCPHandler"}

function MyTCPHandler:handle()
  -- self.rfile is a file object created by the handler; we can now use
  -- e.g. readline() instead of raw recv() calls
  self.data = self.rfile:readline():match("^%s*(.-)%s*$")
  print(string.format("%s wrote:", self.client_address[1]))
  print(self.data)
  -- Likewise, self.wfile is a file object used to write back to the client
  self.wfile:write(self.data:upper())
end

local PORT = math.tointeger(tonumber(arg[1] or "9999"))
local HOST = arg[2] or "localhost"
local REQUESTS = arg[3] and math.tointeger(tonumber(arg[3]))

-- Create the server, binding to HOST on PORT
local server <close> = socketserver.TCPServer({HOST, PORT}, MyTCPHandler)
if REQUESTS then
  for _ = 1, REQUESTS do server:handle_request() end
else
  -- Activate the server; this will keep running until you interrupt the
  -- program with Ctrl-C
  server:serve_forever()
end
