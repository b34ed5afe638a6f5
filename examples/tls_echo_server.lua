-- tls_echo_server.lua
-- Source: none among the tutorials (they predate TLS); the Python documentation of ssl,
--   "Server-side operation": load_cert_chain once, then wrap_socket(newsocket,
--   {server_side = true}) for each accepted connection, and deal_with_client reading
--   until the client is done.
-- Shows: a TLS server as Python writes it: ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), the
--   negotiated version and cipher, recv/sendall over TLS, a handshake the client refuses
--   (it says why in an alert: the error's reason) shown without ending the server.
-- Usage: bin/moonsock examples/tls_echo_server.lua port certfile keyfile [host [clients]]
--   host defaults to "localhost"; the server stops after `clients` clients when given.
--   Talk to it with examples/tls_echo_client.lua.
local socket = require "socket"
local ssl = require "ssl"

local PORT = math.tointeger(tonumber(arg[1]))
local CERTFILE, KEYFILE = arg[2], arg[3]
local HOST = arg[4] or "localhost"
local CLIENTS = arg[5] and math.tointeger(tonumber(arg[5]))

local context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context:load_cert_chain(CERTFILE, KEYFILE)

local function deal_with_client(connstream, n)
  local data = connstream:recv(1024)
  -- empty data means the client is finished with us
  while data ~= "" do
    print(string.format("client %d sent: %s", n, data))
    connstream:sendall(data)
    data = connstream:recv(1024)
  end
end

local bindsocket <close> = socket.create_server({HOST, PORT})
print(string.format("listening on port %d", PORT))
local served = 0
while not CLIENTS or served < CLIENTS do
  local newsocket = bindsocket:accept()
  served = served + 1
  local ok, connstream = pcall(context.wrap_socket, context, newsocket, {server_side = true})
  if not ok then
    if not ssl.SSLError:matches(connstream) then error(connstream, 0) end
    print(string.format("client %d: handshake failed: %s", served, connstream.reason))
    newsocket:close()
  else
    do
      local conn <close> = connstream
      print(string.format("client %d: %s, %s", served, conn:version(), (conn:cipher())))
      deal_with_client(conn, served)
    end
    print(string.format("client %d closed", served))
  end
end
