-- host_tcp.lua: the script examples/embed/host_tcp.c runs. It serves TCP
-- clients on 127.0.0.1: each line a client sends is answered with its
-- CRC-32, computed by the host's C function host.crc32, and its length:
-- "crc32=3610a686 len=5". One task per client; the host's moonsock_run
-- returns when the script and every client's task have ended.
-- usage: bin/examples/host_tcp examples/embed/host_tcp.lua [clients [port]]
--   clients: how many clients to serve before ending (default: forever);
--   port: default 0, a free port; the first line printed names it.
local host = require "host"
local socket = require "socket"
local task = require "task"

local clients, port = ...
clients = math.tointeger(tonumber(clients))
port = math.tointeger(tonumber(port)) or 0

local server = socket.create_server({"127.0.0.1", port})
print(("listening on port %d"):format(server:getsockname()[2]))
io.stdout:flush() -- the port is what a client waits for

local lines = 0

local function serve(conn)
  local file = conn:makefile("rb")
  for line in file:lines() do
    lines = lines + 1
    conn:sendall(("crc32=%08x len=%d\n"):format(host.crc32(line), #line))
  end
  file:close()
  conn:close()
end

local handlers = {}
while not clients or #handlers < clients do
  local conn = server:accept()
  handlers[#handlers + 1] = task.spawn(serve, conn)
end
server:close()
for _, h in ipairs(handlers) do h:join() end
print(("served %d clients, %d lines"):format(#handlers, lines))
