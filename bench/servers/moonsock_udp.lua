-- UDP echo as in the tutorials: recvfrom, then sendto the sender.
-- usage: bin/moonsock bench/servers/moonsock_udp.lua PORT
local socket = require "socket"

local PORT = math.tointeger(tonumber(arg[1]))

local s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s:bind({"127.0.0.1", PORT})
while true do
  local data, addr = s:recvfrom(65536)
  s:sendto(data, addr)
end
