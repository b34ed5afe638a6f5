-- getservbyname_schemes.lua
-- Source: ../shared/seeds/002_0236391d9d2b22b5.txt ("python标准库之【socket】", PyMOTW
--   translation), section "11.1.1.2 查×××信息", socket.getservbyname; and the same program in
--   ../shared/seeds/004_7274023ea630b289.txt ("Python's Standard Library :Networking"),
--   section "Finding Service Information" (first program).
-- Shows: socket.getservbyname(scheme) -> the standard port of each URL's
--   scheme, printed right-aligned ('%6s : %s' / '{:>6} : {}').
-- Usage: bin/moonsock examples/getservbyname_schemes.lua [url ...]
--   Defaults to the tutorials' URLs: nothing is resolved, only the scheme is
--   looked up in the services database.
local socket = require "socket"
local urlparse = require("urllib.parse").urlparse

local URLS = {
  "http://www.python.org",
  "https://www.mybank.com",
  "ftp://prep.ai.mit.edu",
  "gopher://gopher.micro.umn.edu",
  "smtp://mail.example.com",
  "imap://mail.example.com",
  "imaps://mail.example.com",
  "pop3://pop.example.com",
  "pop3s://pop.example.com",
}
if #arg > 0 then URLS = arg end

for _, url in ipairs(URLS) do
  local parsed_url = urlparse(url)
  local port = socket.getservbyname(parsed_url.scheme)
  print(string.format("%6s : %s", parsed_url.scheme, port))
end
