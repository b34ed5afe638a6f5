-- starttls_client.lua
-- Source: none among the tutorials; the client side of examples/starttls_server.lua
--   (SMTP's STARTTLS, RFC 3207).
-- Shows: greeting and STARTTLS in plain text, wrap_socket on the same connection (verified
--   against the CA file, server_hostname = host), a command over TLS, STOPTLS and unwrap,
--   then commands in plain text again on the socket unwrap returns.
-- Usage: bin/moonsock examples/starttls_client.lua port cafile [host]
--   host defaults to "localhost".
local socket = require "socket"
local ssl = require "ssl"

local PORT = math.tointeger(tonumber(arg[1]))
local CAFILE = arg[2]
local HOST = arg[3] or "localhost"

local function readline(sock)
  local line = ""
  while line:sub(-1) ~= "\n" do
    local c = sock:recv(1)
    if c == "" then break end
    line = line .. c
  end
  print("S: " .. line:gsub("[\r\n]+$", ""))
  return line
end

local function command(sock, text)
  print("C: " .. text)
  sock:sendall(text .. "\r\n")
  return readline(sock)
end

local context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, {cafile = CAFILE})
local sock = socket.create_connection({HOST, PORT})
readline(sock)
command(sock, "HELLO")
if command(sock, "STARTTLS"):sub(1, 3) == "220" then
  sock = context:wrap_socket(sock, {server_hostname = HOST})
  print(string.format("TLS on: %s, %s", sock:version(), (sock:cipher())))
  command(sock, "HELLO")
  command(sock, "STOPTLS")
  sock = sock:unwrap()
  print("TLS off")
end
command(sock, "HELLO")
command(sock, "QUIT")
sock:close()
