-- The task core (src/task.c, lua/task.lua): spawn, join, cancel, sleep,
-- scheduling order, and what the process does with errors, daemons and a
-- main task that waits forever. Whole-process behaviour runs in a child
-- moonsock, checked by its stdout, stderr and exit code.
local h = require "spec.support.helpers"
local errors = require "moonsock.errors"
local task = require "task"

local function busy(s)
  local stop = task.now() + s
  while task.now() < stop do end
end

describe("task.spawn and join", function()
  it("returns the function's results, several, with nils kept", function()
    local t = task.spawn(function(a, b) return b, a end, "x", "y")
    assert.same({"y", "x"}, {t:join(5)})
    local holes = task.spawn(function(...) return ... end, 1, nil, 3, nil)
    assert.same(table.pack(1, nil, 3, nil), table.pack(holes:join(5)))
    local none = task.spawn(function() end)
    assert.equal(0, select("#", none:join(5)))
  end)

  it("gives the arguments with their count, nils included", function()
    local t = task.spawn(function(...) return select("#", ...) end, nil, nil, nil)
    assert.equal(3, t:join(5))
  end)

  it("can join a task that has ended, again and again", function()
    local t = task.spawn(function() return 42 end)
    assert.equal(42, t:join(5))
    assert.equal(42, t:join(5))
    assert.equal(42, t:join())
  end)

  it("re-raises the task's error object itself", function()
    local e = setmetatable({}, {__tostring = function() return "mine" end})
    local t = task.spawn(function() error(e) end)
    local ok, err = pcall(t.join, t, 5)
    assert.is_false(ok)
    assert.equal(e, err)
    -- a string error keeps the position where it was raised
    local s = task.spawn(function() error("plain") end)
    local ok2, err2 = pcall(s.join, s, 5)
    assert.is_false(ok2)
    assert.matches("task_spec%.lua:%d+: plain$", err2)
  end)

  it("raises TimeoutError when the task outlives the timeout", function()
    local t = task.spawn(function() task.sleep(5) end)
    local t0 = task.now()
    local ok, err = pcall(t.join, t, 0.05)
    local took = task.now() - t0
    assert.is_false(ok)
    assert.is_true(errors.TimeoutError:matches(err))
    -- str() of the error Python's socket module raises on a timeout
    assert.equal(h.python("import socket\nprint(socket.timeout('timed out'))"), tostring(err) .. "\n")
    assert.is_true(took >= 0.05 and took < 1, "joined for " .. took)
    assert.equal("parked", t:status())
    t:cancel()
    assert.has_error(function() t:join(5) end)
  end)

  it("wakes every joiner", function()
    local ev = task.Event()
    local t = task.spawn(function() ev:wait(5) return "r" end)
    local joiners = {}
    for i = 1, 3 do joiners[i] = task.spawn(function() return t:join(5) end) end
    task.sleep(0.01)
    ev:set()
    for i = 1, 3 do assert.equal("r", joiners[i]:join(5)) end
  end)

  it("refuses to join the current task or the main task", function()
    local main = task.current()
    local t = task.spawn(function()
      local a = {pcall(function() return task.current():join(1) end)}
      local b = {pcall(function() return main:join(1) end)}
      return a[1], a[2], b[1], b[2]
    end)
    local ok1, err1, ok2, err2 = t:join(5)
    assert.is_false(ok1)
    assert.matches("cannot join the current task", err1)
    assert.is_false(ok2)
    assert.matches("cannot join the main task", err2)
  end)

  it("names the bad argument", function()
    assert.has_error(function() task.spawn(42) end,
                     "bad argument #1 to 'spawn' (function expected, got number)")
    local t = task.spawn(function() end)
    local ok, err = pcall(function() t:join("soon") end)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'join' %(number expected, got string%)", err)
    t:join(5)
  end)
end)

