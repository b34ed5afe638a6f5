-- The synchronisation objects of lua/moonsock/sync.lua, as the task module
-- has them. What a single thread of Python can observe (return values,
-- counts, orders, error classes and messages) is checked against
-- CPython's threading and queue: the same calls are written once and made
-- on both sides. What needs several tasks (waking, FIFO turns, timeouts,
-- cancels) is checked here against Python's documented meaning.
local h = require "spec.support.helpers"
local repr = require "moonsock.repr"
local task = require "task"

-- ---- running the same calls in Lua and in Python ----

local function pylit(v)
  if v == nil then return "None" end
  if v == true then return "True" end
  if v == false then return "False" end
  if type(v) == "string" then return repr.repr(v) end
  if type(v) == "number" then return repr.repr(v) end
  assert(getmetatable(v) == repr.tuple_mt, "no Python literal for " .. tostring(v))
  return repr.repr(v)
end

-- An outcome as text both sides print alike: repr of the value, or
-- "Class: message". A Lua "bad argument" error stands for Python's
-- ValueError/TypeError about an argument: "ArgumentError: message".
local function lua_outcome(ok, ...)
  if ok then
    local n = select("#", ...)
    if n == 0 then return "None" end
    return repr.repr((...))
  end
  local err = ...
  if type(err) == "string" then
    local msg = err:match("bad argument #%d+ to '[^']+' %((.*)%)$")
    return msg and "ArgumentError: " .. msg or "error: " .. err
  end
  return (getmetatable(err) or {}).__name .. ": " .. tostring(err)
end

