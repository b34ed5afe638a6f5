-- DatagramRequestHandler's setup unpacks the request as Python does
-- (self.packet, self.socket = self.request), but read request[1] and
-- request[2] of anything: a string or an empty table gave a nil socket and
-- failed later with "attempt to index a nil value (field 'socket')". It
-- raises Python's errors now (ValueError: not enough values to unpack,
-- TypeError for something that does not unpack).
local socketserver = require "socketserver"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

describe("DatagramRequestHandler's request", function()
  it("is unpacked as Python unpacks it", function()
    local py = h.python([[
import socketserver
for req in ('x', (), 'xyz', 1):
    try:
        socketserver.DatagramRequestHandler(req, ('127.0.0.1', 0), None)
    except Exception as e:
        print(type(e).__name__, e)
]])
    local out = {}
    for _, req in ipairs {"x", {}, "xyz", 1} do
      local ok, err = pcall(socketserver.DatagramRequestHandler, req, {"127.0.0.1", 0}, "server")
      assert.is_false(ok)
      assert.is_true(errors.Exception:matches(err), tostring(err))
      out[#out + 1] = getmetatable(err).__name .. " " .. tostring(err) .. "\n"
    end
    assert.are.equal(py, table.concat(out))
  end)
end)