describe("task cancel", function()
  it("raises Cancelled in a task parked in a wait", function()
    local ev = task.Event()
    local t = task.spawn(function() ev:wait() end)
    task.sleep(0.01)
    assert.equal("parked", t:status())
    assert.is_true(t:cancel())
    local ok, err = pcall(t.join, t, 5)
    assert.is_false(ok)
    assert.is_true(task.Cancelled:matches(err))
    assert.is_true(t:cancelled())
    assert.is_true(t:done())
  end)

  it("raises Cancelled in a sleeping task at once", function()
    local t = task.spawn(function() task.sleep(10) end)
    task.sleep(0.01)
    local t0 = task.now()
    t:cancel()
    local ok, err = pcall(t.join, t, 5)
    assert.is_false(ok)
    assert.is_true(task.Cancelled:matches(err))
    assert.is_true(task.now() - t0 < 1)
  end)

  it("stops a task that has not started: its function never runs", function()
    local ran = false
    local t = task.spawn(function() ran = true end)
    assert.equal("ready", t:status())
    t:cancel()
    local ok, err = pcall(t.join, t, 5)
    assert.is_false(ok)
    assert.is_true(task.Cancelled:matches(err))
    assert.is_false(ran)
    assert.is_true(t:cancelled())
  end)

  it("lets the task catch Cancelled and go on", function()
    local t = task.spawn(function()
      local ok, err = pcall(task.sleep, 10)
      task.sleep(0.01) -- the cancel was used up: blocking works again
      return ok, task.Cancelled:matches(err)
    end)
    task.sleep(0.01)
    t:cancel()
    local ok, was_cancel = t:join(5)
    assert.is_false(ok)
    assert.is_true(was_cancel)
    assert.is_false(t:cancelled())
  end)

  it("reaches a running task at its next blocking call", function()
    local t, reached
    t = task.spawn(function()
      t:cancel() -- cancels itself while running: nothing happens yet
      reached = true
      task.sleep(10)
      reached = "past the sleep"
    end)
    local ok, err = pcall(t.join, t, 5)
    assert.is_false(ok)
    assert.is_true(task.Cancelled:matches(err))
    assert.is_true(reached)
  end)

  it("does nothing to a task that has ended", function()
    local t = task.spawn(function() return 1 end)
    assert.equal(1, t:join(5))
    assert.is_false(t:cancel())
    assert.equal(1, t:join(5))
    assert.is_false(t:cancelled())
  end)
end)

describe("task status and done", function()
  it("goes ready, running, parked, done", function()
    local seen
    local ev = task.Event()
    local t
    t = task.spawn(function()
      seen = t:status()
      ev:wait(5)
    end)
    assert.equal("ready", t:status())
    assert.is_false(t:done())
    task.sleep(0.01)
    assert.equal("running", seen)
    assert.equal("parked", t:status())
    assert.is_false(t:done())
    ev:set()
    t:join(5)
    assert.equal("done", t:status())
    assert.is_true(t:done())
  end)

  it("says done for a task that failed", function()
    local t = task.spawn(function() error({}) end)
    pcall(t.join, t, 5)
    assert.is_true(t:done())
    assert.is_false(t:cancelled())
  end)
end)

