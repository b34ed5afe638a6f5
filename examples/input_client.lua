-- input_client.lua
-- Source: ../shared/seeds/003_deff83d1aeb1e326.txt ("python标准库之【socket】"),
--   section "示例: 利用socket模块进行通信", 客户端.
-- Shows: connect, prompt with ">>" and read one line from standard input
--   (Python's input('>>') becomes io.write(">>") + io.read("l")), send it.
-- Usage: bin/moonsock examples/input_client.lua [host [port]] < line
--   host defaults to 127.0.0.1 and port to 9080, as in the tutorial.
--   Its servers: examples/recv_print_server.lua, examples/socket_repr_server.lua.
local socket = require "socket"

local host = arg[1] or "127.0.0.1"
local port = math.tointeger(tonumber(arg[2] or "9080"))

local sk = socket.socket()
local address = {host, port}
sk:connect(address)
io.write(">>")
local inp = io.read("l")
sk:send(inp)
sk:close()
