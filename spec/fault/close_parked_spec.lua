-- Fault: a socket closed by one task while another task is parked on it in
-- recv, recvfrom, send, sendall, accept or connect. The parked task gets
-- OSError EBADF at once (Python's str(OSError(EBADF, strerror(EBADF)))), the
-- fd is released, and an fd number reused right away by a new socket is not
-- touched by the woken task. That nothing is used after it is freed is the
-- sanitizer run's part (scripts/test --sanitize runs this file under
-- AddressSanitizer); here the collector runs after each close so that a
-- dangling reference would be hit there.
-- Bounded: parked calls have timeouts of 5 s; joins wait 5 s.
local h = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"
local fault = require "spec.fault.support"

local EBADF_STR = h.python("import errno, os; print(str(OSError(errno.EBADF, os.strerror(errno.EBADF))))")
  :gsub("\n$", "")
local EBADF = tonumber(h.python("import errno; print(errno.EBADF)"))

local tcp_pair = h.tcp_pair

-- Parks fn(sock, ...) in a task, closes sock from this task once the other
-- is parked, and returns the error the parked task got and how long after
-- the close it came.
local function close_under(sock, fn, ...)
  local args = table.pack(...)
  local t = task.spawn(function()
    local ok, err = pcall(fn, sock, table.unpack(args, 1, args.n))
    return ok, err, task.now()
  end)
  local deadline = task.now() + 5
  repeat task.sleep(0.01) until t:status() == "parked" or task.now() > deadline
  assert.are.equal("parked", t:status())
  local closed_at = task.now()
  sock:close()
  collectgarbage()
  collectgarbage()
  local ok, err, at = t:join(5)
  assert.is_false(ok, "the parked call returned")
  collectgarbage()
  return err, at - closed_at
end

local function assert_ebadf(err, after)
  assert.is_true(socket.error:matches(err), tostring(err))
  assert.are.equal(EBADF, err.errno)
  assert.are.equal(EBADF_STR, tostring(err))
  -- Woken by the close, not by the 5 s timeout.
  assert.is_true(after < 1, "woke " .. after .. " s after the close")
end

describe("closing a socket another task is parked on", function()
  local fds_before
  before_each(function()
    collectgarbage()
    task.sleep(0)
    fds_before = fault.socket_fds()
  end)
  after_each(function()
    -- Every socket of the test is closed or collected: no fd left behind
    -- (a close completes on a later loop turn: wait up to a second).
    local deadline = task.now() + 1
    repeat
      collectgarbage()
      task.sleep(0.01)
    until fault.socket_fds() == fds_before or task.now() > deadline
    assert.are.equal(fds_before, fault.socket_fds())
  end)

  it("wakes recv with EBADF", function()
    local c, a = tcp_pair()
    c:settimeout(5)
    assert_ebadf(close_under(c, c.recv, 1024))
    a:close()
  end)

  it("wakes recvfrom on a UDP socket with EBADF", function()
    local u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u:bind({"127.0.0.1", 0})
    u:settimeout(5)
    assert_ebadf(close_under(u, u.recvfrom, 1024))
  end)

  it("wakes send and sendall, parked on a full buffer, with EBADF", function()
    local c, a = tcp_pair()
    c:settimeout(5)
    -- Fill the buffers: nobody reads a.
    c:setblocking(false)
    while pcall(c.send, c, string.rep("f", 65536)) do end
    c:settimeout(5)
    assert_ebadf(close_under(c, c.send, "more"))
    a:close()
    c, a = tcp_pair()
    c:settimeout(5)
    assert_ebadf(close_under(c, c.sendall, string.rep("s", 16 * 1024 * 1024)))
    a:close()
  end)

  it("wakes accept with EBADF", function()
    local srv = socket.create_server({"127.0.0.1", 0})
    srv:settimeout(5)
    assert_ebadf(close_under(srv, srv.accept))
  end)

  it("wakes connect, parked on a listener whose queue is full, with EBADF", function()
    local srv = socket.socket()
    srv:bind({"127.0.0.1", 0})
    srv:listen(0)
    -- The kernel drops SYNs to a listener with a full accept queue: a
    -- connect after those stays in progress.
    local held = {}
    for i = 1, 4 do
      held[i] = socket.socket()
      held[i]:setblocking(false)
      pcall(held[i].connect, held[i], srv:getsockname())
    end
    local c = socket.socket()
    c:settimeout(5)
    assert_ebadf(close_under(c, c.connect, srv:getsockname()))
    for _, s in ipairs(held) do s:close() end
    srv:close()
  end)

  it("wakes every task parked on it, readers and writers", function()
    local c, a = tcp_pair()
    c:settimeout(5)
    c:setblocking(false)
    while pcall(c.send, c, string.rep("f", 65536)) do end
    c:settimeout(5)
    local tasks = {}
    for i = 1, 10 do
      tasks[i] = task.spawn(function()
        local ok, err
        if i % 2 == 0 then ok, err = pcall(c.recv, c, 10) else ok, err = pcall(c.sendall, c, "w") end
        return ok, err
      end)
    end
    local deadline = task.now() + 5
    local parked
    repeat
      task.sleep(0.01)
      parked = 0
      for _, t in ipairs(tasks) do if t:status() == "parked" then parked = parked + 1 end end
    until parked == 10 or task.now() > deadline
    assert.are.equal(10, parked)
    c:close()
    for _, t in ipairs(tasks) do
      local ok, err = t:join(5)
      assert.is_false(ok)
      assert.are.equal(EBADF_STR, tostring(err))
    end
    a:close()
  end)

  it("does not let the woken task touch a new socket that reuses the fd number", function()
    local c, a = tcp_pair()
    c:settimeout(5)
    local fd = c:fileno()
    local t = task.spawn(function() return pcall(c.recv, c, 1024) end)
    local deadline = task.now() + 5
    repeat task.sleep(0.01) until t:status() == "parked" or task.now() > deadline
    c:close()
    -- Before the parked task runs again: the lowest free fd is the one
    -- just closed, so the new pair takes it, and has data waiting.
    local x, y = socket.socketpair()
    assert.is_true(x:fileno() == fd or y:fileno() == fd, "the fd number was not reused")
    x:sendall("for y")
    y:sendall("for x")
    local ok, err = t:join(5)
    assert.is_false(ok)
    assert.are.equal(EBADF_STR, tostring(err))
    -- The data is still where it was sent.
    y:settimeout(5)
    x:settimeout(5)
    assert.are.equal("for y", y:recv(100))
    assert.are.equal("for x", x:recv(100))
    x:close()
    y:close()
    a:close()
  end)

  it("raises EBADF, as Python, for each call made after the close", function()
    local s = socket.socket()
    s:close()
    local got = {}
    for _, call in ipairs({
      {"recv", 1}, {"send", "x"}, {"sendall", "x"}, {"accept"}, {"connect", {"127.0.0.1", 9}},
      {"listen"}, {"getsockname"},
    }) do
      local ok, err = pcall(s[call[1]], s, table.unpack(call, 2))
      got[#got + 1] = call[1] .. " " .. (ok and "no error" or tostring(err))
    end
    assert.are.equal(h.python([[
import socket
s = socket.socket()
s.close()
for name, args in [("recv", (1,)), ("send", (b"x",)), ("sendall", (b"x",)), ("accept", ()),
                   ("connect", (("127.0.0.1", 9),)), ("listen", ()), ("getsockname", ())]:
    try:
        getattr(s, name)(*args)
        print(name, "no error")
    except OSError as e:
        print(name, e)
]]), table.concat(got, "\n") .. "\n")
  end)
end)
