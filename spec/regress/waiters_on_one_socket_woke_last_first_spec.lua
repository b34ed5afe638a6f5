-- Issue 14, item 3: several tasks waiting on one socket were woken last in,
-- first out: io.c pushed each waiter at the head of the socket's list, so
-- four tasks parked in recv(2) got the bytes in the order 4, 3, 2, 1, and
-- the third of three acceptors got the first connection. Locks and queues
-- serve first come, first served; so do sockets now (docs/api.md, "Tasks
-- waiting on one socket").
local socket = require "socket"
local task = require "task"

describe("tasks waiting on one socket", function()
  it("read in the order they started waiting", function()
    local a, b = socket.socketpair()
    local got = {}
    local readers = {}
    for i = 1, 4 do
      readers[i] = task.spawn(function()
        local data = a:recv(2) -- before #got is read: it parks
        got[#got + 1] = i .. ":" .. data
      end)
      task.sleep(0.01) -- each parks before the next starts
    end
    b:sendall("aabbccdd")
    for i = 1, 4 do readers[i]:join(5) end
    a:close()
    b:close()
    assert.are.same({"1:aa", "2:bb", "3:cc", "4:dd"}, got)
  end)

  it("read in that order when the bytes come one message at a time", function()
    local a, b = socket.socketpair()
    local got = {}
    local readers = {}
    for i = 1, 3 do
      readers[i] = task.spawn(function()
        local data = a:recv(1)
        got[#got + 1] = i .. ":" .. data
      end)
      task.sleep(0.01)
    end
    for _, byte in ipairs {"x", "y", "z"} do
      b:sendall(byte)
      task.sleep(0.02) -- one woken reader takes it; the others park again, in order
    end
    for i = 1, 3 do readers[i]:join(5) end
    a:close()
    b:close()
    assert.are.same({"1:x", "2:y", "3:z"}, got)
  end)

  it("accept connections in the order they started waiting", function()
    local srv = socket.create_server({"127.0.0.1", 0})
    local addr = srv:getsockname()
    local accepted = {}
    local acceptors = {}
    for i = 1, 3 do
      acceptors[i] = task.spawn(function()
        local conn = srv:accept()
        accepted[i] = conn:recv(10)
        conn:close()
      end)
      task.sleep(0.01)
    end
    local clients = {}
    for i = 1, 3 do
      clients[i] = socket.create_connection(addr)
      clients[i]:sendall("client" .. i)
      task.sleep(0.02) -- connection i is accepted before i + 1 is made
    end
    for i = 1, 3 do acceptors[i]:join(5) end
    for i = 1, 3 do clients[i]:close() end
    srv:close()
    assert.are.same({"client1", "client2", "client3"}, accepted)
  end)
end)
