-- Fault: half-closed connections. shutdown(SHUT_WR / SHUT_RD / SHUT_RDWR)
-- on TCP and on a socketpair, shutdown waking a task parked in recv, and
-- shutdown's errors. One transcript runs here (tasks) and the same program
-- in python3 (threads where a call must block); the two must be equal.
-- Bounded: socket timeouts of 5 s, joins of 5 s.
local h = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"

local SHUT_RD, SHUT_WR, SHUT_RDWR = socket.SHUT_RD, socket.SHUT_WR, socket.SHUT_RDWR

local tcp_pair = h.tcp_pair

-- What a call gives, as the Python side prints it: data as [text], no
-- result as "ok", an error as "ClassName: str(exc)".
local function show(fn, ...)
  local ok, res = pcall(fn, ...)
  if not ok then
    local mt = getmetatable(res)
    return (type(mt) == "table" and mt.__name or type(res)) .. ": " .. tostring(res)
  end
  if type(res) == "string" then return "[" .. res .. "]" end
  return "ok"
end

local PY_PRELUDE = [[
import socket, threading, time
def tcp_pair():
    srv = socket.create_server(("127.0.0.1", 0))
    c = socket.create_connection(srv.getsockname(), 5)
    a, _ = srv.accept()
    srv.close()
    a.settimeout(5)
    return c, a
def show(fn, *args):
    try:
        r = fn(*args)
    except Exception as e:
        return type(e).__name__ + ": " + str(e)
    if isinstance(r, bytes):
        return "[" + r.decode() + "]"
    return "ok"
]]

local function lines(t) return table.concat(t, "\n") .. "\n" end

describe("a half-closed connection", function()
  it("after SHUT_WR: the peer reads the rest then EOF, and can still answer", function()
    local c, a = tcp_pair()
    local out = {}
    c:sendall("last words")
    out[#out + 1] = show(c.shutdown, c, SHUT_WR)
    out[#out + 1] = show(a.recv, a, 100)
    out[#out + 1] = show(a.recv, a, 100)
    out[#out + 1] = show(a.recv, a, 100)
    out[#out + 1] = show(a.sendall, a, "answer")
    out[#out + 1] = show(a.shutdown, a, SHUT_WR)
    out[#out + 1] = show(c.recv, c, 100)
    out[#out + 1] = show(c.recv, c, 100)
    out[#out + 1] = show(c.send, c, "too late")
    c:close()
    a:close()
    assert.are.equal(h.python(PY_PRELUDE .. [[
c, a = tcp_pair()
c.sendall(b"last words")
print(show(c.shutdown, socket.SHUT_WR))
print(show(a.recv, 100))
print(show(a.recv, 100))
print(show(a.recv, 100))
print(show(a.sendall, b"answer"))
print(show(a.shutdown, socket.SHUT_WR))
print(show(c.recv, 100))
print(show(c.recv, 100))
print(show(c.send, b"too late"))
]]), lines(out))
  end)

  it("after SHUT_RD and SHUT_RDWR: recv gives EOF, send after SHUT_RDWR breaks the pipe", function()
    local c, a = tcp_pair()
    local out = {}
    out[#out + 1] = show(a.shutdown, a, SHUT_RD)
    out[#out + 1] = show(a.recv, a, 100)
    out[#out + 1] = show(a.sendall, a, "still writable")
    out[#out + 1] = show(c.recv, c, 100)
    out[#out + 1] = show(c.shutdown, c, SHUT_RDWR)
    out[#out + 1] = show(c.recv, c, 100)
    out[#out + 1] = show(c.send, c, "x")
    out[#out + 1] = show(a.recv, a, 100)
    c:close()
    a:close()
    assert.are.equal(h.python(PY_PRELUDE .. [[
c, a = tcp_pair()
print(show(a.shutdown, socket.SHUT_RD))
print(show(a.recv, 100))
print(show(a.sendall, b"still writable"))
print(show(c.recv, 100))
print(show(c.shutdown, socket.SHUT_RDWR))
print(show(c.recv, 100))
print(show(c.send, b"x"))
print(show(a.recv, 100))
]]), lines(out))
  end)

  it("on a socketpair behaves as on TCP", function()
    local x, y = socket.socketpair()
    x:settimeout(5)
    y:settimeout(5)
    local out = {}
    x:sendall("ping")
    out[#out + 1] = show(x.shutdown, x, SHUT_WR)
    out[#out + 1] = show(y.recv, y, 100)
    out[#out + 1] = show(y.recv, y, 100)
    out[#out + 1] = show(y.sendall, y, "pong")
    out[#out + 1] = show(x.recv, x, 100)
    out[#out + 1] = show(x.send, x, "x")
    out[#out + 1] = show(y.shutdown, y, SHUT_RDWR)
    out[#out + 1] = show(x.recv, x, 100)
    x:close()
    y:close()
    assert.are.equal(h.python(PY_PRELUDE .. [[
x, y = socket.socketpair()
x.settimeout(5)
y.settimeout(5)
x.sendall(b"ping")
print(show(x.shutdown, socket.SHUT_WR))
print(show(y.recv, 100))
print(show(y.recv, 100))
print(show(y.sendall, b"pong"))
print(show(x.recv, 100))
print(show(x.send, b"x"))
print(show(y.shutdown, socket.SHUT_RDWR))
print(show(x.recv, 100))
]]), lines(out))
  end)

  it("wakes a task parked in recv when the peer shuts down writing, or the socket itself reading", function()
    local c, a = tcp_pair()
    local out = {}
    -- The peer's SHUT_WR: the parked recv returns EOF.
    local t = task.spawn(function() return show(a.recv, a, 100) end)
    task.sleep(0.1)
    c:shutdown(SHUT_WR)
    out[#out + 1] = t:join(5)
    -- Our own SHUT_RD while parked: the kernel ends the wait with EOF too.
    t = task.spawn(function() return show(c.recv, c, 100) end)
    task.sleep(0.1)
    out[#out + 1] = show(c.shutdown, c, SHUT_RD)
    out[#out + 1] = t:join(5)
    c:close()
    a:close()
    assert.are.equal(h.python(PY_PRELUDE .. [[
c, a = tcp_pair()
c.settimeout(5)
res = []
t = threading.Thread(target=lambda: res.append(show(a.recv, 100)))
t.start()
time.sleep(0.1)
c.shutdown(socket.SHUT_WR)
t.join(5)
print(res.pop())
t = threading.Thread(target=lambda: res.append(show(c.recv, 100)))
t.start()
time.sleep(0.1)
print(show(c.shutdown, socket.SHUT_RD))
t.join(5)
print(res.pop())
]]), lines(out))
  end)

  it("raises Python's errors for shutdown on unconnected, closed and bad 'how'", function()
    local out = {}
    local s = socket.socket()
    out[#out + 1] = show(s.shutdown, s, SHUT_WR)
    out[#out + 1] = show(s.shutdown, s, 7)
    s:close()
    out[#out + 1] = show(s.shutdown, s, SHUT_RDWR)
    local u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out[#out + 1] = show(u.shutdown, u, SHUT_RD)
    u:close()
    assert.are.equal(h.python(PY_PRELUDE .. [[
s = socket.socket()
print(show(s.shutdown, socket.SHUT_WR))
print(show(s.shutdown, 7))
s.close()
print(show(s.shutdown, socket.SHUT_RDWR))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print(show(u.shutdown, socket.SHUT_RD))
]]), lines(out))
  end)
end)
