-- getservbyname_urls.lua
-- Source: ../shared/seeds/000_0a258178844726fa.txt ("socket库:Python网络通信套接字(一)"),
--   section "getservbyname()与getservbyport()" (first program).
-- Shows: socket.getservbyname(scheme) for the scheme of each URL, and the
--   error ("service/proto not found") for a scheme that is not a service.
-- Usage: bin/moonsock examples/getservbyname_urls.lua [url ...]
--   Defaults to the tutorial's URLs (nothing is resolved, only the scheme is
--   looked up in /etc/services) plus one whose scheme is no service.
local socket = require "socket"
local urlparse = require("urllib.parse").urlparse

local url_str = {
  "https://www.baidu.com",
  "https://www.csdn.net",
  "smtp://smtp.qq.com",
  "nosuchscheme://localhost",
}
if #arg > 0 then url_str = arg end

for _, url in ipairs(url_str) do
  local parsed_url = urlparse(url)
  local ok, port = pcall(socket.getservbyname, parsed_url.scheme)
  if ok then
    print(url)
    print("端口号: " .. port)
  elseif socket.error:matches(port) then
    print(url .. " " .. tostring(port))
  else
    error(port, 0)
  end
end
