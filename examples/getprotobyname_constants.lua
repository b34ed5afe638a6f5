-- getprotobyname_constants.lua
-- Source: ../shared/seeds/000_0a258178844726fa.txt ("socket库:Python网络通信套接字(一)"),
--   section "getprotobyname()".
-- Shows: socket.getprotobyname(name) -> protocol number, and finding the
--   IPPROTO_* constant's name by scanning the socket module (Python's
--   getattr/dir idiom becomes a sorted walk over the module table).
-- Usage: bin/moonsock examples/getprotobyname_constants.lua [protocol ...]
--   (default: tcp udp, as in the tutorial)
local socket = require "socket"

-- {value = name} for every socket constant whose name starts with prefix.
-- Names are visited in sorted order, like Python's dir(), so when two
-- constants share a value the later name wins, as in the dict comprehension.
local function getConstants(prefix)
  local names = {}
  for n in pairs(socket) do
    if n:sub(1, #prefix) == prefix then names[#names + 1] = n end
  end
  table.sort(names)
  local constants = {}
  for _, n in ipairs(names) do constants[socket[n]] = n end
  return constants
end

local ipproto_str = getConstants("IPPROTO_")
local agrees = {"tcp", "udp"}
if #arg > 0 then agrees = arg end
for _, agree in ipairs(agrees) do
  local num = socket.getprotobyname(agree)
  local name = ipproto_str[num]
  print(name .. " " .. num)
end
