-- Class:extend and Class:mixin called on something that is no class said
-- "bad argument #0 to 'extend'": Lua numbers a method's arguments after
-- self, and self is no argument #0. They say "bad self" now. class.make
-- and class.qualname, public since the class module was, checked nothing:
-- make(1, 2, 3) failed on "attempt to index a number value", qualname({})
-- answered nil.
local class = require "moonsock.class"

local function fails_with(text, f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok)
  assert.matches(text, tostring(err), 1, true)
end

describe("moonsock.class", function()
  it("names a bad self and the arguments of make and qualname", function()
    fails_with("calling 'extend' on bad self (class expected, got table)", class.object.extend, {})
    fails_with("calling 'mixin' on bad self (class expected, got nil)", class.object.mixin, nil, class.object)
    fails_with("bad argument #1 to 'make'", class.make, 1, {class.object}, {})
    fails_with("bad argument #2 to 'make'", class.make, "X", 2, {})
    fails_with("bad argument #2 to 'make'", class.make, "X", {"x"}, {})
    fails_with("bad argument #3 to 'make'", class.make, "X", {class.object}, 3)
    fails_with("bad argument #4 to 'make'", class.make, "X", {class.object}, {}, 4)
    fails_with("bad argument #1 to 'qualname'", class.qualname, {})
    assert.are.equal("m.X", class.qualname(class.make("X", {class.object}, {}, "m")))
  end)
end)
