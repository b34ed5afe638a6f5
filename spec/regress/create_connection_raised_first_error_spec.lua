-- create_connection raised the first failure among getaddrinfo's addresses;
-- Python 3.11 (all_errors=False) raises the last one.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("create_connection", function()
  it("raises the last failure, as Python 3.11 does", function()
    local probe = socket.socket()
    probe:bind({"127.0.0.1", 0})
    local port = probe:getsockname()[2]
    probe:close()
    -- localhost gives ::1 then 127.0.0.1 here: both refuse, then the last wins;
    -- a source address of the wrong family makes the first fail differently.
    local py = h.python(string.format([[
import socket
try: socket.create_connection(('localhost', %d), None, ('127.0.0.1', 0))
except OSError as e: print(type(e).__name__, e.errno)]], port))
    local ok, err = pcall(socket.create_connection, {"localhost", port}, nil, {"127.0.0.1", 0})
    assert.is_false(ok)
    assert.are.equal(py, string.format("%s %s\n", getmetatable(err).__name, tostring(err.errno)))
  end)
end)
