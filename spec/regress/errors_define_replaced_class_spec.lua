-- errors.define("X", base) a second time replaced the class, so instances
-- made before stopped matching X:matches(). Two modules defining the same
-- Python class (asyncore's ExitNow, say) would break each other's errors.
local errors = require "moonsock.errors"

describe("errors.define", function()
  it("returns the existing class for a name defined twice", function()
    local A = errors.define("RegressTwiceDefined", errors.Exception)
    local before = A("x")
    local B = errors.define("RegressTwiceDefined", errors.Exception)
    assert.are.equal(A, B)
    assert.is_true(B:matches(before))
  end)

  it("refuses the same name with another base", function()
    errors.define("RegressOtherBase", errors.Exception)
    assert.has_error(function() errors.define("RegressOtherBase", errors.OSError) end)
  end)
end)
