-- gethostbyname.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", a translation
--   of PyMOTW's "11.1 socket – 网络通信"), section "11.1.1.1 查找主机", socket.gethostbyname.
-- Shows: socket.gethostbyname(host) -> an IPv4 address string; an IPv4 address
--   comes back unchanged, an IPv6-only name or an unknown name raises
--   socket.error (socket.gaierror), printed as Python prints the exception.
-- Usage: bin/moonsock examples/gethostbyname.lua [host ...]
--   The tutorial used homer, www, www.python.org and nosuchname; this machine
--   is offline, so the hosts default to names that resolve here, ::1 (IPv6,
--   which gethostbyname refuses) and nosuchname.invalid (no such name).
local socket = require "socket"

local hosts = {"localhost", socket.gethostname(), "127.0.0.1", "::1", "nosuchname.invalid"}
if #arg > 0 then hosts = arg end

for _, host in ipairs(hosts) do
  local ok, res = pcall(socket.gethostbyname, host)
  if not ok and not socket.error:matches(res) then error(res, 0) end
  print(string.format("%s : %s", host, tostring(res)))
end
