-- Semaphore.release(n) handed out its n units one at a time, a step per
-- unit even with nobody waiting: release(math.maxinteger) never returned,
-- and never let another task run. BoundedSemaphore checked value + n > the
-- initial value, which overflows for a huge n: BoundedSemaphore(1) not
-- acquired, release(math.maxinteger) passed the check and looped too,
-- where Python raises ValueError at once. Units now go to the waiters, the
-- rest to the value in one step.
local h = require "spec.support.helpers"

describe("releasing a huge number of units", function()
  it("ends at once, as Python's BoundedSemaphore does", function()
    local py = h.python([[
import threading
try:
    threading.BoundedSemaphore(1).release(2**63 - 1)
except ValueError as e:
    print(e)
]])
    -- a child, so that the old endless loop fails this test, not the run
    local path = h.write_temp([[
local task, errors = require "task", require "moonsock.errors"
local ok, err = pcall(task.BoundedSemaphore(1).release, task.BoundedSemaphore(1), math.maxinteger)
print(ok, errors.ValueError:matches(err), tostring(err))
local s = task.Semaphore(0)
s:release(math.maxinteger)
print(s:acquire(false))
local waiter = task.spawn(function() return s:acquire() end)
print(waiter:join(1))
]], ".lua")
    local out, err, code = h.run("timeout 20 " .. h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path))
    os.remove(path)
    assert.are.equal(0, code, err)
    assert.are.equal("false\ttrue\t" .. py .. "true\ntrue\n", out)
  end)
end)
