-- socket.fromfd(fd, family, type) asked the kernel for the protocol (17 for
-- UDP); Python's fromfd defaults proto to 0.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("fromfd with family and type but no proto", function()
  it("gives proto 0, as Python does", function()
    local py = h.python([[
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(socket.fromfd(u.fileno(), socket.AF_INET, socket.SOCK_DGRAM).proto)]])
    local u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    local f = socket.fromfd(u:fileno(), socket.AF_INET, socket.SOCK_DGRAM)
    assert.are.equal(py, f.proto .. "\n")
    f:close(); u:close()
  end)
end)
