-- socket.ftp from Debian's lua-socket, unchanged: RETR by URL and by table,
-- NLST and LIST, against ftp_server.py (port in arg[1]; it serves hello.txt
-- and data.bin).
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local S = require "show"
local ftp = require "socket.ftp"
local ltn12 = require "ltn12"
local port = tonumber(arg[1])

S.show("RETR by URL", ftp.get("ftp://127.0.0.1:" .. port .. "/hello.txt;type=i"))
local t = {}
S.show("RETR by table", ftp.get {host = "127.0.0.1", port = port, path = "data.bin", type = "i",
  sink = ltn12.sink.table(t)})
local data = table.concat(t)
S.show("RETR size", #data, data:sub(1, 8))
t = {}
S.show("NLST", ftp.get {host = "127.0.0.1", port = port, command = "nlst", argument = ".",
  sink = ltn12.sink.table(t)})
local names = {}
for name in table.concat(t):gmatch("[^\r\n]+") do names[#names + 1] = name:match("[^/]*$") end
table.sort(names)
S.show("NLST names", table.concat(names, ","))
t = {}
S.show("LIST", ftp.get {host = "127.0.0.1", port = port, command = "list", sink = ltn12.sink.table(t)})
local listing = table.concat(t)
S.show("LIST has the files", listing:find("hello.txt", 1, true) ~= nil, listing:find("data.bin", 1, true) ~= nil)
S.show("missing file", ftp.get("ftp://127.0.0.1:" .. port .. "/nothing.txt"))
