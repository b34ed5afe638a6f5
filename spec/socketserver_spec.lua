-- socketserver: Python's module with tasks for threads and fork for fork.
-- The references are CPython 3's socketserver (run from here with python3:
-- class layouts, defaults, the order it calls its hooks in, handle_error's
-- text) and the kernel (getsockopt, ss's backlog, /proc for processes).
local socketserver = require "socketserver"
local socket = require "socket"
local task = require "task"
local posix = require "moonsock.posix"
local errors = require "moonsock.errors"
local helpers = require "spec.support.helpers"

local TIMEOUT = 5
local LOCAL = {"127.0.0.1", 0}

-- Python's answers, one per line.
local function python_lines(code)
  local out = helpers.python(code)
  local lines = {}
  for line in out:gmatch("[^\n]*") do lines[#lines + 1] = line end
  while lines[#lines] == "" do lines[#lines] = nil end
  return lines
end

local function connect(addr)
  local family = type(addr) == "string" and socket.AF_UNIX or socket.AF_INET
  local c = socket.socket(family, socket.SOCK_STREAM)
  c:settimeout(TIMEOUT)
  c:connect(addr)
  return c
end

-- Everything the peer sends until it closes.
local function recv_all(c)
  local parts = {}
  while true do
    local s = c:recv(4096)
    if s == "" then break end
    parts[#parts + 1] = s
  end
  return table.concat(parts)
end

-- One request on a new connection: sends data, returns all of the reply.
local function ask(addr, data)
  local c = connect(addr)
  c:sendall(data)
  local reply = recv_all(c)
  c:close()
  return reply
end

local function serve(server, interval)
  return task.spawn(function() server:serve_forever(interval or 0.05) end)
end

local function stop(server, h)
  server:shutdown()
  h:join(TIMEOUT)
end

-- Answers with the line it reads, upper-cased.
local Upper = socketserver.StreamRequestHandler:extend{
  __name = "Upper",
  handle = function(self)
    self.wfile:write(self.rfile:readline():upper())
  end,
}

local function tmpdir()
  local d = helpers.tempdir()
  return d, function() os.execute("rm -rf " .. helpers.shell_quote(d)) end
end

-- State (R running, S sleeping, Z zombie...) of pid per /proc, nil if gone.
local function proc_state(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text:match("%) (%a)")
end

local function wait_until(pred, seconds)
  local deadline = task.now() + seconds
  while not pred() do
    if task.now() > deadline then return false end
    task.sleep(0.01)
  end
  return true
end

local function count(set)
  local n = 0
  for _ in pairs(set or {}) do n = n + 1 end
  return n
end

describe("socketserver classes", function()
  it("have Python's MRO", function()
    local names = {"BaseServer", "TCPServer", "UDPServer", "UnixStreamServer", "UnixDatagramServer",
      "ThreadingMixIn", "ForkingMixIn", "ThreadingTCPServer", "ThreadingUDPServer", "ForkingTCPServer",
      "ForkingUDPServer", "ThreadingUnixStreamServer", "ThreadingUnixDatagramServer",
      "ForkingUnixStreamServer", "ForkingUnixDatagramServer",
      "BaseRequestHandler", "StreamRequestHandler", "DatagramRequestHandler"}
    -- Python 3.12 defines the two ForkingUnix servers this way.
    local expected = python_lines([[
import socketserver as s
class ForkingUnixStreamServer(s.ForkingMixIn, s.UnixStreamServer): pass
class ForkingUnixDatagramServer(s.ForkingMixIn, s.UnixDatagramServer): pass
s.ForkingUnixStreamServer = ForkingUnixStreamServer
s.ForkingUnixDatagramServer = ForkingUnixDatagramServer
for n in "]] .. table.concat(names, " ") .. [[".split():
    print(" ".join(c.__name__ for c in getattr(s, n).__mro__))
]])
    for i, n in ipairs(names) do
      local got = {}
      for j, c in ipairs(socketserver[n].__mro) do got[j] = c.__name end
      assert.are.equal(expected[i], table.concat(got, " "), n)
    end
  end)

  it("have Python's class attributes", function()
    local expected = python_lines([[
import socketserver as s
def show(v):
    print(int(v) if isinstance(v, int) and not isinstance(v, bool) else {True: "true", False: "false", None: "nil"}[v])
for c, a in [("BaseServer", "timeout"), ("TCPServer", "address_family"), ("TCPServer", "socket_type"),
             ("TCPServer", "request_queue_size"), ("TCPServer", "allow_reuse_address"),
             ("TCPServer", "allow_reuse_port"), ("UDPServer", "socket_type"), ("UDPServer", "max_packet_size"),
             ("UDPServer", "allow_reuse_address"), ("UnixStreamServer", "address_family"),
             ("UnixDatagramServer", "socket_type"), ("ForkingMixIn", "timeout"),
             ("ForkingMixIn", "active_children"), ("ForkingMixIn", "max_children"),
             ("ForkingMixIn", "block_on_close"), ("ThreadingMixIn", "daemon_threads"),
             ("ThreadingMixIn", "block_on_close"), ("ForkingTCPServer", "timeout"),
             ("ThreadingTCPServer", "timeout"), ("StreamRequestHandler", "rbufsize"),
             ("StreamRequestHandler", "wbufsize"), ("StreamRequestHandler", "timeout"),
             ("StreamRequestHandler", "disable_nagle_algorithm")]:
    print(c, a, end=" ")
    show(getattr(getattr(s, c), a))
]])
    for _, line in ipairs(expected) do
      local c, a, v = line:match("^(%S+) (%S+) (%S+)$")
      assert.are.equal(v, tostring(socketserver[c][a]), c .. "." .. a)
    end
  end)

  it("print as Python prints classes and instances", function()
    assert.are.equal("<class 'socketserver.TCPServer'>", tostring(socketserver.TCPServer))
    assert.are.equal("<class 'object'>", tostring(socketserver.object))
    local server <close> = socketserver.TCPServer(LOCAL, Upper)
    assert.matches("^<socketserver%.TCPServer object at 0x%x+>$", tostring(server))
    assert.are.equal("<class 'Upper'>", tostring(Upper))
  end)

  it("extend: subclass fields hide the base's, instance fields the class's, bases change later", function()
    local Base = socketserver.object:extend{__name = "Base", x = 1, y = 2}
    function Base:get() return self.x, self.y end
    local Sub = Base:extend{__name = "Sub", y = 20}
    local obj = Sub()
    assert.are.same({1, 20}, {obj:get()})
    obj.x = 100
    assert.are.same({100, 20}, {obj:get()})
    assert.are.equal(1, Sub.x)
    Base.x = 5 -- as in Python, a subclass sees a change to its base
    assert.are.equal(5, Sub.x)
    assert.are.equal(5, Sub().x)
    assert.is_true(socketserver.isinstance(obj, Base))
    assert.is_true(socketserver.issubclass(Sub, Base))
    assert.is_false(socketserver.issubclass(Base, Sub))
    assert.is_false(socketserver.isinstance({}, Base))
  end)

  it("mixin and class() give Python's MRO; super() follows it", function()
    local log = {}
    local A = socketserver.object:extend{__name = "A"}
    function A.m() log[#log + 1] = "A" end
    local M1 = socketserver.object:extend{__name = "M1"}
    function M1:m()
      log[#log + 1] = "M1"
      socketserver.super(M1, self):m()
    end
    local M2 = socketserver.object:extend{__name = "M2"}
    function M2:m()
      log[#log + 1] = "M2"
      socketserver.super(M2, self).m(self)
    end
    local C = socketserver.class(M1, M2, A, {__name = "C"})
    C():m()
    local expected = python_lines([[
log = []
class A:
    def m(self): log.append("A")
class M1:
    def m(self): log.append("M1"); super().m()
class M2:
    def m(self): log.append("M2"); super().m()
class C(M1, M2, A): pass
C().m()
print(" ".join(log))
print(" ".join(c.__name__ for c in C.__mro__))
]])
    assert.are.equal(expected[1], table.concat(log, " "))
    local mro = {}
    for i, c in ipairs(C.__mro) do mro[i] = c.__name end
    assert.are.equal(expected[2], table.concat(mro, " "))
    local D = M1:mixin(A)
    local dm = {}
    for i, c in ipairs(D.__mro) do dm[i] = c.__name end
    assert.are.equal("M1 subclass", D.__name)
    assert.are.equal("M1 A object", table.concat(dm, " ", 2))
  end)

  it("a subclass __init__ extends the parent's, which calls the subclass's hooks", function()
    local LoggingServer = socketserver.TCPServer:extend{__name = "LoggingServer"}
    function LoggingServer:__init__(server_address, Handler, log)
      self.log = log
      socketserver.TCPServer.__init__(self, server_address, Handler)
    end
    function LoggingServer:server_bind()
      self.log[#self.log + 1] = "server_bind"
      socketserver.TCPServer.server_bind(self)
    end
    local log = {}
    local server <close> = LoggingServer(LOCAL, Upper, log)
    assert.are.same({"server_bind"}, log)
    assert.are.equal(log, server.log)
    assert.is_true(server.server_address[2] > 0)
    assert.are.equal(Upper, server.RequestHandlerClass)
  end)

  it("refuse an inconsistent MRO with Python's message", function()
    local expected = helpers.python([[
class A: pass
class B(A): pass
try:
    class C(A, B): pass
except TypeError as e:
    print(e, end="")
]])
    local A = socketserver.object:extend{__name = "A"}
    local B = A:extend{__name = "B"}
    local ok, err = pcall(socketserver.class, A, B, {})
    assert.is_false(ok)
    assert.are.equal(expected, err:gsub("^[^:]*:%d+: ", ""))
  end)

  it("copy metamethods to subclasses: <close> calls server_close", function()
    local closed = 0
    local S = socketserver.TCPServer:extend{
      server_close = function(self)
        closed = closed + 1
        socketserver.TCPServer.server_close(self)
      end,
    }
    local fd
    do
      local server <close> = S(LOCAL, Upper)
      fd = server:fileno()
      assert.is_true(fd >= 0)
    end
    assert.are.equal(1, closed)
    -- The kernel has the fd closed.
    assert.is_nil(io.open("/proc/self/fd/" .. fd))
    -- Also when an error leaves the block.
    local server2
    local ok = pcall(function()
      local s <close> = S(LOCAL, Upper)
      server2 = s
      error("leaving")
    end)
    assert.is_false(ok)
    assert.are.equal(2, closed)
    assert.are.equal(-1, server2.socket:fileno())
  end)
end)

describe("socketserver.TCPServer", function()
  it("fills in the port after bind; fileno is the socket's", function()
    local server <close> = socketserver.TCPServer(LOCAL, Upper)
    local addr = server.server_address
    assert.are.equal("127.0.0.1", addr[1])
    assert.is_true(addr[2] > 0)
    assert.are.equal(server.socket:getsockname(), addr)
    assert.are.equal(server.socket:fileno(), server:fileno())
    assert.are.equal(socket.SOCK_STREAM, server.socket.type)
    -- Listening: a client gets in.
    local c = connect(addr)
    c:close()
  end)

  it("listens with request_queue_size as the backlog (ss's Send-Q)", function()
    local S = socketserver.TCPServer:extend{request_queue_size = 7}
    local server <close> = S(LOCAL, Upper)
    local p = assert(io.popen("ss -ltnH 'sport = :" .. server.server_address[2] .. "'"))
    local line = p:read("a")
    p:close()
    local sendq = line:match("^LISTEN%s+%d+%s+(%d+)")
    assert.are.equal("7", sendq)
  end)

  it("does not bind with bind_and_activate false; server_bind/server_activate do", function()
    local server <close> = socketserver.TCPServer({"127.0.0.1", 0}, Upper, false)
    assert.are.equal(0, server.socket:getsockname()[2])
    assert.are.equal(0, server.server_address[2])
    server:server_bind()
    assert.is_true(server.server_address[2] > 0)
    server:server_activate()
    local c = connect(server.server_address)
    c:close()
  end)

  it("sets SO_REUSEADDR and SO_REUSEPORT only when asked (the kernel's getsockopt)", function()
    local plain <close> = socketserver.TCPServer(LOCAL, Upper)
    assert.are.equal(0, plain.socket:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    assert.are.equal(0, plain.socket:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))
    local S = socketserver.TCPServer:extend{allow_reuse_address = true, allow_reuse_port = true}
    local reuse <close> = S(LOCAL, Upper)
    assert.are_not.equal(0, reuse.socket:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    assert.are_not.equal(0, reuse.socket:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT))
    -- SO_REUSEPORT lets a second server listen on the same port...
    local twin <close> = S({"127.0.0.1", reuse.server_address[2]}, Upper)
    assert.are.equal(reuse.server_address, twin.server_address)
    -- ...and without it the bind fails with EADDRINUSE, and the socket is closed.
    local expected = python_lines("import errno; print(errno.EADDRINUSE)")
    local closed_fd
    local Probe = socketserver.TCPServer:extend{
      server_close = function(self)
        closed_fd = self.socket:fileno()
        socketserver.TCPServer.server_close(self)
      end,
    }
    local ok, err = pcall(Probe, {"127.0.0.1", plain.server_address[2]}, Upper)
    assert.is_false(ok)
    assert.is_true(errors.OSError:matches(err))
    assert.are.equal(tonumber(expected[1]), err.errno)
    assert.is_nil(io.open("/proc/self/fd/" .. closed_fd))
  end)

  it("calls its hooks in Python's order", function()
    local log = {}
    local function note(s) log[#log + 1] = s end
    local H = socketserver.BaseRequestHandler:extend{
      setup = function() note("setup") end,
      handle = function(self)
        note("handle")
        self.request:sendall(self.request:recv(100):upper())
      end,
      finish = function() note("finish") end,
    }
    local TCP = socketserver.TCPServer
    local S = TCP:extend{
      allow = true,
      server_bind = function(self) note("server_bind") TCP.server_bind(self) end,
      server_activate = function(self) note("server_activate") TCP.server_activate(self) end,
      get_request = function(self) note("get_request") return TCP.get_request(self) end,
      verify_request = function(self) note("verify_request") return self.allow end,
      process_request = function(self, r, a) note("process_request") TCP.process_request(self, r, a) end,
      finish_request = function(self, r, a) note("finish_request") TCP.finish_request(self, r, a) end,
      shutdown_request = function(self, r) note("shutdown_request") TCP.shutdown_request(self, r) end,
      close_request = function(self, r) note("close_request") TCP.close_request(self, r) end,
      handle_timeout = function() note("handle_timeout") end,
      server_close = function(self) note("server_close") TCP.server_close(self) end,
    }
    local s = S(LOCAL, H)
    local c = connect(s.server_address)
    c:sendall("hi")
    s:handle_request()
    note(recv_all(c))
    c:close()
    s.allow = false
    local c2 = connect(s.server_address)
    s:handle_request()
    note("[" .. recv_all(c2) .. "]")
    c2:close()
    s.timeout = 0.05
    s:handle_request()
    s:server_close()
    local expected = python_lines([[
import socket, socketserver
log = []
note = log.append
class H(socketserver.BaseRequestHandler):
    def setup(self): note("setup")
    def handle(self):
        note("handle")
        self.request.sendall(self.request.recv(100).upper())
    def finish(self): note("finish")
TCP = socketserver.TCPServer
class S(TCP):
    allow = True
    def server_bind(self): note("server_bind"); TCP.server_bind(self)
    def server_activate(self): note("server_activate"); TCP.server_activate(self)
    def get_request(self): note("get_request"); return TCP.get_request(self)
    def verify_request(self, r, a): note("verify_request"); return self.allow
    def process_request(self, r, a): note("process_request"); TCP.process_request(self, r, a)
    def finish_request(self, r, a): note("finish_request"); TCP.finish_request(self, r, a)
    def shutdown_request(self, r): note("shutdown_request"); TCP.shutdown_request(self, r)
    def close_request(self, r): note("close_request"); TCP.close_request(self, r)
    def handle_timeout(self): note("handle_timeout")
    def server_close(self): note("server_close"); TCP.server_close(self)
def recv_all(c):
    out = b""
    while True:
        d = c.recv(4096)
        if not d: return out.decode()
        out += d
s = S(("127.0.0.1", 0), H)
c = socket.create_connection(s.server_address)
c.sendall(b"hi")
s.handle_request()
note(recv_all(c))
c.close()
s.allow = False
c2 = socket.create_connection(s.server_address)
s.handle_request()
note("[" + recv_all(c2) + "]")
c2.close()
s.timeout = 0.05
s.handle_request()
s.server_close()
print("\n".join(log))
]])
    assert.are.same(expected, log)
  end)

  it("verify_request false: the handler never runs and the connection is closed", function()
    local handled = 0
    local H = socketserver.BaseRequestHandler:extend{handle = function() handled = handled + 1 end}
    local S = socketserver.TCPServer:extend{verify_request = function() return false end}
    local server <close> = S(LOCAL, H)
    local h = serve(server)
    assert.are.equal("", ask(server.server_address, "x"))
    assert.are.equal("", ask(server.server_address, "y"))
    stop(server, h)
    assert.are.equal(0, handled)
  end)

  it("handle_request waits self.timeout, then calls handle_timeout", function()
    local timeouts = 0
    local S = socketserver.TCPServer:extend{timeout = 0.2, handle_timeout = function() timeouts = timeouts + 1 end}
    local server <close> = S(LOCAL, Upper)
    local t0 = task.now()
    server:handle_request()
    local took = task.now() - t0
    assert.are.equal(1, timeouts)
    assert.is_true(took >= 0.19 and took < 1.5, "took " .. took)
    -- The socket's own timeout wins when shorter (Python's min()).
    server.socket:settimeout(0.05)
    t0 = task.now()
    server:handle_request()
    took = task.now() - t0
    assert.are.equal(2, timeouts)
    assert.is_true(took < 0.19, "took " .. took)
    -- A request within the timeout is handled and handle_timeout not called.
    local reply
    local client = task.spawn(function() reply = ask(server.server_address, "abc\n") end)
    server.socket:settimeout(nil)
    server.timeout = 2
    server:handle_request()
    client:join(TIMEOUT)
    assert.are.equal("ABC\n", reply)
    assert.are.equal(2, timeouts)
  end)

  it("shutdown from another task stops serve_forever, and returns after serve_forever has", function()
    local server <close> = socketserver.TCPServer(LOCAL, Upper)
    local returned = false
    local h = task.spawn(function()
      server:serve_forever(0.1)
      returned = true
    end)
    assert.are.equal("ONE\n", ask(server.server_address, "one\n"))
    local t0 = task.now()
    server:shutdown()
    local took = task.now() - t0
    assert.is_true(returned)
    assert.is_true(took < 0.5, "shutdown took " .. took)
    h:join(TIMEOUT)
    -- serve_forever can run again after a shutdown.
    h = serve(server)
    assert.are.equal("TWO\n", ask(server.server_address, "two\n"))
    stop(server, h)
  end)

  it("shutdown during a request waits until serve_forever has finished it", function()
    local H = socketserver.StreamRequestHandler:extend{handle = function(self)
      self.rfile:readline()
      task.sleep(0.3)
      self.wfile:write("done\n")
    end}
    local server <close> = socketserver.TCPServer(LOCAL, H)
    local returned_at
    local h = task.spawn(function()
      server:serve_forever(0.05)
      returned_at = task.now()
    end)
    local reply
    local client = task.spawn(function() reply = ask(server.server_address, "x\n") end)
    task.sleep(0.1) -- the request is being handled now
    server:shutdown()
    local shut_at = task.now()
    assert.is_not_nil(returned_at)
    assert.is_true(returned_at <= shut_at)
    client:join(TIMEOUT)
    h:join(TIMEOUT)
    assert.are.equal("done\n", reply)
  end)

  it("serve_forever's default poll interval is Python's 0.5 s; service_actions runs every turn", function()
    local turns = 0
    local S = socketserver.TCPServer:extend{service_actions = function() turns = turns + 1 end}
    local server <close> = S(LOCAL, Upper)
    local h = task.spawn(function() server:serve_forever() end)
    task.sleep(1.2)
    local t0 = task.now()
    server:shutdown()
    local took = task.now() - t0
    h:join(TIMEOUT)
    assert.is_true(took <= 0.6, "shutdown took " .. took)
    -- 1.2 s of 0.5 s turns: two or three turns.
    assert.is_true(turns >= 2 and turns <= 3, turns .. " turns")
  end)

  it("handle_error prints Python's block on stderr and the server keeps serving", function()
    local script = [[
      local socketserver = require "socketserver"
      local socket = require "socket"
      local errors = require "moonsock.errors"
      local H = socketserver.StreamRequestHandler:extend{handle = function(self)
        local line = self.rfile:readline()
        if line == "boom\n" then error(errors.ValueError("boom")) end
        self.wfile:write(line:upper())
      end}
      local server <close> = socketserver.TCPServer({"127.0.0.1", 0}, H)
      for _, msg in ipairs {"boom\n", "after\n"} do
        local c = socket.create_connection(server.server_address, 5)
        c:sendall(msg)
        server:handle_request()
        local r = c:recv(100)
        print(r == "" and "(closed)" or (r:gsub("\n", "")))
        c:close()
      end
    ]]
    local out, err = helpers.moonsock_script(script)
    local pyout, pyerr = helpers.run("python3 -c " .. helpers.shell_quote([[
import socket, socketserver
class H(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline()
        if line == b"boom\n": raise ValueError("boom")
        self.wfile.write(line.upper())
with socketserver.TCPServer(("127.0.0.1", 0), H) as server:
    for msg in [b"boom\n", b"after\n"]:
        c = socket.create_connection(server.server_address, 5)
        c.sendall(msg)
        server.handle_request()
        r = c.recv(100)
        print("(closed)" if r == b"" else r.decode().replace("\n", ""))
        c.close()
]]))
    assert.are.equal(pyout, out)
    local function lines(text)
      local t = {}
      for l in text:gmatch("[^\n]+") do t[#t + 1] = l end
      return t
    end
    local el, pl = lines(err), lines(pyerr)
    local function port_free(l) return (l:gsub("%d+%)$", "PORT)")) end
    assert.are.equal(pl[1], el[1])
    assert.are.equal(port_free(pl[2]), port_free(el[2]))
    assert.are.equal(pl[#pl], el[#el])
    -- Python's traceback ends with the error; Lua's starts with it.
    assert.are.equal(pl[#pl - 1], el[3])
    assert.are.equal("ValueError: boom", el[3])
  end)

  it("handle_error can be overridden and finds the error with exc_info()", function()
    local seen = {}
    local H = socketserver.BaseRequestHandler:extend{handle = function() error(errors.ValueError("bad")) end}
    local S = socketserver.TCPServer:extend{handle_error = function(_, request, addr)
      local err, tb = socketserver.exc_info()
      seen[#seen + 1] = {tostring(err), tb, addr, request}
    end}
    local server <close> = S(LOCAL, H)
    local c = connect(server.server_address)
    server:handle_request()
    assert.are.equal("", recv_all(c))
    assert.are.equal(1, #seen)
    assert.are.equal("bad", seen[1][1])
    assert.matches("stack traceback", seen[1][2])
    assert.are.equal(c:getsockname(), seen[1][3])
    -- The request was shut down and closed after handle_error.
    assert.are.equal(-1, seen[1][4]:fileno())
    c:close()
    assert.is_nil(socketserver.exc_info())
  end)

  it("lets a cancel through (not an Exception): no handle_error, the request is closed", function()
    local errors_seen = 0
    local H = socketserver.BaseRequestHandler:extend{handle = function() task.sleep(10) end}
    local S = socketserver.TCPServer:extend{handle_error = function() errors_seen = errors_seen + 1 end}
    local server <close> = S(LOCAL, H)
    local h = task.spawn(function() server:handle_request() end)
    local c = connect(server.server_address)
    task.sleep(0.1)
    h:cancel()
    local ok, err = pcall(h.join, h, TIMEOUT)
    assert.is_false(ok)
    assert.is_true(errors.Cancelled:matches(err))
    assert.are.equal(0, errors_seen)
    assert.are.equal("", recv_all(c))
    c:close()
  end)

  it("get_request errors that are OSErrors are ignored, as Python's", function()
    local calls = 0
    local S = socketserver.TCPServer:extend{get_request = function()
      calls = calls + 1
      error(errors.OSError(103, "Software caused connection abort"))
    end}
    local server <close> = S(LOCAL, Upper)
    local c = connect(server.server_address)
    server:handle_request()
    assert.are.equal(1, calls)
    c:close()
  end)
end)

describe("socketserver.BaseRequestHandler and StreamRequestHandler", function()
  it("set request, client_address and server, and run setup, handle, finish (finish also on error)", function()
    local seen, got = {}, {}
    local H = socketserver.BaseRequestHandler:extend{
      setup = function(self)
        seen[#seen + 1] = "setup"
        got.self = self
        got.local_address = self.request:getsockname()
      end,
      handle = function(self)
        seen[#seen + 1] = "handle"
        if self.request:recv(10) == "raise" then error("raised") end
      end,
      finish = function() seen[#seen + 1] = "finish" end,
    }
    local S = socketserver.TCPServer:extend{handle_error = function() seen[#seen + 1] = "handle_error" end}
    local server <close> = S(LOCAL, H)
    local c = connect(server.server_address)
    c:sendall("ok")
    server:handle_request()
    assert.are.equal(server, got.self.server)
    assert.are.equal(c:getsockname(), got.self.client_address)
    assert.are.equal(c:getpeername(), got.local_address)
    c:close()
    c = connect(server.server_address)
    c:sendall("raise")
    server:handle_request()
    c:close()
    assert.are.same({"setup", "handle", "finish", "setup", "handle", "finish", "handle_error"}, seen)
  end)

  it("wbufsize 0 writes at once; a buffered wfile is flushed by finish", function()
    local got_before_end
    local H = socketserver.StreamRequestHandler:extend{handle = function(self)
      self.wfile:write("early\n")
      task.sleep(0.2)
    end}
    local server <close> = socketserver.TCPServer(LOCAL, H)
    local c = connect(server.server_address)
    local h = task.spawn(function() server:handle_request() end)
    got_before_end = c:recv(100)
    assert.is_false(h:done())
    assert.are.equal("early\n", got_before_end)
    h:join(TIMEOUT)
    c:close()
    local Buffered = H:extend{wbufsize = 4096}
    local server2 <close> = socketserver.TCPServer(LOCAL, Buffered)
    c = connect(server2.server_address)
    h = task.spawn(function() server2:handle_request() end)
    c:settimeout(0.1)
    local ok, err = pcall(c.recv, c, 100)
    assert.is_false(ok)
    assert.is_true(errors.TimeoutError:matches(err))
    c:settimeout(TIMEOUT)
    assert.are.equal("early\n", recv_all(c))
    h:join(TIMEOUT)
    c:close()
  end)

  it("applies timeout and disable_nagle_algorithm to the request socket (the kernel's getsockopt)", function()
    local seen = {}
    local H = socketserver.StreamRequestHandler:extend{
      timeout = 2.5,
      disable_nagle_algorithm = true,
      handle = function(self)
        seen.timeout = self.connection:gettimeout()
        seen.nodelay = self.connection:getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        seen.same = self.connection == self.request
        seen.readable = self.rfile:readable()
        seen.writable = self.wfile:writable()
      end,
    }
    local server <close> = socketserver.TCPServer(LOCAL, H)
    local c = connect(server.server_address)
    server:handle_request()
    c:close()
    assert.are.equal(2.5, seen.timeout)
    assert.are_not.equal(0, seen.nodelay)
    assert.is_true(seen.same and seen.readable and seen.writable)
    local Plain = socketserver.StreamRequestHandler:extend{handle = function(self)
      seen.timeout = self.connection:gettimeout()
      seen.nodelay = self.connection:getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    end}
    local server2 <close> = socketserver.TCPServer(LOCAL, Plain)
    c = connect(server2.server_address)
    server2:handle_request()
    c:close()
    assert.is_nil(seen.timeout)
    assert.are.equal(0, seen.nodelay)
  end)

  it("a handler timeout ends a silent request with handle_error (socket.timeout)", function()
    local seen
    local H = socketserver.StreamRequestHandler:extend{timeout = 0.1, handle = function(self)
      self.rfile:readline()
    end}
    local S = socketserver.TCPServer:extend{handle_error = function()
      seen = socketserver.exc_info()
    end}
    local server <close> = S(LOCAL, H)
    local c = connect(server.server_address)
    server:handle_request()
    assert.is_true(errors.TimeoutError:matches(seen))
    c:close()
  end)
end)

describe("socketserver.UDPServer", function()
  it("hands the handler (data, socket); DatagramRequestHandler replies with wfile", function()
    local seen = {}
    local H = socketserver.DatagramRequestHandler:extend{handle = function(self)
      seen.packet = self.packet
      seen.same = self.socket == self.server.socket and self.request[2] == self.socket
      local line = self.rfile:readline()
      self.wfile:write(line:upper(), self.rfile:read("a"))
    end}
    local server <close> = socketserver.UDPServer(LOCAL, H)
    assert.are.equal(socket.SOCK_DGRAM, server.socket.type)
    assert.is_true(server.server_address[2] > 0)
    local c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c:settimeout(TIMEOUT)
    c:sendto("hello\nrest", server.server_address)
    server:handle_request()
    local reply, from = c:recvfrom(100)
    assert.are.equal("HELLO\nrest", reply)
    assert.are.equal(server.server_address, from)
    assert.are.equal("hello\nrest", seen.packet)
    assert.is_true(seen.same)
    c:close()
  end)

  it("reads at most max_packet_size bytes of a datagram", function()
    local size
    local H = socketserver.BaseRequestHandler:extend{handle = function(self) size = #self.request[1] end}
    local server <close> = socketserver.UDPServer(LOCAL, H)
    local c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c:sendto(string.rep("x", 10000), server.server_address)
    server:handle_request()
    assert.are.equal(8192, size)
    server.max_packet_size = 100
    c:sendto(string.rep("x", 10000), server.server_address)
    server:handle_request()
    assert.are.equal(100, size)
    c:close()
  end)

  it("ThreadingUDPServer serves under serve_forever", function()
    local H = socketserver.BaseRequestHandler:extend{handle = function(self)
      self.request[2]:sendto(self.request[1]:upper(), self.client_address)
    end}
    local server <close> = socketserver.ThreadingUDPServer(LOCAL, H)
    local h = serve(server)
    local c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c:settimeout(TIMEOUT)
    c:sendto("udp", server.server_address)
    assert.are.equal("UDP", c:recv(100))
    stop(server, h)
    c:close()
  end)
end)

describe("socketserver UNIX servers", function()
  it("UnixStreamServer serves on a path; the client address is ''", function()
    local dir, cleanup = tmpdir()
    local path = dir .. "/stream.sock"
    local addr
    local H = socketserver.StreamRequestHandler:extend{handle = function(self)
      addr = self.client_address
      self.wfile:write(self.rfile:readline():upper())
    end}
    do
      local server <close> = socketserver.UnixStreamServer(path, H)
      assert.are.equal(path, server.server_address)
      assert.are.equal(socket.AF_UNIX, server.socket.family)
      local h = serve(server)
      assert.are.equal("UNIX\n", ask(path, "unix\n"))
      stop(server, h)
    end
    assert.are.equal("", addr)
    cleanup()
  end)

  it("UnixDatagramServer and ThreadingUnixDatagramServer answer a bound client", function()
    local dir, cleanup = tmpdir()
    for i, cls in ipairs {socketserver.UnixDatagramServer, socketserver.ThreadingUnixDatagramServer} do
      local path = dir .. "/dgram" .. i .. ".sock"
      local H = socketserver.DatagramRequestHandler:extend{handle = function(self)
        self.wfile:write(self.rfile:read("a"):upper(), " from ", self.client_address)
      end}
      local server <close> = cls(path, H)
      local c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
      c:settimeout(TIMEOUT)
      c:bind(dir .. "/client" .. i .. ".sock")
      c:sendto("dgram", path)
      server:handle_request()
      assert.are.equal("DGRAM from " .. dir .. "/client" .. i .. ".sock", c:recv(200))
      c:close()
    end
    cleanup()
  end)

  it("ThreadingUnixStreamServer and ForkingUnixStreamServer serve", function()
    local dir, cleanup = tmpdir()
    for i, cls in ipairs {socketserver.ThreadingUnixStreamServer, socketserver.ForkingUnixStreamServer} do
      local path = dir .. "/s" .. i .. ".sock"
      local server <close> = cls(path, Upper)
      local h = serve(server)
      assert.are.equal("X" .. i .. "\n", ask(path, "x" .. i .. "\n"))
      stop(server, h)
    end
    cleanup()
  end)
end)

describe("socketserver.ThreadingMixIn", function()
  it("handles requests in tasks of their own, at the same time", function()
    local spans, tasks = {}, {}
    local H = socketserver.StreamRequestHandler:extend{handle = function(self)
      local t0 = task.now()
      tasks[#tasks + 1] = task.current()
      self.rfile:readline()
      task.sleep(0.3)
      spans[#spans + 1] = {t0, task.now()}
      self.wfile:write("ok\n")
    end}
    local server <close> = socketserver.ThreadingTCPServer(LOCAL, H)
    local h = serve(server)
    local t0 = task.now()
    local c1 = task.spawn(ask, server.server_address, "1\n")
    local c2 = task.spawn(ask, server.server_address, "2\n")
    assert.are.equal("ok\n", c1:join(TIMEOUT))
    assert.are.equal("ok\n", c2:join(TIMEOUT))
    local took = task.now() - t0
    stop(server, h)
    assert.is_true(took < 0.55, "two 0.3 s requests took " .. took)
    -- The two handlers overlapped in time, each in its own task.
    assert.are.equal(2, #spans)
    assert.is_true(spans[1][1] < spans[2][2] and spans[2][1] < spans[1][2])
    assert.are_not.equal(tasks[1], tasks[2])
    assert.are_not.equal(h, tasks[1])
  end)

  it("server_close joins the request tasks (block_on_close); daemon_threads and block_on_close false do not",
  function()
    local H = socketserver.StreamRequestHandler:extend{handle = function(self)
      self.rfile:readline()
      task.sleep(0.3)
      self.wfile:write("late\n")
    end}
    local function close_time(fields)
      local S = socketserver.ThreadingTCPServer:extend(fields)
      local server = S(LOCAL, H)
      local c = connect(server.server_address)
      c:sendall("x\n")
      server:handle_request()
      local t0 = task.now()
      server:server_close()
      local took = task.now() - t0
      local reply = recv_all(c)
      c:close()
      return took, reply, server
    end
    local took, reply, server = close_time({})
    assert.is_true(took >= 0.25, "server_close took " .. took)
    assert.are.equal("late\n", reply)
    assert.are.equal(0, #rawget(server, "_threads"))
    took, reply = close_time({daemon_threads = true})
    assert.is_true(took < 0.1, "server_close took " .. took)
    assert.are.equal("late\n", reply)
    took, reply, server = close_time({block_on_close = false})
    assert.is_true(took < 0.1, "server_close took " .. took)
    assert.is_nil(rawget(server, "_threads"))
    assert.are.equal("late\n", reply)
  end)

  it("a daemon request task does not keep the process alive (daemon_threads)", function()
    local script = [[
      local socketserver = require "socketserver"
      local socket = require "socket"
      local task = require "task"
      local H = socketserver.BaseRequestHandler:extend{handle = function(self)
        print("handling")
        task.sleep(%s)
        print("handled")
      end}
      local S = socketserver.ThreadingTCPServer:extend{daemon_threads = %s}
      local server = S({"127.0.0.1", 0}, H)
      local c = socket.create_connection(server.server_address, 5)
      server:handle_request()
      task.sleep(0.05)
      print("main done")
    ]]
    local out = helpers.moonsock_script(script:format("0.3", "true"))
    assert.are.equal("handling\nmain done\n", out)
    out = helpers.moonsock_script(script:format("0.3", "false"))
    assert.are.equal("handling\nmain done\nhandled\n", out)
  end)

  it("process_request_thread calls handle_error, then shutdown_request", function()
    local log = {}
    local H = socketserver.BaseRequestHandler:extend{handle = function() error("in task") end}
    local S = socketserver.ThreadingTCPServer:extend{
      handle_error = function(_, _, addr)
        local err = socketserver.exc_info()
        log[#log + 1] = "handle_error " .. tostring(err):match("in task") .. " " .. tostring(addr == nil)
      end,
      shutdown_request = function(self, r)
        log[#log + 1] = "shutdown_request"
        socketserver.ThreadingTCPServer.shutdown_request(self, r)
      end,
    }
    local server = S(LOCAL, H)
    local c = connect(server.server_address)
    server:handle_request()
    server:server_close()
    assert.are.equal("", recv_all(c))
    c:close()
    assert.are.same({"handle_error in task false", "shutdown_request"}, log)
  end)
end)

describe("socketserver.ForkingMixIn", function()
  -- Answers with the pid it runs in, after `delay` seconds.
  local function pid_handler(delay)
    return socketserver.StreamRequestHandler:extend{handle = function(self)
      self.rfile:readline()
      if delay then task.sleep(delay) end
      self.wfile:write(string.format("%d %.6f %.6f", posix.getpid(), self.started or task.now(), task.now()))
    end, setup = function(self)
      self.started = task.now()
      socketserver.StreamRequestHandler.setup(self)
    end}
  end

  -- A forking server that notes the pids it forks.
  local function recording(base, fields)
    local forked = {}
    local S = base:extend(fields or {})
    function S:process_request(request, addr)
      socketserver.ForkingMixIn.process_request(self, request, addr)
      for pid in pairs(self.active_children or {}) do forked[pid] = true end
    end
    return S, forked
  end

  it("handles each request in a child process", function()
    local server <close> = socketserver.ForkingTCPServer(LOCAL, pid_handler())
    local h = serve(server)
    local pids = {}
    for i = 1, 3 do
      pids[i] = tonumber(ask(server.server_address, "x\n"):match("^%d+"))
    end
    stop(server, h)
    for i = 1, 3 do
      assert.are_not.equal(posix.getpid(), pids[i])
      for j = i + 1, 3 do assert.are_not.equal(pids[i], pids[j]) end
    end
  end)

  it("leaves zombies until collect_children (service_actions) reaps them (/proc)", function()
    local S, forked = recording(socketserver.ForkingTCPServer)
    local server <close> = S(LOCAL, pid_handler())
    for _ = 1, 3 do
      local c = connect(server.server_address)
      c:sendall("x\n")
      server:handle_request()
      recv_all(c)
      c:close()
    end
    assert.are.equal(3, count(forked))
    assert.are.equal(3, count(server.active_children))
    -- handle_request alone reaps nothing: the ended children are zombies.
    for pid in pairs(forked) do
      assert.is_true(wait_until(function() return proc_state(pid) == "Z" end, TIMEOUT),
        "child " .. pid .. " is " .. tostring(proc_state(pid)))
    end
    server:service_actions()
    for pid in pairs(forked) do assert.is_nil(proc_state(pid)) end
    assert.are.equal(0, count(server.active_children))
  end)

  it("under serve_forever reaps its children as it goes", function()
    local S, forked = recording(socketserver.ForkingTCPServer)
    local server <close> = S(LOCAL, pid_handler())
    local h = serve(server)
    for _ = 1, 4 do ask(server.server_address, "x\n") end
    local reaped = wait_until(function()
      for pid in pairs(forked) do
        if proc_state(pid) then return false end
      end
      return true
    end, TIMEOUT)
    stop(server, h)
    assert.is_true(reaped, "zombies left")
    assert.are.equal(4, count(forked))
    assert.are.equal(0, count(server.active_children))
  end)

  it("exits 0 after a request, 1 after an error in it (handle_error runs in the child)", function()
    local H = socketserver.BaseRequestHandler:extend{handle = function(self)
      if self.request:recv(10) == "raise" then error("child error") end
    end}
    local S, forked = recording(socketserver.ForkingTCPServer, {handle_error = function(self)
      self.request_error = true -- only the child sees this
    end})
    local server <close> = S(LOCAL, H)
    local statuses = {}
    for _, msg in ipairs {"ok", "raise"} do
      local c = connect(server.server_address)
      c:sendall(msg)
      server:handle_request()
      recv_all(c)
      c:close()
      local pid = next(server.active_children)
      local r, status = posix.waitpid(pid, 0)
      assert.are.equal(pid, r)
      statuses[#statuses + 1] = posix.waitstatus_to_exitcode(status)
      -- Reaped by us: collect_children drops it on ECHILD, as Python's.
      server:collect_children()
      assert.are.equal(0, count(server.active_children))
    end
    assert.are.same({0, 1}, statuses)
    assert.is_nil(server.request_error)
    assert.are.equal(2, count(forked))
  end)

  it("max_children bounds how many children run at once", function()
    local S, forked = recording(socketserver.ForkingTCPServer, {max_children = 2})
    local server <close> = S(LOCAL, pid_handler(0.2))
    local h = serve(server)
    local most, watching = 0, true
    local watcher = task.spawn(function()
      while watching do
        local alive = 0
        for pid in pairs(forked) do
          if proc_state(pid) then alive = alive + 1 end
        end
        if alive > most then most = alive end
        task.sleep(0.005)
      end
    end)
    local t0 = task.now()
    local clients = {}
    for i = 1, 5 do clients[i] = task.spawn(ask, server.server_address, "x\n") end
    local spans = {}
    for i = 1, 5 do
      local _, s, e = clients[i]:join(TIMEOUT):match("^(%d+) (%S+) (%S+)$")
      spans[i] = {tonumber(s), tonumber(e)}
    end
    local took = task.now() - t0
    watching = false
    watcher:join(TIMEOUT)
    stop(server, h)
    assert.are.equal(5, count(forked))
    -- Unreaped children (running or zombies) never exceed max_children...
    assert.is_true(most <= 2, most .. " children at once")
    -- ...and no more than two handlers ran at any moment.
    for _, a in ipairs(spans) do
      local overlapping = 0
      for _, b in ipairs(spans) do
        if b[1] <= a[1] and a[1] < b[2] then overlapping = overlapping + 1 end
      end
      assert.is_true(overlapping <= 2, overlapping .. " handlers at once")
    end
    -- 5 requests of 0.2 s, two at a time: three rounds.
    assert.is_true(took >= 0.55, "took " .. took)
  end)

  it("without the bound, serves the same requests at once", function()
    local server <close> = socketserver.ForkingTCPServer(LOCAL, pid_handler(0.2))
    local h = serve(server)
    local t0 = task.now()
    local clients = {}
    for i = 1, 5 do clients[i] = task.spawn(ask, server.server_address, "x\n") end
    for i = 1, 5 do clients[i]:join(TIMEOUT) end
    local took = task.now() - t0
    stop(server, h)
    assert.is_true(took < 0.5, "took " .. took)
  end)

  it("server_close waits for the children (block_on_close), or only reaps the ended ones", function()
    for _, block in ipairs {true, false} do
      local S, forked = recording(socketserver.ForkingTCPServer, {block_on_close = block})
      local server = S(LOCAL, pid_handler(0.3))
      local c = connect(server.server_address)
      c:sendall("x\n")
      server:handle_request()
      local t0 = task.now()
      server:server_close()
      local took = task.now() - t0
      local pid = next(forked)
      if block then
        assert.is_true(took >= 0.2, "server_close took " .. took)
        assert.is_nil(proc_state(pid))
        assert.are.equal(0, count(server.active_children))
      else
        assert.is_true(took < 0.1, "server_close took " .. took)
        assert.are.equal(1, count(server.active_children))
        recv_all(c)
        server:collect_children{blocking = true}
        assert.is_nil(proc_state(pid))
      end
      recv_all(c)
      c:close()
    end
  end)

  it("handle_timeout reaps the ended children", function()
    local S, forked = recording(socketserver.ForkingTCPServer, {timeout = 0.05})
    local server <close> = S(LOCAL, pid_handler())
    local c = connect(server.server_address)
    c:sendall("x\n")
    server:handle_request()
    recv_all(c)
    c:close()
    local pid = next(forked)
    assert.is_true(wait_until(function() return proc_state(pid) == "Z" end, TIMEOUT))
    server:handle_request() -- nobody comes: handle_timeout
    assert.is_nil(proc_state(pid))
    assert.are.equal(0, count(server.active_children))
  end)

  it("ForkingUDPServer answers from a child", function()
    local H = socketserver.DatagramRequestHandler:extend{handle = function(self)
      self.wfile:write(tostring(posix.getpid()))
    end}
    local server <close> = socketserver.ForkingUDPServer(LOCAL, H)
    local c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c:settimeout(TIMEOUT)
    c:sendto("x", server.server_address)
    server:handle_request()
    local pid = tonumber(c:recv(100))
    assert.are_not.equal(posix.getpid(), pid)
    assert.is_true(server.active_children[pid])
    c:close()
  end)
end)

describe("socketserver.BytesIO", function()
  it("reads with Lua io's formats, as a file with the same bytes", function()
    local text = "first line\n  42 0x1F -3.5e2 1e\nrest of it\nno newline"
    local path = os.tmpname()
    local fh = assert(io.open(path, "wb"))
    fh:write(text)
    fh:close()
    local plans = {{"l"}, {"L"}, {"n", "n", "n"}, {"n"}, {5}, {"a"}, {"l"}, {0}, {"a"}, {}}
    local f = assert(io.open(path, "rb"))
    local b = socketserver.BytesIO(text)
    for _, plan in ipairs(plans) do
      local want = table.pack(f:read(table.unpack(plan)))
      local got = table.pack(b:read(table.unpack(plan)))
      assert.are.same(want, got)
    end
    f:close()
    os.remove(path)
  end)

  it("readline, write and getvalue as Python's BytesIO", function()
    local expected = python_lines([[
import io
b = io.BytesIO(b"ab\ncd\nef")
print(repr(b.readline()), repr(b.readline(1)), repr(b.readline()), repr(b.readline()), repr(b.readline()))
w = io.BytesIO(b"0123456789")
w.read(2)
w.write(b"xy")
w.write(b"z")
print(repr(w.getvalue()))
]])
    local b = socketserver.BytesIO("ab\ncd\nef")
    local got = {}
    for i, limit in ipairs {false, 1, false, false, false} do
      got[i] = "b'" .. b:readline(limit or nil):gsub("\n", "\\n") .. "'"
    end
    assert.are.equal(expected[1], table.concat(got, " "))
    local w = socketserver.BytesIO("0123456789")
    w:read(2)
    assert.are.equal(w, w:write("xy"))
    w:write("z")
    assert.are.equal(expected[2], "b'" .. w:getvalue() .. "'")
  end)
end)

describe("socketserver bad arguments", function()
  it("name the argument", function()
    local TCP, Unix = socketserver.TCPServer, socketserver.UnixStreamServer
    local cases = {
      {function() TCP("127.0.0.1", Upper) end,
        "bad argument #1 to 'TCPServer' (server_address must be a table, got string)"},
      {function() TCP(nil, Upper) end,
        "bad argument #1 to 'TCPServer' (server_address must be a table, got no value)"},
      {function() TCP(LOCAL, 42) end,
        "bad argument #2 to 'TCPServer' (RequestHandlerClass must be a class or a function, got number)"},
      {function() TCP(LOCAL, Upper, "yes") end, "bad argument #3 to 'TCPServer' (boolean expected, got string)"},
      {function() Unix({"127.0.0.1", 0}, Upper) end,
        "bad argument #1 to 'UnixStreamServer' (server_address must be a string, got table)"},
      {function() socketserver.BaseServer(nil, Upper) end,
        "bad argument #1 to 'BaseServer' (server_address expected, got no value)"},
      {function()
        local s <close> = TCP(LOCAL, Upper)
        s:serve_forever("soon")
      end, "bad argument #1 to 'serve_forever' (number expected, got string)"},
      {function()
        local s <close> = socketserver.ForkingTCPServer(LOCAL, Upper)
        s:collect_children(true)
      end, "bad argument #1 to 'collect_children' (table expected, got boolean)"},
      {function() TCP:extend(5) end, "bad argument #1 to 'extend' (table expected, got number)"},
      {function() socketserver.ThreadingMixIn:mixin({}) end,
        "bad argument #1 to 'mixin' (class expected, got table)"},
      {function() socketserver.class() end, "bad argument #1 to 'class' (at least one base class expected)"},
      {function() socketserver.class(TCP, 3) end, "bad argument #2 to 'class' (class expected, got number)"},
      {function() socketserver.super({}, {}) end, "bad argument #1 to 'super' (class expected, got table)"},
      {function() socketserver.super(TCP, socketserver.object()) end,
        "bad argument #2 to 'super' (obj must be an instance or subtype of type TCPServer)"},
      {function() socketserver.BytesIO(5) end, "bad argument #1 to 'BytesIO' (string expected, got number)"},
      {function() socketserver.BytesIO():write({}) end, "bad argument #1 to 'write' (string expected, got table)"},
      {function() socketserver.BytesIO("x"):read("x") end, "bad argument #1 to 'read' (invalid format)"},
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(case[1])
      assert.is_false(ok)
      assert.are.equal(case[2], tostring(err):gsub("^[^:]*:%d+: ", ""))
    end
  end)

  it("point at the caller's line", function()
    local ok, err = pcall(function()
      socketserver.TCPServer("bad", Upper) -- this line
    end)
    assert.is_false(ok)
    local line = debug.getinfo(1, "l").currentline - 3
    assert.matches(":" .. line .. ": bad argument #1", err)
  end)
end)
