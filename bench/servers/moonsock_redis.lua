-- A Redis-protocol server (PING, SET, GET, INCR, and CONFIG GET answered
-- empty for redis-benchmark) in the tutorials' style: a task per connection,
-- recv, answer every complete command in what arrived (pipelining), sendall.
-- usage: bin/moonsock bench/servers/moonsock_redis.lua PORT
local socket = require "socket"
local task = require "task"

local PORT = math.tointeger(tonumber(arg[1]))
local store = {}

local function bulk(v)
  if v == nil then return "$-1\r\n" end
  return "$" .. #v .. "\r\n" .. v .. "\r\n"
end

local commands = {
  PING = function(a) return a[2] and bulk(a[2]) or "+PONG\r\n" end,
  SET = function(a)
    if not a[3] then return "-ERR wrong number of arguments for 'set' command\r\n" end
    store[a[2]] = a[3]
    return "+OK\r\n"
  end,
  GET = function(a) return bulk(store[a[2]]) end,
  INCR = function(a)
    local n = math.tointeger(tonumber(store[a[2]] or "0"))
    if not n then return "-ERR value is not an integer or out of range\r\n" end
    n = n + 1
    store[a[2]] = tostring(n)
    return ":" .. n .. "\r\n"
  end,
  -- redis-benchmark asks for "save" and "appendonly" before it starts
  CONFIG = function(a)
    if not a[3] then return "*0\r\n" end
    return "*2\r\n" .. bulk(a[3]) .. bulk(a[3] == "appendonly" and "no" or "")
  end,
}

-- Parses one command at pos: returns its arguments and the position after
-- it, or nil when buf holds only part of it.
local function parse(buf, pos)
  local eol = buf:find("\r\n", pos, true)
  if not eol then return nil end
  if buf:byte(pos) ~= 42 then -- not '*': an inline command
    local args = {}
    for word in buf:sub(pos, eol - 1):gmatch("%S+") do args[#args + 1] = word end
    return args, eol + 2
  end
  local n = tonumber(buf:sub(pos + 1, eol - 1))
  local args = {}
  pos = eol + 2
  for i = 1, n do
    eol = buf:find("\r\n", pos, true)
    if not eol then return nil end
    local len = tonumber(buf:sub(pos + 1, eol - 1))
    local from = eol + 2
    if from + len + 1 > #buf then return nil end
    args[i] = buf:sub(from, from + len - 1)
    pos = from + len + 2
  end
  return args, pos
end

local function client(conn)
  pcall(function()
    local buf = ""
    while true do
      local data = conn:recv(65536)
      if data == "" then break end
      buf = buf == "" and data or buf .. data
      local replies, pos = {}, 1
      while pos <= #buf do
        local args, after = parse(buf, pos)
        if not args then break end
        pos = after
        if args[1] then
          local fn = commands[args[1]:upper()]
          replies[#replies + 1] = fn and fn(args) or "-ERR unknown command\r\n"
        end
      end
      buf = buf:sub(pos)
      if #replies > 0 then conn:sendall(table.concat(replies)) end
    end
  end)
  conn:close()
end

local s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s:bind({"127.0.0.1", PORT})
s:listen(1024)
while true do
  local conn = s:accept()
  conn:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
  task.spawn(client, conn)
end
