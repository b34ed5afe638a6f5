-- gethostbyname_ex_errors.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.1 查找主机", socket.gethostbyname_ex.
-- Shows: socket.gethostbyname_ex(host) -> hostname, aliases, addresses, one
--   host per block, with "ERROR: <exception>" for a name that fails.
-- Usage: bin/moonsock examples/gethostbyname_ex_errors.lua [host ...]
--   The tutorial used homer, www, www.python.org and nosuchname; the hosts
--   default to names that resolve on this offline machine, ::1 and
--   nosuchname.invalid (both fail).
local socket = require "socket"

local hosts = {"localhost", socket.gethostname(), "127.0.0.1", "::1", "nosuchname.invalid"}
if #arg > 0 then hosts = arg end

for _, host in ipairs(hosts) do
  print(host)
  local ok, hostname, aliases, addresses = pcall(socket.gethostbyname_ex, host)
  if ok then
    print(" Hostname: " .. hostname)
    print(" Aliases : " .. tostring(aliases))
    print(" Addresses: " .. tostring(addresses))
  elseif socket.error:matches(hostname) then
    print("ERROR: " .. tostring(hostname))
  else
    error(hostname, 0)
  end
end
