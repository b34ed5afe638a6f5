-- The canonical Copas echo server and its client, as a Copas user writes
-- them (Debian's lua-copas ships no examples), in one process: Copas's own
-- loop over LuaSocket's select, coroutines and non-blocking sockets. Debian
-- ships Copas for Lua 5.2, so its directory goes on the path.
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;/usr/share/lua/5.2/?.lua;" .. package.path
local S = require "show"
local copas = require "copas"
local socket = require "socket"

local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()

local function echo_handler(skt)
  skt = copas.wrap(skt)
  while true do
    local line = skt:receive()
    if line == nil or line == "quit" then break end
    skt:send(line:upper() .. "\n")
  end
end
copas.addserver(server, echo_handler)

local done = 0
local function client(name, count)
  local skt = socket.tcp()
  local ok, err = copas.connect(skt, "127.0.0.1", port)
  if not ok and err ~= "already connected" then
    S.show(name .. " connect", ok, err)
    return
  end
  local conn = copas.wrap(skt)
  for i = 1, count do
    conn:send(name .. " line " .. i .. "\n")
    S.show(name .. " got", conn:receive())
  end
  conn:send("quit\n")
  skt:close()
  done = done + 1
end
copas.addthread(function() client("a", 3) end)
copas.addthread(function() client("b", 2) end)

for _ = 1, 200 do
  if done == 2 then break end
  copas.step(0.05)
end
S.show("clients done", done)
server:close()
