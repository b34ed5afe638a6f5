-- Python's str.encode and bytes.decode read the encoding and error handler
-- names as C strings: a NUL in either is ValueError("embedded null
-- character"), whether or not the handler is needed. moonsock looked
-- "utf\0-8" up as a codec (LookupError) and never looked at a handler name
-- it did not need, so quote("x", errors = "strict\0") was accepted.
local parse = require "urllib.parse"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

describe("a NUL in an encoding or error handler name", function()
  it("is Python's ValueError", function()
    local py = h.python([[
import urllib.parse as p
for f in (lambda: p.quote('x', encoding='utf\x00-8'), lambda: p.quote('x', errors='strict\x00'),
          lambda: p.unquote('%41', errors='strict\x00'), lambda: p.unquote('x', encoding='utf\x00-8')):
    try:
        print(repr(f()))
    except ValueError as e:
        print(type(e).__name__, e)
]])
    local out = {}
    for _, f in ipairs {
      function() return parse.quote("x", {encoding = "utf\0-8"}) end,
      function() return parse.quote("x", {errors = "strict\0"}) end,
      function() return parse.unquote("%41", {errors = "strict\0"}) end,
      function() return parse.unquote("x", {encoding = "utf\0-8"}) end,
    } do
      local ok, r = pcall(f)
      if ok then
        out[#out + 1] = "'" .. r .. "'"
      else
        assert.is_true(errors.ValueError:matches(r), tostring(r))
        out[#out + 1] = "ValueError " .. tostring(r)
      end
    end
    assert.are.equal(py, table.concat(out, "\n") .. "\n")
  end)
end)
