-- create_server(address, opts) read the options it knew from opts and
-- ignored the rest: {backlogg = 5} (a typo) made a server with the default
-- backlog, and a string or a number for opts was taken as no options.
-- Python's keyword arguments raise TypeError for both; here they are
-- argument errors on opts.
local socket = require "socket"
local h = require "spec.support.helpers"

describe("create_server's options", function()
  it("refuses unknown options and a non-table, as Python refuses the keywords", function()
    local py = h.python([[
import socket
for kw in ({'backlogg': 5}, 'x'):
    try:
        socket.create_server(('127.0.0.1', 0), **kw)
        print('accepted')
    except TypeError:
        print('TypeError')
]])
    assert.are.equal("TypeError\nTypeError\n", py)
    local ok, err = pcall(socket.create_server, {"127.0.0.1", 0}, {backlogg = 5})
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'create_server' (unexpected option 'backlogg')", err, 1, true)
    ok, err = pcall(socket.create_server, {"127.0.0.1", 0}, "x")
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'create_server' (table expected, got string)", err, 1, true)
    ok, err = pcall(socket.create_server, {"127.0.0.1", 0}, {backlog = "x"})
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'create_server' (backlog: integer expected, got string)", err, 1, true)
  end)
end)
