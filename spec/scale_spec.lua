-- The tutorials' thread-per-client echo server as a task-per-client server,
-- holding 2,000 connections at once, each exchanging 100 messages of random
-- sizes up to 64 KiB, every byte checked by the client.
local h = require "spec.support.helpers"
local task = require "task"

local function start_server(backlog)
  local dir = h.tempdir()
  local portfile = dir .. "/port"
  -- 2,000 connections on each side need more fds than a default soft limit.
  os.execute(string.format("sh -c 'ulimit -n 8192 && exec %s spec/fixtures/echo_server.lua %s %d' &",
    h.shell_quote(h.moonsock), h.shell_quote(portfile), backlog))
  for _ = 1, 200 do
    local f = io.open(portfile)
    if f then
      local port = f:read("n")
      f:close()
      if port then return port, dir end
    end
    task.sleep(0.025)
  end
  error("the echo server did not start")
end

local function stop_server(port, dir)
  os.execute("pkill -f 'spec/fixtures/echo_server.lua " .. dir .. "/port' 2>/dev/null")
  os.execute("rm -rf " .. h.shell_quote(dir))
  return port
end

describe("the task-per-client echo server", function()
  it("serves 2,000 concurrent connections x 100 random-size messages, every byte intact", function()
    local port, dir = start_server(4096)
    local out, err, code = h.run(string.format(
      "sh -c 'ulimit -n 8192 && exec timeout 300 %s spec/fixtures/echo_clients.lua %d 2000 100 65536 42'",
      h.shell_quote(h.moonsock), port))
    stop_server(port, dir)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local n, m, bytes = out:match("^ok (%d+) (%d+) (%d+)")
    assert.are.equal("2000", n)
    assert.are.equal("100", m)
    -- Sizes are uniform on 1..65536: the mean total is 2000*100*32768.5.
    assert.is_true(tonumber(bytes) > 6e9 and tonumber(bytes) < 7.1e9, "bytes: " .. tostring(bytes))
  end)
end)
