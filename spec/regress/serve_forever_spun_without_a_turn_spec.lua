-- serve_forever(poll_interval) with poll_interval 0 (or less) only looks
-- for requests: its loop never parked, so no other task ever ran, and the
-- shutdown() that another task was to call never came. The server spun for
-- ever at full CPU. Python's threads take turns by themselves; here the
-- loop now gives the others a turn when a look finds nothing.
local h = require "spec.support.helpers"

describe("serve_forever with a poll_interval of 0 or less", function()
  it("lets the other tasks run, and stops at shutdown()", function()
    local path = h.write_temp([[
local socketserver, task = require "socketserver", require "task"
for _, interval in ipairs {0, -1} do
  local server <close> = socketserver.TCPServer({"127.0.0.1", 0}, socketserver.BaseRequestHandler)
  local stopper = task.spawn(function() task.sleep(0.05) server:shutdown() return "stopped" end)
  server:serve_forever(interval)
  print(interval, stopper:join(5))
end
]], ".lua")
    local out, err, code = h.run("timeout 20 " .. h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path))
    os.remove(path)
    assert.are.equal(0, code, err)
    assert.are.equal("0\tstopped\n-1\tstopped\n", out)
  end)
end)
