-- Event.wait, Condition.wait and the other waits of task's objects took
-- any timeout: math.huge waited for ever. Python refuses a timeout past
-- threading.TIMEOUT_MAX (OverflowError) once it has to wait; moonsock
-- refuses it when called.
local task = require "task"
local h = require "spec.support.helpers"

describe("a timeout past TIMEOUT_MAX", function()
  it("is refused instead of waiting for ever", function()
    local py = h.python([[
import threading
for f in (lambda: threading.Event().wait(float('inf')), lambda: threading.Lock().acquire(True, float('inf'))):
    try:
        f()
        print('accepted')
    except OverflowError:
        print('OverflowError')
print(threading.TIMEOUT_MAX)
]])
    local lines = {}
    for l in py:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.same({"OverflowError", "OverflowError"}, {lines[1], lines[2]})
    local max = tonumber(lines[3])
    local cond = task.Condition()
    local calls = {
      function() return task.Event():wait(math.huge) end,
      function() return task.Lock():acquire(true, math.huge) end,
      function() return task.Event():wait(max + 1) end,
      function()
        cond:acquire()
        local _ <close> = cond
        return cond:wait(math.huge)
      end,
      function() return task.Queue():get(true, math.huge) end,
      function() return task.spawn(task.sleep, 1):join(math.huge) end,
    }
    for i, f in ipairs(calls) do
      local t = task.spawn(function() return pcall(f) end)
      local ok, called, err = pcall(t.join, t, 2)
      t:cancel()
      assert.is_true(ok, "call " .. i .. " waited")
      assert.is_false(called, "call " .. i .. " was accepted")
      assert.matches("timestamp out of range for platform time_t", err, 1, true)
    end
    -- TIMEOUT_MAX itself is a timeout
    assert.is_true(task.Event():wait(0) == false and task.Lock():acquire(true, max))
  end)
end)
