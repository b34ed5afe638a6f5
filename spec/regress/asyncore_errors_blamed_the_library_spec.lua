-- asyncore's and asynchat's argument errors named a line inside the library
-- (lua/asyncore.lua, or lua/moonsock/class.lua for constructors, whose
-- class __call adds a frame) instead of the caller's line.
local asyncore = require "asyncore"
local asynchat = require "asynchat"

local function blamed(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok)
  return tostring(err)
end

describe("asyncore and asynchat argument errors", function()
  it("point at the caller's line", function()
    for _, fn in ipairs {
      function() asyncore.loop("x") end,
      function() asyncore.poll("x") end,
      function() asyncore.close_all(5) end,
      function() asyncore.dispatcher(5) end,
      function() asyncore.dispatcher(nil, 5) end,
      function() asyncore.file_dispatcher("x") end,
      function() asyncore.file_wrapper("x") end,
      function() asynchat.simple_producer(5) end,
      function() asynchat.simple_producer("x", "y") end,
    } do
      local msg = blamed(fn)
      assert.matches("^spec/regress/asyncore_errors_blamed_the_library_spec%.lua:%d+: bad argument", msg)
    end
  end)
end)
