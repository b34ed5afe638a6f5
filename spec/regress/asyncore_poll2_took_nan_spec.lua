-- asyncore.poll2(timeout) converts the timeout to milliseconds first in
-- Python (int(timeout * 1000)), so NaN is a ValueError and math.huge an
-- OverflowError even with nothing to watch; moonsock took both. With
-- channels to watch, poll and poll2 sent math.huge on to select and poll,
-- which took it (a wait without end when nothing is ready).
local asyncore = require "asyncore"
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"

describe("asyncore's timeouts", function()
  it("refuse NaN and math.huge as Python does", function()
    local py = h.python([[
import warnings
warnings.simplefilter('ignore')
import asyncore
for t in (float('nan'), float('inf')):
    try:
        asyncore.poll2(t, {})
        print('accepted')
    except (ValueError, OverflowError) as e:
        print(type(e).__name__)
]])
    assert.are.equal("ValueError\nOverflowError\n", py)
    for _, t in ipairs {0 / 0, math.huge} do
      local ok, err = pcall(asyncore.poll2, t, {})
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'poll2'", err, 1, true)
    end
    local a, b = socket.socketpair()
    local _ <close> = a
    local _ <close> = b
    local map = {}
    asyncore.dispatcher(a, map)
    for _, f in ipairs {asyncore.poll, asyncore.poll2} do
      local t = task.spawn(function() return pcall(f, math.huge, map) end)
      local joined, called = pcall(t.join, t, 2)
      t:cancel()
      assert.is_true(joined, "waited")
      assert.is_false(called)
    end
  end)
end)
