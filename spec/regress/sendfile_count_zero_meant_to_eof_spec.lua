-- sendfile took count 0 (and -1) as "to the end of the file"; Python raises
-- ValueError: count must be a positive integer (got 0).
local socket = require "socket"
local h = require "spec.support.helpers"

describe("sendfile's count", function()
  it("must be positive, with Python's message", function()
    local py = h.python([[
import socket
a, b = socket.socketpair()
for c in (0, -1):
    try: a.sendfile(open('/dev/null', 'rb'), 0, c)
    except ValueError as e: print(e)]])
    local a, b = socket.socketpair()
    local f = assert(io.open("/dev/null", "rb"))
    local out = {}
    for _, c in ipairs {0, -1} do
      local ok, err = pcall(function() local n = a:sendfile(f, 0, c) return n end)
      assert.is_false(ok)
      out[#out + 1] = tostring(err):match("%((count must be a positive integer %(got %-?%d+%))%)$")
    end
    assert.are.equal(py, table.concat(out, "\n") .. "\n")
    f:close(); a:close(); b:close()
  end)
end)
