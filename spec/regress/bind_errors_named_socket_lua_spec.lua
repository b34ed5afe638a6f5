-- Issue 14, item 4: `s:bind("127.0.0.1", 8080)` (the address not in a
-- table) said "lua/socket.lua:133: bad argument #1 to 'bind' (...)". bind,
-- connect, connect_ex, sendto and sendmsg are C methods under Lua wrappers
-- in lua/socket.lua (names are resolved first), and the C checks raised with
-- luaL_error's level 1: the wrapper's line. recv and send, called directly,
-- named the caller's. The C side now raises through errors.argerror, which
-- blames the first frame outside moonsock; the Lua re-raisers that renamed
-- an inner call's argument errors with fixed levels (asyncore's file_wrapper
-- read/recv, a tail call; DatagramRequestHandler's sendto; socket's close
-- with a wrong self) do the same.
local socket = require "socket"
local asyncore = require "asyncore"
local socketserver = require "socketserver"

-- The error of fn, which must make its call on its first line; and that line.
local function blamed(fn)
  local line = debug.getinfo(fn, "S").linedefined
  local ok, err = pcall(fn)
  assert.is_false(ok)
  return tostring(err), line
end

local HERE = "spec/regress/bind_errors_named_socket_lua_spec.lua"

describe("argument errors of wrapped socket methods", function()
  local s, u, a, b
  before_each(function()
    s = socket.socket()
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a, b = socket.socketpair()
  end)
  after_each(function()
    for _, x in ipairs {s, u, a, b} do x:close() end
  end)

  it("name the caller's line", function()
    for _, fn in ipairs {
      function() s:bind("127.0.0.1", 8080) end,
      function() s:bind({"127.0.0.1", 65536}) end,
      function() s:connect("127.0.0.1") end,
      function() s:connect_ex(5) end,
      function() u:sendto(5, {"127.0.0.1", 9}) end,
      function() u:sendto("x", "a", {"127.0.0.1", 9}) end,
      function() u:sendto("x", {1, 9}) end,
      function() u:sendmsg(5) end,
      function() u:sendmsg({"x"}, {}, 0, 7) end,
      function() s.close({}) end,
      function() asyncore.file_wrapper(a:fileno()):recv(-1) end,
      function() asyncore.file_wrapper(a:fileno()):read(-1) end,
      function() socketserver.DatagramRequestHandler({"x", u}, 7, nil) end,
      function() s:recv(-1) end,
      function() s:send(5) end,
    } do
      local msg, line = blamed(fn)
      assert.are.equal(HERE .. ":" .. line .. ":", msg:match("^[^:]*:%d+:"), msg)
      assert.matches("bad", msg)
    end
  end)

  it("name the line of the pcall that calls the method", function()
    local ok, err = pcall(s.bind, s, "127.0.0.1", 8080); local line = debug.getinfo(1, "l").currentline
    assert.is_false(ok)
    assert.are.equal(HERE .. ":" .. line .. ": bad argument #1 to 'bind' "
      .. "(AF_INET address must be a table {host, port}, got string)", err)
  end)
end)
