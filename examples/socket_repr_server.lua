-- socket_repr_server.lua
-- Source: ../shared/seeds/003_deff83d1aeb1e326.txt ("python标准库之【socket】"),
--   section "socket通信 > 4.accept()", its 示例.
-- Shows: bind, listen(5) and accept, then what the three values look like:
--   the listening socket, the connected socket accept returned (both printed
--   like Python's socket repr, with laddr and raddr) and the client address
--   (printed like a Python tuple). It accepts one client and ends.
-- Usage: bin/moonsock examples/socket_repr_server.lua [port [host]]
--   port defaults to 9080 and host to 127.0.0.1, as in the tutorial.
--   Any client will do, e.g. examples/input_client.lua.
local socket = require "socket"

local port = math.tointeger(tonumber(arg[1] or "9080"))
local host = arg[2] or "127.0.0.1"

local sk = socket.socket()
local address = {host, port}
sk:bind(address)
sk:listen(5)
local conn, addr = sk:accept()
print(sk)
print(conn)
print(addr)
conn:close()
sk:close()
