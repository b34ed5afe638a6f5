-- Lua 5.4 with LuaSocket and socket.select: one loop, non-blocking reads.
-- select() stops at FD_SETSIZE (1024) descriptors.
-- usage: lua5.4 luasocket_server.lua echo|http|udp PORT
local socket = require "socket"

local mode, port = arg[1], math.tointeger(tonumber(arg[2]))
local RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"

if mode == "udp" then
  local udp = assert(socket.udp())
  assert(udp:setsockname("127.0.0.1", port))
  while true do
    local data, ip, p = udp:receivefrom()
    if data then udp:sendto(data, ip, p) end
  end
end

local server = assert(socket.bind("127.0.0.1", port, 1024))
server:settimeout(0)
local readers = {server}
local index = {}    -- client -> its position in readers
local pending = {}  -- client -> bytes of an incomplete request head

local function drop(c)
  local i = index[c]
  local last = readers[#readers]
  readers[i], index[last] = last, i
  readers[#readers] = nil
  index[c], pending[c] = nil, nil
  c:close()
end

-- Sends all of data, waiting on select while the socket buffer is full.
local function send_all(c, data)
  local from = 1
  while from <= #data do
    local last, err, partial = c:send(data, from)
    if last then return true end
    if err ~= "timeout" then return false end
    from = partial + 1
    socket.select(nil, {c})
  end
  return true
end

local function count_heads(buf)
  local n, from = 0, 1
  while true do
    local _, e = buf:find("\r\n\r\n", from, true)
    if not e then return n, from end
    n, from = n + 1, e + 1
  end
end

while true do
  local ready = socket.select(readers, nil)
  for _, c in ipairs(ready) do
    if c == server then
      local client = server:accept()
      if client then
        client:settimeout(0)
        client:setoption("tcp-nodelay", true)
        readers[#readers + 1] = client
        index[client], pending[client] = #readers, ""
      end
    elseif index[c] then
      local data, err, partial = c:receive(65536)
      data = data or partial
      if data ~= "" then
        if mode == "echo" then
          if not send_all(c, data) then drop(c) end
        else
          local buf = pending[c] .. data
          local n, from = count_heads(buf)
          pending[c] = buf:sub(from)
          if n > 0 and not send_all(c, RESPONSE:rep(n)) then drop(c) end
        end
      end
      -- "closed", or a reset: either way this client is gone
      if err and err ~= "timeout" and index[c] then drop(c) end
    end
  end
end
