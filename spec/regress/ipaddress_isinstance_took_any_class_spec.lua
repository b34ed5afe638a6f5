-- x:isinstance(cls) answered false for anything that is no class (nil, a
-- number, {}), where Python's isinstance raises TypeError ("isinstance()
-- arg 2 must be a type, a tuple of types, or a union").
local ipaddress = require "ipaddress"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

describe("x:isinstance", function()
  it("refuses what is no class, and answers for classes", function()
    local py = h.python([[
import ipaddress
a = ipaddress.IPv4Address('192.0.2.1')
for cls in (None, 1, {}):
    try:
        isinstance(a, cls)
        print('accepted')
    except TypeError as e:
        print(e)
print(isinstance(a, ipaddress.IPv4Address), isinstance(a, ipaddress.IPv6Address), isinstance(a, OSError))
]])
    local a = ipaddress.IPv4Address("192.0.2.1")
    local out = {}
    for _, cls in ipairs {false, 1, {}} do
      local ok, err = pcall(a.isinstance, a, cls)
      assert.is_false(ok)
      out[#out + 1] = err:match("%((isinstance%(%).*)%)$")
    end
    -- nil as well (not in the ipairs list above)
    assert.is_false(pcall(a.isinstance, a, nil))
    local yes = function(b) return b and "True" or "False" end
    out[#out + 1] = yes(a:isinstance(ipaddress.IPv4Address)) .. " " .. yes(a:isinstance(ipaddress.IPv6Address)) ..
      " " .. yes(a:isinstance(errors.OSError))
    assert.are.equal(py, table.concat(out, "\n") .. "\n")
  end)
end)
