-- getfqdn.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.1 查找主机", socket.getfqdn([name]).
-- Shows: socket.getfqdn(name) -> the fully qualified name; a name that cannot
--   be resolved comes back unchanged (getfqdn never raises).
-- Usage: bin/moonsock examples/getfqdn.lua [host ...]
--   The tutorial used homer and www (hosts of its author's network); the
--   hosts default to names that resolve on this offline machine, ::1 and
--   nosuchname.invalid.
local socket = require "socket"

local hosts = {"localhost", socket.gethostname(), "127.0.0.1", "::1", "nosuchname.invalid"}
if #arg > 0 then hosts = arg end

for _, host in ipairs(hosts) do
  print(string.format("%6s : %s", host, socket.getfqdn(host)))
end
