-- tcp_echo_client.lua
-- Source: ../shared/seeds/001_b22fa077275f9854.txt ("Python Module_Socket_网络编程"),
--   section "Socket 编程 > Demo > TCP 客户端", Steps 1-5.
-- Shows: the client side step by step: create a socket, resolve the server's
--   name with gethostbyname (an unknown name prints "Hostname could not be
--   resolved. Exiting"), connect, send the whole message with sendall
--   ("Send failed" if that raises), receive the reply (recv(4096)), close.
--   The tutorial kept the reply without showing it; here it is printed.
-- Usage: bin/moonsock examples/tcp_echo_client.lua [host [port [message]]]
--   host defaults to localhost (the tutorial used www.google.com; this
--   machine is offline), port to 8888, message to "Hello, server".
--   Its servers: examples/tcp_echo_server.lua (echoes the message) and
--   examples/tcp_loop_server.lua (answers "OK..." .. message).
local socket = require "socket"

local remote_hostname = arg[1] or "localhost"
local port = math.tointeger(tonumber(arg[2] or "8888"))
local message = arg[3] or "Hello, server"

-- Step 1: create an AF_INET, STREAM socket (TCP)
local ok, s = pcall(socket.socket, socket.AF_INET, socket.SOCK_STREAM)
if not ok then
  if not socket.error:matches(s) then error(s, 0) end
  print("Failed to create socket. Error code: " .. tostring(s.errno)
    .. " , Error message : " .. tostring(s.strerror))
  os.exit()
end

-- Step 2: find the server's IP address, then connect
local resolved, remote_ip = pcall(socket.gethostbyname, remote_hostname)
if not resolved then
  if not socket.gaierror:matches(remote_ip) then error(remote_ip, 0) end
  print("Hostname could not be resolved. Exiting")
  os.exit()
end
s:connect({remote_ip, port})

-- Step 3: send the whole message
local sent, err = pcall(s.sendall, s, message)
if not sent then
  if not socket.error:matches(err) then error(err, 0) end
  print("Send failed")
  os.exit()
end

-- Step 4: receive the reply
local reply = s:recv(4096)
print(reply)

-- Step 5: close
s:close()
