-- Python converts fds, sizehint and flags to C ints first (OverflowError
-- beyond). select.epoll(2^40) was accepted, epoll(-1, 2^40) failed in
-- epoll_create1 with EINVAL, and poll:register(math.mininteger) said
-- "file descriptor cannot be a negative integer", a ValueError: they are
-- argument errors now, as the other out-of-range integers of select are.
local select = require "select"
local h = require "spec.support.helpers"

describe("select's integers past a C int", function()
  it("are argument errors, where Python raises OverflowError", function()
    local py = h.python([[
import select
for f in (lambda: select.epoll(2**40), lambda: select.epoll(-1, 2**40), lambda: select.poll().register(-2**63)):
    try:
        f()
        print('accepted')
    except OverflowError:
        print('OverflowError')
]])
    assert.are.equal(("OverflowError\n"):rep(3), py)
    local calls = {
      {function() return select.epoll(1 << 40) end, "bad argument #1 to 'epoll'"},
      {function() return select.epoll(-1, 1 << 40) end, "bad argument #2 to 'epoll'"},
      {function() return select.poll():register(math.mininteger) end, "bad argument #1 to 'register'"},
    }
    for _, c in ipairs(calls) do
      local ok, err = pcall(c[1])
      if ok and err then err:close() end
      assert.is_false(ok)
      assert.matches(c[2], tostring(err), 1, true)
    end
  end)
end)
