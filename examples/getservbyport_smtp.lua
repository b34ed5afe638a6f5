-- getservbyport_smtp.lua
-- Source: ../shared/seeds/000_0a258178844726fa.txt ("socket库:Python网络通信套接字(一)"),
--   section "getservbyname()与getservbyport()" (second program).
-- Shows: socket.getservbyport(port) -> the service name, used to build a URL.
-- Usage: bin/moonsock examples/getservbyport_smtp.lua [port]   (default 25)
local socket = require "socket"

local port = math.tointeger(tonumber(arg[1] or "25"))
local url = string.format("%s://smtp.qq.com", socket.getservbyport(port))
print(url)
