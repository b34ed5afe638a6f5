-- errors.OSError(111, "...") stayed an OSError; Python's constructor picks
-- the subclass for the errno (ConnectionRefusedError), but only for 2 or 3
-- arguments.
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

describe("OSError(errno, strerror)", function()
  it("picks the errno's subclass as Python's constructor does", function()
    local py = h.python([[
print(type(OSError(111, 'x')).__name__, type(OSError(111)).__name__, type(OSError(32, 'x', 'f')).__name__,
      type(OSError(99999, 'x')).__name__)]])
    local names = {}
    for i, e in ipairs {errors.OSError(111, "x"), errors.OSError(111), errors.OSError(32, "x", "f"),
                        errors.OSError(99999, "x")} do
      names[i] = getmetatable(e).__name
    end
    assert.are.equal(py, table.concat(names, " ") .. "\n")
  end)
end)
