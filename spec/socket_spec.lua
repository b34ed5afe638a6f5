-- The socket object against Python's socket module and the kernel.
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"

local AF_INET, AF_INET6, AF_UNIX = socket.AF_INET, socket.AF_INET6, socket.AF_UNIX
local SOCK_STREAM, SOCK_DGRAM = socket.SOCK_STREAM, socket.SOCK_DGRAM

local function listener(family, host)
  local s = socket.socket(family or AF_INET)
  s:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  s:bind({host or "127.0.0.1", 0})
  s:listen()
  return s
end

-- A connected TCP pair over loopback: client, server-side connection.
local function tcp_pair(family, host)
  local srv = listener(family, host)
  local accepted
  local t = task.spawn(function() accepted = srv:accept() end)
  local c = socket.socket(family or AF_INET)
  c:connect(srv:getsockname())
  t:join(5)
  srv:close()
  return c, accepted
end

local function errmsg(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

-- The error of a method called as users call it (s:m(...)), so that Lua
-- numbers the arguments without self and names the method.
local function method_err(s, name, ...)
  local args = table.pack(...)
  -- s:name(...) in source, not in a tail call, so the error names the method.
  local call = load("local s, args = ... local r = s:" .. name .. "(table.unpack(args, 1, args.n)) return r")
  local ok, err = pcall(call, s, args)
  assert.is_false(ok, "expected an error from " .. name)
  return tostring(err)
end

describe("socket construction", function()
  it("defaults to AF_INET, SOCK_STREAM, proto 0 as Python does", function()
    local s = socket.socket()
    local py = h.python("import socket; s = socket.socket(); print(s.family.value, s.type.value, s.proto)")
    assert.are.equal(py, string.format("%d %d %d\n", s.family, s.type, s.proto))
    s:close()
  end)

  it("strips SOCK_NONBLOCK and SOCK_CLOEXEC from type, and SOCK_NONBLOCK means timeout 0", function()
    local s = socket.socket(AF_INET, SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
    local py = h.python([[
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
print(int(s.type), s.gettimeout(), s.getblocking())]])
    assert.are.equal(py, string.format("%d %s %s\n", s.type, tostring(s:gettimeout()):gsub("^0%.0$", "0.0"),
      s:getblocking() and "True" or "False"))
    s:close()
  end)

  it("asks the kernel for family, type and proto when given only a fileno", function()
    local u = socket.socket(AF_INET6, SOCK_DGRAM)
    local fd = u:detach()
    local s = socket.socket(nil, nil, nil, fd)
    assert.are.same({AF_INET6, SOCK_DGRAM, socket.IPPROTO_UDP}, {s.family, s.type, s.proto})
    s:close()
  end)

  it("fromfd duplicates the fd", function()
    local a = socket.socket()
    local b = socket.fromfd(a:fileno(), AF_INET, SOCK_STREAM)
    assert.are_not.equal(a:fileno(), b:fileno())
    a:close()
    assert.is_true(b:fileno() >= 0)
    assert.are.equal(AF_INET, b.family)
    b:close()
  end)

  it("raises the kernel's error for an unsupported family", function()
    local err = errmsg(socket.socket, 12345, SOCK_STREAM)
    local py = h.python([[
import socket
try: socket.socket(12345, socket.SOCK_STREAM)
except OSError as e: print(e.errno, e)]])
    assert.are.equal(py, err.errno .. " " .. tostring(err) .. "\n")
    assert.is_true(socket.error:matches(err))
  end)

  it("names the argument on wrong types", function()
    assert.matches("bad argument #1 to 'socket", tostring(errmsg(socket.socket, "inet")))
    assert.matches("bad argument #2 to 'socket", tostring(errmsg(socket.socket, AF_INET, {})))
  end)

  it("makes every fd close-on-exec", function()
    local s = socket.socket()
    local c, a = tcp_pair()
    local p1, p2 = socket.socketpair()
    for _, sock in ipairs {s, c, a, p1, p2, s:dup()} do
      local f = assert(io.open("/proc/self/fdinfo/" .. sock:fileno()))
      local info = f:read("a")
      f:close()
      local flags = tonumber(info:match("flags:%s*(%d+)"), 8)
      assert.are_not.equal(0, flags & tonumber("2000000", 8), "fd " .. sock:fileno() .. " lacks O_CLOEXEC")
      sock:close()
    end
  end)
end)

describe("socket repr and addresses", function()
  -- Python 3.11 prints family=2; moonsock prints the name, as Python 3.4-3.10 and
  -- the tutorials do: translate Python's numbers with its own enums.
  local function python_repr(setup)
    return h.python([[
import socket, re
]] .. setup .. [[

r = repr(s)
r = r.replace('<socket.socket', '<socket')
r = re.sub(r'family=(\d+)', lambda m: 'family=' + socket.AddressFamily(int(m.group(1))).name, r)
r = re.sub(r'type=(\d+)', lambda m: 'type=' + socket.SocketKind(int(m.group(1))).name, r)
print(r)]])
  end

  it("prints an unbound, a bound and a closed socket like Python", function()
    -- fds and ports differ between the two processes: put moonsock's into Python's text.
    local s = socket.socket()
    local fd = s:fileno()
    local py = python_repr("s = socket.socket()"):gsub("fd=%d+", "fd=" .. fd):gsub("\n$", "")
    assert.are.equal(py, tostring(s))
    s:bind({"127.0.0.1", 0})
    local port = s:getsockname()[2]
    py = python_repr("s = socket.socket(); s.bind(('127.0.0.1', 0))")
    py = py:gsub("fd=%d+", "fd=" .. fd):gsub("'127%.0%.0%.1', %d+", "'127.0.0.1', " .. port):gsub("\n$", "")
    assert.are.equal(py, tostring(s))
    s:close()
    local pyclosed = python_repr("s = socket.socket(); s.close()"):gsub("\n$", "")
    assert.are.equal(pyclosed, tostring(s))
  end)

  it("shows laddr and raddr of a connected socket", function()
    local c, a = tcp_pair()
    local l, r = c:getsockname(), c:getpeername()
    assert.are.equal(string.format("<socket fd=%d, family=AF_INET, type=SOCK_STREAM, proto=%d, laddr=%s, raddr=%s>",
      c:fileno(), c.proto, tostring(l), tostring(r)), tostring(c))
    -- The kernel's view from both ends agrees.
    assert.are.equal(a:getpeername(), l)
    assert.are.equal(a:getsockname(), r)
    c:close(); a:close()
  end)

  it("prints addresses like Python's tuples", function()
    local c, a = tcp_pair()
    local l = c:getsockname()
    local py = h.python(string.format("print(str(('127.0.0.1', %d)))", l[2]))
    assert.are.equal(py, tostring(l) .. "\n")
    c:close(); a:close()
    local c6, a6 = tcp_pair(AF_INET6, "::1")
    local l6 = c6:getsockname()
    py = h.python(string.format("print(str(('::1', %d, 0, 0)))", l6[2]))
    assert.are.equal(py, tostring(l6) .. "\n")
    c6:close(); a6:close()
  end)
end)

describe("TCP", function()
  for _, fam in ipairs {{AF_INET, "127.0.0.1", "IPv4"}, {AF_INET6, "::1", "IPv6"}} do
    it("echoes over " .. fam[3] .. " with send, sendall, recv", function()
      local c, a = tcp_pair(fam[1], fam[2])
      assert.are.equal(5, c:send("hello"))
      assert.are.equal("hello", a:recv(1024))
      local big = string.rep("0123456789abcdef", 65536) -- 1 MiB
      local t = task.spawn(function() c:sendall(big) c:shutdown(socket.SHUT_WR) end)
      local got = {}
      while true do
        local chunk = a:recv(65536)
        if chunk == "" then break end
        got[#got + 1] = chunk
      end
      t:join(10)
      assert.are.equal(#big, #table.concat(got))
      assert.are.equal(big, table.concat(got))
      c:close(); a:close()
    end)
  end

  it("resolves a host name in connect, as Python does", function()
    local srv = listener()
    local port = srv:getsockname()[2]
    local t = task.spawn(function() local conn = srv:accept() conn:close() end)
    local c = socket.socket()
    c:connect({"localhost", port})
    assert.are.equal("127.0.0.1", c:getpeername()[1])
    t:join(5)
    c:close(); srv:close()
  end)

  it("raises ConnectionRefusedError with Python's text, and connect_ex returns the errno", function()
    local probe = socket.socket()
    probe:bind({"127.0.0.1", 0})
    local port = probe:getsockname()[2]
    probe:close() -- nobody listens on port now
    local py = h.python(string.format([[
import socket
s = socket.socket()
try: s.connect(('127.0.0.1', %d))
except OSError as e: print(type(e).__name__, e.errno, e)
print(socket.socket().connect_ex(('127.0.0.1', %d)))]], port, port))
    local s = socket.socket()
    local err = errmsg(s.connect, s, {"127.0.0.1", port})
    assert.is_true(socket.ConnectionRefusedError:matches(err))
    assert.are.equal(py, string.format("ConnectionRefusedError %d %s\n%d\n", err.errno, tostring(err),
      socket.socket():connect_ex({"127.0.0.1", port})))
  end)

  it("reads the peer's orderly shutdown as an empty string", function()
    local c, a = tcp_pair()
    a:shutdown(socket.SHUT_WR)
    assert.are.equal("", c:recv(10))
    c:close(); a:close()
  end)

  it("raises EPIPE or ECONNRESET writing to a closed peer, and the process survives SIGPIPE", function()
    local c, a = tcp_pair()
    a:close()
    local err
    for _ = 1, 100 do
      local ok, e = pcall(c.send, c, string.rep("x", 65536))
      if not ok then err = e break end
      task.sleep(0.01)
    end
    assert.is_not_nil(err)
    assert.is_true(err.errno == 32 or err.errno == 104)
    assert.is_true(socket.BrokenPipeError:matches(err) or socket.ConnectionResetError:matches(err))
    c:close()
  end)
end)

describe("UDP", function()
  for _, fam in ipairs {{AF_INET, "127.0.0.1"}, {AF_INET6, "::1"}} do
    it("sends and receives datagrams with addresses (family " .. fam[1] .. ")", function()
      local a = socket.socket(fam[1], SOCK_DGRAM)
      a:bind({fam[2], 0})
      local b = socket.socket(fam[1], SOCK_DGRAM)
      b:bind({fam[2], 0})
      assert.are.equal(4, b:sendto("ping", a:getsockname()))
      local data, from = a:recvfrom(100)
      assert.are.equal("ping", data)
      assert.are.equal(b:getsockname(), from)
      assert.are.equal(4, a:sendto("pong", 0, from)) -- the (data, flags, address) form
      assert.are.equal("pong", b:recv(100))
      -- A datagram larger than the buffer is cut, as the kernel does.
      a:sendto("0123456789", b:getsockname())
      assert.are.equal("01234", b:recv(5))
      a:close(); b:close()
    end)
  end
end)

describe("UNIX sockets", function()
  local dir
  before_each(function() dir = h.tempdir() end)
  after_each(function() os.execute("rm -rf " .. h.shell_quote(dir)) end)

  it("serve a stream over a path, with path addresses", function()
    local path = dir .. "/s.sock"
    local srv = socket.socket(AF_UNIX, SOCK_STREAM)
    srv:bind(path)
    srv:listen()
    assert.are.equal(path, srv:getsockname())
    local t = task.spawn(function()
      local conn, addr = srv:accept()
      assert.are.equal("", addr) -- an unbound client has an empty address, as in Python
      conn:sendall(conn:recv(100) .. "!")
      conn:close()
    end)
    local c = socket.socket(AF_UNIX, SOCK_STREAM)
    c:connect(path)
    c:sendall("hi")
    assert.are.equal("hi!", c:recv(100))
    assert.are.equal(path, c:getpeername())
    t:join(5)
    c:close(); srv:close()
  end)

  it("use Linux abstract names", function()
    local name = "\0moonsock-test-" .. h.getpid()
    local a = socket.socket(AF_UNIX, SOCK_DGRAM)
    a:bind(name)
    assert.are.equal(name, a:getsockname())
    local b = socket.socket(AF_UNIX, SOCK_DGRAM)
    b:sendto("x", name)
    assert.are.equal("x", a:recv(10))
    a:close(); b:close()
  end)

  it("reject a path that is too long, like Python", function()
    local s = socket.socket(AF_UNIX)
    local long = dir .. "/" .. string.rep("a", 200)
    local err = errmsg(s.bind, s, long)
    local py = h.python("import socket\ntry: socket.socket(socket.AF_UNIX).bind('" .. long .. "')\n"
      .. "except OSError as e: print(e)")
    assert.are.equal(py, tostring(err) .. "\n")
  end)

  it("socketpair defaults to AF_UNIX SOCK_STREAM", function()
    local a, b = socket.socketpair()
    assert.are.same({AF_UNIX, SOCK_STREAM}, {a.family, a.type})
    a:sendall("abc")
    assert.are.equal("abc", b:recv(3))
    a:close(); b:close()
  end)
end)

describe("other types and special hosts", function()
  it("keeps message boundaries on SOCK_SEQPACKET", function()
    local a, b = socket.socketpair(AF_UNIX, socket.SOCK_SEQPACKET)
    assert.are.equal(socket.SOCK_SEQPACKET, a.type)
    a:send("first")
    a:send("second")
    assert.are.equal("first", b:recv(100))
    assert.are.equal("second", b:recv(100))
    a:close(); b:close()
  end)

  it("opens SOCK_RAW where the kernel allows it, and says why not where it does not", function()
    local ok, s = pcall(socket.socket, AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    local py = h.python([[
import socket
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); print("ok", s.type, s.proto)
except OSError as e: print("err", e.errno)]])
    if ok then
      assert.are.equal(py, string.format("ok %d %d\n", s.type, s.proto))
      s:close()
    else
      assert.are.equal(py, "err " .. s.errno .. "\n")
    end
  end)

  it("binds '' to INADDR_ANY and sends to '<broadcast>' as Python does", function()
    local u = socket.socket(AF_INET, SOCK_DGRAM)
    u:bind({"", 0})
    assert.are.equal("0.0.0.0", u:getsockname()[1])
    u:setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    local py = h.python([[
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('', 0))
u.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
try: print(u.sendto(b'x', ('<broadcast>', 9)))
except OSError as e: print('err', e.errno)]])
    local ok, n = pcall(u.sendto, u, "x", {"<broadcast>", 9})
    assert.are.equal(py, ok and (n .. "\n") or ("err " .. n.errno .. "\n"))
    u:close()
  end)
end)

describe("timeouts", function()
  it("None blocks, 0 raises BlockingIOError at once, a number raises timeout after that long", function()
    local a, b = socket.socketpair()
    assert.is_nil(a:gettimeout())
    assert.is_true(a:getblocking())
    a:settimeout(0)
    assert.is_false(a:getblocking())
    local err = errmsg(a.recv, a, 10)
    local py = h.python([[
import socket
a, b = socket.socketpair(); a.settimeout(0)
try: a.recv(10)
except OSError as e: print(type(e).__name__, e.errno, e)
a.settimeout(0.05)
try: a.recv(10)
except OSError as e: print(type(e).__name__, e.errno, e)]])
    local first = string.format("BlockingIOError %d %s\n", err.errno, tostring(err))
    assert.is_true(socket.BlockingIOError:matches(err))
    a:settimeout(0.05)
    local t0 = task.now()
    local terr = errmsg(a.recv, a, 10)
    local elapsed = task.now() - t0
    assert.is_true(socket.timeout:matches(terr))
    assert.are.equal(py, first .. string.format("TimeoutError %s %s\n", terr.errno == nil and "None" or terr.errno,
      tostring(terr)))
    assert.is_true(elapsed >= 0.05 and elapsed < 1, "took " .. elapsed)
    a:close(); b:close()
  end)

  it("lets other tasks run while one waits with a timeout", function()
    local a, b = socket.socketpair()
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 5 do ticks = ticks + 1 task.sleep(0.01) end
    end)
    a:settimeout(0.2)
    errmsg(a.recv, a, 1)
    ticker:join(1)
    assert.are.equal(5, ticks)
    a:close(); b:close()
  end)

  it("bounds the whole of sendall", function()
    local a, b = socket.socketpair()
    a:settimeout(0.1)
    local t0 = task.now()
    local err = errmsg(a.sendall, a, string.rep("x", 16 * 1024 * 1024)) -- nobody reads b
    assert.is_true(socket.timeout:matches(err))
    assert.is_true(task.now() - t0 < 1)
    a:close(); b:close()
  end)

  it("applies setdefaulttimeout to new and accepted sockets", function()
    local srv = listener()
    socket.setdefaulttimeout(2.5)
    local ok, err = pcall(function()
      local c = socket.socket()
      assert.are.equal(2.5, c:gettimeout())
      c:connect(srv:getsockname())
      local conn = srv:accept()
      assert.are.equal(2.5, conn:gettimeout())
      conn:close(); c:close()
    end)
    socket.setdefaulttimeout(nil)
    srv:close()
    assert(ok, err)
    assert.is_nil(socket.getdefaulttimeout())
  end)

  it("rejects negative and NaN timeouts naming the argument", function()
    local s = socket.socket()
    assert.matches("bad argument #1 to 'settimeout'", method_err(s, "settimeout", -1))
    assert.matches("bad argument #1 to 'settimeout'", method_err(s, "settimeout", 0/0))
    s:close()
  end)
end)

describe("closing", function()
  it("raises [Errno 9] Bad file descriptor on use after close, and fileno is -1", function()
    local s = socket.socket()
    s:close()
    s:close() -- twice is fine
    assert.are.equal(-1, s:fileno())
    local err = errmsg(s.recv, s, 1)
    local py = h.python("import socket\ns = socket.socket(); s.close()\ntry: s.recv(1)\nexcept OSError as e: print(e)")
    assert.are.equal(py, tostring(err) .. "\n")
  end)

  it("wakes a task parked on a socket that another task closes, with EBADF", function()
    local a, b = socket.socketpair()
    local t = task.spawn(function() return pcall(a.recv, a, 10) end)
    task.sleep(0.02)
    assert.are.equal("parked", t:status())
    a:close()
    local ok, err = t:join(1)
    assert.is_false(ok)
    assert.are.equal(9, err.errno)
    b:close()
  end)

  it("closes a socket at the end of a <close> block", function()
    local fd
    do
      local s <close> = socket.socket()
      fd = s:fileno()
    end
    assert.is_nil(io.open("/proc/self/fd/" .. fd))
  end)

  it("closes unreachable sockets in the collector", function()
    collectgarbage()
    local before = h.open_fds()
    for _ = 1, 2000 do socket.socket() end
    collectgarbage()
    collectgarbage()
    assert.is_true(h.open_fds() <= before + 1)
  end)

  it("detach gives the fd away without closing it", function()
    local s = socket.socket()
    local fd = s:detach()
    assert.are.equal(-1, s:fileno())
    local s2 = socket.socket(nil, nil, nil, fd)
    assert.are.equal(fd, s2:fileno())
    s2:close()
  end)
end)

describe("socket options", function()
  it("reads and writes integer options as the kernel reports them", function()
    local s = socket.socket()
    assert.are.equal(0, s:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    s:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    assert.are.equal(1, s:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    s:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, true)
    assert.are.equal(1, s:getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    local py = h.python([[
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))]])
    s:setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    assert.are.equal(py, s:getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) .. "\n")
    s:close()
  end)

  it("passes byte strings through, as struct linger", function()
    local s = socket.socket()
    s:setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, string.pack("ii", 1, 7))
    local raw = s:getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)
    assert.are.same({1, 7}, {(string.unpack("i", raw)), (string.unpack("i", raw, 5))})
    local err = errmsg(s.getsockopt, s, socket.SOL_SOCKET, socket.SO_LINGER, 2000)
    assert.are.equal("getsockopt buflen out of range", tostring(err))
    s:close()
  end)

  it("raises the kernel's error for an unknown option", function()
    local s = socket.socket()
    local err = errmsg(s.getsockopt, s, socket.SOL_SOCKET, 9999)
    local py = h.python("import socket\ntry: socket.socket().getsockopt(socket.SOL_SOCKET, 9999)\n"
      .. "except OSError as e: print(e)")
    assert.are.equal(py, tostring(err) .. "\n")
    s:close()
  end)
