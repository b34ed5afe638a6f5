-- asynchat.deque's methods read their fields off self: append({}) failed
-- with "attempt to perform arithmetic on a nil value (field '_tail')",
-- clear({}) replaced the table's fields and succeeded. Python's
-- collections.deque refuses another self (TypeError).
local asynchat = require "asynchat"
local h = require "spec.support.helpers"

describe("deque methods", function()
  it("refuse a self that is no deque, as Python's do", function()
    local py = h.python([[
import collections
try:
    collections.deque.clear({})
    print('accepted')
except TypeError:
    print('TypeError')
]])
    assert.are.equal("TypeError\n", py)
    local d = asynchat.deque()
    for _, m in ipairs {"append", "appendleft", "popleft", "clear"} do
      local t = {}
      local ok, err = pcall(d[m], t, 1)
      assert.is_false(ok, m)
      assert.matches("calling '" .. m .. "' on bad self (deque expected, got table)", err, 1, true)
      assert.is_nil(next(t))
    end
  end)
end)
