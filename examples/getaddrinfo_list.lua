-- getaddrinfo_list.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.3 查×××器地址", the interactive
--   socket.getaddrinfo("www.python.org", 80, 0, 0, socket.SOL_TCP).
-- Shows: the raw result of socket.getaddrinfo(host, 80, 0, 0, SOL_TCP), a list
--   of (family, type, proto, canonname, sockaddr) tuples, printed as the
--   interactive session shows it (family and type as numbers, as in the
--   tutorial's Python 2 session); a failed lookup prints the last line of
--   the traceback the session would show.
-- Usage: bin/moonsock examples/getaddrinfo_list.lua [host ...]
--   The tutorial asked for www.python.org; this machine is offline, so the
--   hosts default to names that resolve here, ::1 and nosuchname.invalid.
local socket = require "socket"
local repr = require("moonsock.repr").repr

local hosts = {"localhost", socket.gethostname(), "127.0.0.1", "::1", "nosuchname.invalid"}
if #arg > 0 then hosts = arg end

for _, host in ipairs(hosts) do
  print(string.format(">>> socket.getaddrinfo(%s, 80, 0, 0, socket.SOL_TCP)", repr(host)))
  local ok, res = pcall(socket.getaddrinfo, host, 80, 0, 0, socket.SOL_TCP)
  if ok then
    print(res)
  elseif socket.gaierror:matches(res) then
    print("socket.gaierror: " .. tostring(res))
  else
    error(res, 0)
  end
end
