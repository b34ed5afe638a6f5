-- Issue 11: one argument error for every Lua module of moonsock
-- (errors.argerror), blamed on the line that called into moonsock. Before,
-- eleven copies blamed four different frames: ipaddress gave no position
-- at all, socketserver and asyncore counted levels by hand and named a
-- frame inside moonsock when called through a class constructor.
local errors = require "moonsock.errors"
local ipaddress = require "ipaddress"
local selectors = require "selectors"
local socketserver = require "socketserver"

-- The line of the call to this function's caller's next statement is not
-- knowable; the specs record the line of the call itself with here().
local function here() return debug.getinfo(2, "l").currentline end

local function blamed(err)
  return err:match("^spec/argerror_spec%.lua:(%d+): bad argument") and
    tonumber(err:match("^spec/argerror_spec%.lua:(%d+):"))
end

describe("errors.argerror", function()
  it("blames the caller's line for a check in a module function", function()
    local line
    local ok, err = pcall(function() line = here(); ipaddress.ip_address(true) end)
    assert.is_false(ok)
    assert.are.equal(line, blamed(err), err)
    assert.matches("bad argument #1 to 'ip_address' %(", err)
  end)

  it("skips a C function such as pcall between the caller and moonsock", function()
    local line, ok, err = here(), pcall(ipaddress.ip_address, true)
    assert.is_false(ok)
    assert.are.equal(line, blamed(err), err)
  end)

  it("skips every frame inside moonsock: a constructor reached through a class's __call", function()
    local line
    local ok, err = pcall(function() line = here(); socketserver.TCPServer(nil, function() end) end)
    assert.is_false(ok)
    assert.are.equal(line, blamed(err), err)
    assert.matches("bad argument #1 to 'TCPServer' %(server_address", err)
  end)

  it("blames the caller of a method", function()
    local sel = selectors.DefaultSelector()
    local line
    local ok, err = pcall(function() line = here(); sel:select("soon") end)
    sel:close()
    assert.is_false(ok)
    assert.are.equal(line, blamed(err), err)
  end)

  it("does not take a user's chunk at a path like moonsock's for one of moonsock's modules", function()
    -- lua/notamodule.lua is where scripts/embed-lua would have put a module
    -- of that name; no such module is preloaded, so the user's line is blamed.
    local f = assert(load("local ipaddress = require 'ipaddress'\nipaddress.ip_address(true)",
      "@lua/notamodule.lua"))
    local ok, err = pcall(f)
    assert.is_false(ok)
    assert.matches("^lua/notamodule%.lua:2: bad argument #1 to 'ip_address'", err)
  end)

  it("blames code outside moonsock that calls it directly", function()
    local function check(v)
      if type(v) ~= "string" then errors.argerror(1, "check", "string expected") end
    end
    local line
    local ok, err = pcall(function() check(1); line = here() end)
    assert.is_false(ok)
    -- check's own line: the first frame outside moonsock.
    assert.is_nil(line)
    assert.matches("^spec/argerror_spec%.lua:%d+: bad argument #1 to 'check' %(string expected%)$", err)
  end)

  it("checks its own arguments", function()
    local ok, err = pcall(errors.argerror, "1", "f", "m")
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'argerror' %(integer expected, got string%)$", err)
    ok, err = pcall(errors.argerror, 1, nil, "m")
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'argerror' %(string expected, got nil%)$", err)
    ok, err = pcall(errors.argerror, 1, "f", {})
    assert.is_false(ok)
    assert.matches("bad argument #3 to 'argerror' %(string expected, got table%)$", err)
  end)
end)
