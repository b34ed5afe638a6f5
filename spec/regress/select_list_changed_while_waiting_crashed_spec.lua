-- select.select read its three lists again after waiting, with the lengths
-- of the moment and the per-entry indexes of the first call. Another task
-- that grew a list meanwhile made it read past its index buffer: garbage
-- results or a segmentation fault. The lists are now copied on entry, as
-- CPython copies them, and the answer names the objects that were given.
local h = require "spec.support.helpers"

describe("select.select while another task changes its lists", function()
  it("answers for the objects it was given, and does not crash", function()
    -- In a child process, so that a crash fails this test instead of the run.
    local out, err, code = h.moonsock_script([[
local select, socket, task = require "select", require "socket", require "task"
local a, b = socket.socketpair()
local c, d = socket.socketpair()
local rlist, wlist = {a}, {}
task.spawn(function()
  task.sleep(0.05)
  for i = 2, 5000 do rlist[i] = c end
  wlist[1] = c
  b:send("x")
  d:send("x")
end)
local r, w, x = select.select(rlist, wlist, {}, 5)
print(#r, r[1] == a, #w, #x, #rlist)
rlist[1] = c
table.remove(rlist)]])
    assert.are.equal(0, code, err)
    assert.are.equal("1\ttrue\t0\t0\t5000\n", out)
  end)
end)
