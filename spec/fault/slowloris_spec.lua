-- Fault: slow clients (slowloris) against a task-per-connection server that
-- gives each request a deadline through the socket's timeout. 100 clients
-- send a byte every 0.2 s and never finish their line; meanwhile 1,000
-- fast clients connect at once, each sending a line and waiting for the
-- reply. Every fast client is served, promptly; every slow client is cut
-- off by the server at its deadline (the server's recv raises socket.timeout,
-- whose str() is Python's "timed out").
-- All in one child moonsock (server and clients are tasks on its loop),
-- under `ulimit -n 8192`: 2,200 sockets at once.
-- Bounded: timeout(1) kills the child after 120 s; every socket has a timeout.
local h = require "spec.support.helpers"

local SCRIPT = [[
local socket = require "socket"
local task = require "task"

local SLOW, FAST = 100, 1000
local DEADLINE = 1.5 -- seconds the server gives a request

local srv = socket.create_server({"127.0.0.1", 0}, {backlog = 4096})
local addr = srv:getsockname()
local timeouts, timeout_msg = 0, nil

local function handle(conn)
  local deadline = task.now() + DEADLINE
  local got = ""
  while not got:find("\n", 1, true) do
    -- The socket's timeout is what is left of the request's deadline.
    conn:settimeout(math.max(deadline - task.now(), 0.001))
    local ok, data = pcall(conn.recv, conn, 100)
    if not ok then
      if socket.timeout:matches(data) then
        timeouts = timeouts + 1
        timeout_msg = tostring(data)
      end
      conn:close()
      return
    end
    if data == "" then conn:close() return end
    got = got .. data
  end
  conn:settimeout(5)
  conn:sendall("pong\n")
  conn:close()
end

local server = task.spawn_daemon(function()
  while true do
    local conn = srv:accept()
    task.spawn(handle, conn)
  end
end)

-- A slow client: a byte every 0.2 s (its recv's timeout paces it), until
-- the server closes the connection; returns how long that took.
local function slow()
  local c = socket.create_connection(addr, 5)
  local t0 = task.now()
  for _ = 1, 50 do
    c:settimeout(5)
    if not pcall(c.send, c, "x") then break end
    c:settimeout(0.2)
    local ok, data = pcall(c.recv, c, 100)
    if ok and data == "" then break end
    if not ok and not socket.timeout:matches(data) then break end
  end
  c:close()
  return task.now() - t0
end

local function fast(i)
  local t0 = task.now()
  local c = socket.create_connection(addr, 10)
  c:sendall("ping " .. i .. "\n")
  local reply = c:recv(100)
  c:close()
  return reply, task.now() - t0
end

local slow_tasks = {}
for i = 1, SLOW do slow_tasks[i] = task.spawn(slow) end
-- The slow clients are all connected and trickling before the fast come.
task.sleep(0.5)
local fast_tasks = {}
for i = 1, FAST do fast_tasks[i] = task.spawn(fast, i) end
local served, worst = 0, 0
for _, t in ipairs(fast_tasks) do
  local reply, took = t:join(60)
  if reply == "pong\n" then served = served + 1 end
  worst = math.max(worst, took)
end
local cut, shortest, longest = 0, math.huge, 0
for _, t in ipairs(slow_tasks) do
  local took = t:join(60)
  if took < 10 then cut = cut + 1 end
  shortest, longest = math.min(shortest, took), math.max(longest, took)
end
print("fast served " .. served)
print("slow cut off " .. cut)
print("server timeouts " .. timeouts .. " " .. tostring(timeout_msg))
print(string.format("fast worst %.3f", worst))
print(string.format("slow cut after %.3f %.3f", shortest, longest))
server:cancel()
]]

describe("slow clients (a byte every 0.2 s)", function()
  it("are cut off by per-socket timeouts and do not starve 1,000 fast clients", function()
    local script = h.write_temp(SCRIPT, ".lua")
    local out, err, code = h.run(string.format("sh -c 'ulimit -n 8192 && exec timeout 120 %s %s'",
      h.shell_quote(h.moonsock), h.shell_quote(script)))
    os.remove(script)
    assert.are.equal(0, code, err)
    local timed_out = h.python("import socket\ntry:\n  raise socket.timeout('timed out')\n"
      .. "except OSError as e:\n  print(e)"):gsub("\n$", "")
    assert.matches("fast served 1000\n", out, 1, true)
    assert.matches("slow cut off 100\n", out, 1, true)
    assert.matches("server timeouts 100 " .. timed_out .. "\n", out, 1, true)
    -- Served promptly: the slow clients' parked tasks cost the fast ones
    -- nothing (the bound is loose for the sanitizer build's slowness).
    local worst = tonumber(out:match("fast worst ([%d.]+)"))
    assert.is_true(worst < 5, out)
    -- Cut off at the deadline (1.5 s), not before, not long after.
    local shortest, longest = out:match("slow cut after ([%d.]+) ([%d.]+)")
    assert.is_true(tonumber(shortest) >= 1.4 and tonumber(longest) < 4, out)
  end)
end)
