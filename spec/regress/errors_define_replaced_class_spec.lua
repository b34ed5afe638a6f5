-- errors.define("X", base) a second time replaced the class, so instances
-- made before stopped matching X:matches(). Two modules defining the same
-- Python class (asyncore's ExitNow, say) would break each other's errors.
-- (Run in a child: the classes it defines would stay in this process.)
local h = require "spec.support.helpers"

describe("errors.define", function()
  it("returns the existing class for a name defined twice, and refuses another base", function()
    local out, err, code = h.moonsock_script([[
local errors = require "moonsock.errors"
local A = errors.define("TwiceDefined", errors.Exception)
local before = A("x")
local B = errors.define("TwiceDefined", errors.Exception)
print(A == B, B:matches(before))
errors.define("OtherBase", errors.Exception)
print(pcall(errors.define, "OtherBase", errors.OSError))
]])
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.matches("^true\ttrue\nfalse\t.*already defined with another base\n$", out)
  end)
end)
