-- tcp_loop_server.lua
-- Source: ../shared/seeds/001_b22fa077275f9854.txt ("Python Module_Socket_网络编程"),
--   section "Socket 编程 > Demo > TCP 服务端", NOTE1 (accept in a loop).
-- Shows: a server that keeps running by putting accept in a loop: for each
--   client it prints "Connected with <ip>:<port>", receives once and answers
--   "OK..." .. data; a client that sends nothing ends the loop. Clients are
--   served one after the other.
-- Usage: bin/moonsock examples/tcp_loop_server.lua [port [host [clients]]]
--   port defaults to 8888 and host to "" (all interfaces), as in the
--   tutorial. The tutorial loops until a client sends nothing; with
--   `clients` it also stops after that many clients (so a test can end it).
--   Talk to it with examples/tcp_echo_client.lua.
local socket = require "socket"

local PORT = math.tointeger(tonumber(arg[1] or "8888"))
local HOST = arg[2] or ""
local clients = arg[3] and math.tointeger(tonumber(arg[3]))

local s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s:bind({HOST, PORT})
s:listen(5)

local served = 0
while clients == nil or served < clients do
  -- wait to accept a connection (parks this task until a client comes)
  local conn, addr = s:accept()
  served = served + 1
  print("Connected with " .. addr[1] .. ":" .. addr[2])

  local data = conn:recv(1024)
  local reply = "OK..." .. data
  if data == "" then
    conn:close()
    break
  end
  conn:sendall(reply)
  -- Python closes the previous connection when conn is rebound; Lua's
  -- collector would close it only some time later, so close it here.
  conn:close()
end

s:close()