-- ops: {method, args...} or {method, args..., arg = true} when Python's
-- ValueError is about an argument (Lua raises "bad argument"), or
-- {lua = function(o) end, py = "expression on o"} for what a list of
-- literals cannot say.
local function run_both(lua_ctor, py_ctor, ops)
  local o = lua_ctor()
  local lua_lines, py = {}, {
    "import threading, queue",
    "o = " .. py_ctor,
    "def run(f, arg):",
    "    try:",
    "        print(repr(f()))",
    "    except Exception as e:",
    "        name = type(e).__name__",
    "        if arg and name in ('ValueError', 'TypeError'): name = 'ArgumentError'",
    "        print(name + ': ' + str(e))",
  }
  for _, op in ipairs(ops) do
    if op.lua then
      lua_lines[#lua_lines + 1] = lua_outcome(pcall(op.lua, o))
      py[#py + 1] = "run(lambda: " .. op.py .. ", " .. pylit(op.arg or false) .. ")"
    else
      local args, pyargs = {}, {}
      for i = 2, #op do
        args[#args + 1] = op[i]
        pyargs[#pyargs + 1] = pylit(op[i])
      end
      lua_lines[#lua_lines + 1] = lua_outcome(pcall(o[op[1]], o, table.unpack(args)))
      py[#py + 1] = string.format("run(lambda: o.%s(%s), %s)", op[1], table.concat(pyargs, ", "),
                                  pylit(op.arg or false))
    end
  end
  local expected = h.python(table.concat(py, "\n") .. "\n")
  assert.equal(expected, table.concat(lua_lines, "\n") .. "\n")
end

-- ---- helpers for the tests with tasks ----

local function busy(s)
  local stop = task.now() + s
  while task.now() < stop do end
end

-- Lets t's wait time out without letting t run: the timer fires in a turn
-- of the loop where we are queued ahead of t, so we see t ready to run.
local function timed_out_not_run(t, timeout)
  busy(timeout + 0.02)
  for _ = 1, 100 do
    task.yield()
    if t:status() == "ready" then return end
  end
  error("the timer of the task did not fire")
end

local function elapsed(fn, ...)
  local t0 = task.now()
  local r = table.pack(fn(...))
  return task.now() - t0, table.unpack(r, 1, r.n)
end

-- Runs fn in n tasks that wait on the same object; they park in order 1..n.
local function waiters(n, fn)
  local ts = {}
  for i = 1, n do
    ts[i] = task.spawn(fn, i)
    task.yield()
  end
  return ts
end

local function join_all(ts)
  local r = {}
  for i, t in ipairs(ts) do r[i] = t:join(5) end
  return r
end

-- ---- Lock ----

describe("task.Lock", function()
  it("acquires, refuses, releases as Python's Lock", function()
    run_both(task.Lock, "threading.Lock()", {
      {"locked"}, {"acquire"}, {"locked"}, {"acquire", false}, {"acquire", true, 0.01},
      {"acquire", false, -1}, {"release"}, {"locked"}, {"release"},
      {"acquire", true, 0}, {"acquire", true, 0}, {"release"},
      {"acquire", false, 1, arg = true}, {"acquire", true, -2, arg = true},
      {"acquire", true, -0.5, arg = true}, {"acquire", true, -1}, {"release"},
    })
  end)

  it("raises RuntimeError on a release of an unlocked lock", function()
    local ok, err = pcall(task.Lock().release, task.Lock())
    assert.is_false(ok)
    assert.equal("RuntimeError", getmetatable(err).__name)
    assert.equal("release unlocked lock", tostring(err))
  end)

  it("names a bad argument", function()
    local l = task.Lock()
    assert.has_error(function() l:acquire("yes") end,
                     "bad argument #1 to 'acquire' (boolean expected, got string)")
    assert.has_error(function() l:acquire(true, "1") end,
                     "bad argument #2 to 'acquire' (number expected, got string)")
    assert.has_error(function() l:acquire(true, 0 / 0) end,
                     "bad argument #2 to 'acquire' (timeout is NaN)")
    assert.has_error(function() l:with(42) end, "bad argument #1 to 'with' (function expected, got number)")
    assert.is_false(l:locked())
  end)

  it("waits for the holder's release, and a timeout of -1 waits forever", function()
    local l = task.Lock()
    l:acquire()
    local t = task.spawn(function() return l:acquire(true, -1), l:locked() end)
    task.sleep(0.03)
    assert.equal("parked", t:status())
    l:release()
    assert.same({true, true}, {t:join(5)})
  end)

  it("gives up after the timeout", function()
    local l = task.Lock()
    l:acquire()
    local took, got = elapsed(l.acquire, l, true, 0.05)
    assert.is_false(got)
    assert.is_true(took >= 0.05 and took < 0.5, "took " .. took)
    assert.is_true(l:locked())
  end)

  it("serves waiters first come, first served", function()
    local l = task.Lock()
    l:acquire()
    local order = {}
    local ts = waiters(5, function(i)
      l:acquire()
      order[#order + 1] = i
      task.yield()
      l:release()
    end)
    l:release()
    join_all(ts)
    assert.same({1, 2, 3, 4, 5}, order)
  end)

  it("hands the lock to the waiter: a newcomer cannot take it", function()
    local l = task.Lock()
    l:acquire()
    local t = task.spawn(function() return l:acquire(true, 5) end)
    task.yield()
    l:release()
    assert.is_true(l:locked()) -- it belongs to the woken waiter already
    assert.is_false(l:acquire(false))
    assert.is_true(t:join(5))
  end)

  it("lets a release win over a timeout that fired before the waiter ran", function()
    local l = task.Lock()
    l:acquire()
    local t = task.spawn(function() return l:acquire(true, 0.01) end)
    task.yield() -- t parks
    timed_out_not_run(t, 0.01)
    l:release()
    assert.is_true(t:join(5))
    assert.is_true(l:locked())
  end)

  it("passes the lock on when the waiter it was handed to is cancelled", function()
    local l = task.Lock()
    l:acquire()
    local a = task.spawn(function() return l:acquire() end)
    local b = task.spawn(function()
      local got = l:acquire(true, 5)
      l:release()
      return got
    end)
    task.yield()
    a:cancel() -- a is woken for the cancel ...
    l:release() -- ... and handed the lock before it runs
    local ok, err = pcall(a.join, a, 5)
    assert.is_false(ok)
    assert.is_true(task.Cancelled:matches(err))
    assert.is_true(b:join(5))
    assert.is_false(l:locked())
  end)

  it("never wakes a waiter that timed out", function()
    local l = task.Lock()
    l:acquire()
    local ev = task.Event()
    local t = task.spawn(function()
      local got = l:acquire(true, 0.01)
      -- a later release must not end this unrelated wait
      local took, set = elapsed(ev.wait, ev, 0.1)
      return got, took, set
    end)
    task.sleep(0.03)
    l:release()
    local got, took, set = t:join(5)
    assert.is_false(got)
    assert.is_false(set)
    assert.is_true(took >= 0.1, "woken after " .. took)
    assert.is_false(l:locked())
  end)

  it("holds the lock while with() runs, and lets it go on error", function()
    local l = task.Lock()
    assert.same({true, "a", "b"}, {l:with(function(x, y) return l:locked(), x, y end, "a", "b")})
    assert.is_false(l:locked())
    local e = {}
    local ok, err = pcall(l.with, l, function() error(e) end)
    assert.is_false(ok)
    assert.equal(e, err)
    assert.is_false(l:locked())
  end)

  it("is released by <close> at the end of the block", function()
    local l = task.Lock()
    do
      l:acquire()
      local _ <close> = l
      assert.is_true(l:locked())
    end
    assert.is_false(l:locked())
    local ok = pcall(function()
      l:acquire()
      local _ <close> = l
      error("inside")
    end)
    assert.is_false(ok)
    assert.is_false(l:locked())
  end)

  it("prints as Python's lock does", function()
    local l = task.Lock()
    local shape = "^<unlocked _thread%.lock object at 0x%x+>$"
    assert.matches(shape, (h.python("import threading\nprint(repr(threading.Lock()))"):gsub("\n$", "")))
    assert.matches(shape, tostring(l))
    l:acquire()
    assert.matches("^<locked _thread%.lock object at 0x%x+>$", tostring(l))
  end)

  it("works outside any task, running the loop while it waits", function()
    local out, err, rc = h.run(h.shell_quote(h.moonsock) .. " -e " .. h.shell_quote([[
local task = require "task"
local l = task.Lock()
l:acquire()
task.spawn(function() task.sleep(0.02) l:release() end)
local t0 = task.now()
local l2 = task.Lock()
task.spawn(function() l2:acquire() task.sleep(0.02) l2:release() end)
print(l:acquire(), task.now() - t0 >= 0.02, l2:acquire(true, 5))
]]))
    assert.equal("", err)
    assert.equal("true\ttrue\ttrue\n", out)
    assert.equal(0, rc)
  end)
end)

-- ---- RLock ----

describe("task.RLock", function()
  it("counts its owner's acquires as Python's RLock", function()
    run_both(task.RLock, "threading.RLock()", {
      {"acquire"}, {"acquire", false}, {"acquire", true, 0.01}, {"release"}, {"release"},
      {"release"}, {"release"}, {"acquire", false, 1, arg = true}, {"acquire", true, -3, arg = true},
      {"acquire", true, -1}, {"release"},
    })
  end)

  it("belongs to one task: others wait, and cannot release it", function()
    local r = task.RLock()
    r:acquire()
    r:acquire()
    local t = task.spawn(function()
      local ok, err = pcall(r.release, r)
      local got = r:acquire(true, 5)
      r:release()
      return ok, tostring(err), got
    end)
    task.sleep(0.01)
    r:release()
    assert.equal("parked", t:status()) -- one level is still held
    r:release()
    local ok, err, got = t:join(5)
    assert.is_false(ok)
    assert.equal("cannot release un-acquired lock", err)
    assert.is_true(got)
    assert.is_false(r:locked())
  end)

  it("times out, and serves waiters in order", function()
    local r = task.RLock()
    r:acquire()
    local timed = task.spawn(function() return elapsed(r.acquire, r, true, 0.05) end)
    local took, got = timed:join(5)
    assert.is_false(got)
    assert.is_true(took >= 0.05 and took < 0.5)
    local order = {}
    local ts = waiters(3, function(i)
      r:with(function()
        r:with(function() order[#order + 1] = i end)
      end)
    end)
    r:release()
    join_all(ts)
    assert.same({1, 2, 3}, order)
  end)

  it("prints as Python's RLock does", function()
    local shape = "^<unlocked _thread%.RLock object owner=0 count=0 at 0x%x+>$"
    assert.matches(shape, (h.python("import threading\nprint(repr(threading.RLock()))"):gsub("\n$", "")))
    local r = task.RLock()
    assert.matches(shape, tostring(r))
    r:acquire()
    r:acquire()
    assert.matches("^<locked _thread%.RLock object owner=%d+ count=2 at 0x%x+>$", tostring(r))
  end)
end)

-- ---- Semaphore, BoundedSemaphore ----

describe("task.Semaphore", function()
  it("counts as Python's Semaphore", function()
    run_both(function() return task.Semaphore(2) end, "threading.Semaphore(2)", {
      {"acquire"}, {"acquire", false}, {"acquire", false}, {"acquire", true, 0.01},
      {"acquire", true, -1}, {"release", 3}, {"acquire", false}, {"acquire", false},
      {"acquire", false}, {"acquire", false}, {"release"}, {"release", 0, arg = true},
      {"release", -2, arg = true}, {"acquire", false, 1, arg = true}, {"acquire", true, 0},
      {"acquire", true, 0},
    })
  end)

  it("checks the initial value as Python does", function()
    run_both(function() return task end, "threading", {
      {lua = function(t) return t.Semaphore(-1) and "made" end,
       py = "threading.Semaphore(-1) and 'made'", arg = true},
      {lua = function(t) return t.BoundedSemaphore(-1) and "made" end,
       py = "threading.BoundedSemaphore(-1) and 'made'", arg = true},
      {lua = function(t) return t.Semaphore(0):acquire(false) end,
       py = "threading.Semaphore(0).acquire(False)"},
      {lua = function(t) return t.Semaphore():acquire(false) end,
       py = "threading.Semaphore().acquire(False)"},
    })
  end)

  it("names a bad argument", function()
    assert.has_error(function() task.Semaphore("2") end,
                     "bad argument #1 to 'Semaphore' (number expected, got string)")
    assert.has_error(function() task.Semaphore(1.5) end,
                     "bad argument #1 to 'Semaphore' (number has no integer representation)")
    assert.has_error(function() task.Semaphore():release("x") end,
                     "bad argument #1 to 'release' (number expected, got string)")
  end)

  it("wakes one waiter per unit released, in order", function()
    local s = task.Semaphore(0)
    local order = {}
    local ts = waiters(4, function(i)
      s:acquire()
      order[#order + 1] = i
    end)
    s:release(2)
    task.sleep(0.01)
    assert.same({1, 2}, order)
    assert.is_false(s:acquire(false)) -- the units went to the waiters
    s:release(2)
    join_all(ts)
    assert.same({1, 2, 3, 4}, order)
  end)

  it("gives up after the timeout", function()
    local s = task.Semaphore(0)
    local took, got = elapsed(s.acquire, s, true, 0.05)
    assert.is_false(got)
    assert.is_true(took >= 0.05 and took < 0.5, "took " .. took)
  end)

  it("passes a unit on when the waiter it was handed to is cancelled", function()
    local s = task.Semaphore(0)
    local a = task.spawn(function() return s:acquire() end)
    local b = task.spawn(function() return s:acquire(true, 5) end)
    task.yield()
    a:cancel()
    s:release()
    assert.has_error(function() a:join(5) end)
    assert.is_true(b:join(5))
    assert.is_false(s:acquire(false))
  end)

  it("bounds a group of tasks with with()", function()
    local s = task.Semaphore(2)
    local inside, most = 0, 0
    local ts = {}
    for i = 1, 6 do
      ts[i] = task.spawn(function()
        s:with(function()
          inside = inside + 1
          most = math.max(most, inside)
          task.sleep(0.01)
          inside = inside - 1
        end)
      end)
    end
    join_all(ts)
    assert.equal(2, most)
    assert.equal(0, inside)
  end)

  it("prints as Python's Semaphore does", function()
    local py = h.python("import threading\nprint(repr(threading.Semaphore(3)))\n" ..
                        "print(repr(threading.BoundedSemaphore(2)))")
    local a, b = py:match("^(.-)\n(.-)\n$")
    local function shape(s) return (s:gsub("0x%x+", "ADDR")) end
    assert.equal(shape(a), shape(tostring(task.Semaphore(3))))
    assert.equal(shape(b), shape(tostring(task.BoundedSemaphore(2))))
  end)
end)

describe("task.BoundedSemaphore", function()
  it("refuses to go above its initial value, as Python's", function()
    run_both(function() return task.BoundedSemaphore(2) end, "threading.BoundedSemaphore(2)", {
      {"release"}, {"acquire"}, {"acquire"}, {"acquire", false}, {"release", 3}, {"release", 2},
      {"release"}, {"acquire"}, {"release"},
    })
  end)

  it("hands units to waiters like Semaphore", function()
    local s = task.BoundedSemaphore(1)
    s:acquire()
    local t = task.spawn(function() return s:acquire(true, 5) end)
    task.yield()
    s:release()
    assert.is_true(t:join(5))
    assert.has_error(function() s:release(2) end)
    s:release()
    assert.is_true(s:acquire(false))
  end)
end)

-- ---- Event ----

describe("task.Event", function()
  it("sets, clears and waits as Python's Event", function()
    run_both(task.Event, "threading.Event()", {
      {"is_set"}, {"wait", 0}, {"wait", -1}, {"wait", 0.01}, {"set"}, {"is_set"}, {"wait"},
      {"wait", 0}, {"wait", -1}, {"clear"}, {"is_set"}, {"wait", 0.01},
    })
  end)

  it("wakes every waiter at set, in order", function()
    local ev = task.Event()
    local order = {}
    local ts = waiters(4, function(i)
      local r = ev:wait()
      order[#order + 1] = i
      return r
    end)
    assert.same({}, order)
    ev:set()
    assert.same({true, true, true, true}, join_all(ts))
    assert.same({1, 2, 3, 4}, order)
  end)

  it("wakes the waiters of a set even if clear came before they ran", function()
    local ev = task.Event()
    local ts = waiters(2, function() return ev:wait(5) end)
    ev:set()
    ev:clear()
    assert.same({true, true}, join_all(ts))
    assert.is_false(ev:is_set())
  end)

  it("returns false after the timeout", function()
    local ev = task.Event()
    local took, r = elapsed(ev.wait, ev, 0.05)
    assert.is_false(r)
    assert.is_true(took >= 0.05 and took < 0.5, "took " .. took)
  end)

  it("names a bad argument", function()
    assert.has_error(function() task.Event():wait("1") end,
                     "bad argument #1 to 'wait' (number expected, got string)")
  end)

  it("works outside any task", function()
    local out, err, rc = h.run(h.shell_quote(h.moonsock) .. " -e " .. h.shell_quote([[
local task = require "task"
local ev = task.Event()
task.spawn(function() task.sleep(0.02) ev:set() end)
print(ev:wait(), ev:wait(0.01))
]]))
    assert.equal("", err)
    assert.equal("true\ttrue\n", out)
    assert.equal(0, rc)
  end)

  it("prints as Python's Event does", function()
    local py = h.python("import threading\ne = threading.Event()\nprint(repr(e))\ne.set()\nprint(repr(e))")
    local ev = task.Event()
    local mine = tostring(ev)
    ev:set()
    mine = mine .. "\n" .. tostring(ev) .. "\n"
    assert.equal(py:gsub("0x%x+", "ADDR"), (mine:gsub("0x%x+", "ADDR")))
  end)
end)

-- ---- Condition ----

describe("task.Condition", function()
  it("checks ownership and timeouts as Python's Condition", function()
    run_both(task.Condition, "threading.Condition()", {
      {"wait", 0.01}, {"notify"}, {"notify_all"}, {"acquire"}, {"acquire"}, {"wait", 0.01},
      {"wait", 0}, {"wait", -1}, {"notify"}, {"notify", 3}, {"notify_all"},
      {lua = function(c) return c:wait_for(function() return 5 end, 0) end,
       py = "o.wait_for(lambda: 5, 0)"},
      {lua = function(c) return c:wait_for(function() return false end, 0.01) end,
       py = "o.wait_for(lambda: False, 0.01)"},
      {lua = function(c) return c:wait_for(function() return nil end, -1) end,
       py = "o.wait_for(lambda: None, -1)"},
      {"release"}, {"release"}, {"release"}, {"wait"}, {"notify"},
    })
  end)

  it("works on a Lock as Python's does", function()
    run_both(function() return task.Condition(task.Lock()) end, "threading.Condition(threading.Lock())", {
      {"wait", 0.01}, {"notify"}, {"acquire"}, {"acquire", false}, {"wait", 0.01}, {"notify"},
      {"release"}, {"release"},
    })
  end)

  it("wakes notify(n) waiters in order, and notify_all the rest", function()
    local c = task.Condition()
    local order = {}
    local ts = waiters(5, function(i)
      return c:with(function()
        local r = c:wait(5)
        order[#order + 1] = i
        return r
      end)
    end)
    c:with(function() c:notify(2) end)
    task.sleep(0.01)
    assert.same({1, 2}, order)
    c:with(function() c:notify_all() end)
    assert.same({true, true, true, true, true}, join_all(ts))
    assert.same({1, 2, 3, 4, 5}, order)
  end)

  it("lets go of the lock while it waits and holds it again after", function()
    local l = task.Lock()
    local c = task.Condition(l)
    local t = task.spawn(function()
      return c:with(function()
        local r = c:wait(5)
        return r, l:locked()
      end)
    end)
    task.yield()
    assert.is_false(l:locked())
    c:acquire()
    c:notify()
    task.sleep(0.01)
    assert.equal("parked", t:status()) -- woken, but waiting for the lock
    c:release()
    assert.same({true, true}, {t:join(5)})
  end)

  it("restores every level of an RLock after the wait", function()
    local r = task.RLock()
    local c = task.Condition(r)
    local t = task.spawn(function()
      r:acquire()
      r:acquire()
      r:acquire()
      c:wait(0.01)
      r:release()
      r:release()
      local still = r:locked()
      r:release()
      return still, r:locked()
    end)
    assert.same({true, false}, {t:join(5)})
  end)

  it("returns false after the timeout, holding the lock", function()
    local c = task.Condition()
    c:acquire()
    local took, r = elapsed(c.wait, c, 0.05)
    assert.is_false(r)
    assert.is_true(took >= 0.05 and took < 0.5, "took " .. took)
    c:release() -- held again: this does not raise
  end)

  it("wait_for returns the predicate's result once it holds", function()
    local c = task.Condition()
    local items = {}
    local t = task.spawn(function()
      return c:with(function()
        return c:wait_for(function() return #items >= 3 and #items end, 5)
      end)
    end)
    for i = 1, 3 do
      task.sleep(0.01)
      c:with(function()
        items[i] = i
        c:notify()
      end)
    end
    assert.equal(3, t:join(5))
  end)

  it("wait_for gives up at its timeout with the predicate's last value", function()
    local c = task.Condition()
    local calls = 0
    local took, r = elapsed(function()
      return c:with(function()
        return c:wait_for(function()
          calls = calls + 1
          return nil
        end, 0.05)
      end)
    end)
    assert.is_nil(r)
    assert.is_true(took >= 0.05 and took < 0.5)
    assert.is_true(calls >= 2)
    assert.has_error(function() c:wait_for("x") end,
                     "bad argument #1 to 'wait_for' (function expected, got string)")
  end)

  it("counts a notify that came with the timeout as a notify", function()
    local c = task.Condition()
    local t = task.spawn(function() return c:with(function() return c:wait(0.01) end) end)
    task.yield()
    timed_out_not_run(t, 0.01)
    c:with(function() c:notify() end)
    assert.is_true(t:join(5))
  end)

  it("passes a notify on when the waiter it reached is cancelled", function()
    local r = task.RLock()
    local c = task.Condition(r)
    local a = task.spawn(function() return c:with(function() return c:wait() end) end)
    local b = task.spawn(function() return c:with(function() return c:wait(5) end) end)
    task.yield()
    a:cancel()
    c:with(function() c:notify() end)
    local ok, err = pcall(a.join, a, 5)
    assert.is_false(ok)
    assert.is_true(task.Cancelled:matches(err))
    assert.is_true(b:join(5))
    assert.is_false(r:locked()) -- a cancelled waiter took the lock back and with() let it go
  end)

  it("holds the lock again when a cancel comes while it waits for the lock", function()
    local l = task.Lock()
    local c = task.Condition(l)
    local t = task.spawn(function()
      c:acquire()
      local ok, err = pcall(c.wait, c, 5)
      local held = l:locked()
      c:release()
      return ok, task.Cancelled:matches(err), held
    end)
    task.yield()
    c:acquire()
    c:notify()
    task.yield()
    t:cancel() -- t is waiting to take the lock back
    task.sleep(0.01)
    c:release()
    assert.same({false, true, true}, {t:join(5)})
    assert.is_false(l:locked())
  end)

  it("names a bad argument", function()
    assert.has_error(function() task.Condition(42) end,
                     "bad argument #1 to 'Condition' (lock expected, got number)")
    local c = task.Condition()
    c:acquire()
    assert.has_error(function() c:wait("1") end,
                     "bad argument #1 to 'wait' (number expected, got string)")
    assert.has_error(function() c:notify("1") end,
                     "bad argument #1 to 'notify' (number expected, got string)")
    c:release()
  end)

  it("prints as Python's Condition does", function()
    local py = h.python("import threading\nprint(repr(threading.Condition()))\n" ..
                        "print(repr(threading.Condition(threading.Lock())))")
    local mine = tostring(task.Condition()) .. "\n" .. tostring(task.Condition(task.Lock())) .. "\n"
    assert.equal(py:gsub("0x%x+", "ADDR"), (mine:gsub("0x%x+", "ADDR")))
  end)
end)

-- ---- Queue, LifoQueue, PriorityQueue ----

local T = repr.tuple

describe("task.Queue", function()
  it("puts, gets and counts as Python's Queue", function()
    run_both(function() return task.Queue(2) end, "queue.Queue(2)", {
      {"empty"}, {"full"}, {"qsize"}, {"get_nowait"}, {"get", false}, {"get", true, 0.01},
      {"get", true, -1, arg = true}, {"put", "a"}, {"put", "b", false}, {"full"}, {"qsize"},
      {"put_nowait", "c"}, {"put", "c", true, 0.01}, {"put", "c", true, -1, arg = true},
      {"put", "c", false, -1}, {"get", true, -1, arg = true}, {"get"}, {"put", "c", true, 0},
      {"get", true, 0}, {"get"}, {"get", false}, {"empty"}, {"task_done"}, {"task_done"},
      {"task_done"}, {"task_done"}, {"task_done"},
    })
  end)

  it("has no bound with a maxsize of 0 or less, as Python's", function()
    run_both(function() return task.Queue(-1) end, "queue.Queue(-1)", {
      {"put", 1}, {"put", 2, false}, {"put", 3, true, -1}, {"full"}, {"qsize"}, {"get"},
      {"get"}, {"get"}, {"empty"},
    })
  end)

  it("raises Empty and Full, which task.Empty and task.Full match", function()
    local q = task.Queue(1)
    local ok, err = pcall(q.get_nowait, q)
    assert.is_false(ok)
    assert.is_true(task.Empty:matches(err))
    assert.is_false(task.Full:matches(err))
    q:put(1)
    local ok2, err2 = pcall(q.put, q, 2, true, 0.01)
    assert.is_false(ok2)
    assert.is_true(task.Full:matches(err2))
    assert.equal(h.python("import queue\nprint(repr(str(queue.Empty())), repr(str(queue.Full())))"),
                 repr.repr(tostring(err)) .. " " .. repr.repr(tostring(err2)) .. "\n")
  end)

  it("names a bad argument", function()
    assert.has_error(function() task.Queue("2") end,
                     "bad argument #1 to 'Queue' (number expected, got string)")
    local q = task.Queue()
    assert.has_error(function() q:get(1) end, "bad argument #1 to 'get' (boolean expected, got number)")
    assert.has_error(function() q:get(true, "1") end,
                     "bad argument #2 to 'get' (number expected, got string)")
    assert.has_error(function() q:put(1, "yes") end,
                     "bad argument #2 to 'put' (boolean expected, got string)")
    assert.has_error(function() q:put(1, true, {}) end,
                     "bad argument #3 to 'put' (number expected, got table)")
  end)

  it("keeps nil items", function()
    local q = task.Queue()
    q:put(nil)
    q:put(false)
    assert.equal(2, q:qsize())
    assert.is_nil(q:get())
    assert.is_false(q:get())
    assert.is_true(q:empty())
  end)

  it("waits for an item, and raises Empty after the timeout", function()
    local q = task.Queue()
    local t = task.spawn(function() return q:get() end)
    task.sleep(0.01)
    assert.equal("parked", t:status())
    q:put("x")
    assert.equal("x", t:join(5))
    local took, ok, err = elapsed(pcall, q.get, q, true, 0.05)
    assert.is_false(ok)
    assert.is_true(task.Empty:matches(err))
    assert.is_true(took >= 0.05 and took < 0.5, "took " .. took)
  end)

  it("waits for a free slot, and raises Full after the timeout", function()
    local q = task.Queue(1)
    q:put(1)
    local t = task.spawn(function() q:put(2) return q:qsize() end)
    task.sleep(0.01)
    assert.equal("parked", t:status())
    assert.equal(1, q:get())
    assert.equal(1, t:join(5))
    local took, ok, err = elapsed(pcall, q.put, q, 3, true, 0.05)
    assert.is_false(ok)
    assert.is_true(task.Full:matches(err))
    assert.is_true(took >= 0.05 and took < 0.5, "took " .. took)
    assert.equal(2, q:get())
  end)

  it("serves getters and putters in the order they came", function()
    local q = task.Queue(1)
    local got = {}
    local getters = waiters(3, function(i) got[i] = q:get() end)
    q:put("a")
    q:put("b")
    q:put("c")
    join_all(getters)
    assert.same({"a", "b", "c"}, got)
    q:put("first")
    local putters = waiters(3, function(i) q:put(i) end)
    local out = {}
    for i = 1, 4 do out[i] = q:get() end
    join_all(putters)
    assert.same({"first", 1, 2, 3}, out)
  end)

  it("keeps a woken getter's item from a newcomer", function()
    local q = task.Queue()
    local t = task.spawn(function() return q:get(true, 5) end)
    task.yield()
    q:put("mine")
    assert.is_true(q:empty())
    assert.has_error(function() q:get_nowait() end)
    assert.equal("mine", t:join(5))
  end)

  it("keeps a woken putter's slot from a newcomer", function()
    local q = task.Queue(1)
    q:put(1)
    local t = task.spawn(function() q:put(2, true, 5) end)
    task.yield()
    assert.equal(1, q:get())
    assert.is_true(q:full()) -- the free slot is the woken putter's
    assert.has_error(function() q:put_nowait(3) end)
    t:join(5)
    assert.same({2, 0}, {q:get(), q:qsize()})
  end)

  it("lets an item win over a timeout that fired before the getter ran", function()
    local q = task.Queue()
    local t = task.spawn(function() return q:get(true, 0.01) end)
    task.yield()
    timed_out_not_run(t, 0.01)
    q:put("late")
    assert.equal("late", t:join(5))
  end)

  it("passes an item on when the getter it went to is cancelled", function()
    local q = task.Queue()
    local a = task.spawn(function() return q:get() end)
    local b = task.spawn(function() return q:get(true, 5) end)
    task.yield()
    a:cancel()
    q:put("item")
    assert.has_error(function() a:join(5) end)
    assert.equal("item", b:join(5))
    assert.is_true(q:empty())
  end)

  it("keeps the item in the queue when its only getter is cancelled", function()
    local q = task.Queue()
    local a = task.spawn(function() return q:get() end)
    task.yield()
    a:cancel()
    q:put("item")
    assert.has_error(function() a:join(5) end)
    assert.equal(1, q:qsize())
    assert.equal("item", q:get_nowait())
  end)

  it("passes a slot on when the putter it went to is cancelled", function()
    local q = task.Queue(1)
    q:put(0)
    local a = task.spawn(function() q:put("a") end)
    local b = task.spawn(function() q:put("b", true, 5) end)
    task.yield()
    a:cancel()
    assert.equal(0, q:get())
    assert.has_error(function() a:join(5) end)
    b:join(5)
    assert.equal("b", q:get_nowait())
    assert.is_true(q:empty())
  end)

  it("moves every item once between producers and consumers, within maxsize", function()
    local q = task.Queue(3)
    local most = 0
    local producers, consumers = {}, {}
    for p = 1, 4 do
      producers[p] = task.spawn(function()
        for i = 1, 100 do
          q:put(p * 1000 + i, true, 5)
          most = math.max(most, q:qsize())
          if i % 7 == 0 then task.yield() end
        end
      end)
    end
    local seen = {}
    for c = 1, 3 do
      consumers[c] = task.spawn(function()
        local n = 0
        while true do
          local item = q:get(true, 5)
          if item == "stop" then
            q:task_done()
            return n
          end
          seen[#seen + 1] = item
          n = n + 1
          q:task_done()
          if item % 5 == 0 then task.sleep(0.001) end
        end
      end)
    end
    join_all(producers)
    for _ = 1, 3 do q:put("stop", true, 5) end
    local counts = join_all(consumers)
    local joined = task.spawn(function() q:join() return true end)
    assert.is_true(joined:join(5))
    assert.equal(400, counts[1] + counts[2] + counts[3])
    assert.is_true(most <= 3)
    -- each producer's items came out in the order it put them
    local last = {}
    for _, item in ipairs(seen) do
      local p = item // 1000
      assert.is_true(item > (last[p] or 0), "out of order: " .. item)
      last[p] = item
    end
    table.sort(seen)
    local want = {}
    for p = 1, 4 do for i = 1, 100 do want[#want + 1] = p * 1000 + i end end
    table.sort(want)
    assert.same(want, seen)
    assert.equal(0, q.unfinished_tasks)
  end)

  it("join waits until task_done was called for every item", function()
    local q = task.Queue()
    for i = 1, 3 do q:put(i) end
    local joined = false
    local j = task.spawn(function()
      q:join()
      joined = true
    end)
    for _ = 1, 3 do
      q:get()
      task.sleep(0.01)
      assert.is_false(joined)
      q:task_done()
    end
    j:join(5)
    assert.is_true(joined)
    local ok, err = pcall(q.task_done, q)
    assert.is_false(ok)
    assert.equal("ValueError", getmetatable(err).__name)
    assert.equal("task_done() called too many times", tostring(err))
  end)

  it("works outside any task", function()
    local out, err, rc = h.run(h.shell_quote(h.moonsock) .. " -e " .. h.shell_quote([[
local task = require "task"
local q = task.Queue(1)
task.spawn(function() for i = 1, 3 do q:put(i) end end)
print(q:get(), q:get(), q:get())
]]))
    assert.equal("", err)
    assert.equal("1\t2\t3\n", out)
    assert.equal(0, rc)
  end)

  it("prints as Python's queues do", function()
    local py = h.python("import queue\nfor c in (queue.Queue, queue.LifoQueue, queue.PriorityQueue):\n" ..
                        "    print(repr(c()))")
    local mine = tostring(task.Queue()) .. "\n" .. tostring(task.LifoQueue()) .. "\n" ..
                 tostring(task.PriorityQueue()) .. "\n"
    assert.equal(py:gsub("0x%x+", "ADDR"), (mine:gsub("0x%x+", "ADDR")))
  end)
end)

describe("task.LifoQueue", function()
  it("gives the last item put first, as Python's", function()
    run_both(function() return task.LifoQueue(3) end, "queue.LifoQueue(3)", {
      {"put", 1}, {"put", 2}, {"put", 3}, {"full"}, {"put_nowait", 4}, {"get"}, {"put", 5},
      {"get"}, {"get"}, {"qsize"}, {"get"}, {"get_nowait"}, {"empty"},
    })
  end)
end)

describe("task.SimpleQueue", function()
  it("is an unbounded FIFO queue, as Python's", function()
    run_both(task.SimpleQueue, "queue.SimpleQueue()", {
      {"empty"}, {"get_nowait"}, {"get", true, 0.01}, {"get", true, -1, arg = true},
      {"put", 1}, {"put", 2, false}, {"put", 3, true, -5}, {"put_nowait", 4}, {"qsize"},
      {"get"}, {"get", false}, {"get", true, 0}, {"get_nowait"}, {"empty"},
    })
    assert.has_error(function() task.SimpleQueue(3) end,
                     "bad argument #1 to 'SimpleQueue' (SimpleQueue() takes no positional arguments)")
    assert.is_nil(task.SimpleQueue().task_done)
    assert.matches("^<_queue%.SimpleQueue object at 0x%x+>$", tostring(task.SimpleQueue()))
  end)

  it("hands items to waiting getters in order", function()
    local q = task.SimpleQueue()
    local got = {}
    local ts = waiters(3, function(i) got[i] = q:get(true, 5) end)
    for i = 1, 3 do q:put(i * 10) end
    join_all(ts)
    assert.same({10, 20, 30}, got)
  end)
end)

describe("task.PriorityQueue", function()
  it("gives the least item first, tables compared as tuples, as Python's", function()
    local items = {T(2, "b"), T(1, "z"), T(3, "a"), T(1, "a"), T(2, "a"), T(1, "m", 0), T(1, "m")}
    local ops = {}
    for _, v in ipairs(items) do ops[#ops + 1] = {"put", v} end
    ops[#ops + 1] = {"qsize"}
    for _ = 1, #items + 1 do ops[#ops + 1] = {"get", false} end
    run_both(task.PriorityQueue, "queue.PriorityQueue()", ops)
  end)

  it("orders as heapq does, equal items included", function()
    -- keys only compare: equal keys come out in heapq's order, not FIFO
    local keys = {5, 1, 5, 3, 1, 5, 2, 3, 1, 4, 5, 2, 1, 3, 2, 4, 4, 1, 5, 3}
    local py = {
      "import queue",
      "class K:",
      "    def __init__(s, k, i): s.k, s.i = k, i",
      "    def __lt__(s, o): return s.k < o.k",
      "q = queue.PriorityQueue()",
      "out = []",
    }
    local mt = {__lt = function(a, b) return a.k < b.k end}
    local q = task.PriorityQueue()
    local got = {}
    for i, k in ipairs(keys) do
      py[#py + 1] = string.format("q.put(K(%d, %d))", k, i)
      q:put(setmetatable({k = k, i = i}, mt))
      if i % 4 == 0 then
        py[#py + 1] = "out.append(q.get().i)"
        got[#got + 1] = q:get().i
      end
    end
    py[#py + 1] = "while not q.empty(): out.append(q.get().i)"
    py[#py + 1] = "print(' '.join(map(str, out)))"
    while not q:empty() do got[#got + 1] = q:get().i end
    assert.equal(h.python(table.concat(py, "\n") .. "\n"), table.concat(got, " ") .. "\n")
  end)

  it("refuses an item that does not compare, and stays whole", function()
    local q = task.PriorityQueue(2)
    q:put(2)
    assert.has_error(function() q:put("two") end)
    assert.equal(1, q:qsize())
    assert.equal(1, q.unfinished_tasks)
    q:put(1)
    assert.same({1, 2}, {q:get(), q:get()})
  end)
end)
