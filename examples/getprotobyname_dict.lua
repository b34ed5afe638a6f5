-- getprotobyname_dict.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.2 查×××信息", socket.getprotobyname(protocolname).
-- Shows: the table of IPPROTO_* constants (number -> name, printed like the
--   Python dict), then socket.getprotobyname(name) for icmp, udp and tcp
--   with the matching constant.
-- Usage: bin/moonsock examples/getprotobyname_dict.lua [protocol ...]
--   (default: icmp udp tcp, as in the tutorial)
local socket = require "socket"

-- Python's dict((getattr(socket, n), n) for n in dir(socket) if
-- n.startswith(prefix)): names in sorted order (dir() sorts), a later name
-- replaces an earlier one with the same value, and the keys keep the order
-- in which they were first seen (a Python dict keeps insertion order).
local function get_constants(prefix)
  local names = {}
  for n in pairs(socket) do
    if n:sub(1, #prefix) == prefix then names[#names + 1] = n end
  end
  table.sort(names)
  local constants, order = {}, {}
  for _, n in ipairs(names) do
    local v = socket[n]
    if constants[v] == nil then order[#order + 1] = v end
    constants[v] = n
  end
  return constants, order
end

-- The dict as Python prints it: {0: 'IPPROTO_IP', 1: 'IPPROTO_ICMP', ...}
-- (constant names need no escaping inside the quotes).
local function dict_text(constants, order)
  local items = {}
  for i, v in ipairs(order) do items[i] = string.format("%d: '%s'", v, constants[v]) end
  return "{" .. table.concat(items, ", ") .. "}"
end

local protocols, order = get_constants("IPPROTO_")
print(dict_text(protocols, order))

local names = {"icmp", "udp", "tcp"}
if #arg > 0 then names = arg end
for _, name in ipairs(names) do
  local proto_num = socket.getprotobyname(name)
  print(proto_num)
  local const_name = protocols[proto_num]
  print(string.format("%4s -> %2d (socket.%-12s =%2d)",
    name, proto_num, const_name, socket[const_name]))
end
