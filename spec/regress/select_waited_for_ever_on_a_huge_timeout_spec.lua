-- select.select, poll.poll and epoll.poll took any timeout: math.huge (or
-- 2^63 seconds) waited for ever, where Python raises OverflowError (its
-- clock counts 64-bit nanoseconds). With nothing to wait for, the call
-- never returned. They are argument errors now, as NaN already was.
local select = require "select"
local task = require "task"
local h = require "spec.support.helpers"

describe("a timeout past the clock's range", function()
  it("is refused by select, poll and epoll, as Python refuses it", function()
    local py = h.python([[
import select
for f in (lambda: select.select([], [], [], float('inf')), lambda: select.poll().poll(float('inf')),
          lambda: select.epoll().poll(float('inf')), lambda: select.poll().poll(-2**63)):
    try:
        f()
        print('accepted')
    except OverflowError:
        print('OverflowError')
]])
    assert.are.equal(("OverflowError\n"):rep(4), py)
    local ep <close> = select.epoll()
    local calls = {
      function() return select.select({}, {}, {}, math.huge) end,
      function() return select.poll():poll(math.huge) end,
      function() return ep:poll(math.huge) end,
      function() return select.poll():poll(math.mininteger) end,
      function() return ep:poll(2 ^ 63) end,
    }
    for i, f in ipairs(calls) do
      -- a call that would wait for ever ends with the join's timeout
      local t = task.spawn(function() return pcall(f) end)
      local ok, called, err = pcall(t.join, t, 2)
      t:cancel()
      assert.is_true(ok, "call " .. i .. " did not return")
      assert.is_false(called, "call " .. i .. " was accepted")
      -- Python's OverflowError text: a float's range, or an int's
      -- nanoseconds (math.mininteger) overflowing
      assert.matches(i == 4 and "timestamp too large to convert to C _PyTime_t"
        or "timestamp out of range for platform time_t", err, 1, true)
    end
  end)
end)
