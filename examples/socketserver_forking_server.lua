-- socketserver_forking_server.lua
-- Source: the socketserver.ForkingTCPServer of the Python documentation
--   ("Asynchronous Mixins": ForkingMixIn handles each request in a new
--   process), written in the form of its TCPServer example.
-- Shows: socketserver.ForkingTCPServer: each request is handled in a child
--   process (moonsock.posix.fork), which answers with its pid and whether
--   it is a child of the server; the server reaps its children, and
--   leaving the <close> variable (server_close) waits for the last ones.
--   A child ends with _exit, which drops what print() left buffered (as in
--   Python): the handler writes to the client, not to stdout.
-- Usage: bin/moonsock examples/socketserver_forking_server.lua [port [host [requests]]]
--   port defaults to 9999 and host to "localhost"; without `requests` it
--   serves forever, with it it handles that many requests and ends.
--   Talk to it with examples/socketserver_tcp_client.lua.
local posix = require "moonsock.posix"
local socketserver = require "socketserver"

local SERVER_PID = posix.getpid()

local ForkingHandler = socketserver.StreamRequestHandler:extend{__name = "ForkingHandler"}

function ForkingHandler:handle()
  -- This runs in a child process: the server forked for this request.
  local data = self.rfile:readline():match("^%s*(.-)%s*$")
  local reply = string.format("pid %d (a child of the server: %s): %s",
    posix.getpid(), posix.getppid() == SERVER_PID and "True" or "False", data:upper())
  self.wfile:write(reply)
end

local PORT = math.tointeger(tonumber(arg[1] or "9999"))
local HOST = arg[2] or "localhost"
local REQUESTS = arg[3] and math.tointeger(tonumber(arg[3]))

local server = socketserver.ForkingTCPServer({HOST, PORT}, ForkingHandler)
do
  local _ <close> = server
  print(string.format("Forking server pid %d", SERVER_PID))
  if REQUESTS then
    for _ = 1, REQUESTS do server:handle_request() end
  else
    server:serve_forever()
  end
end
-- server_close waited for every child (block_on_close) and reaped it.
local left = 0
for _ in pairs(server.active_children or {}) do left = left + 1 end
print(string.format("children left after server_close: %d", left))
