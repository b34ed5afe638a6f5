-- The allocation sweep (spec/fault/alloc_sweep_spec.lua) found it: when one
-- of LuaSocket's modules failed to load while require "socket" ran (out of
-- memory), moonsock.luasocket had already recorded the ones before it as
-- loaded, so the next require "socket" skipped loading and died on a nil
-- upvalue ("attempt to index a nil value (upvalue 'except')"). They are now
-- set all together or not at all. Run in a child, whose socket module is
-- not loaded yet.
local script = [[
local real = package.preload["moonsock.luasocket.datagram"]
assert(type(real) == "function", "datagram is preloaded")
package.preload["moonsock.luasocket.datagram"] = function() error("not enough memory", 0) end
print(pcall(require, "socket"))
package.preload["moonsock.luasocket.datagram"] = real
local socket = require "socket"
print(io.type(socket.tcp()) == nil, socket.tcp():getfd(), pcall(socket.try, nil, "boom"))
]]

describe("require 'socket' after a LuaSocket module failed to load", function()
  it("loads them all again, rather than finding some nil", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local p = assert(io.popen(string.format("bin/moonsock %s 2>&1", path)))
    local out = p:read("a")
    p:close()
    os.remove(path)
    local first, second = out:match("^([^\n]*)\n([^\n]*)\n$")
    assert.are.equal("false\tnot enough memory", first, out)
    -- getfd is -1.0 before a connect, as stock LuaSocket gives it on Lua 5.4
    -- (a float); try raises a table that protect unwraps: {"boom"}.
    assert.matches("^true\t%-1%.0\tfalse\ttable: 0x%x+$", second, out)
  end)
end)
