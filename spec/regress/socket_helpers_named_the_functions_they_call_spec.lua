-- fromfd, create_connection, create_server, send_fds and recv_fds are Lua
-- functions over socket(), settimeout, bind, sendmsg and recvmsg, and let
-- those name themselves in argument errors: create_connection(addr, "x")
-- said "bad argument #1 to 'settimeout'", fromfd(fd, "x") "bad argument #1
-- to 'socket'", send_fds(s, 1, {}) "bad argument #1 to 'sendmsg'". The
-- user's call and argument are named now. fromfd of a negative fd raises
-- what Python's os.dup raises, OSError EBADF, not an argument error of the
-- private _dupfd.
local socket = require "socket"
local h = require "spec.support.helpers"

local function fails_with(text, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  assert.matches(text, tostring(err), 1, true)
end

describe("the socket functions written over others", function()
  it("name themselves and the user's argument", function()
    local a, b = socket.socketpair()
    local _ <close> = a
    local _ <close> = b
    local listener <close> = socket.create_server({"127.0.0.1", 0})
    local addr = listener:getsockname()
    fails_with("bad argument #2 to 'fromfd'", socket.fromfd, a:fileno(), "x")
    fails_with("bad argument #4 to 'fromfd'", socket.fromfd, a:fileno(), socket.AF_UNIX, socket.SOCK_STREAM, 1.5)
    fails_with("bad argument #2 to 'create_connection'", socket.create_connection, addr, "x")
    fails_with("bad argument #2 to 'create_connection'", socket.create_connection, addr, -1)
    fails_with("bad argument #3 to 'create_connection'", socket.create_connection, addr, 1, {"127.0.0.1", -1})
    fails_with("bad argument #1 to 'create_connection'", socket.create_connection, {"127.0.0.1", 1.5})
    fails_with("bad argument #1 to 'create_server'", socket.create_server, {"127.0.0.1", -1})
    fails_with("bad argument #2 to 'send_fds'", socket.send_fds, a, 1, {})
    fails_with("bad argument #3 to 'send_fds'", socket.send_fds, a, "x", {"x"})
    fails_with("bad argument #1 to 'send_fds'", socket.send_fds, {}, "x", {})
    fails_with("bad argument #2 to 'recv_fds'", socket.recv_fds, a, -1, 1)
    fails_with("bad argument #3 to 'recv_fds'", socket.recv_fds, a, 1, "x")
  end)

  it("fromfd of a negative fd raises Python's OSError", function()
    local py = h.python([[
import socket
try:
    socket.fromfd(-1, socket.AF_UNIX, socket.SOCK_STREAM)
except OSError as e:
    print(e)
]])
    local ok, err = pcall(socket.fromfd, -1, socket.AF_UNIX, socket.SOCK_STREAM)
    assert.is_false(ok)
    assert.is_true(socket.error:matches(err))
    assert.are.equal(py, tostring(err) .. "\n")
  end)
end)
