-- A host name with a NUL inside ("localhost\0.example.com") went to
-- getaddrinfo, which reads a C string up to the NUL: bind, connect,
-- connect_ex, sendto, create_server and the servers resolved "localhost",
-- another name than the one given, and bound or connected there. Python
-- refuses the name before any lookup (TypeError: host name must not contain
-- null character); so does the C address parser, which now gets it.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("a host name with a NUL", function()
  it("is refused before any lookup, with Python's text", function()
    local py = h.python([[
import socket
try:
    socket.socket().bind(('localhost\x00.example.com', 0))
except TypeError as e:
    print(e)
]])
    local s <close> = socket.socket()
    local ok, err = pcall(s.bind, s, {"localhost\0.example.com", 0})
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'bind' (" .. py:gsub("\n$", "") .. ")", err, 1, true)
    -- nothing was bound
    assert.are.equal(0, s:getsockname()[2])
    local u <close> = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ok, err = pcall(u.sendto, u, "x", {"localhost\0.example.com", 9})
    assert.is_false(ok)
    assert.matches("host name must not contain null character", err, 1, true)
    ok, err = pcall(socket.create_server, {"localhost\0.example.com", 0})
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'create_server' (host name must not contain null character)", err, 1, true)
  end)
end)
