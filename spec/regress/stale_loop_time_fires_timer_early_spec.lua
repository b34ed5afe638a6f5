-- libuv measures a timer from the loop time cached at the top of the loop
-- turn. After a task had run for a while without returning to the loop (here
-- a blocking io.popen), a fresh 50 ms socket timeout fired at once. The
-- scheduler now updates the loop time before it starts a timer.
local socket = require "socket"
local task = require "task"

describe("a timeout started after a long stretch of work", function()
  it("still lasts as long as asked", function()
    local a, b = socket.socketpair()
    a:settimeout(0.05)
    local p = io.popen("sleep 0.2")
    p:read("a")
    p:close()
    local t0 = task.now()
    local ok, err = pcall(a.recv, a, 1)
    local took = task.now() - t0
    assert.is_false(ok)
    assert.is_true(socket.timeout:matches(err))
    assert.is_true(took >= 0.05, "timed out after " .. took)
    a:close(); b:close()
  end)
end)
