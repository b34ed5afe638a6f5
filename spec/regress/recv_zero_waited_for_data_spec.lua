-- recv(0) on a socket with a timeout waited for data and timed out; Python
-- returns b'' at once. Found while writing docs/api.md.
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"

describe("recv(0)", function()
  it("returns an empty string at once, as Python does", function()
    local py = h.python([[
import socket, time
a, b = socket.socketpair(); b.settimeout(0.3); t = time.time()
print(repr(b.recv(0)), time.time() - t < 0.1)]])
    local a, b = socket.socketpair()
    b:settimeout(0.3)
    local t0 = task.now()
    local data = b:recv(0)
    assert.are.equal(py, string.format("b%s %s\n", data == "" and "''" or data,
      task.now() - t0 < 0.1 and "True" or "False"))
    a:close(); b:close()
  end)
end)
