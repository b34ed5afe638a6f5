-- Issue 14, item 2: a newcomer wrote `print("failed: " .. err)` after a
-- pcall and got "attempt to concatenate a ConnectionRefusedError value":
-- error objects are tables, and had no __concat. Every Lua user writes
-- that line; Python's equivalent is "failed: " + str(err). Concatenation
-- and the text-reading string methods now act on the message, while the
-- object keeps its class and fields.
local socket = require "socket"
local errors = require "moonsock.errors"

local function python_str(expr)
  local p = assert(io.popen("python3 -c " .. string.format("%q", "print(str(" .. expr .. "))")))
  local out = p:read("l")
  p:close()
  return out
end

describe("error objects in string contexts", function()
  local refused
  setup(function()
    -- A port nobody listens on: a listener closed at once.
    local s = socket.socket()
    s:bind({"127.0.0.1", 0})
    local port = s:getsockname()[2]
    s:close()
    local c = socket.socket()
    local ok, err = pcall(c.connect, c, {"127.0.0.1", port})
    c:close()
    assert.is_false(ok)
    refused = err
  end)

  it("concatenate as Python's str(err), on either side", function()
    local text = python_str("ConnectionRefusedError(111, 'Connection refused')")
    assert.are.equal("[Errno 111] Connection refused", text)
    assert.are.equal("failed: " .. text, "failed: " .. refused)
    assert.are.equal(text .. "!", refused .. "!")
    assert.are.equal("1" .. text, 1 .. refused)
    assert.are.equal(text .. text, refused .. refused)
    local timeout = errors.TimeoutError("timed out")
    assert.are.equal(python_str("TimeoutError('timed out')"), "" .. timeout)
  end)

  it("answer the string methods that read a text, on the message", function()
    assert.are.equal("refused", refused:match("refused"))
    assert.are.equal(13, (refused:find("Connection")))
    assert.are.equal("[ERRNO 111] CONNECTION REFUSED", refused:upper())
    assert.are.equal(#"[Errno 111] Connection refused", refused:len())
    assert.are.equal("[Errno 111]", refused:sub(1, 11))
  end)

  it("stay error objects: class, fields and matches are unchanged", function()
    assert.is_true(socket.error:matches(refused))
    assert.is_true(errors.ConnectionRefusedError:matches(refused))
    assert.are.equal(111, refused.errno)
    assert.are.equal("Connection refused", refused.strerror)
  end)

  it("concatenating something that is no string still fails as Lua says", function()
    local ok, err = pcall(function() return refused .. {} end)
    assert.is_false(ok)
    assert.matches("attempt to concatenate a table value", err)
    ok, err = pcall(function() return refused .. nil end)
    assert.is_false(ok)
    assert.matches("attempt to concatenate a nil value", err)
  end)
end)
