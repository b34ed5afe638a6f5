-- socketserver's BytesIO and _SocketWriter stand for Python's io types,
-- whose methods refuse another self (TypeError: descriptor 'getvalue' for
-- '_io.BytesIO' objects doesn't apply to a 'dict' object). Here
-- BytesIO.getvalue({}) answered nil and BytesIO.readable({}) true (their
-- check looked only at self.closed), and a closed BytesIO said it was
-- readable and writable, where Python raises ValueError.
local socketserver = require "socketserver"
local socket = require "socket"
local h = require "spec.support.helpers"

describe("BytesIO and the socket writer", function()
  it("refuse another self, as Python's io types", function()
    local py = h.python([[
import io
try:
    io.BytesIO.getvalue({})
    print('accepted')
except TypeError:
    print('TypeError')
b = io.BytesIO(b'x')
b.close()
for f in (b.readable, b.writable):
    try:
        f()
        print('accepted')
    except ValueError:
        print('ValueError')
]])
    assert.are.equal("TypeError\nValueError\nValueError\n", py)
    local bio = socketserver.BytesIO("x")
    for _, m in ipairs {"getvalue", "read", "readline", "lines", "write", "flush", "close", "readable", "writable"} do
      local ok, err = pcall(bio[m], {})
      assert.is_false(ok, m)
      assert.matches("calling '" .. m .. "' on bad self", err, 1, true)
    end
    bio:close()
    assert.is_false(pcall(bio.readable, bio))
    assert.is_false(pcall(bio.writable, bio))
    -- the writer: a StreamRequestHandler's wfile
    local a, b = socket.socketpair()
    local _ <close> = a
    local _ <close> = b
    local handler = socketserver.StreamRequestHandler(a, {"127.0.0.1", 0}, "server")
    local w = handler.wfile
    for _, m in ipairs {"write", "flush", "close", "readable", "writable", "fileno"} do
      local ok, err = pcall(w[m], {})
      assert.is_false(ok, m)
      assert.matches("calling '" .. m .. "' on bad self", err, 1, true)
    end
  end)
end)
