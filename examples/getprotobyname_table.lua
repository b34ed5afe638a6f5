-- getprotobyname_table.lua
-- Source: ../shared/seeds/004_7274023ea630b289.txt ("Python's Standard Library :Networking"),
--   section "Finding Service Information", the getprotobyname program.
-- Shows: socket.getprotobyname(name) -> the protocol number, and the
--   IPPROTO_* constant with that value, as an aligned table.
-- Usage: bin/moonsock examples/getprotobyname_table.lua [protocol ...]
--   (default: icmp udp tcp, as in the tutorial)
local socket = require "socket"

-- {value = name} of the socket constants starting with prefix, visiting the
-- names in sorted order like Python's dir() (a later name wins a shared value).
local function get_constants(prefix)
  local names = {}
  for n in pairs(socket) do
    if n:sub(1, #prefix) == prefix then names[#names + 1] = n end
  end
  table.sort(names)
  local constants = {}
  for _, n in ipairs(names) do constants[socket[n]] = n end
  return constants
end

local protocols = get_constants("IPPROTO_")
local names = {"icmp", "udp", "tcp"}
if #arg > 0 then names = arg end
for _, name in ipairs(names) do
  local proto_num = socket.getprotobyname(name)
  local const_name = protocols[proto_num]
  print(string.format("%4s -> %2d (socket.%-12s = %2d)",
    name, proto_num, const_name, socket[const_name]))
end
