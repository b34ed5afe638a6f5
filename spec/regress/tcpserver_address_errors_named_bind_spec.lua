-- TCPServer(server_address, ...) binds in its constructor; a malformed
-- address failed in the socket's bind, whose error named bind: "bad
-- argument #1 to 'bind' (port must be 0-65535.)". The address is the
-- constructor's first argument, and its error now says so.
local socketserver = require "socketserver"

describe("a server's malformed address", function()
  it("is the constructor's argument error", function()
    for _, name in ipairs {"TCPServer", "UDPServer", "ThreadingTCPServer"} do
      for _, addr in ipairs {{"127.0.0.1", -1}, {"127.0.0.1"}, {1, 0}} do
        local ok, err = pcall(socketserver[name], addr, socketserver.BaseRequestHandler)
        assert.is_false(ok)
        assert.matches("bad argument #1 to '" .. name .. "'", err, 1, true)
      end
    end
  end)
end)
