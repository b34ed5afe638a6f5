-- The methods of task's Lock, RLock, Semaphore, Event, Condition and
-- queues read their fields off self and used whatever was there: a wrong
-- self failed somewhere inside ("attempt to call a nil value (method
-- 'acquire')"), or did not fail at all: Lock.acquire({}) "took" the table
-- and answered true, Event.is_set({}) answered nil. Python's threading and
-- queue types refuse another self (TypeError: descriptor 'acquire' for
-- '_thread.lock' objects doesn't apply to a 'dict' object).
local task = require "task"
local h = require "spec.support.helpers"

describe("the synchronisation objects' methods", function()
  it("refuse a self of another kind, as Python's do", function()
    local py = h.python([[
import threading
try:
    type(threading.Lock()).acquire({})
    print('accepted')
except TypeError:
    print('TypeError')
]])
    assert.are.equal("TypeError\n", py)
    local objs = {
      {task.Lock(), "acquire"}, {task.Lock(), "locked"}, {task.RLock(), "acquire"}, {task.Semaphore(), "release"},
      {task.Event(), "is_set"}, {task.Event(), "clear"}, {task.Condition(), "notify_all"}, {task.Queue(), "qsize"},
      {task.LifoQueue(), "put_nowait"}, {task.SimpleQueue(), "empty"}, {task.Lock(), "with"},
    }
    for _, o in ipairs(objs) do
      for _, bad in ipairs {{}, "x", false} do
        local ok, err = pcall(o[1][o[2]], bad, function() end)
        assert.is_false(ok, o[2])
        assert.matches("calling '" .. o[2] .. "' on bad self", err, 1, true)
      end
    end
    -- another class's object is no better
    local ok, err = pcall(task.Lock().acquire, task.Event())
    assert.is_false(ok)
    assert.matches("calling 'acquire' on bad self (lock expected, got Event)", err, 1, true)
  end)
end)
