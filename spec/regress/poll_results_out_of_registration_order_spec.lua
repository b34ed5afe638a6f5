-- poll objects kept their fds in a Lua table and polled them in lua_next
-- order, while CPython polls in its dict's order, the order of first
-- registration; the results came out in a different order from Python's
-- (the comment even promised registration order). Also, unregister raised
-- KeyError('5') where Python raises KeyError(5). Both now as in CPython.
local select = require "select"
local socket = require "socket"
local errors = require "moonsock.errors"

describe("poll objects", function()
  it("report fds in the order they were first registered", function()
    local socks = {}
    for i = 1, 8 do socks[i] = socket.socket() end
    local p = select.poll()
    local order = {8, 3, 5, 1, 7, 2, 6, 4}
    for _, i in ipairs(order) do p:register(socks[i], select.POLLOUT) end
    p:register(socks[5], select.POLLOUT) -- registering again keeps the place
    local res = p:poll(0)
    assert.are.equal(8, #res)
    for k, i in ipairs(order) do assert.are.equal(socks[i]:fileno(), res[k][1]) end
    for _, s in ipairs(socks) do s:close() end
  end)

  it("raise KeyError(fd) with the fd as an integer", function()
    local p = select.poll()
    local ok, err = pcall(p.unregister, p, 12345)
    assert.is_false(ok)
    assert.is_true(errors.KeyError:matches(err))
    assert.are.equal(12345, err.args[1])
    assert.are.equal("12345", tostring(err))
  end)
end)
