-- getservbyport_urls.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.2 查×××信息", socket.getservbyport (built with
--   urlparse.urlunparse); and the same program in
--   ../shared/seeds/004_7274023ea630b289.txt ("Python's Standard Library :Networking"),
--   section "Finding Service Information" (built with str.format).
-- Shows: socket.getservbyport(port) -> the service name, used to build URLs
--   with urllib.parse.urlunparse (002's form).
-- Usage: bin/moonsock examples/getservbyport_urls.lua [port ...]
--   (default: 80 443 21 70 25 143 993 110 995, as in the tutorials)
local socket = require "socket"
local urlunparse = require("urllib.parse").urlunparse

local ports = {80, 443, 21, 70, 25, 143, 993, 110, 995}
if #arg > 0 then
  ports = {}
  for i, a in ipairs(arg) do ports[i] = math.tointeger(tonumber(a)) end
end

for _, port in ipairs(ports) do
  print(urlunparse({socket.getservbyport(port), "example.com", "/", "", "", ""}))
end
