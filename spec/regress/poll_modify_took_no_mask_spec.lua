-- poll.modify(fd, eventmask) and epoll.modify(fd, eventmask) need the new
-- mask; without it they took register's default (POLLIN | POLLPRI |
-- POLLOUT) and said nothing. Python raises TypeError.
local select = require "select"
local socket = require "socket"
local h = require "spec.support.helpers"

describe("modify without an eventmask", function()
  it("is an argument error, as Python's TypeError", function()
    local py = h.python([[
import select, socket
a, b = socket.socketpair()
for p in (select.poll(), select.epoll()):
    p.register(a)
    try:
        p.modify(a)
        print('accepted')
    except TypeError:
        print('TypeError')
]])
    assert.are.equal("TypeError\nTypeError\n", py)
    local a, b = socket.socketpair()
    local _ <close> = a
    local _ <close> = b
    local p = select.poll()
    p:register(a)
    local ep <close> = select.epoll()
    ep:register(a)
    for _, obj in ipairs {p, ep} do
      local ok, err = pcall(function() return obj:modify(a) end)
      assert.is_false(ok)
      assert.matches("bad argument #2 to 'modify'", err, 1, true)
    end
  end)
end)
