-- demo.lua: what `scripts/run` runs when given no script.
-- Source: ../shared/seeds/001_b22fa077275f9854.txt ("Python Module_Socket_网络编程"),
--   section "Socket 编程 > Demo > TCP 服务端", NOTE2 (one thread per client), told
--   the moonsock way: tasks instead of threads.
-- Shows: a task-per-client echo server on a free loopback port and three
--   concurrent clients. The clients keep their connections open and talk in
--   rounds: in each round every client sends a message at the same time and
--   waits for its echo, and the next round starts when all have theirs. A
--   server that served one connection at a time could not finish round 1
--   (it would wait on client 1 while clients 2 and 3 wait on it), so the
--   rounds completing shows the connections are served concurrently. Every
--   wait is bounded (socket timeouts, join timeouts); the demo exits 0 by
--   itself.
-- Usage: bin/moonsock examples/demo.lua   (or scripts/run)
local socket = require "socket"
local task = require "task"

local CLIENTS, ROUNDS, TIMEOUT = 3, 3, 5

local function quote(s) return "'" .. s .. "'" end

-- Server side: one task per connection, echoing until the client closes.
local function handle(conn)
  while true do
    local data = conn:recv(1024)
    if data == "" then break end
    conn:sendall(data)
  end
  conn:close()
end

local server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server:bind({"127.0.0.1", 0})  -- port 0: the kernel picks a free port
server:listen(CLIENTS)
server:settimeout(TIMEOUT)
local host, port = table.unpack(server:getsockname())
print(string.format("echo server listening on %s:%d", host, port))

local acceptor = task.spawn(function()
  local handlers = {}
  for i = 1, CLIENTS do
    local conn = server:accept()
    conn:settimeout(TIMEOUT)
    handlers[i] = task.spawn(handle, conn)
  end
  server:close()
  for _, h in ipairs(handlers) do h:join(TIMEOUT) end
  return #handlers
end)

-- Client side: the connections stay open for all the rounds.
local conns = {}
for n = 1, CLIENTS do
  conns[n] = socket.create_connection({host, port}, TIMEOUT)
end

local function exchange(n, round)
  local msg = string.format("round %d from client %d", round, n)
  conns[n]:sendall(msg)
  return msg, conns[n]:recv(1024)
end

for round = 1, ROUNDS do
  local running = {}
  for n = 1, CLIENTS do running[n] = task.spawn(exchange, n, round) end
  print(string.format("round %d", round))
  for n, h in ipairs(running) do
    local sent, got = h:join(TIMEOUT)
    print(string.format("  client %d sent %s, got back %s", n, quote(sent), quote(got)))
  end
end

for _, conn in ipairs(conns) do conn:close() end
print(string.format("server served %d clients at once; bye", acceptor:join(TIMEOUT)))