describe("task.sleep", function()
  it("sleeps at least as long as asked, and not much longer", function()
    for _, s in ipairs {0.05, 0.01, 0} do
      local t0 = task.now()
      task.sleep(s)
      local took = task.now() - t0
      assert.is_true(took >= s and took < s + 0.45, "sleep(" .. s .. ") took " .. took)
    end
  end)

  it("counts from the call even when the loop's clock is stale", function()
    -- another task keeps the loop busy in the same turn before we park
    local hog = task.spawn(function() busy(0.03) end)
    local t = task.spawn(function()
      local t0 = task.now()
      task.sleep(0.05)
      return task.now() - t0
    end)
    local took = t:join(5)
    hog:join(5)
    assert.is_true(took >= 0.05 and took < 0.5, "took " .. took)
  end)

  it("lets sleepers wake in the order of their deadlines", function()
    local order = {}
    local ts = {}
    for i, s in ipairs {0.04, 0.01, 0.03, 0.02} do
      ts[i] = task.spawn(function()
        task.sleep(s)
        order[#order + 1] = i
      end)
    end
    for i = 1, 4 do ts[i]:join(5) end
    assert.same({2, 4, 3, 1}, order)
  end)

  it("names a bad argument", function()
    assert.has_error(function() task.sleep(-1) end,
                     "bad argument #1 to 'sleep' (sleep length must be non-negative)")
    assert.has_error(function() task.sleep("x") end)
    assert.has_error(function() task.sleep(0 / 0) end)
  end)
end)

describe("scheduling", function()
  it("runs tasks in the order they were spawned", function()
    local order = {}
    local ts = {}
    for i = 1, 5 do ts[i] = task.spawn(function() order[#order + 1] = i end) end
    for i = 1, 5 do ts[i]:join(5) end
    assert.same({1, 2, 3, 4, 5}, order)
  end)

  it("goes round the ready tasks in turn at each yield", function()
    local order = {}
    local ts = {}
    for i = 1, 3 do
      ts[i] = task.spawn(function()
        for _ = 1, 3 do
          order[#order + 1] = i
          task.yield()
        end
      end)
    end
    for i = 1, 3 do ts[i]:join(5) end
    assert.same({1, 2, 3, 1, 2, 3, 1, 2, 3}, order)
  end)

  it("yield lets the others run, then comes back", function()
    local ran = false
    local t = task.spawn(function() ran = true end)
    assert.is_false(ran) -- spawn only queues the task
    task.yield()
    assert.is_true(ran)
    t:join(5)
  end)

  it("counts the live spawned tasks", function()
    local n0 = task.count()
    local ev = task.Event()
    local ts = {}
    for i = 1, 3 do ts[i] = task.spawn(function() ev:wait(5) end) end
    assert.equal(n0 + 3, task.count())
    ev:set()
    for i = 1, 3 do ts[i]:join(5) end
    assert.equal(n0, task.count())
  end)

  it("spawns and joins 10,000 tasks in bounded time", function()
    local t0 = task.now()
    local ts = {}
    for i = 1, 10000 do
      ts[i] = task.spawn(function()
        task.yield()
        return i
      end)
    end
    local sum = 0
    for i = 1, 10000 do sum = sum + ts[i]:join(10) end
    assert.equal(10000 * 10001 // 2, sum)
    assert.is_true(task.now() - t0 < 10, "took " .. (task.now() - t0))
  end)
end)

describe("task.now", function()
  it("never goes back, and moves with sleep", function()
    local prev = task.now()
    for _ = 1, 10000 do
      local t = task.now()
      assert.is_true(t >= prev)
      prev = t
    end
    local t0 = task.now()
    task.sleep(0.02)
    assert.is_true(task.now() - t0 >= 0.02)
  end)

  it("is the kernel's CLOCK_MONOTONIC, as Python's time.monotonic()", function()
    local before = task.now()
    local py = tonumber(h.python("import time\nprint(repr(time.monotonic()))"))
    local after = task.now()
    assert.is_true(before <= py and py <= after, before .. " <= " .. py .. " <= " .. after)
  end)
end)

describe("task.current", function()
  it("is the handle spawn returned, and the same object each call", function()
    local t
    t = task.spawn(function() return task.current() == t, task.current() == task.current() end)
    local same, stable = t:join(5)
    assert.is_true(same)
    assert.is_true(stable)
  end)

  it("tells tasks apart, the main one included", function()
    local main = task.current()
    assert.equal(main, task.current())
    local a = task.spawn(function() return task.current() end)
    local b = task.spawn(function() return task.current() end)
    local ha, hb = a:join(5), b:join(5)
    assert.equal(a, ha)
    assert.equal(b, hb)
    assert.not_equal(ha, hb)
    assert.not_equal(main, ha)
  end)
end)

describe("blocking inside Lua constructs", function()
  it("works under pcall and xpcall", function()
    local t = task.spawn(function()
      local ok1 = pcall(task.sleep, 0.01)
      local ev = task.Event()
      local ok2, r2 = xpcall(ev.wait, debug.traceback, ev, 0.01)
      local ok3, e3 = pcall(function()
        task.sleep(0.01)
        error("after the park")
      end)
      task.sleep(0.01) -- still a task that can block
      return ok1, ok2, r2, ok3, e3
    end)
    local ok1, ok2, r2, ok3, e3 = t:join(5)
    assert.is_true(ok1)
    assert.is_true(ok2)
    assert.is_false(r2)
    assert.is_false(ok3)
    assert.matches("after the park$", e3)
  end)

  it("catches a join's error with pcall while the task blocks", function()
    local failing = task.spawn(function()
      task.sleep(0.01)
      error("late")
    end)
    local t = task.spawn(function() return pcall(failing.join, failing, 5) end)
    local ok, err = t:join(5)
    assert.is_false(ok)
    assert.matches("late$", err)
  end)

  it("works inside coroutine.wrap", function()
    local ev = task.Event()
    local t = task.spawn(function()
      local gen = coroutine.wrap(function()
        task.sleep(0.01)
        coroutine.yield("first")
        ev:wait(5)
        return "second"
      end)
      return gen(), gen()
    end)
    task.sleep(0.03)
    ev:set()
    assert.same({"first", "second"}, {t:join(5)})
  end)

  it("works inside coroutine.resume, nested", function()
    local t = task.spawn(function()
      local inner = coroutine.create(function()
        task.sleep(0.01)
        coroutine.yield(1)
        task.sleep(0.01)
        return 2
      end)
      local outer = coroutine.create(function()
        local _, a = coroutine.resume(inner)
        task.sleep(0.01)
        coroutine.yield(a)
        local _, b = coroutine.resume(inner)
        return b
      end)
      local r1 = {coroutine.resume(outer)}
      local r2 = {coroutine.resume(outer)}
      return r1, r2, coroutine.status(outer), coroutine.status(inner)
    end)
    local r1, r2, s1, s2 = t:join(5)
    assert.same({true, 1}, r1)
    assert.same({true, 2}, r2)
    assert.equal("dead", s1)
    assert.equal("dead", s2)
  end)

  it("lets a coroutine's error out through coroutine.wrap", function()
    local t = task.spawn(function()
      local f = coroutine.wrap(function()
        task.sleep(0.01)
        error({code = 7})
      end)
      local ok, err = pcall(f)
      return ok, err.code
    end)
    local ok, code = t:join(5)
    assert.is_false(ok)
    assert.equal(7, code)
  end)
end)

describe("the process", function()
  it("reports an uncaught error in a task on stderr and goes on", function()
    local out, err, rc = h.moonsock_script([[
local task = require "task"
local t = task.spawn(function() task.sleep(0.01) error("boom in a task") end)
task.sleep(0.1)
print("main goes on", t:done())
]])
    assert.equal("main goes on\ttrue\n", out)
    assert.matches("boom in a task", err)
    assert.matches("stack traceback", err)
    assert.equal(0, rc)
  end)

  it("waits for its non-daemon tasks, not for daemon ones", function()
    local t0 = task.now()
    local out, _, rc = h.moonsock_script([[
local task = require "task"
task.spawn(function() task.sleep(0.1) print("worker done") end)
task.spawn_daemon(function() task.sleep(30) print("daemon done") end)
local d = task.spawn(function() task.sleep(30) print("late daemon done") end)
d:setdaemon(true)
print("main done", d:isdaemon())
]])
    assert.equal("main done\ttrue\nworker done\n", out)
    assert.equal(0, rc)
    assert.is_true(task.now() - t0 < 10)
  end)

  it("raises a deadlock error in a main task that waits for nothing", function()
    local t0 = task.now()
    local out, err, rc = h.moonsock_script([[
local task = require "task"
local ok = pcall(task.Event().wait, task.Event()) -- caught: the loop still runs
print("caught", ok)
task.Event():wait()
print("not reached")
]])
    assert.equal("caught\tfalse\n", out)
    assert.matches("deadlock", err)
    assert.equal(1, rc)
    assert.is_true(task.now() - t0 < 10)
  end)

  it("exits 1 with the traceback when the main task fails", function()
    local out, err, rc = h.moonsock_script([[
print("before")
error("main failed")
]])
    assert.equal("before\n", out)
    assert.matches("main failed", err)
    assert.matches("stack traceback", err)
    assert.equal(1, rc)
  end)
end)
