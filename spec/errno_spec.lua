-- The errno module against Python's on the same machine: both read the
-- values from the same <errno.h>.
local errno = require "errno"
local posix = require "moonsock.posix"
local h = require "spec.support.helpers"

describe("errno", function()
  it("has every name Python's errno has, with the same values", function()
    local out = h.python([[
import errno
for n in sorted(dir(errno)):
    if n.startswith('E') and isinstance(getattr(errno, n), int): print(n, getattr(errno, n))]])
    local n = 0
    for name, value in out:gmatch("(%S+) (%d+)\n") do
      n = n + 1
      assert.are.equal(tonumber(value), errno[name], name)
    end
    assert.is_true(n > 100)
    for name, value in pairs(errno) do
      if name ~= "errorcode" then
        assert.is_truthy(out:find("\n" .. name .. " " .. value .. "\n", 1, true)
          or out:find("^" .. name .. " " .. value .. "\n"), name .. " is not in Python's errno")
      end
    end
  end)

  it("maps each value to the name Python's errorcode picks", function()
    local out = h.python([[
import errno
for k in sorted(errno.errorcode): print(k, errno.errorcode[k])]])
    local n = 0
    for value, name in out:gmatch("(%d+) (%S+)\n") do
      n = n + 1
      assert.are.equal(name, errno.errorcode[tonumber(value)], value)
    end
    local mine = 0
    for _ in pairs(errno.errorcode) do mine = mine + 1 end
    assert.are.equal(n, mine)
  end)

  it("gives os.strerror's text through moonsock.posix.strerror", function()
    local out = h.python("import os\nfor c in (1, 2, 11, 32, 104, 111): print(os.strerror(c))")
    local lines = {}
    for _, c in ipairs {1, 2, 11, 32, 104, 111} do lines[#lines + 1] = posix.strerror(c) end
    assert.are.equal(out, table.concat(lines, "\n") .. "\n")
  end)
end)
