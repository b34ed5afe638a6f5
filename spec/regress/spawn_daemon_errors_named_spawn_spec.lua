-- task.spawn_daemon(fn) checked fn by calling task.spawn, so its error
-- named the other function: "bad argument #1 to 'spawn'".
local task = require "task"

describe("task.spawn_daemon", function()
  it("names itself when fn is no function", function()
    local ok, err = pcall(task.spawn_daemon, 1)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'spawn_daemon' (function expected, got number)", err, 1, true)
  end)
end)
