-- ForkingMixIn.collect_children read active_children off its self and,
-- finding nil there, returned: called on something that is no server it
-- did nothing at all. Python raises AttributeError; moonsock says "bad
-- self".
local socketserver = require "socketserver"

describe("collect_children", function()
  it("refuses a self that is no forking server", function()
    for _, bad in ipairs {{}, "x", socketserver.BytesIO("")} do
      local ok, err = pcall(socketserver.ForkingMixIn.collect_children, bad)
      assert.is_false(ok)
      assert.matches("calling 'collect_children' on bad self", err, 1, true)
    end
  end)
end)
