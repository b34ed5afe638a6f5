-- socket.http and ltn12 from Debian's lua-socket, unchanged, against
-- http_server.py (its port in arg[1]).
package.path = arg[0]:gsub("[^/]*$", "") .. "?.lua;" .. package.path
local S = require "show"
local show = S.show
local http = require "socket.http"
local ltn12 = require "ltn12"
local base = "http://127.0.0.1:" .. arg[1]

local body, code, headers, status = http.request(base .. "/")
show("GET", body, code, headers["content-type"], headers["content-length"], status)
local parts = {}
local r, c = http.request {url = base .. "/", sink = ltn12.sink.table(parts)}
show("GET with a sink", r, c, table.concat(parts))
local payload = string.rep("abc", 1000)
local out = {}
r, c = http.request {url = base .. "/post", method = "POST", source = ltn12.source.string(payload),
  headers = {["content-length"] = #payload}, sink = ltn12.sink.table(out)}
show("POST with a source", r, c, #table.concat(out), table.concat(out):sub(1, 12))
show("POST simple form", http.request(base .. "/post", "a=1&b=2"))
body, code = http.request(base .. "/redirect")
show("redirect followed", body, code)
out = {}
r, c, headers = http.request {url = base .. "/redirect", redirect = false, sink = ltn12.sink.table(out)}
show("redirect not followed", r, c, headers.location)
body, code, headers = http.request(base .. "/chunked")
show("chunked", #body, body:sub(1, 20), code, headers["transfer-encoding"])
show("404", http.request(base .. "/nothing"))
show("refused", http.request("http://127.0.0.1:1/"))
