local socket = require "socket"
local task = require "task"

describe("a busted spec under moonsock", function()
  it("can block on a socket while another task serves it", function()
    local srv = socket.create_server({"127.0.0.1", 0})
    local t = task.spawn(function()
      local conn = srv:accept()
      conn:sendall(conn:recv(100):upper())
      conn:close()
    end)
    local c = socket.create_connection(srv:getsockname())
    c:sendall("ping")
    assert.are.equal("PING", c:recv(100))
    t:join(5)
    c:close()
    srv:close()
  end)
end)
