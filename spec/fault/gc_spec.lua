-- Fault: sockets a script drops without closing. The collector closes them:
-- after opening and dropping 100,000 sockets (and 20,000 connected pairs,
-- and 2,000 accepted connections) the process holds as many socket fds as
-- before (counted by the kernel, /proc/PID/fd). Each case runs in a child
-- moonsock with a fresh heap and a known fd limit, so that the spec
-- process's own heap (which paces its collector) and fd table do not enter.
-- Bounded: the loops are counted; timeout(1) kills a child after 120 s.
local h = require "spec.support.helpers"

-- Runs code in a child under `ulimit -n limit`; the child prints the
-- socket fd counts before and after, or its error.
local function child(limit, code)
  local script = h.write_temp([[
local socket = require "socket"
local task = require "task"
local fault = require "spec.fault.support"
local pid = require("spec.support.helpers").getpid()
local before = fault.socket_fds(pid)
local ok, err = pcall(function()
]] .. code .. [[
end)
if not ok then
  -- Free the fds before exiting: LeakSanitizer's exit-time check needs a
  -- few of its own, and spins when there are none.
  collectgarbage()
  collectgarbage()
  print("error " .. tostring(err))
  os.exit(1)
end
-- The collector closes what is unreachable; closes are synchronous, the
-- wait only guards against a slow machine.
local after
local deadline = task.now() + 2
repeat
  collectgarbage()
  collectgarbage()
  task.sleep(0.01)
  after = fault.socket_fds(pid)
until after == before or task.now() > deadline
print("fds " .. before .. " " .. after)
]], ".lua")
  local out, err, rc = h.run(string.format("sh -c 'ulimit -n %d && exec timeout 120 %s %s'",
    limit, h.shell_quote(h.moonsock), h.shell_quote(script)))
  os.remove(script)
  return out, err, rc
end

local function assert_returns(out, err, rc)
  assert.are.equal(0, rc, out .. err)
  local before, after = out:match("^fds (%d+) (%d+)\n$")
  assert.is_truthy(before, out)
  assert.are.equal(before, after)
end

describe("sockets dropped without close", function()
  it("100,000 are closed by the collector: the fd count returns to where it started", function()
    assert_returns(child(20000, [[
  for _ = 1, 100000 do socket.socket() end
]]))
  end)

  it("20,000 connected socketpairs and 2,000 accepted connections too", function()
    assert_returns(child(20000, [[
  for i = 1, 20000 do
    local a = socket.socketpair()
    if i % 2 == 0 then a:sendall("unread data") end
  end
  local srv = socket.create_server({"127.0.0.1", 0}, {backlog = 128})
  local addr = srv:getsockname()
  for _ = 1, 2000 do
    local c = socket.create_connection(addr, 5)
    srv:accept()
    c:sendall("hello")
  end
  srv:close()
]]))
  end)

  it("are collected before a 1,024-fd table runs out", function()
    -- An fd is a resource the collector does not see: it runs when Lua's
    -- heap has grown, which 1,000 small socket objects do not make it do.
    -- In Python (reference counting) dropping sockets never exhausts fds.
    local out, err, rc = child(1024, [[
  for _ = 1, 100000 do socket.socket() end
  for _ = 1, 20000 do socket.socketpair() end
]])
    -- This exhausted the table until socket creation learnt to collect and
    -- retry on EMFILE/ENFILE (src/socket.c, collect_for_fds).
    assert_returns(out, err, rc)
  end)
end)
