-- Lua 5.4 with luv (libuv bindings): callbacks, no coroutines.
-- usage: lua5.4 luv_server.lua echo|http|udp PORT
local uv = require "luv"

local mode, port = arg[1], math.tointeger(tonumber(arg[2]))
local RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"

local function count_heads(pending)
  local n, from = 0, 1
  while true do
    local _, e = pending:find("\r\n\r\n", from, true)
    if not e then return n, from end
    n, from = n + 1, e + 1
  end
end

if mode == "udp" then
  local udp = uv.new_udp()
  udp:bind("127.0.0.1", port)
  udp:recv_start(function(err, data, addr)
    if not err and data then udp:send(data, addr.ip, addr.port) end
  end)
else
  local server = uv.new_tcp()
  server:bind("127.0.0.1", port)
  server:listen(1024, function()
    local client = uv.new_tcp()
    server:accept(client)
    client:nodelay(true)
    local pending = ""
    client:read_start(function(err, data)
      if err or not data then
        client:close()
        return
      end
      if mode == "echo" then
        client:write(data)
        return
      end
      pending = pending .. data
      local n, from = count_heads(pending)
      if n > 0 then
        pending = pending:sub(from)
        client:write(n == 1 and RESPONSE or RESPONSE:rep(n))
      end
    end)
  end)
end
uv.run()
