-- connect_ex returns the errno of a failed connect instead of raising it;
-- on a closed socket Python's connect(2) on fd -1 fails with EBADF, which
-- connect_ex returns (9). moonsock raised OSError [Errno 9] instead, as the
-- other methods of a closed socket do.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("connect_ex on a closed socket", function()
  it("returns EBADF as Python does", function()
    local py = h.python([[
import socket
s = socket.socket()
s.close()
print(s.connect_ex(('127.0.0.1', 9)))
]])
    local s = socket.socket()
    s:close()
    assert.are.equal(tonumber(py), s:connect_ex({"127.0.0.1", 9}))
  end)
end)
