-- str() of moonsock's exceptions differed from Python's: KeyError('x')
-- printed x (Python: 'x', the repr of its one argument), several arguments
-- printed without reprs, and any class read (integer, x) as errno and
-- strerror (Python: only OSError does, for 2 to 5 arguments).
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

describe("tostring of an exception", function()
  it("is Python's str()", function()
    local py = h.python([[
for e in (KeyError(5), KeyError('x'), KeyError(), KeyError(1, 2), KeyError("a'b"), ValueError('a', 'b'),
          ValueError(1, 'x'), OSError(111, 'x'), OSError(1, 2, 3, 4, 5, 6), RuntimeError('plain')):
    print(str(e))]])
    local mine = {}
    for _, e in ipairs {errors.KeyError(5), errors.KeyError("x"), errors.KeyError(), errors.KeyError(1, 2),
                        errors.KeyError("a'b"), errors.ValueError("a", "b"), errors.ValueError(1, "x"),
                        errors.OSError(111, "x"), errors.OSError(1, 2, 3, 4, 5, 6), errors.RuntimeError("plain")} do
      mine[#mine + 1] = tostring(e)
    end
    assert.are.equal(py, table.concat(mine, "\n") .. "\n")
  end)
end)
