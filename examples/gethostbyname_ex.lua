-- gethostbyname_ex.lua
-- Source: ../shared/seeds/000_0a258178844726fa.txt ("socket库:Python网络通信套接字(一)"),
--   section "gethostbyname_ex()与gethostbyname()".
-- Shows: socket.gethostbyname_ex(host) -> name, aliases, addresses for each
--   host, and how a failed lookup is caught (socket.error) and printed.
-- Usage: bin/moonsock examples/gethostbyname_ex.lua [host ...]
--   The tutorial looked up www.baidu.com, cloud.tencent.com and www.csdn.net.
--   This machine is offline, so the hosts come from the command line and
--   default to names that resolve here plus nosuchname.invalid, which fails.
local socket = require "socket"

local host_str = {"localhost", socket.gethostname(), "127.0.0.1", "::1", "nosuchname.invalid"}
if #arg > 0 then host_str = arg end

for _, host in ipairs(host_str) do
  local ok, name, aliases, addresses = pcall(socket.gethostbyname_ex, host)
  if ok then
    print(host)
    print("主机名: " .. name)
    print("所有别名: " .. tostring(aliases))
    print("所有可用IP地址: " .. tostring(addresses))
  elseif socket.error:matches(name) then
    print(host .. " " .. tostring(name))
  else
    error(name, 0)
  end
end
