-- recv with MSG_DONTWAIT on a socket with a timeout raised BlockingIOError
-- at once; Python waits out the timeout and raises TimeoutError.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("MSG_DONTWAIT on a socket with a timeout", function()
  it("waits out the timeout as Python does", function()
    local py = h.python([[
import socket
a, b = socket.socketpair(); b.settimeout(0.05)
try: b.recv(1, socket.MSG_DONTWAIT)
except OSError as e: print(type(e).__name__, e)]])
    local a, b = socket.socketpair()
    b:settimeout(0.05)
    local ok, err = pcall(b.recv, b, 1, socket.MSG_DONTWAIT)
    assert.is_false(ok)
    assert.are.equal(py, getmetatable(err).__name .. " " .. tostring(err) .. "\n")
    a:close(); b:close()
  end)
end)
