-- libuv reports POLLERR to a uv_poll callback as UV_EBADF. The io layer took
-- that for "the socket was closed under the task", so a refused non-blocking
-- connect raised [Errno 9] Bad file descriptor instead of [Errno 111]
-- Connection refused. Closing now has its own status (MS_IO_CLOSED) and a
-- poll error only wakes the task to retry its syscall.
local socket = require "socket"

describe("a refused connect", function()
  it("raises ECONNREFUSED, not EBADF", function()
    local probe = socket.socket()
    probe:bind({"127.0.0.1", 0})
    local addr = probe:getsockname()
    probe:close()
    local s = socket.socket()
    local ok, err = pcall(s.connect, s, addr)
    assert.is_false(ok)
    assert.are.equal(111, err.errno)
    assert.are.equal("[Errno 111] Connection refused", tostring(err))
    s:close()
  end)
end)
