-- TLS echo server written as a user would with the ssl module (Python's API):
-- one context, accept in the main task, one task per connection that wraps
-- its socket (the handshake runs in that task), then recv/sendall until the
-- client closes.
-- usage: bin/moonsock bench/servers/moonsock_tls_echo.lua PORT CERTFILE KEYFILE
local socket = require "socket"
local ssl = require "ssl"
local task = require "task"

local PORT = math.tointeger(tonumber(arg[1]))
local CERTFILE, KEYFILE = arg[2], arg[3]

local ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx:load_cert_chain(CERTFILE, KEYFILE)

local function client(sock)
  -- A failed handshake (the harness's readiness probe connects and closes)
  -- ends the task with the error printed, as an uncaught exception ends a
  -- Python thread.
  local conn <close> = ctx:wrap_socket(sock, {server_side = true})
  while true do
    local data = conn:recv(65536)
    if data == "" then break end
    conn:sendall(data)
  end
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
