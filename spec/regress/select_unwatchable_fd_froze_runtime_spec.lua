-- libuv cannot watch a regular file (epoll_ctl says EPERM). select.select
-- took a failed attach to mean "the fd is ready anyway, poll again", which
-- holds for reading and writing but not for xlist: a regular file is never
-- exceptional. With a file only in xlist select spun in C, re-polling
-- without ever parking: no other task ran until the timeout, and with no
-- timeout the process hung for good. An fd epoll refuses is now simply not
-- watched (poll(2) calls it always ready for what it can be ready for).
local h = require "spec.support.helpers"

describe("select.select with a regular file in xlist only", function()
  it("parks: other tasks run, and the timeout ends the wait", function()
    local out, err, code = h.moonsock_script([[
local select, task = require "select", require "task"
-- The fd of a file this process opened, as the kernel lists it.
local path = os.tmpname()
local fh = assert(io.open(path, "r+"))
local list = os.tmpname()
local pid = io.open("/proc/self/stat"):read("n")
os.execute("ls -l /proc/" .. pid .. "/fd > " .. list)
local fd
for line in io.lines(list) do
  local n, target = line:match(" (%d+) %-> (.*)$")
  if target == path then fd = tonumber(n) end
end
os.remove(list)
local ticks = 0
task.spawn(function() for _ = 1, 20 do ticks = ticks + 1 task.sleep(0.01) end end)
local t0 = task.now()
local r, w, x = select.select({}, {}, {fd}, 0.3)
print(#r, #w, #x, task.now() - t0 >= 0.29, ticks >= 10)
fh:close()
os.remove(path)]])
    assert.are.equal(0, code, err)
    assert.are.equal("0\t0\t0\ttrue\ttrue\n", out)
  end)
end)
