-- Sockets dropped without close() kept their fds until the collector ran,
-- and the collector, which sees only Lua's heap, ran too late: under
-- `ulimit -n 1024`, creating 100,000 sockets in a loop raised [Errno 24]
-- Too many open files. Python frees them at once by reference counting.
-- Socket creation now collects and retries once on EMFILE/ENFILE.
local h = require "spec.support.helpers"

describe("sockets dropped in a loop", function()
  it("never exhaust a small fd table", function()
    local script = h.write_temp([[
local socket = require "socket"
for _ = 1, 100000 do socket.socket() end
for _ = 1, 5000 do socket.socketpair() end
local srv = socket.create_server({"127.0.0.1", 0})
for _ = 1, 2000 do
  socket.create_connection(srv:getsockname())
  srv:accept()
end
print("ok")
]], ".lua")
    local out, err, code = h.run("sh -c " .. h.shell_quote("ulimit -n 256 && exec " .. h.shell_quote(h.moonsock)
      .. " " .. h.shell_quote(script)))
    os.remove(script)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("ok\n", out)
  end)
end)