end)

describe("dup", function()
  it("shares the connection and copies the timeout", function()
    local c, a = tcp_pair()
    c:settimeout(3)
    local d = c:dup()
    assert.are.equal(3, d:gettimeout())
    c:close()
    d:sendall("via dup")
    assert.are.equal("via dup", a:recv(100))
    d:close(); a:close()
  end)
end)

describe("sendmsg and recvmsg", function()
  it("gather several buffers and carry ancillary data (send_fds/recv_fds)", function()
    local a, b = socket.socketpair()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("passed through a socket")
    f:close()
    local pa, pb = socket.socketpair()
    assert.are.equal(6, socket.send_fds(a, {"abc", "def"}, {pa:fileno(), pb:fileno()}))
    local msg, fds, flags = socket.recv_fds(b, 100, 4)
    assert.are.equal("abcdef", msg)
    assert.are.equal(2, #fds)
    assert.are.equal(0, flags)
    -- The received fds are new descriptors for the same socketpair.
    local ra = socket.socket(AF_UNIX, SOCK_STREAM, 0, fds[1])
    local rb = socket.socket(AF_UNIX, SOCK_STREAM, 0, fds[2])
    ra:sendall("through the copy")
    assert.are.equal("through the copy", pb:recv(100))
    rb:sendall("back")
    assert.are.equal("back", pa:recv(100))
    for _, s in ipairs {a, b, pa, pb, ra, rb} do s:close() end
    os.remove(path)
  end)

  it("matches Python's CMSG_LEN and CMSG_SPACE", function()
    local py = h.python("import socket; print(socket.CMSG_LEN(8), socket.CMSG_SPACE(8), socket.CMSG_LEN(0))")
    assert.are.equal(py, string.format("%d %d %d\n", socket.CMSG_LEN(8), socket.CMSG_SPACE(8), socket.CMSG_LEN(0)))
  end)
end)

describe("sendfile", function()
  it("sends a file, from an offset and a count, and moves the file position", function()
    local path = os.tmpname()
    local content = string.rep("moonsock sendfile ", 10000)
    local f = assert(io.open(path, "wb"))
    f:write(content)
    f:close()
    local c, a = tcp_pair()
    f = assert(io.open(path, "rb"))
    local got = {}
    local reader = task.spawn(function()
      while true do
        local chunk = a:recv(65536)
        if chunk == "" then break end
        got[#got + 1] = chunk
      end
    end)
    assert.are.equal(#content, c:sendfile(f))
    assert.are.equal(#content, f:seek())
    assert.are.equal(100, c:sendfile(f, 5, 100))
    assert.are.equal(105, f:seek())
    c:shutdown(socket.SHUT_WR)
    reader:join(10)
    assert.are.equal(content .. content:sub(6, 105), table.concat(got))
    f:close(); c:close(); a:close()
    os.remove(path)
  end)

  it("refuses datagram sockets like Python", function()
    local u = socket.socket(AF_INET, SOCK_DGRAM)
    local f = assert(io.open("/dev/null"))
    assert.matches("only SOCK_STREAM type sockets are supported", tostring(errmsg(u.sendfile, u, f)))
    f:close(); u:close()
  end)
end)

describe("create_connection and create_server", function()
  it("connect through getaddrinfo's list and bind servers with SO_REUSEADDR", function()
    local srv = socket.create_server({"127.0.0.1", 0}, {backlog = 4})
    assert.are.equal(1, srv:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    local t = task.spawn(function() local conn = srv:accept() conn:sendall("hi") conn:close() end)
    local c = socket.create_connection({"localhost", srv:getsockname()[2]}, 2)
    assert.are.equal(2, c:gettimeout())
    assert.are.equal("hi", c:recv(10))
    t:join(5)
    c:close(); srv:close()
  end)

  it("serve IPv4 clients from a dual-stack IPv6 socket", function()
    if not socket.has_dualstack_ipv6() then return pending("no dual-stack IPv6 here") end
    local srv = socket.create_server({"", 0}, {family = AF_INET6, dualstack_ipv6 = true})
    local t = task.spawn(function() local conn, addr = srv:accept() conn:close() return addr end)
    local c = socket.create_connection({"127.0.0.1", srv:getsockname()[2]})
    local addr = t:join(5)
    assert.are.equal("::ffff:127.0.0.1", addr[1])
    c:close(); srv:close()
  end)

  it("explains a busy address the way Python does", function()
    local srv = socket.create_server({"127.0.0.1", 0})
    local port = srv:getsockname()[2]
    local err = errmsg(socket.create_server, {"127.0.0.1", port})
    local py = h.python(string.format([[
import socket
s = socket.create_server(('127.0.0.1', 0)); s.close()
try:
    a = socket.socket(); a.bind(('127.0.0.1', %d)); a.listen()
except OSError: pass
try: socket.create_server(('127.0.0.1', %d))
except OSError as e: print(e.errno, e)]], port, port))
    assert.are.equal(py, err.errno .. " " .. tostring(err) .. "\n")
    srv:close()
  end)
end)

describe("bad arguments", function()
  it("name the argument and never crash", function()
    local s = socket.socket()
    assert.matches("bad argument #1 to 'bind'", method_err(s, "bind", "127.0.0.1:80"))
    assert.matches("port must be 0%-65535", method_err(s, "bind", {"127.0.0.1", 70000}))
    assert.matches("bad argument #1 to 'bind'", method_err(s, "bind", {"127.0.0.1", "80"}))
    assert.matches("bad argument #1 to 'connect'", method_err(s, "connect", 80))
    assert.matches("bad argument #2 to 'sendto'", method_err(s, "sendto", "x", {1, 2}))
    assert.matches("bad argument #1 to 'recv'", method_err(s, "recv", -1))
    assert.matches("bad argument #1 to 'recv'", method_err(s, "recv", "x"))
    assert.matches("bad argument #1 to 'send'", method_err(s, "send", 42))
    assert.matches("bad argument #1 to 'sendall'", method_err(s, "sendall", {}))
    assert.matches("bad argument #2 to 'setsockopt'", method_err(s, "setsockopt", socket.SOL_SOCKET, "x", 1))
    assert.matches("bad argument #1 to 'shutdown'", method_err(s, "shutdown", "both"))
    assert.matches("bad argument #1 to 'sendfile'", method_err(s, "sendfile", "file"))
    assert.matches("bad argument #1 to 'recvmsg'", method_err(s, "recvmsg", -5))
    assert.matches("bad argument #1 to 'sendmsg'", method_err(s, "sendmsg", {1}))
    local u = socket.socket(AF_UNIX)
    assert.matches("bad argument #1 to 'bind'", method_err(u, "bind", {"x", 1}))
    s:close(); u:close()
  end)
end)
