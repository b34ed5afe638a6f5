-- tcp_echo_server.lua
-- Source: ../shared/seeds/001_b22fa077275f9854.txt ("Python Module_Socket_网络编程"),
--   section "Socket 编程 > Demo > TCP 服务端", Steps 1-6.
-- Shows: the server side step by step: create a socket (and report a failure
--   with its errno and message), bind (and report a failure), listen, accept
--   one connection, receive up to 1024 bytes, send them back with sendall,
--   close. It serves one client and ends.
-- Usage: bin/moonsock examples/tcp_echo_server.lua [port [host]]
--   port defaults to 8888 and host to "" (all interfaces), as in the tutorial.
--   Talk to it with examples/tcp_echo_client.lua.
local socket = require "socket"

local HOST = arg[2] or ""  -- "" is the symbolic name meaning all available interfaces
local PORT = math.tointeger(tonumber(arg[1] or "8888"))

-- Step 1: create an AF_INET, STREAM socket (TCP)
local ok, s = pcall(socket.socket, socket.AF_INET, socket.SOCK_STREAM)
if not ok then
  if not socket.error:matches(s) then error(s, 0) end
  print("Failed to create socket. Error code: " .. tostring(s.errno)
    .. " , Error message : " .. tostring(s.strerror))
  os.exit()
end

-- Step 2: bind
local ADDR = {HOST, PORT}
local bound, msg = pcall(s.bind, s, ADDR)
if not bound then
  if not socket.error:matches(msg) then error(msg, 0) end
  print("Bind failed. Error Code : " .. tostring(msg.errno) .. " Message " .. tostring(msg.strerror))
  os.exit()
end

-- Step 3: listen
s:listen(5)

-- Step 4: wait to accept a connection (parks this task until a client comes)
local conn = s:accept()

-- Step 5: answer with what the client sent
local data = conn:recv(1024)
conn:sendall(data)

-- Step 6: close
conn:close()
s:close()
