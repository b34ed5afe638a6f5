-- A script or task that ended with an error left its pending to-be-closed
-- variables unclosed: Lua does not close them when a coroutine dies, so a
-- socket or a lock held in a <close> variable stayed open or held. Python
-- runs a dying thread's (and a failing script's) finally blocks.
local h = require "spec.support.helpers"

describe("an uncaught error", function()
  it("closes the main script's pending <close> variables, as Python's finally runs", function()
    local py_out, _, py_code = h.run("python3 -c " .. h.shell_quote([[
try:
    raise ValueError("boom")
finally:
    print("closed")]]))
    local out, err, code = h.moonsock_script([[
local guard <close> = setmetatable({}, {__close = function() print("closed") end})
error("boom")]])
    assert.are.equal(py_out, out)
    assert.are.equal(py_code, code)
    assert.matches("boom", err)
  end)

  it("closes a task's pending <close> variables, with the error, before join returns", function()
    local out, err, code = h.moonsock_script([[
local task = require "task"
local seen
local t = task.spawn(function()
  local guard <close> = setmetatable({}, {__close = function(_, e) seen = e end})
  error("boom", 0)
end)
print(pcall(t.join, t, 5))
print(seen)]])
    assert.are.equal("false\tboom\nboom\n", out)
    assert.are.equal(0, code, err)
  end)
end)
