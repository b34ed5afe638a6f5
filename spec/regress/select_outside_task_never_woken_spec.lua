-- select.select and poll objects attached their waiters to the running task,
-- and outside any task (code run by `moonsock -e`, the REPL, a C host) there
-- is none: the waiters woke nobody, so select() returned only at its timeout
-- even though another task had made an fd ready long before, and with no
-- timeout it ended in "deadlock". Outside a task the waiters now wake the
-- stand-in handle that ms_park waits on there (the one core.current() gives).
local h = require "spec.support.helpers"

local function run_e(code)
  return h.run("timeout 20 " .. h.shell_quote(h.moonsock) .. " -e " .. h.shell_quote(code))
end

describe("select outside any task (moonsock -e)", function()
  it("wakes as soon as another task makes an fd ready", function()
    local out, err, code = run_e([[
local select, socket, task = require "select", require "socket", require "task"
local a, b = socket.socketpair()
task.spawn(function() task.sleep(0.1) b:send("x") end)
local t0 = task.now()
local r = select.select({a}, {}, {}, 5)
print(#r, r[1] == a, task.now() - t0 < 2)
task.spawn(function() task.sleep(0.1) b:send("y") end)
a:recv(1)
print(#select.select({a}, {}, {}))
local p = select.poll()
p:register(a, select.POLLIN)
a:recv(1)
task.spawn(function() task.sleep(0.1) b:send("z") end)
t0 = task.now()
print(#p:poll(5000), task.now() - t0 < 2)]])
    assert.are.equal(0, code, err)
    assert.are.equal("1\ttrue\ttrue\n1\n1\ttrue\n", out)
  end)
end)
