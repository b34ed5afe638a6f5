-- Fault: a peer that resets the connection (close with SO_LINGER {1, 0}
-- sends a RST) while a task is parked in recv or in sendall, and writes to a
-- connection the peer has dropped. Each scenario runs here (in tasks) and as
-- the same program in python3 (in threads); the exception class and its
-- str() must be Python's. SIGPIPE never kills the process: a child moonsock
-- started with SIGPIPE at its default action writes to a reset connection
-- and lives on.
-- Bounded: every socket has a timeout, every join one too.
local h = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"

local LINGER_RST = string.pack("ii", 1, 0)

-- A connected TCP pair over loopback: client, server-side connection.
local tcp_pair = h.tcp_pair

local function reset(s)
  s:setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
  s:close()
end

-- "ClassName: str(exc)" of the error fn raises (or "no error").
local function outcome(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return "no error" end
  local mt = getmetatable(err)
  return (type(mt) == "table" and mt.__name or type(err)) .. ": " .. tostring(err)
end

local PY_PRELUDE = [[
import socket, struct, threading, time
def tcp_pair():
    srv = socket.create_server(("127.0.0.1", 0))
    c = socket.create_connection(srv.getsockname(), 5)
    a, _ = srv.accept()
    srv.close()
    a.settimeout(5)
    return c, a
def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
def outcome(fn, *args):
    try:
        fn(*args)
        return "no error"
    except Exception as e:
        return type(e).__name__ + ": " + str(e)
]]

describe("a peer that resets the connection", function()
  it("wakes a task parked in recv with ConnectionResetError, as Python's blocked recv", function()
    local c, a = tcp_pair()
    local resetter = task.spawn(function()
      task.sleep(0.1)
      reset(a)
    end)
    local t0 = task.now()
    local got = outcome(c.recv, c, 1024)
    local waited = task.now() - t0
    resetter:join(5)
    -- and the connection stays broken: the next call raises at once.
    local again = outcome(c.send, c, "x")
    c:close()
    local py = h.python(PY_PRELUDE .. [[
c, a = tcp_pair()
threading.Timer(0.1, reset, (a,)).start()
print(outcome(c.recv, 1024))
print(outcome(c.send, b"x"))
]])
    assert.are.equal(py, got .. "\n" .. again .. "\n")
    assert.are.equal("ConnectionResetError: [Errno 104] Connection reset by peer", got)
    -- It was parked (not failed early) and woke as soon as the RST came.
    assert.is_true(waited >= 0.05 and waited < 4, "waited " .. waited)
  end)

  it("raises ConnectionResetError from recv when the RST came before the call", function()
    local c, a = tcp_pair()
    a:sendall("unread")
    -- The data c has not read is discarded by the RST.
    task.sleep(0.05)
    reset(a)
    task.sleep(0.05)
    local lua = outcome(c.recv, c, 1024) .. "\n" .. outcome(c.recv, c, 1024) .. "\n"
    c:close()
    local py = h.python(PY_PRELUDE .. [[
c, a = tcp_pair()
a.sendall(b"unread")
time.sleep(0.05)
reset(a)
time.sleep(0.05)
print(outcome(c.recv, 1024))
print(outcome(c.recv, 1024))
]])
    assert.are.equal(py, lua)
  end)

  it("wakes a task parked in sendall with ECONNRESET or EPIPE, then EPIPE, as Python", function()
    local c, a = tcp_pair()
    c:settimeout(10)
    -- Far more than the socket buffers hold: sendall parks until the RST.
    local big = string.rep("x", 64 * 1024 * 1024)
    local resetter = task.spawn(function()
      task.sleep(0.2)
      reset(a)
    end)
    local t0 = task.now()
    local first = outcome(c.sendall, c, big)
    local waited = task.now() - t0
    resetter:join(5)
    local second = outcome(c.send, c, "more")
    c:close()
    local py = h.python(PY_PRELUDE .. [[
c, a = tcp_pair()
c.settimeout(10)
threading.Timer(0.2, reset, (a,)).start()
print(outcome(c.sendall, b"x" * (64 * 1024 * 1024)))
print(outcome(c.send, b"more"))
]])
    local py_first, py_second = py:match("^(.-)\n(.-)\n$")
    -- Which of the two the kernel reports first depends on whether the RST
    -- came while data was queued: Python sees the same two possibilities.
    local either = {
      ["ConnectionResetError: [Errno 104] Connection reset by peer"] = true,
      ["BrokenPipeError: [Errno 32] Broken pipe"] = true,
    }
    assert.is_true(either[first], first)
    assert.is_true(either[py_first], py_first)
    assert.are.equal(py_second, second)
    assert.are.equal("BrokenPipeError: [Errno 32] Broken pipe", second)
    assert.is_true(waited >= 0.1 and waited < 8, "waited " .. waited)
  end)

  it("raises BrokenPipeError from send and sendall on a socketpair whose peer closed", function()
    local a, b = socket.socketpair()
    b:close()
    local lua = outcome(a.send, a, "x") .. "\n" .. outcome(a.sendall, a, "y") .. "\n"
    a:close()
    local py = h.python(PY_PRELUDE .. [[
a, b = socket.socketpair()
b.close()
print(outcome(a.send, b"x"))
print(outcome(a.sendall, b"y"))
]])
    assert.are.equal(py, lua)
  end)

  it("never lets SIGPIPE kill a process that writes to a reset connection", function()
    -- The child starts with SIGPIPE at its default action (killing), as a
    -- shell started from a terminal would give it; python3 ignores SIGPIPE
    -- itself, so it restores the default before exec.
    local script = h.write_temp([[
local socket = require "socket"
local srv = socket.create_server({"127.0.0.1", 0})
local c = socket.create_connection(srv:getsockname(), 5)
local a = srv:accept()
a:setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, string.pack("ii", 1, 0))
a:close()
require("task").sleep(0.05)
for _, call in ipairs({"send", "sendall", "send", "sendall"}) do
  local ok, err = pcall(c[call], c, "data")
  print(call, ok, tostring(err))
end
local x, y = socket.socketpair()
y:close()
print("pair", pcall(x.sendall, x, string.rep("z", 1 << 20)))
print("alive")
]], ".lua")
    local out, err, code = h.run(string.format(
      "python3 -c 'import os, signal, sys; signal.signal(signal.SIGPIPE, signal.SIG_DFL); "
      .. "os.execv(sys.argv[1], sys.argv[1:])' %s %s",
      h.shell_quote(h.moonsock), h.shell_quote(script)))
    os.remove(script)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(6, #lines, out)
    assert.are.equal("alive", lines[6])
    for i = 1, 4 do assert.is_truthy(lines[i]:match("\tfalse\t%[Errno %d+%]"), lines[i]) end
    assert.are.equal("pair\tfalse\t[Errno 32] Broken pipe", lines[5])
  end)
end)
