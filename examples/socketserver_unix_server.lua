-- socketserver_unix_server.lua
-- Source: socketserver.UnixStreamServer of the Python documentation (the
--   TCPServer example's handler, over a UNIX socket).
-- Shows: a socketserver.UnixStreamServer bound to a path, a
--   StreamRequestHandler that reads every line until the client shuts down
--   its side (rfile:lines("L"), Python's `for line in self.rfile`), writes
--   each back upper-cased and counts them, and a server class with a hook
--   overridden that calls its parent's (Python's Base.method(self)).
-- Usage: bin/moonsock examples/socketserver_unix_server.lua [path [requests]]
--   path defaults to /tmp/socketserver_example.sock (replaced if it is
--   there, removed at the end); without `requests` it serves forever.
--   Talk to it with examples/socketserver_unix_client.lua.
local socketserver = require "socketserver"

local UpperHandler = socketserver.StreamRequestHandler:extend{__name = "UpperHandler"}

function UpperHandler:handle()
  local n = 0
  -- Until the client shuts down its side of the connection.
  for line in self.rfile:lines("L") do
    self.wfile:write(line:upper())
    n = n + 1
  end
  print(string.format("a client sent %d lines", n))
end

-- The server removes its socket file when it closes.
local UnlinkingServer = socketserver.UnixStreamServer:extend{__name = "UnlinkingServer"}

function UnlinkingServer:server_close()
  socketserver.UnixStreamServer.server_close(self)
  os.remove(self.server_address)
end

local PATH = arg[1] or "/tmp/socketserver_example.sock"
local REQUESTS = arg[2] and math.tointeger(tonumber(arg[2]))

os.remove(PATH) -- a socket file left by an earlier run would make bind fail
local server <close> = UnlinkingServer(PATH, UpperHandler)
print(string.format("serving on %s", server.server_address))
if REQUESTS then
  for _ = 1, REQUESTS do server:handle_request() end
else
  server:serve_forever()
end
