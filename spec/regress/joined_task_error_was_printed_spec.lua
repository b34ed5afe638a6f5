-- Issue 14, item 6: a task's uncaught error was printed to stderr when the
-- task ended, even when another task joined it and handled the error. Now,
-- as asyncio's "Task exception was never retrieved", it is printed only if
-- nobody retrieves it with join: when its handle is collected, or at exit,
-- whichever comes first, and once. The main task's error and the exit
-- statuses are as before.
local h = require "spec.support.helpers"

local function run(code)
  local out, err, rc = h.moonsock_script(code)
  return out, err, rc
end

local PRINTED = "moonsock: uncaught error in task: "

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

describe("a task's uncaught error", function()
  it("is not printed when a join retrieves it", function()
    local out, err, rc = run([[
local task = require "task"
local t = task.spawn(function() error("handled") end)
local ok, e = pcall(t.join, t)
print(ok, e:match("handled$"))
collectgarbage() collectgarbage()
]])
    assert.are.equal("", err)
    assert.are.equal("false\thandled\n", out)
    assert.are.equal(0, rc)
  end)

  it("is printed once when its handle is collected unjoined", function()
    local _, err, rc = run([[
local task = require "task"
task.spawn(function() error("dropped") end)
task.sleep(0.05)
collectgarbage() collectgarbage()
io.stderr:write("after gc\n")
]])
    assert.are.equal(1, count(err, "uncaught error in task"))
    assert.matches("^" .. PRINTED .. "[^\n]*:2: dropped\nstack traceback:\n.*after gc\n$", err)
    assert.are.equal(0, rc)
  end)

  it("is printed once at exit when its handle lives till then", function()
    local _, err, rc = run([[
local task = require "task"
KEEP = task.spawn(function() error("kept") end)
task.sleep(0.05)
collectgarbage()
io.stderr:write("end of main\n")
]])
    assert.are.equal(1, count(err, "uncaught error in task"))
    assert.matches("^end of main\n" .. PRINTED .. "[^\n]*:2: kept\nstack traceback:\n", err)
    assert.are.equal(0, rc)
  end)

  it("raised again by the joining main task is the main task's error, printed once, status 1", function()
    local _, err, rc = run([[
local task = require "task"
local t = task.spawn(function() error("again") end)
t:join()
]])
    assert.are.equal(1, count(err, "again"))
    assert.is_nil(err:find(PRINTED, 1, true))
    assert.are.equal(1, rc)
  end)

  it("leaves the main task's own error and status as they were", function()
    local _, err, rc = run([[
local task = require "task"
task.spawn(function() task.sleep(0.05) end)
error("main")
]])
    assert.matches(":3: main\nstack traceback:", err)
    assert.are.equal(1, rc)
  end)
end)
