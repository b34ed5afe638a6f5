-- sni_server.lua
-- Source: none among the tutorials; the Python documentation of ssl,
--   SSLContext.sni_callback: one context per certificate, and a callback that switches the
--   connection's context by the server name the client sent.
-- Shows: ctx.sni_callback = function(sslsocket, server_name, context) called during the
--   handshake, sslsocket.context assigned to serve another certificate; server_name is nil
--   when the client sent none (as a client connecting to an IP address does).
-- Usage: bin/moonsock examples/sni_server.lua port certfile keyfile other_name
--          other_certfile other_keyfile [host [clients]]
--   Clients asking for other_name get the other certificate, all others the first one.
--   Talk to it with examples/tls_echo_client.lua, giving the server name to ask for.
local socket = require "socket"
local ssl = require "ssl"

local PORT = math.tointeger(tonumber(arg[1]))
local CERTFILE, KEYFILE = arg[2], arg[3]
local OTHER_NAME, OTHER_CERTFILE, OTHER_KEYFILE = arg[4], arg[5], arg[6]
local HOST = arg[7] or "localhost"
local CLIENTS = arg[8] and math.tointeger(tonumber(arg[8]))

local default_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
default_context:load_cert_chain(CERTFILE, KEYFILE)
local other_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
other_context:load_cert_chain(OTHER_CERTFILE, OTHER_KEYFILE)

local served = 0

local function pick_certificate(sslsocket, server_name, _context)
  if server_name == OTHER_NAME then sslsocket.context = other_context end
  print(string.format("client %d asked for %s: %s certificate", served, server_name or "no name",
    server_name == OTHER_NAME and "the other" or "the default"))
end

default_context.sni_callback = pick_certificate

local srv <close> = socket.create_server({HOST, PORT})
print(string.format("listening on port %d", PORT))
while not CLIENTS or served < CLIENTS do
  local newsocket = srv:accept()
  served = served + 1
  local conn <close> = default_context:wrap_socket(newsocket, {server_side = true})
  local data = conn:recv(1024)
  while data ~= "" do
    print(string.format("client %d sent: %s", served, data))
    conn:sendall(data)
    data = conn:recv(1024)
  end
end
