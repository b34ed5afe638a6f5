-- getaddrinfo_canonname.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.3 查×××器地址", "设置了AI_CANONNAME的实例"
--   (socket_getaddrinfo_extra_args.py).
-- Shows: socket.getaddrinfo(host, "http", AF_INET, SOCK_STREAM, IPPROTO_TCP,
--   AI_CANONNAME): the family/type/protocol arguments narrow the answers and
--   AI_CANONNAME fills in the canonical name.
-- Usage: bin/moonsock examples/getaddrinfo_canonname.lua [host ...]
--   The tutorial asked for www.doughellmann.com; the hosts default to names
--   that resolve on this offline machine, ::1 (no IPv4 address: error) and
--   nosuchname.invalid. Each host's answers are preceded by the host, and a
--   failed lookup prints "ERROR: <exception>".
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

local families = get_constants("AF_")
local types = get_constants("SOCK_")
local protocols = get_constants("IPPROTO_")

local hosts = {"localhost", socket.gethostname(), "127.0.0.1", "::1", "nosuchname.invalid"}
if #arg > 0 then hosts = arg end

for _, host in ipairs(hosts) do
  print(host)
  local ok, responses = pcall(socket.getaddrinfo, host, "http",
    socket.AF_INET,       -- family
    socket.SOCK_STREAM,   -- socktype
    socket.IPPROTO_TCP,   -- protocol
    socket.AI_CANONNAME)  -- flags
  if not ok then
    if not socket.gaierror:matches(responses) then error(responses, 0) end
    print("ERROR: " .. tostring(responses))
  else
    for _, response in ipairs(responses) do
      local family, socktype, proto, canonname, sockaddr = table.unpack(response, 1, 5)
      print("Family : " .. families[family])
      print("Type : " .. types[socktype])
      print("Protocol : " .. protocols[proto])
      print("Canonical name: " .. canonname)
      print("Socket address: " .. tostring(sockaddr))
    end
  end
end
