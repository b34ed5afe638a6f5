-- A wait outside any task (code run by `moonsock -e`, the REPL, a C host)
-- runs the loop itself, one turn at a time, until its task stand-in wakes.
-- A deadline already past (sleep(0), a timeout of 0) fires at the top of the
-- turn, but libuv 1.44 then polls as long as the other handles and timers
-- ask: sleep(0) lasted until another task's timer, and signal.wait(sigs, 0)
-- with the signal watched, which keeps the loop alive, never returned. A
-- wake of the stand-in now stops the loop's turn, so the poll returns at once.
local h = require "spec.support.helpers"

local function run_e(code)
  return h.run("env --default-signal timeout 20 " .. h.shell_quote(h.moonsock) .. " -e " .. h.shell_quote(code))
end

describe("a wait outside any task whose deadline has passed", function()
  it("returns at once while another task's timer is pending", function()
    local out, err, code = run_e([[
local task = require "task"
task.spawn(function() task.sleep(3) end)
task.sleep(0.01)
local t0 = task.now()
task.sleep(0)
print(task.now() - t0 < 1)]])
    assert.are.equal(0, code, err)
    assert.are.equal("true\n", out)
  end)

  it("returns at once while a signal is watched (signal.wait with timeout 0)", function()
    local out, err, code = run_e([[
local signal, task = require "signal", require "task"
local t0 = task.now()
print(signal.wait({signal.SIGUSR1}, 0), signal.wait({signal.SIGUSR1}, 0.05), task.now() - t0 < 1)]])
    assert.are.equal(0, code, err)
    assert.are.equal("nil\tnil\ttrue\n", out)
  end)
end)
