-- select.select asked poll(2) and took "poll(2) reports something" for "an
-- fd is ready", while select(2) counts only some events in each set
-- (fs/select.c: POLLHUP makes an fd readable, not writable; only POLLPRI is
-- exceptional; a closed fd is EBADF, not ready). So it:
--   * returned a closed fd as ready (POLLNVAL) instead of raising EBADF, also
--     after a task closed a socket that select was waiting on;
--   * called the read end of a pipe whose writer had gone writable;
--   * with a hung-up socket only in xlist, returned at once with three
--     empty lists instead of waiting for its timeout.
-- Readiness is now select(2)'s, and a hung-up fd is not watched for events
-- that cannot come (libuv would report the hang-up again on every turn).
local select = require "select"
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"

describe("select.select counts what select(2) counts", function()
  it("raises EBADF for a closed fd, as Python's select.select does", function()
    local py = h.python([[
import select, socket
a, b = socket.socketpair(); fd = a.fileno(); a.close()
try:
    select.select([], [], [fd], 0)
except OSError as e:
    print(e.errno)]])
    local a, b = socket.socketpair()
    local fd = a:fileno()
    a:close()
    local ok, err = pcall(select.select, {}, {}, {fd}, 0)
    assert.is_false(ok)
    assert.are.equal(py, tostring(err.errno) .. "\n")
    b:close()
  end)

  it("does not call a hung-up pipe writable", function()
    local py = h.python([[
import os, select
r, w = os.pipe(); os.close(w)
print([len(l) for l in select.select([r], [r], [r], 0)])]])
    local list = os.tmpname()
    local function fds()
      os.execute("ls /proc/" .. h.getpid() .. "/fd > " .. list)
      local set = {}
      for line in io.lines(list) do set[tonumber(line)] = true end
      return set
    end
    local before = fds()
    local p = h.hung_up_fifo()
    local fd
    for n in pairs(fds()) do
      if not before[n] then fd = n end
    end
    os.remove(list)
    local r, w, x = select.select({fd}, {fd}, {fd}, 0)
    assert.are.equal(py, string.format("[%d, %d, %d]\n", #r, #w, #x))
    p:close()
  end)

  it("waits out its timeout for a hung-up socket in xlist only", function()
    local a, b = socket.socketpair()
    b:close()
    local t0 = task.now()
    local r, w, x = select.select({}, {}, {a}, 0.2)
    assert.are.same({0, 0, 0}, {#r, #w, #x})
    assert.is_true(task.now() - t0 >= 0.19)
    a:close()
  end)
end)
