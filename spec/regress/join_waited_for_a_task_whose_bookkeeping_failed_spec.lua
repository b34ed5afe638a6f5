-- A task's joiners were woken by lua/task.lua's own code, after the task's
-- function had returned or raised: it recorded the results (table.pack),
-- printed an uncaught error, then woke the joiners. When that code failed
-- (out of memory, or a write to stderr that raised) the joiners were never
-- woken: join(timeout) waited the whole timeout and raised TimeoutError,
-- and join() waited until the deadlock detector gave up, although the task
-- had long ended. A memory error also skipped xpcall's message handler, and
-- task.lua then read its result as the handler's table: the task's error
-- was lost. Found by the allocation sweep (spec/c/test_alloc.c, "open" and
-- "tasks" with every allocation failing from N on: each such N waited out
-- its join timeout); shown here with an io.stderr whose write raises.
-- Now the core ends a join itself when the task's coroutine ends
-- (core.join), and task.lua records the end before it prints anything.
local h = require "spec.support.helpers"

local SCRIPT = [[
  local task = require "task"
  io.stderr = {write = function() error("stderr is gone", 0) end}
  local function failing() error("the task failed", 0) end
  local t0 = task.now()
  local h = task.spawn(failing)
  print(pcall(h.join, h, 10))
  local h2 = task.spawn(failing)
  print(pcall(h2.join, h2))
  print(task.now() - t0 < 5)
]]

describe("join, when task.lua cannot print a task's error", function()
  it("raises the task's error at once, as Python's join returns at once", function()
    local out, err, code = h.moonsock_script(SCRIPT)
    assert.are.equal(0, code, err)
    -- Python: a thread whose excepthook fails still ends; join() returns
    -- at once (moonsock's join re-raises the task's error).
    local py = h.python([[
import threading, time
def hook(args): raise RuntimeError("stderr is gone")
threading.excepthook = hook
def failing(): raise ValueError("the task failed")
t0 = time.monotonic()
t = threading.Thread(target=failing); t.start(); t.join(10)
t2 = threading.Thread(target=failing); t2.start(); t2.join()
print(t.is_alive(), t2.is_alive(), time.monotonic() - t0 < 5)
]])
    assert.are.equal("False False True\n", py)
    assert.are.equal("false\tthe task failed\nfalse\tthe task failed\ntrue\n", out)
  end)
end)
