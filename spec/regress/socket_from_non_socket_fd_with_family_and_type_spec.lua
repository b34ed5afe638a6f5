-- socket.socket(family, type, proto, fd) and socket.fromfd(fd, family, type)
-- asked the kernel nothing when family, type and proto were all given, so a
-- file or pipe fd became a "socket" whose first call failed far from the
-- cause. Python raises OSError ENOTSOCK at once; systemd's inherited fds are
-- turned into sockets this way, so a wrong LISTEN_FDS must fail here.
local h = require "spec.support.helpers"

describe("a socket object from an fd that is no socket", function()
  it("raises OSError ENOTSOCK, as Python does, even with family and type given", function()
    local py = h.run("python3 -c " .. h.shell_quote([[
import socket
for f in (lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, 0),
          lambda: socket.fromfd(0, socket.AF_INET, socket.SOCK_STREAM),
          lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, 999)):
    try: f(); print("made")
    except OSError as e: print(e)]]) .. " </dev/null")
    local script = h.write_temp([[
local socket = require "socket"
for _, f in ipairs {function() return socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, 0) end,
                    function() return socket.fromfd(0, socket.AF_INET, socket.SOCK_STREAM) end,
                    function() return socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0, 999) end} do
  local ok, e = pcall(f)
  print(ok and "made" or tostring(e))
end]], ".lua")
    local out, err, rc = h.run(h.shell_quote(h.moonsock) .. " " .. script .. " </dev/null")
    os.remove(script)
    assert.are.equal(0, rc, err)
    assert.are.equal(py, out)
    assert.matches("Socket operation on non%-socket", out)
  end)
end)
