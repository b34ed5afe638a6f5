-- lua/thread.lua: Python's _thread (Python 2's thread) for the tutorials that
-- use it: start_new_thread(fn, args) runs fn(table.unpack(args)) as a task.
local h = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"
local thread = require "thread"

describe("thread.start_new_thread", function()
  it("runs fn with the args table unpacked, nils and count kept", function()
    local done = thread.allocate_lock()
    done:acquire()
    local got
    thread.start_new_thread(function(...)
      got = table.pack(...)
      done:release()
    end, table.pack("a", nil, 3, nil))
    assert.is_true(done:acquire(true, 5))
    assert.same(table.pack("a", nil, 3, nil), got)
  end)

  it("takes a plain sequence as the args, and an empty one", function()
    local done = thread.allocate_lock()
    done:acquire()
    local got
    thread.start_new_thread(function(...)
      got = {n = select("#", ...), ...}
      done:release()
    end, {1, 2})
    assert.is_true(done:acquire(true, 5))
    assert.same({n = 2, 1, 2}, got)
    done:acquire(false)
    thread.start_new_thread(function(...)
      got = select("#", ...)
      done:release()
    end, {})
    assert.is_true(done:acquire(true, 5))
    assert.equal(0, got)
  end)

  it("returns the ident that get_ident gives inside the thread", function()
    local done = thread.allocate_lock()
    done:acquire()
    local inside
    local ident = thread.start_new_thread(function()
      inside = thread.get_ident()
      done:release()
    end, {})
    assert.is_true(done:acquire(true, 5))
    assert.equal(ident, inside)
    assert.not_equal(thread.get_ident(), inside)
    assert.equal(thread.get_ident(), thread.get_ident())
  end)

  it("runs threads concurrently: two threads echo over a socketpair", function()
    local a, b = socket.socketpair()
    a:settimeout(5)
    b:settimeout(5)
    local done = thread.allocate_lock()
    local replies = {}
    local finished = 0
    local lock = thread.allocate_lock()
    local function finish()
      lock:acquire()
      finished = finished + 1
      if finished == 2 then done:release() end
      lock:release()
    end
    done:acquire()
    -- the echoer answers each line; the talker waits for each answer
    -- before it sends the next, so neither can run to its end alone
    thread.start_new_thread(function(sock, n)
      local f = sock:makefile("rb")
      for _ = 1, n do
        local line = f:readline()
        sock:sendall("echo " .. line)
      end
      f:close()
      finish()
    end, {a, 20})
    thread.start_new_thread(function(sock, n)
      local f = sock:makefile("rb")
      for i = 1, n do
        sock:sendall("line " .. i .. "\n")
        replies[i] = f:readline()
      end
      f:close()
      finish()
    end, {b, 20})
    assert.is_true(done:acquire(true, 10))
    for i = 1, 20 do assert.equal("echo line " .. i .. "\n", replies[i]) end
    a:close()
    b:close()
  end)

  it("names the bad argument, with Python's words where they fit", function()
    local py = h.python([[
import _thread
try:
    _thread.start_new_thread(42, ())
except TypeError as e:
    print(e)
]])
    assert.has_error(function() thread.start_new_thread(42, {}) end,
                     "bad argument #1 to 'start_new_thread' (" .. py:gsub("\n$", "") .. ")")
    assert.has_error(function() thread.start_new_thread(print, "x") end,
                     "bad argument #2 to 'start_new_thread' (2nd arg must be a table)")
    assert.has_error(function() thread.start_new_thread(print) end,
                     "bad argument #2 to 'start_new_thread' (2nd arg must be a table)")
    assert.has_error(function() thread.start_new_thread(print, {}, {x = 1}) end)
    local ok, err = pcall(thread.start_new_thread, print, {}, {x = 1})
    assert.is_false(ok)
    assert.matches("bad argument #3 to 'start_new_thread'", err)
  end)

  it("reports a thread's uncaught error and goes on, as Python's _thread", function()
    local out, err, rc = h.moonsock_script([[
local thread = require "thread"
local task = require "task"
thread.start_new_thread(function(msg) error(msg) end, {"thread failed here"})
task.sleep(0.05)
print("still running")
]])
    assert.equal("still running\n", out)
    assert.matches("thread failed here", err)
    assert.equal(0, rc)
  end)
end)

describe("thread.allocate_lock", function()
  it("is a lock, as Python's _thread.allocate_lock()", function()
    local l = thread.allocate_lock()
    local py = h.python("import _thread\nl = _thread.allocate_lock()\n" ..
                        "print(l.acquire(), l.acquire(False), l.acquire(True, 0.01), l.locked())\n" ..
                        "l.release()\nprint(l.locked(), l.acquire(True, -1))\nprint(repr(l))")
    local mine = string.format("%s %s %s %s\n", l:acquire(), l:acquire(false), l:acquire(true, 0.01),
                               l:locked())
    l:release()
    mine = mine .. string.format("%s %s\n", l:locked(), l:acquire(true, -1)) .. tostring(l) .. "\n"
    mine = mine:gsub("true", "True"):gsub("false", "False")
    assert.equal(py:gsub("0x%x+", "ADDR"), (mine:gsub("0x%x+", "ADDR")))
  end)

  it("makes a thread wait for another's release", function()
    local l = thread.allocate_lock()
    l:acquire()
    local t0 = task.now()
    thread.start_new_thread(function(s)
      task.sleep(s)
      l:release()
    end, {0.03})
    assert.is_true(l:acquire(true, 5))
    assert.is_true(task.now() - t0 >= 0.03)
  end)
end)
