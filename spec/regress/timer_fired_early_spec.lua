-- A 0.3 s sleep lasted 0.29952 s: libuv's loop clock counts whole
-- milliseconds, truncated, so a timer could fire up to 1 ms early by the
-- monotonic clock. Python's waits last at least as long as asked; the
-- scheduler now adds the millisecond.
local task = require "task"
local socket = require "socket"

describe("a timed wait", function()
  it("never ends before its time, at odd fractions of a millisecond", function()
    for i = 1, 30 do
      local want = 0.0031 + i * 0.00037
      local t0 = task.now()
      task.sleep(want)
      local took = task.now() - t0
      assert.is_true(took >= want, string.format("sleep(%.5f) took %.5f", want, took))
    end
    local a, b = socket.socketpair()
    a:settimeout(0.0217)
    local t0 = task.now()
    assert.has_error(function() a:recv(1) end)
    assert.is_true(task.now() - t0 >= 0.0217)
    a:close(); b:close()
  end)
end)
