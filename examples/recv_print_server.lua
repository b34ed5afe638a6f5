-- recv_print_server.lua
-- Source: ../shared/seeds/003_deff83d1aeb1e326.txt ("python标准库之【socket】"),
--   section "示例: 利用socket模块进行通信", 服务端.
-- Shows: accept one client, receive up to 1024 bytes and print them as text
--   (str(data, 'utf8')), then end.
-- Usage: bin/moonsock examples/recv_print_server.lua [port [host]]
--   port defaults to 9080 and host to 127.0.0.1, as in the tutorial.
--   Its client is examples/input_client.lua.
local socket = require "socket"

local port = math.tointeger(tonumber(arg[1] or "9080"))
local host = arg[2] or "127.0.0.1"

local sk = socket.socket()
local address = {host, port}
sk:bind(address)
sk:listen(5)
local conn = sk:accept()
local data = conn:recv(1024)
print(data)
conn:close()
sk:close()
