-- The task handle methods written in Lua (join, cancel, done, status,
-- cancelled, setdaemon, isdaemon) looked the handle up in a table where a
-- wrong self was simply missing: cancelled(nil) answered false, join({})
-- raised "cannot join the main task", done({}) blamed 'status'. They say
-- "bad self" now, as the C methods of a handle do.
local task = require "task"

describe("task handle methods", function()
  it("say 'bad self' for something that is no handle", function()
    local t = task.spawn(function() end)
    t:join(2)
    for _, name in ipairs {"join", "cancel", "done", "status", "cancelled", "setdaemon", "isdaemon"} do
      for _, bad in ipairs {{}, "x", false} do
        local ok, err = pcall(t[name], bad)
        assert.is_false(ok, name)
        assert.matches("calling '" .. name .. "' on bad self", err, 1, true)
      end
    end
  end)
end)
