-- select.EPOLLET is 1 << 31. The constants table held ints, so it became
-- -2147483648, and epoll.register(fd, EPOLLIN | EPOLLET) was refused with
-- "eventmask out of range": no edge-triggered epoll at all. The constants
-- are now Lua integers with <sys/epoll.h>'s unsigned values, as in Python.
local select = require "select"
local socket = require "socket"
local h = require "spec.support.helpers"

describe("select.EPOLLET", function()
  it("has Python's value and registers", function()
    assert.are.equal(h.python("import select; print(select.EPOLLET)"), select.EPOLLET .. "\n")
    local a, b = socket.socketpair()
    local ep = select.epoll()
    ep:register(a, select.EPOLLIN | select.EPOLLET)
    b:send("x")
    assert.are.equal(1, #ep:poll(0))
    assert.are.equal(0, #ep:poll(0)) -- edge-triggered: reported once
    ep:close()
    a:close()
    b:close()
  end)
end)
