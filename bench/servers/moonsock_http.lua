-- HTTP/1.1 keep-alive "hello" in the tutorials' style: a task per
-- connection; every complete request head gets one response.
-- usage: bin/moonsock bench/servers/moonsock_http.lua PORT
local socket = require "socket"
local task = require "task"

local PORT = math.tointeger(tonumber(arg[1]))
local RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"

local function client(conn)
  pcall(function()
    local pending = ""
    while true do
      local data = conn:recv(65536)
      if data == "" then break end
      pending = pending == "" and data or pending .. data
      -- Count the heads that are complete; keep the rest for the next read.
      local n, from = 0, 1
      while true do
        local _, e = pending:find("\r\n\r\n", from, true)
        if not e then break end
        n, from = n + 1, e + 1
      end
      if n > 0 then
        pending = pending:sub(from)
        conn:sendall(n == 1 and RESPONSE or RESPONSE:rep(n))
      end
    end
  end)
  conn:close()
end

local s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s:bind({"127.0.0.1", PORT})
s:listen(1024)
while true do
  local conn = s:accept()
  conn:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
  task.spawn(client, conn)
end
