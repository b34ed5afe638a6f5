-- tls_echo_client.lua
-- Source: none among the tutorials; the Python documentation of ssl, "Client-side
--   operation": create_default_context, then wrap_socket(sock, {server_hostname = ...}),
--   with a CA file (the specs' test PKI) instead of the system's store.
-- Shows: a verified TLS client: the chain is checked against the CA and the certificate
--   against the server name (which is also sent as SNI); getpeercert()'s subject and issuer
--   (Python's nested tuples: lists of {key, value} pairs); a verification failure caught
--   with ssl.SSLCertVerificationError:matches and shown with verify_message, reason and
--   verify_code.
-- Usage: bin/moonsock examples/tls_echo_client.lua port cafile [host [server_name [message...]]]
--   host defaults to "localhost" and server_name to host; the messages default to one.
--   The client of examples/tls_echo_server.lua and examples/sni_server.lua.
local socket = require "socket"
local ssl = require "ssl"

local PORT = math.tointeger(tonumber(arg[1]))
local CAFILE = arg[2]
local HOST = arg[3] or "localhost"
local SERVER_NAME = arg[4] or HOST
local MESSAGES = table.move(arg, 5, math.max(#arg, 4), 1, {})
if #MESSAGES == 0 then MESSAGES = {"Hello, TLS world"} end

local function common_name(name)
  for _, rdn in ipairs(name) do
    for _, pair in ipairs(rdn) do
      if pair[1] == "commonName" then return pair[2] end
    end
  end
  return nil
end

local context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, {cafile = CAFILE})

local sock <close> = socket.create_connection({HOST, PORT})
local ok, ssock = pcall(context.wrap_socket, context, sock, {server_hostname = SERVER_NAME})
if not ok then
  if not ssl.SSLCertVerificationError:matches(ssock) then error(ssock, 0) end
  print(string.format("certificate verify failed for %s: %s (%s, code %d)",
    SERVER_NAME, ssock.verify_message, ssock.reason, ssock.verify_code))
  os.exit(1)
end
do
  local conn <close> = ssock
  local cert = conn:getpeercert()
  print(string.format("connected to %s with %s", SERVER_NAME, conn:version()))
  print(string.format("certificate for %s, issued by %s", common_name(cert.subject), common_name(cert.issuer)))
  for _, message in ipairs(MESSAGES) do
    conn:sendall(message)
    local echo = ""
    while #echo < #message do
      local data = conn:recv(1024)
      if data == "" then break end
      echo = echo .. data
    end
    print(string.format("echo: %s", echo))
  end
end
