-- settimeout on a closed socket succeeded and getblocking raised EBADF;
-- Python does the opposite.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("a closed socket", function()
  it("refuses settimeout and still answers getblocking, as Python", function()
    local py = h.python([[
import socket
s = socket.socket(); s.close()
try: s.settimeout(1)
except OSError as e: print(e)
print(s.getblocking())]])
    local s = socket.socket()
    s:close()
    local ok, err = pcall(s.settimeout, s, 1)
    assert.is_false(ok)
    assert.are.equal(py, tostring(err) .. "\n" .. (s:getblocking() and "True" or "False") .. "\n")
  end)
end)
