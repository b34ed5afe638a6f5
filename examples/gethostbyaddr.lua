-- gethostbyaddr.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.1 查找主机", socket.gethostbyaddr(ip_address).
-- Shows: socket.gethostbyaddr(address) -> hostname, aliases, addresses (IPv4
--   and IPv6); a failed reverse lookup raises socket.herror / socket.gaierror.
-- Usage: bin/moonsock examples/gethostbyaddr.lua [address ...]
--   The tutorial looked up one address of its author's network
--   (172.23.191.53) and had no error handling. Here the addresses come from
--   the command line and default to 127.0.0.1, ::1 (no reverse entry on this
--   machine: herror) and nosuchname.invalid (gaierror); each lookup is
--   preceded by the address and a failure prints "ERROR: <exception>".
local socket = require "socket"

local addrs = {"127.0.0.1", "::1", "nosuchname.invalid"}
if #arg > 0 then addrs = arg end

for _, addr in ipairs(addrs) do
  print(addr)
  local ok, hostname, aliases, addresses = pcall(socket.gethostbyaddr, addr)
  if ok then
    print("Hostname : " .. hostname)
    print("Aliases : " .. tostring(aliases))
    print("Addresses: " .. tostring(addresses))
  elseif socket.error:matches(hostname) then
    print("ERROR: " .. tostring(hostname))
  else
    error(hostname, 0)
  end
end
