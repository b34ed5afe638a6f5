-- https_get.lua
-- Source: none among the tutorials; an HTTP/1.1 GET by hand over TLS, as the TLS issue
--   asks for (run against a local HTTPS server, never an internet host).
-- Shows: urllib.parse.urlsplit for host, port and path; ssl.create_default_context (the
--   system's CA store, or the CA file given) and wrap_socket with the URL's host as
--   server_hostname (sent as SNI, checked against the certificate); reading until the
--   server closes; the status line and the headers printed, then the body's size.
-- Usage: bin/moonsock examples/https_get.lua [url [cafile]]
--   url defaults to https://localhost:8443/.
local socket = require "socket"
local ssl = require "ssl"
local parse = require "urllib.parse"

local URL = arg[1] or "https://localhost:8443/"
local CAFILE = arg[2]

local url = parse.urlsplit(URL)
local host, port = url.hostname, url.port or 443
local path = url.path ~= "" and url.path or "/"
if url.query ~= "" then path = path .. "?" .. url.query end

local context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, {cafile = CAFILE})
local response
do
  local sock <close> = socket.create_connection({host, port}, 10)
  local tls <close> = context:wrap_socket(sock, {server_hostname = host})
  local request = string.format("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, url.netloc)
  tls:sendall(request)
  local parts = {}
  while true do
    local data = tls:recv(4096)
    if data == "" then break end
    parts[#parts + 1] = data
  end
  response = table.concat(parts)
end

local head_end = response:find("\r\n\r\n", 1, true)
local head = head_end and response:sub(1, head_end - 1) or response
local body = head_end and response:sub(head_end + 4) or ""
for line in (head .. "\r\n"):gmatch("(.-)\r\n") do print(line) end
print()
print(string.format("body: %d bytes", #body))
