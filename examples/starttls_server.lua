-- starttls_server.lua
-- Source: none among the tutorials; the STARTTLS pattern of SMTP (RFC 3207) and IMAP, as
--   the TLS issue asks for it.
-- Shows: one connection that starts in plain text, turns to TLS with wrap_socket on the
--   same socket after "STARTTLS", and back to plain text with unwrap after "STOPTLS"
--   (close_notify both ways). Lines are read a byte at a time, so that nothing past the
--   STARTTLS line is read as plain text.
-- Usage: bin/moonsock examples/starttls_server.lua port certfile keyfile [host [clients]]
--   host defaults to "localhost", clients to 1. Talk to it with examples/starttls_client.lua.
local socket = require "socket"
local ssl = require "ssl"

local PORT = math.tointeger(tonumber(arg[1]))
local CERTFILE, KEYFILE = arg[2], arg[3]
local HOST = arg[4] or "localhost"
local CLIENTS = math.tointeger(tonumber(arg[5] or "1"))

local context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context:load_cert_chain(CERTFILE, KEYFILE)

local function readline(sock)
  local line = ""
  while line:sub(-1) ~= "\n" do
    local c = sock:recv(1)
    if c == "" then break end
    line = line .. c
  end
  print("C: " .. line:gsub("[\r\n]+$", ""))
  return line
end

local function reply(sock, text)
  print("S: " .. text)
  sock:sendall(text .. "\r\n")
end

local function serve(conn, n)
  reply(conn, "220 localhost moonsock STARTTLS example")
  local secure = false
  while true do
    local command = readline(conn):match("^%s*(.-)%s*$"):upper()
    if command == "STARTTLS" and not secure then
      reply(conn, "220 go ahead")
      conn = context:wrap_socket(conn, {server_side = true})
      secure = true
      print(string.format("client %d: TLS on, %s", n, conn:version()))
    elseif command == "HELLO" then
      reply(conn, "250 hello, " .. (secure and "over " .. conn:version() or "in plain text"))
    elseif command == "STOPTLS" and secure then
      reply(conn, "220 back to plain text")
      -- close_notify both ways; the same connection carries plain text again
      conn = conn:unwrap()
      secure = false
      print(string.format("client %d: TLS off", n))
    elseif command == "QUIT" or command == "" then
      reply(conn, "221 bye")
      break
    else
      reply(conn, "500 unknown command")
    end
  end
  conn:close()
end

local srv <close> = socket.create_server({HOST, PORT})
print(string.format("listening on port %d", PORT))
for n = 1, CLIENTS do
  local conn = srv:accept()
  serve(conn, n)
end
