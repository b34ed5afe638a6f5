-- Lua 5.4 with cqueues: a coroutine per connection, as in cqueues' examples.
-- usage: lua5.4 cqueues_server.lua echo|http PORT   (no UDP server here)
local cqueues = require "cqueues"
local socket = require "cqueues.socket"

local mode, port = arg[1], math.tointeger(tonumber(arg[2]))
local RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"

local cq = cqueues.new()

local function count_heads(pending)
  local n, from = 0, 1
  while true do
    local _, e = pending:find("\r\n\r\n", from, true)
    if not e then return n, from end
    n, from = n + 1, e + 1
  end
end

local function serve(con)
  -- binary, and no output buffering: every write goes out at once
  con:setmode("b", "bn")
  local pending = ""
  while true do
    local data = con:xread(-65536, "b")
    if not data then break end
    if mode == "echo" then
      if not con:write(data) then break end
    else
      pending = pending .. data
      local n, from = count_heads(pending)
      if n > 0 then
        pending = pending:sub(from)
        if not con:write(n == 1 and RESPONSE or RESPONSE:rep(n)) then break end
      end
    end
  end
end

local function client(con)
  -- cqueues raises on a reset; a client gone is not the server's error.
  pcall(serve, con)
  con:close()
end

local server = socket.listen{host = "127.0.0.1", port = port, reuseaddr = true, backlog = 1024}
cq:wrap(function()
  -- accepted sockets take their options here, TCP_NODELAY among them
  for con in server:clients({nodelay = true}) do
    cq:wrap(client, con)
  end
end)
assert(cq:loop())
