-- A LuaSec connection's settimeout and setstats (and the LuaSocket methods
-- moonsock's connection adds: setfd, setoption, getoption, shutdown...)
-- passed LuaSocket's argument errors through as raised there: counting
-- self ("bad argument #2 to '?'" for the first argument) and blamed on
-- lua/moonsock/luasec.lua. LuaSec's C methods count from the first argument
-- and blame the caller. Found by the argument sweep once the methods had
-- headings; the reference is stock lua5.4 with Debian's lua-sec. On the
-- way: LuaSocket's setstats (lua/moonsock/luasocket/core.lua) took any
-- received and sent, where LuaSocket's refuses what is not a number.
local h = require "spec.support.helpers"

local REFERENCE = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 timeout 60 lua5.4 "

local SCRIPT = [[
local socket = require "socket"
local ssl = require "ssl"
local srv = assert(socket.bind("127.0.0.1", 0))
local ip, port = srv:getsockname()
local c = assert(ssl.wrap(assert(socket.connect(ip, port)), {mode = "client", protocol = "any"}))
local function try(f)
  local ok, err = pcall(f)
  print(ok, (tostring(err):gsub("^[^:]*:%d+: ", "HERE: ")))
end
try(function() c:settimeout("x") end)
try(function() c:settimeout(1, true) end)
try(function() c:setstats("x") end)
local plain = assert(socket.connect(ip, port))
try(function() plain:setstats("x") end)
try(function() plain:setstats(1, {}) end)
try(function() return plain:setstats("5", nil, "y") end)
plain:close()
if arg[1] == "extra" then -- moonsock's connection is a LuaSocket object too
  try(function() c:setoption(1) end)
  try(function() c:shutdown("x") end)
  try(function() c:setfd("x") end)
end
c:close()
srv:close()
]]

describe("LuaSec connection argument errors", function()
  it("count arguments and blame the caller as LuaSec's do", function()
    local path = h.write_temp(SCRIPT, ".lua")
    local ref, referr, refrc = h.run(REFERENCE .. h.shell_quote(path))
    local out, err, rc = h.run("timeout 60 " .. h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path))
    local extra = h.run("timeout 60 " .. h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path) .. " extra")
    os.remove(path)
    assert.equal(0, refrc, referr)
    assert.equal(0, rc, err)
    assert.matches("HERE: bad argument #1 to 'settimeout'", ref, 1, true)
    assert.equal(ref, out)
    -- Lines of the same script: the caller's, counted from the first argument.
    assert.matches("false\tHERE: bad argument #1 to 'setoption'", extra, 1, true)
    assert.matches("false\tHERE: bad argument #1 to 'shutdown'", extra, 1, true)
    assert.matches("false\tHERE: bad argument #1 to 'setfd'", extra, 1, true)
    assert.not_matches("luasec%.lua", extra)
  end)
end)
