-- Fault: 100,000 tasks at once, half sleeping in task.sleep(60), half parked
-- in core.park(60), in a child moonsock. All of them are alive and waiting
-- together; the memory they cost is measured as the child's RSS (and Lua
-- heap) growth divided by the number of tasks; then the sleepers are
-- cancelled and the parked woken, and every one ends as it should.
-- The documented bound: at most TASK_BYTES = 4,096 bytes of RSS per waiting
-- task (plain build); measured on x86-64, Lua 5.4, plain release build:
-- about 1,610 bytes of RSS per task, of which about 1,370 are Lua heap (the
-- coroutine, its stack, the task's handle and closure); spawning the 100,000
-- takes about 1.3 s. Under AddressSanitizer (red zones, shadow memory)
-- about 2,630 bytes of RSS per task; the bound is TASK_BYTES_ASAN = 16,384.
-- Bounded: timeout(1) kills the child after 300 s; joins wait 10 s.
local h = require "spec.support.helpers"

local TASK_BYTES, TASK_BYTES_ASAN = 4096, 16384

local SCRIPT = [[
local task = require "task"
local core = require "moonsock.core.task"
local fault = require "spec.fault.support"

local N = 100000
collectgarbage()
collectgarbage()
local rss0, heap0 = fault.status_kib("VmRSS"), collectgarbage("count")
local handles = {}
for i = 1, N do
  if i % 2 == 0 then
    handles[i] = task.spawn(task.sleep, 60)
  else
    handles[i] = task.spawn(core.park, 60)
  end
end
-- Let every task start and reach its wait.
local deadline, waiting = task.now() + 60, 0
repeat
  task.sleep(0.05)
  waiting = 0
  for i = 1, N do
    if handles[i]:status() == "parked" then waiting = waiting + 1 end
  end
until waiting == N or task.now() > deadline
collectgarbage()
collectgarbage()
local rss1, heap1 = fault.status_kib("VmRSS"), collectgarbage("count")
print("waiting " .. waiting .. " of " .. task.count())
print(string.format("per task %d %d", (rss1 - rss0) * 1024 // N, math.floor((heap1 - heap0) * 1024 / N)))
for i = 1, N do
  if i % 2 == 0 then handles[i]:cancel() else core.wake(handles[i]) end
end
local woken, cancelled = 0, 0
for i = 1, N do
  local ok, res = pcall(handles[i].join, handles[i], 10)
  if i % 2 == 1 and ok and res == true then woken = woken + 1 end
  if i % 2 == 0 and not ok and handles[i]:cancelled() then cancelled = cancelled + 1 end
end
print("woken " .. woken .. " cancelled " .. cancelled .. " left " .. task.count())
print("sanitized " .. tostring(fault.sanitized()))
]]

describe("100,000 tasks sleeping or parked at once", function()
  it("all wait together within the documented memory per task, and all end", function()
    local script = h.write_temp(SCRIPT, ".lua")
    local out, err, code = h.run(string.format("timeout 300 %s %s", h.shell_quote(h.moonsock),
      h.shell_quote(script)))
    os.remove(script)
    assert.are.equal(0, code, err)
    assert.matches("waiting 100000 of 100000\n", out, 1, true)
    assert.matches("woken 50000 cancelled 50000 left 0\n", out, 1, true)
    local rss, heap = out:match("per task (%-?%d+) (%-?%d+)")
    local bound = out:match("sanitized true") and TASK_BYTES_ASAN or TASK_BYTES
    assert.is_true(tonumber(rss) < bound, "RSS per task " .. rss .. " B, bound " .. bound .. " B")
    -- The Lua heap's share is part of the RSS growth.
    assert.is_true(tonumber(heap) > 0 and tonumber(heap) < bound, "heap per task " .. heap .. " B")
  end)
end)
