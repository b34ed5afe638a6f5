-- repl.compile(code[, env]) and repl.complete(text[, env]) used code and
-- text as strings at once: a number, a table or nil failed with "attempt to
-- index ... (local 'src')"; an env that is no table was taken and failed
-- only when the code ran. They are argument errors now.
local repl = require "repl"

describe("repl.compile and repl.complete", function()
  it("refuse a code, text or env of a wrong kind", function()
    for _, f in ipairs {"compile", "complete"} do
      for _, bad in ipairs {1, {}, false} do
        local ok, err = pcall(repl[f], bad)
        assert.is_false(ok)
        assert.matches("bad argument #1 to '" .. f .. "' (string expected", err, 1, true)
      end
      local ok, err = pcall(repl[f], "x", "env")
      assert.is_false(ok)
      assert.matches("bad argument #2 to '" .. f .. "' (table expected", err, 1, true)
    end
    assert.are.equal(2, repl.compile("1 + 1")())
  end)
end)
