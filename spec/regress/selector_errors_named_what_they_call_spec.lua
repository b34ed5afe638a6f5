-- A selector passed an fd past a C int on to poll/epoll, whose error named
-- itself and its own argument through pcall: "bad argument #2 to '?' (fd
-- is greater than maximum)". select(math.huge) waited for ever (poll()
-- milliseconds of math.huge); Python raises OverflowError for both.
local selectors = require "selectors"
local task = require "task"
local h = require "spec.support.helpers"

describe("a selector's out-of-range arguments", function()
  it("are the selector's argument errors", function()
    local py = h.python([[
import selectors
for name in ('PollSelector', 'EpollSelector'):
    sel = getattr(selectors, name)()
    for f in (lambda: sel.register(2**40, 1), lambda: sel.select(float('inf'))):
        try:
            f()
            print('accepted')
        except OverflowError:
            print('OverflowError')
]])
    assert.are.equal(("OverflowError\n"):rep(4), py)
    for _, name in ipairs {"PollSelector", "EpollSelector", "SelectSelector"} do
      local sel <close> = selectors[name]()
      local ok, err = pcall(sel.register, sel, 1 << 40, 1)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'register' (fd is greater than maximum)", err, 1, true)
      local t = task.spawn(function() return pcall(sel.select, sel, math.huge) end)
      local joined, called, serr = pcall(t.join, t, 2)
      t:cancel()
      assert.is_true(joined, name .. ":select waited")
      assert.is_false(called)
      assert.matches("bad argument #1 to 'select' (timestamp out of range for platform time_t)", serr, 1, true)
    end
  end)
end)
