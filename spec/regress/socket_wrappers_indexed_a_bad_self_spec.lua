-- bind, connect, connect_ex, sendto and sendmsg are Lua wrappers around the
-- C methods (they resolve host names first). Called with something that is
-- no socket as self (s.bind(addr), a dot for a colon), they failed inside
-- the resolver with "attempt to index a nil value (local 'sock')", naming
-- neither the method nor self; the C methods say "bad self". Python raises
-- TypeError for socket.socket.bind(None, addr).
local socket = require "socket"

describe("the socket methods written in Lua", function()
  it("say 'bad self' for a self that is no socket", function()
    local s <close> = socket.socket()
    local args = {bind = {{"127.0.0.1", 0}}, connect = {{"127.0.0.1", 9}}, connect_ex = {{"127.0.0.1", 9}},
                  sendto = {"x", {"127.0.0.1", 9}}, sendmsg = {{"x"}}}
    for name, a in pairs(args) do
      for _, bad in ipairs {false, {}, "x"} do
        local ok, err = pcall(s[name], bad, table.unpack(a))
        assert.is_false(ok)
        assert.matches("calling '" .. name .. "' on bad self", err, 1, true)
      end
      local ok, err = pcall(s[name], nil, table.unpack(a))
      assert.is_false(ok)
      assert.matches("calling '" .. name .. "' on bad self", err, 1, true)
    end
  end)
end)
