-- repr.quote(s) called s:find at once: a number failed with "attempt to
-- index a number value (local 's')", a table with "attempt to call a nil
-- value (method 'find')". repr.list(t) handed a non-table to setmetatable,
-- whose error named setmetatable. Both are their own argument errors now.
local repr = require "moonsock.repr"

describe("repr.quote and repr.list", function()
  it("name their argument", function()
    for _, bad in ipairs {1, {}, true} do
      local ok, err = pcall(repr.quote, bad)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'quote' (string expected", err, 1, true)
    end
    for _, bad in ipairs {1, "x", true} do
      local ok, err = pcall(repr.list, bad)
      assert.is_false(ok)
      assert.matches("bad argument #1 to 'list' (table expected", err, 1, true)
    end
  end)
end)
