-- SSLSocket's methods that forward to the socket below (settimeout,
-- getsockopt, listen, bind..., and recv, send, sendto, shutdown before the
-- connection) let the socket's argument errors through as raised there:
-- blamed on lua/ssl.lua and counting self ("bad argument #2 to '?'" for the
-- first argument). A bad self was blamed on ssl.lua too (or, for
-- makefile's errors, on no line at all), and MemoryBIO's read and write
-- named their C function ('c_read'). Found by the argument sweep once the
-- methods had headings.
local ssl = require "ssl"
local socket = require "socket"

local HERE = "^spec/regress/sslsocket_errors_blamed_the_library_spec%.lua:%d+: "

local function raised(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  return tostring(err)
end

describe("SSLSocket's argument errors", function()
  local s

  before_each(function()
    s = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT):wrap_socket(socket.socket(), {server_hostname = "localhost"})
  end)
  after_each(function() s:close() end)

  it("name the argument as the caller counts it, on the caller's line", function()
    for _, case in ipairs {
      {function() s:settimeout("x") end, "bad argument #1 to 'settimeout'"},
      {function() s:getsockopt("x", 1) end, "bad argument #1 to 'getsockopt'"},
      {function() s:setsockopt(1, "x", 1) end, "bad argument #2 to 'setsockopt'"},
      {function() s:listen("x") end, "bad argument #1 to 'listen'"},
      {function() s:recv(1, "x") end, "bad argument #2 to 'recv'"},
      {function() s:recvfrom(-1) end, "bad argument #1 to 'recvfrom'"},
      {function() s:shutdown("x") end, "bad argument #1 to 'shutdown'"},
      {function() s:makefile(true) end, "bad argument #1 to 'makefile'"},
    } do
      local msg = raised(case[1])
      assert.matches(HERE .. case[2]:gsub("[%(%)%.%-]", "%%%0"), msg)
    end
  end)

  it("blame a bad self on the caller's line", function()
    for _, name in ipairs {"settimeout", "recv", "do_handshake", "read", "close", "connect"} do
      assert.matches(HERE .. "calling '" .. name .. "' on bad self %(SSLSocket expected, got nil%)",
        raised(function() s[name](nil) end))
    end
    local bio = ssl.MemoryBIO()
    for _, name in ipairs {"read", "write"} do
      assert.matches(HERE .. "calling '" .. name .. "' on bad self %(MemoryBIO expected, got table%)",
        raised(function() bio[name]({}) end))
    end
  end)
end)
