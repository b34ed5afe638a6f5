-- moonsock.errors' public functions checked nothing: define(true, base)
-- made a class named true, define(nil) failed on "table index is nil",
-- raise_new({}, ...) made an OSError, err:isinstance(x) and cls:matches(e)
-- answered false for anything that is no class or no error (OSError.matches
-- with a dot, the self a table, answered false too). Python's isinstance
-- raises TypeError for a non-class; these are argument errors now.
local errors = require "moonsock.errors"

local function fails_with(text, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  assert.matches(text, tostring(err), 1, true)
end

describe("moonsock.errors' functions", function()
  it("refuse arguments of a wrong kind", function()
    fails_with("bad argument #1 to 'define'", errors.define, true, errors.Exception)
    fails_with("bad argument #1 to 'define'", errors.define, nil, errors.Exception)
    fails_with("bad argument #2 to 'define'", errors.define, "RegressError", {})
    fails_with("bad argument #1 to 'raise_new'", errors.raise_new, {}, 1, "x")
    fails_with("bad argument #2 to 'raise_new'", errors.raise_new, "OSError", "1", "x")
    fails_with("bad argument #3 to 'raise_new'", errors.raise_new, "OSError", 1, nil)
    local e = errors.OSError(111, "x")
    fails_with("bad argument #1 to 'isinstance'", e.isinstance, e, {})
    fails_with("calling 'isinstance' on bad self", e.isinstance, {}, errors.OSError)
    fails_with("calling 'matches' on bad self", errors.OSError.matches, {}, e)
    -- what they are for still works
    assert.is_true(e:isinstance(errors.OSError) and errors.OSError:matches(e))
    assert.are.equal(errors.raise_new("OSError", nil, "x").args[1], "x")
  end)
end)
