-- select.select and poll() attach a waiter to every fd and then park. When
-- the park itself raised (a cancel pending for the task, a SIGINT for the
-- main task, a context that cannot yield), the waiters stayed attached: the
-- next time one of those fds became ready it woke the task out of whatever
-- it was doing then (a task.sleep(0.5) ended after 0.1 s), and the poll
-- object kept its busy flag for good ("concurrent poll() invocation" on
-- every later call). The waiters now live in a to-be-closed slot, so any
-- way out of the call unlinks them and gives the busy flag back.
local select = require "select"
local socket = require "socket"
local task = require "task"

describe("a select or poll() whose park raises", function()
  it("leaves no waiter behind to cut a later sleep short", function()
    local a, b = socket.socketpair()
    local result = {}
    local t = task.spawn(function()
      task.current():cancel()
      local ok, err = pcall(select.select, {a}, {}, {}, 5)
      result.cancelled = not ok and task.Cancelled:matches(err)
      local t0 = task.now()
      task.sleep(0.5)
      result.slept = task.now() - t0
    end)
    task.sleep(0.1)
    b:send("x")
    t:join(5)
    assert.is_true(result.cancelled)
    assert.is_true(result.slept >= 0.45, "slept " .. result.slept)
    a:close()
    b:close()
  end)

  it("gives the poll object back", function()
    local a, b = socket.socketpair()
    local p = select.poll()
    p:register(a, select.POLLIN)
    local t = task.spawn(function()
      task.current():cancel()
      return pcall(p.poll, p, 5000)
    end)
    local ok, err = t:join(5)
    assert.is_false(ok)
    assert.is_true(task.Cancelled:matches(err))
    assert.are.equal(0, #p:poll(0))
    a:close()
    b:close()
  end)
end)
