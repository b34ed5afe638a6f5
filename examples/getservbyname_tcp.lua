-- getservbyname_tcp.lua
-- Source: ../shared/seeds/003_deff83d1aeb1e326.txt ("python标准库之【socket】"), the
--   interactive getservbyname(service, protocol) examples ('http' and
--   'telnet' over 'tcp').
-- Shows: socket.getservbyname(service, "tcp") -> the port, the session
--   replayed (">>> call", then the value); an unknown service prints the
--   last line of the traceback ("OSError: service/proto not found").
-- Usage: bin/moonsock examples/getservbyname_tcp.lua [service ...]
--   (default: http telnet, as in the tutorial)
local socket = require "socket"
local repr = require("moonsock.repr").repr

local services = {"http", "telnet"}
if #arg > 0 then services = arg end

for _, service in ipairs(services) do
  print(string.format(">>> socket.getservbyname(%s, 'tcp')", repr(service)))
  local ok, port = pcall(socket.getservbyname, service, "tcp")
  if ok then
    print(repr(port))
  elseif socket.error:matches(port) then
    print("OSError: " .. tostring(port))
  else
    error(port, 0)
  end
end
