-- asyncore against CPython 3.11's Lib/asyncore.py. Where a value can be
-- seen from outside (names, errno tables, repr, which handlers run in which
-- state, the traceback line of handle_error, logged messages) python3 runs
-- the same scenario and the two must agree; the rest checks behaviour on
-- real loopback sockets.
--
-- Run: bin/moonsock /usr/bin/busted spec/asyncore_spec.lua
local asyncore = require "asyncore"
local socket = require "socket"
local select = require "select"
local task = require "task"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local socketserver = require "socketserver"
local h = require "spec.support.helpers"

-- python3 with asyncore imported quietly (3.11 warns that it is deprecated).
local PRELUDE = [[
import warnings
warnings.simplefilter('ignore')
import asyncore, asynchat, socket, errno, os, select, struct
]]
local function py(code) return h.python(PRELUDE .. code) end

local function lines_of(text)
  local out = {}
  for line in text:gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end

-- What log_info prints, captured.
local function capture_print(fn, ...)
  local lines = {}
  local old = _G.print
  _G.print = function(...)
    local t = table.pack(...)
    for i = 1, t.n do t[i] = tostring(t[i]) end
    lines[#lines + 1] = table.concat(t, "\t")
  end
  local ok, err = pcall(fn, ...)
  _G.print = old
  if not ok then error(err, 0) end
  return lines
end

-- The object addresses of reprs differ between runs and languages.
local function no_address(s) return (s:gsub(" at 0x%x+>", " at ADDR>")) end

local function pybool(b) return b and "True" or "False" end

local function free_port()
  local s = socket.socket()
  s:bind({"127.0.0.1", 0})
  local port = s:getsockname()[2]
  s:close()
  return port
end

local function listener()
  local srv = socket.socket()
  srv:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  srv:bind({"127.0.0.1", 0})
  srv:listen(16)
  return srv, srv:getsockname()
end

-- Handlers that only note that they ran.
local HANDLERS = {"handle_read", "handle_write", "handle_expt", "handle_connect", "handle_accept",
                  "handle_close"}
local function recorder(base, log, fields)
  local f = {__name = "R"}
  for _, name in ipairs(HANDLERS) do
    f[name] = function() log[#log + 1] = name end
  end
  for k, v in pairs(fields or {}) do f[k] = v end
  return (base or asyncore.dispatcher):extend(f)
end

-- A handle_error line up to its first "[file|function|line]" frame.
local function error_head(line) return line:match("^(.-) %[[^|%]]*|[^|%]]*|%d+%]") end

-- The "[file|function|line]" frames of a handle_error line: the function
-- names, which Python and moonsock share.
local function frame_functions(line)
  local names = {}
  for _, fn in line:gmatch("%[([^|%]]*)|([^|%]]*)|%d+%]") do names[#names + 1] = fn end
  return table.concat(names, " ")
end

after_each(function() asyncore.close_all(nil, true) end)

describe("asyncore module", function()
  it("has every public name of Python's asyncore, with the same kind of value", function()
    local out = py [[
import types
for n in sorted(dir(asyncore)):
    v = getattr(asyncore, n)
    if n.startswith('__') or n == '_DEPRECATION_MSG' or isinstance(v, types.ModuleType):
        continue
    kind = 'class' if isinstance(v, type) else 'function' if callable(v) else type(v).__name__
    print(n, kind)
]]
    local count = 0
    for _, line in ipairs(lines_of(out)) do
      local name, kind = line:match("^(%S+) (%S+)$")
      local v = asyncore[name]
      assert.is_not_nil(v, name)
      if kind == "function" then
        assert.are.equal("function", type(v), name)
      elseif kind == "class" then
        -- a dispatcher class, or an exception class (ExitNow)
        assert.is_true(socketserver.isclass(v) or type(v.matches) == "function", name)
      elseif kind == "int" then
        assert.are.equal("integer", math.type(v), name)
      else
        assert.are.equal("table", type(v), name .. " (" .. kind .. ")")
      end
      count = count + 1
    end
    assert.is_true(count > 30)
  end)

  it("has Python's errno values, errorcode and strerror texts", function()
    local out = py [[
for n in sorted(errno.errorcode):
    print(n, errno.errorcode[n], os.strerror(n))
print(9999, '-', os.strerror(9999))
for name in ('EALREADY', 'EINPROGRESS', 'EWOULDBLOCK', 'ECONNRESET', 'EINVAL', 'ENOTCONN',
             'ESHUTDOWN', 'EISCONN', 'EBADF', 'ECONNABORTED', 'EPIPE', 'EAGAIN'):
    print(name, getattr(asyncore, name))
print('DISCONNECTED', ' '.join(str(e) for e in sorted(asyncore._DISCONNECTED)))
]]
    local numbers = 0
    for _, line in ipairs(lines_of(out)) do
      local n, name, text = line:match("^(%d+) (%S+) (.*)$")
      if n then
        n = tonumber(n)
        if name ~= "-" then
          assert.are.equal(name, asyncore.errorcode[n])
          numbers = numbers + 1
        end
        assert.are.equal(text, asyncore._strerror(n))
      elseif line:match("^DISCONNECTED") then
        local want = {}
        for e in line:gmatch("%d+") do want[#want + 1] = tonumber(e) end
        local got = {}
        for e in pairs(asyncore._DISCONNECTED) do got[#got + 1] = e end
        table.sort(got)
        assert.are.same(want, got)
      else
        local cname, value = line:match("^(%S+) (%d+)$")
        assert.are.equal(tonumber(value), asyncore[cname], cname)
      end
    end
    local ours = 0
    for _ in pairs(asyncore.errorcode) do ours = ours + 1 end
    assert.are.equal(numbers, ours)
  end)

  it("ExitNow is an Exception class", function()
    local e = asyncore.ExitNow("stop")
    assert.is_true(errors.Exception:matches(e))
    assert.are.equal("stop", tostring(e))
    assert.are.equal("<class 'ExitNow'>", tostring(asyncore.ExitNow))
  end)
end)

describe("asyncore.dispatcher", function()
  it("has Python's class attributes and methods", function()
    local out = py [[
for cls in (asyncore.dispatcher, asyncore.dispatcher_with_send, asyncore.file_dispatcher,
            asyncore.file_wrapper):
    for n in sorted(dir(cls)):
        if n.startswith('__'):
            continue
        v = getattr(cls, n)
        if callable(v):
            print(cls.__name__, n, 'function')
        elif isinstance(v, frozenset):
            print(cls.__name__, n, 'set', ' '.join(sorted(v)))
        else:
            print(cls.__name__, n, 'value', repr(v))
]]
    for _, line in ipairs(lines_of(out)) do
      local cname, name, kind, rest = line:match("^(%S+) (%S+) (%S+) ?(.*)$")
      local cls = asyncore[cname]
      local v = cls[name]
      if kind == "function" then
        assert.are.equal("function", type(v), cname .. "." .. name)
      elseif kind == "set" then
        local want = {}
        for w in rest:gmatch("%S+") do want[w] = true end
        assert.are.same(want, v)
      else
        assert.are.equal(rest, repr.repr(v), cname .. "." .. name)
      end
    end
  end)

  it("does not delegate to its socket, as Python 3.11 does not", function()
    local out = py [[
d = asyncore.dispatcher(map={})
d.create_socket()
print(hasattr(d, 'getsockname'), hasattr(d, 'fileno'), hasattr(d, 'setsockopt'))
d.close()
]]
    local d = asyncore.dispatcher(nil, {})
    d:create_socket()
    assert.are.equal(out, string.format("%s %s %s\n", pybool(d.getsockname ~= nil), pybool(d.fileno ~= nil),
      pybool(d.setsockopt ~= nil)))
    d:close()
  end)

  it("without a socket: no socket, not in the map", function()
    local map = {}
    local d = asyncore.dispatcher(nil, map)
    assert.is_nil(d.socket)
    assert.is_nil(next(map))
    assert.is_false(d.connected)
    assert.are.equal(map, d._map)
    local d2 = asyncore.dispatcher()
    assert.are.equal(asyncore.socket_map, d2._map)
    -- Python's defaults: watch everything
    assert.is_true(d:readable())
    assert.is_true(d:writable())
  end)

  it("with a connected socket: registered by fd, non-blocking, connected, addr from getpeername", function()
    local a, b = socket.socketpair()
    local map = {}
    local d = asyncore.dispatcher(a, map)
    assert.are.equal(d, map[a:fileno()])
    assert.is_nil(asyncore.socket_map[a:fileno()])
    assert.are.equal(0, a:gettimeout())
    assert.is_true(d.connected)
    assert.are.equal(a:getpeername(), d.addr)
    assert.are.equal(a, d.socket)
    d:close()
    b:close()
  end)

  it("with an unconnected socket: not connected, but watched", function()
    local out = py [[
s = socket.socket()
d = asyncore.dispatcher(s, {})
print(d.connected, d.addr, s.fileno() in d._map)
]]
    local s = socket.socket()
    local map = {}
    local d = asyncore.dispatcher(s, map)
    assert.are.equal(out, string.format("%s %s %s\n", pybool(d.connected), repr.repr(d.addr),
      pybool(map[s:fileno()] ~= nil)))
    d:close()
  end)

  it("with a closed socket raises EBADF as Python does", function()
    local out = py [[
s = socket.socket(); s.close()
try:
    asyncore.dispatcher(s, {})
except OSError as e:
    print(e.errno)
]]
    local s = socket.socket()
    s:close()
    local ok, err = pcall(asyncore.dispatcher, s, {})
    assert.is_false(ok)
    assert.are.equal(tonumber(out), err.errno)
  end)

  it("names bad arguments", function()
    assert.has_error(function() asyncore.dispatcher("x") end,
      "bad argument #1 to 'dispatcher' (socket expected, got string)")
    assert.has_error(function() asyncore.dispatcher(nil, 5) end,
      "bad argument #2 to 'dispatcher' (map must be a table, got number)")
    local d = asyncore.dispatcher(nil, {})
    assert.has_error(function() d:create_socket("inet") end,
      "bad argument #1 to 'create_socket' (integer expected, got string)")
    assert.has_error(function() d:create_socket(socket.AF_INET, 1.5) end,
      "bad argument #2 to 'create_socket' (integer expected, got number)")
    d:create_socket()
    assert.has_error(function() d:listen() end, "bad argument #1 to 'listen' (integer expected, got no value)")
    assert.has_error(function() d:bind(80) end,
      "bad argument #1 to 'bind' (address must be a table {host, port} or a string, got number)")
    assert.has_error(function() d:connect(true) end,
      "bad argument #1 to 'connect' (address must be a table {host, port} or a string, got boolean)")
    assert.has_error(function() d:send(5) end, "bad argument #1 to 'send' (string expected, got number)")
    assert.has_error(function() d:recv("x") end, "bad argument #1 to 'recv' (integer expected, got string)")
    assert.has_error(function() d:set_socket({}) end, "bad argument #1 to 'set_socket' (socket expected, got table)")
    assert.has_error(function() d:log_info("m", 3) end, "bad argument #2 to 'log_info' (string expected, got number)")
    assert.has_error(function() d:add_channel(1) end,
      "bad argument #1 to 'add_channel' (map must be a table, got number)")
    d:close()
  end)

  it("create_socket makes a non-blocking socket of the family and type asked, in the map", function()
    local map = {}
    local d = asyncore.dispatcher(nil, map)
    d:create_socket()
    assert.are.equal(repr.tuple(socket.AF_INET, socket.SOCK_STREAM), d.family_and_type)
    assert.are.equal(socket.AF_INET, d.socket.family)
    assert.are.equal(socket.SOCK_STREAM, d.socket.type)
    assert.are.equal(0, d.socket:gettimeout())
    assert.are.equal(d, map[d.socket:fileno()])
    d:close()
    local u = asyncore.dispatcher(nil, map)
    u:create_socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    assert.are.equal(socket.AF_UNIX, u.socket.family)
    assert.are.equal(socket.SOCK_DGRAM, u.socket.type)
    u:close()
    assert.is_nil(next(map))
  end)

  it("set_socket, add_channel and del_channel move the channel between maps", function()
    local m1, m2 = {}, {}
    local d = asyncore.dispatcher(nil, m1)
    local s = socket.socket()
    d:set_socket(s, m2)
    local fd = s:fileno()
    assert.are.equal(d, m2[fd])
    assert.is_nil(m1[fd])
    d:add_channel()
    assert.are.equal(d, m1[fd])
    d:del_channel(m2)
    assert.is_nil(m2[fd])
    assert.is_nil(d._fileno)
    -- del_channel after the fd is forgotten removes nothing
    d:del_channel()
    assert.are.equal(d, m1[fd])
    m1[fd] = nil
    s:close()
  end)

  it("set_reuse_addr sets SO_REUSEADDR", function()
    local d = asyncore.dispatcher(nil, {})
    d:create_socket()
    assert.are.equal(0, d.socket:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    d:set_reuse_addr()
    assert.are_not.equal(0, d.socket:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))
    d:close()
  end)

  it("prints like Python's repr in every state", function()
    local out = py [[
for addr, connected, accepting in [
        (None, False, False), (None, True, False), ('', True, False), ('', False, True),
        (('127.0.0.1', 8080), True, False), (('127.0.0.1', 8080), False, True),
        (('::1', 8080, 0, 0), True, False), ('/tmp/sock', True, False), ('/tmp/sock', False, True),
        (('127.0.0.1', 8080), False, False)]:
    d = asyncore.dispatcher(map={})
    d.addr, d.connected, d.accepting = addr, connected, accepting
    print(repr(d))
]]
    local cases = {
      {nil, false, false}, {nil, true, false}, {"", true, false}, {"", false, true},
      {repr.tuple("127.0.0.1", 8080), true, false}, {repr.tuple("127.0.0.1", 8080), false, true},
      {repr.tuple("::1", 8080, 0, 0), true, false}, {"/tmp/sock", true, false}, {"/tmp/sock", false, true},
      {{"127.0.0.1", 8080}, false, false},
    }
    local got = {}
    for i, c in ipairs(cases) do
      local d = asyncore.dispatcher(nil, {})
      d.addr, d.connected, d.accepting = c[1], c[2], c[3]
      got[i] = no_address(tostring(d))
    end
    local want = {}
    for i, line in ipairs(lines_of(out)) do want[i] = no_address(line) end
    assert.are.same(want, got)
    assert.truthy(tostring(asyncore.dispatcher(nil, {})):match("^<asyncore%.dispatcher at 0x%x+>$"))
  end)

  it("bind and listen: addr, accepting, 'listening' in its repr", function()
    local out = py [[
d = asyncore.dispatcher(map={})
d.create_socket()
d.bind(('127.0.0.1', 0))
d.listen(5)
print(d.accepting, d.connected, d.addr, repr(d))
d.close()
print(d.accepting, repr(d))
]]
    local d = asyncore.dispatcher(nil, {})
    d:create_socket()
    d:bind({"127.0.0.1", 0})
    d:listen(5)
    local got = string.format("%s %s %s %s\n", pybool(d.accepting), pybool(d.connected),
      repr.repr(repr.tuple(table.unpack(d.addr))), no_address(tostring(d)))
    d:close()
    got = got .. string.format("%s %s\n", pybool(d.accepting), no_address(tostring(d)))
    assert.are.equal(no_address(out), got)
  end)

  it("connect: connecting until the socket is writable, then handle_connect once", function()
    local srv, addr = listener()
    local log = {}
    local map = {}
    local C = recorder(nil, log, {writable = function() return true end})
    local c = C(nil, map)
    c:create_socket()
    c:connect(addr)
    assert.is_true(c.connecting)
    assert.is_false(c.connected)
    assert.are.equal(addr, c.addr)
    asyncore.loop(1, false, map, 1)
    assert.are.same({"handle_connect", "handle_write"}, log)
    assert.is_true(c.connected)
    assert.is_false(c.connecting)
    c:close()
    srv:close()
  end)

  for _, use_poll in ipairs {false, true} do
    it("a refused connect goes to handle_error with Python's error and frames (use_poll " .. tostring(use_poll) .. ")",
      function()
        local port = free_port()
        local out = py(string.format([[
class C(asyncore.dispatcher):
    def handle_close(self):
        print('closed')
        self.close()
m = {}
c = C(map=m)
c.create_socket()
c.connect(('127.0.0.1', %d))
asyncore.loop(2, %s, m, 5)
print(len(m))
]], port, use_poll and "True" or "False"))
        local map = {}
        local C = asyncore.dispatcher:extend {
          handle_close = function(self)
            print("closed")
            self:close()
          end,
        }
        local lines = capture_print(function()
          local c = C(nil, map)
          c:create_socket()
          c:connect({"127.0.0.1", port})
          asyncore.loop(2, use_poll, map, 5)
          print(tostring(next(map) == nil and 0 or 1))
        end)
        local want = lines_of(out)
        assert.are.equal(#want, #lines)
        local function head(line) return error_head(line):match("closing channel <[^>]*> %((.*)$") end
        assert.are.equal(head(want[1]), head(lines[1]))
        assert.truthy(head(lines[1]):find("^<class 'ConnectionRefusedError'>:%[Errno 111%] "))
        assert.are.equal(frame_functions(want[1]), frame_functions(lines[1]))
        assert.are.same({want[2], want[3]}, {lines[2], lines[3]})
      end)
  end

  it("connect to a missing AF_UNIX path raises at once, as Python does", function()
    local out = py [[
d = asyncore.dispatcher(map={})
d.create_socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    d.connect('/nonexistent/asyncore.sock')
except OSError as e:
    print(type(e).__name__, e, d.connecting, d.connected)
]]
    local d = asyncore.dispatcher(nil, {})
    d:create_socket(socket.AF_UNIX, socket.SOCK_STREAM)
    local ok, err = pcall(d.connect, d, "/nonexistent/asyncore.sock")
    assert.is_false(ok)
    assert.are.equal(out, string.format("%s %s %s %s\n", getmetatable(err).__name, tostring(err),
      pybool(d.connecting), pybool(d.connected)))
    d:close()
  end)

  it("accept returns nil when nobody waits, else the connection and its address", function()
    local d = asyncore.dispatcher(nil, {})
    d:create_socket()
    d:bind({"127.0.0.1", 0})
    d:listen(5)
    assert.is_nil(d:accept())
    local c = socket.create_connection(d.socket:getsockname())
    local conn, addr
    for _ = 1, 100 do
      conn, addr = d:accept()
      if conn then break end
      task.sleep(0.01)
    end
    assert.are.equal(c:getsockname(), addr)
    assert.are.equal(conn:getpeername(), c:getsockname())
    conn:close()
    c:close()
    d:close()
  end)

  it("send returns what the socket took, 0 when it would block, 0 and handle_close when the peer is gone", function()
    local a, b = socket.socketpair()
    local log = {}
    local d = recorder(nil, log)(a, {})
    assert.are.equal(5, d:send("hello"))
    assert.are.equal("hello", b:recv(10))
    local total, last = 0
    repeat
      last = d:send(string.rep("x", 65536))
      total = total + last
    until last == 0 or total > 64 * 1024 * 1024
    assert.are.equal(0, last)
    assert.are.same({}, log)
    b:close()
    assert.are.equal(0, d:send("more"))
    assert.are.same({"handle_close"}, log)
    d:close()
  end)

  it("recv returns data, '' and handle_close at end of stream, raises BlockingIOError when empty", function()
    local a, b = socket.socketpair()
    local log = {}
    local d = recorder(nil, log)(a, {})
    local ok, err = pcall(d.recv, d, 10)
    assert.is_false(ok)
    assert.is_true(errors.BlockingIOError:matches(err))
    b:send("data")
    assert.are.equal("data", d:recv(10))
    b:close()
    assert.are.equal("", d:recv(10))
    assert.are.same({"handle_close"}, log)
    d:close()
  end)

  it("recv turns a connection reset into '' and handle_close", function()
    local srv, addr = listener()
    local c = socket.create_connection(addr)
    local conn = srv:accept()
    local log = {}
    local d = recorder(nil, log)(conn, {})
    -- SO_LINGER 0: close sends a reset
    c:setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, string.pack("ii", 1, 0))
    c:close()
    task.sleep(0.05)
    assert.are.equal("", d:recv(10))
    assert.are.same({"handle_close"}, log)
    d:close()
    srv:close()
  end)

  it("close leaves the map, closes the socket, clears the flags, and can be repeated", function()
    local a, b = socket.socketpair()
    local map = {}
    local d = asyncore.dispatcher(a, map)
    d.accepting, d.connecting = true, true
    d:close()
    assert.is_nil(next(map))
    assert.are.equal(-1, a:fileno())
    assert.is_false(d.connected)
    assert.is_false(d.accepting)
    assert.is_false(d.connecting)
    d:close()
    b:close()
  end)

  it("log writes to stderr, log_info prints unless the type is ignored", function()
    local out = py [[
d = asyncore.dispatcher(map={})
d.log_info('hello')
d.log_info('careful', 'warning')
d.log_info('bad', 'error')
d.ignore_log_types = frozenset()
d.log_info('careful', 'warning')
d.ignore_log_types = frozenset({'info'})
d.log_info('hidden')
]]
    local d = asyncore.dispatcher(nil, {})
    local lines = capture_print(function()
      d:log_info("hello")
      d:log_info("careful", "warning")
      d:log_info("bad", "error")
      d.ignore_log_types = {}
      d:log_info("careful", "warning")
      d.ignore_log_types = {info = true}
      d:log_info("hidden")
    end)
    assert.are.same(lines_of(out), lines)
    local _, pyerr = h.run("python3 -W ignore -c " .. h.shell_quote(
      "import asyncore; asyncore.dispatcher(map={}).log('hit 1')"))
    local _, err = h.moonsock_script([[require("asyncore").dispatcher(nil, {}):log("hit 1")]])
    assert.are.equal(pyerr, err)
    assert.are.equal("log: hit 1\n", err)
  end)

  it("the default handlers log Python's warnings", function()
    local out = py [[
a, b = socket.socketpair()
d = asyncore.dispatcher(a, {})
d.ignore_log_types = frozenset()
d.handle_read(); d.handle_write(); d.handle_expt(); d.handle_connect()
c, e = socket.socketpair()
d.handle_accepted(c, '')
print(c.fileno())
d.handle_close()
print(a.fileno(), len(d._map))
]]
    local a = socket.socketpair()
    local map = {}
    local d = asyncore.dispatcher(a, map)
    d.ignore_log_types = {}
    local c
    local lines = capture_print(function()
      d:handle_read()
      d:handle_write()
      d:handle_expt()
      d:handle_connect()
      c = socket.socketpair()
      d:handle_accepted(c, "")
      print(c:fileno())
      d:handle_close()
      print(a:fileno() .. " " .. (next(map) and 1 or 0))
    end)
    assert.are.same(lines_of(out), lines)
  end)

  it("dispatches read, write and exceptional events by state as Python does", function()
    local out = py [[
log = []
class R(asyncore.dispatcher):
    def handle_read(self): log.append('handle_read')
    def handle_write(self): log.append('handle_write')
    def handle_expt(self): log.append('handle_expt')
    def handle_connect(self): log.append('handle_connect')
    def handle_accept(self): log.append('handle_accept')
    def handle_close(self): log.append('handle_close')
for state in ['accepting', 'connecting', 'connected', 'idle']:
    for event in ['handle_read_event', 'handle_write_event', 'handle_expt_event']:
        a, b = socket.socketpair()
        r = R(a, {})
        r.accepting = state == 'accepting'
        r.connecting = state == 'connecting'
        r.connected = state == 'connected'
        del log[:]
        getattr(r, event)()
        print(state, event, ','.join(log), r.connected, r.connecting)
        a.close(); b.close()
]]
    local lines = {}
    for _, state in ipairs {"accepting", "connecting", "connected", "idle"} do
      for _, event in ipairs {"handle_read_event", "handle_write_event", "handle_expt_event"} do
        local a, b = socket.socketpair()
        local log = {}
        local r = recorder(nil, log)(a, {})
        r.accepting = state == "accepting"
        r.connecting = state == "connecting"
        r.connected = state == "connected"
        r[event](r)
        lines[#lines + 1] = string.format("%s %s %s %s %s", state, event, table.concat(log, ","),
          pybool(r.connected), pybool(r.connecting))
        a:close()
        b:close()
      end
    end
    assert.are.same(lines_of(out), lines)
  end)

  it("handle_expt_event closes a socket with a pending error, as Python does", function()
    local port = free_port()
    local s = socket.socket()
    s:setblocking(false)
    s:connect_ex({"127.0.0.1", port})
    select.select({}, {s}, {}, 2)
    local log = {}
    local d = recorder(nil, log)(s, {})
    d:handle_expt_event()
    assert.are.same({"handle_close"}, log)
    d:close()
  end)

  it("out-of-band data reaches handle_expt through the loop", function()
    local srv, addr = listener()
    local c = socket.create_connection(addr)
    local conn = srv:accept()
    local log = {}
    local map = {}
    recorder(nil, log, {writable = function() return false end})(conn, map)
    c:send("!", socket.MSG_OOB)
    task.sleep(0.05)
    asyncore.loop(1, false, map, 1)
    local seen = false
    for _, name in ipairs(log) do seen = seen or name == "handle_expt" end
    assert.is_true(seen)
    asyncore.close_all(map)
    c:close()
    srv:close()
  end)

  it("handle_accept hands the connection to handle_accepted", function()
    local got = {}
    local S = asyncore.dispatcher:extend {
      handle_accepted = function(_, sock, addr) got[#got + 1] = {sock, addr} end,
    }
    local map = {}
    local s = S(nil, map)
    s:create_socket()
    s:bind({"127.0.0.1", 0})
    s:listen(5)
    local c = socket.create_connection(s.socket:getsockname())
    asyncore.loop(1, false, map, 1)
    assert.are.equal(1, #got)
    assert.are.equal(c:getsockname(), got[1][2])
    assert.are.equal(c:getsockname(), got[1][1]:getpeername())
    got[1][1]:close()
    c:close()
    s:close()
  end)

  it("handle_error prints Python's line for an error in a handler and closes the channel", function()
    local out = py [[
class H(asyncore.dispatcher):
    def writable(self): return False
    def handle_read(self):
        raise ValueError('boom')
a, b = socket.socketpair()
m = {}
h = H(a, m)
b.send(b'x')
asyncore.loop(1, False, m, 1)
print(len(m), h.connected)
]]
    local H = asyncore.dispatcher:extend {
      __name = "H",
      writable = function() return false end,
      handle_read = function() error(errors.ValueError("boom")) end,
    }
    local a, b = socket.socketpair()
    local map = {}
    local lines = capture_print(function()
      local hd = H(a, map)
      b:send("x")
      asyncore.loop(1, false, map, 1)
      print(string.format("%d %s", next(map) and 1 or 0, pybool(hd.connected)))
    end)
    local want = lines_of(out)
    assert.are.equal(2, #lines)
    -- Same text up to the frames, once the class names and addresses agree.
    local function head(line) return (no_address(error_head(line)):gsub("__main__%.H", "H")) end
    assert.are.equal(head(want[1]), head(lines[1]))
    assert.are.equal("error: uncaptured python exception, closing channel <H connected '' at ADDR>"
      .. " (<class 'ValueError'>:boom", head(lines[1]))
    assert.are.equal(frame_functions(want[1]), frame_functions(lines[1]))
    assert.are.equal("read handle_read_event handle_read", frame_functions(lines[1]))
    assert.truthy(lines[1]:find("[lua/asyncore.lua|read|", 1, true))
    local src = debug.getinfo(1, "S").source:sub(2)
    assert.truthy(lines[1]:find("[" .. src .. "|handle_read|", 1, true))
    assert.are.equal(want[2], lines[2])
    b:close()
  end)

  it("handle_error shows a plain Lua error's type and message, and a failing tostring", function()
    local H = asyncore.dispatcher:extend {
      writable = function() return false end,
      handle_read = function() error("plain failure") end,
      __tostring = function() error("no repr") end,
    }
    local a, b = socket.socketpair()
    local map = {}
    local hd
    local lines = capture_print(function()
      hd = H(a, map)
      b:send("x")
      asyncore.loop(1, false, map, 1)
    end)
    assert.are.equal(1, #lines)
    local hex = string.format("%p", hd):gsub("^0x", "")
    local prefix = "error: uncaptured python exception, closing channel <__repr__(self) failed for object at "
      .. hex .. "> (<class 'string'>:"
    assert.are.equal(prefix, lines[1]:sub(1, #prefix))
    assert.truthy(lines[1]:find(":%d+: plain failure %[lua/asyncore%.lua|read|%d+%]"))
    b:close()
  end)

  it("compact_traceback outside handle_error raises, as Python's does", function()
    local out = py [[
try:
    asyncore.compact_traceback()
except AssertionError as e:
    print(e)
]]
    local ok, err = pcall(asyncore.compact_traceback)
    assert.is_false(ok)
    assert.truthy(err:find(out:gsub("\n$", ""), 1, true))
  end)

  it("compact_traceback inside handle_error: innermost frame, class, error, frames", function()
    local seen
    local H = asyncore.dispatcher:extend {
      writable = function() return false end,
      handle_read = function() error(errors.KeyError("k")) end,
      handle_error = function(self)
        seen = table.pack(asyncore.compact_traceback())
        self:close()
      end,
    }
    local a, b = socket.socketpair()
    local map = {}
    H(a, map)
    b:send("x")
    asyncore.loop(1, false, map, 1)
    local src = debug.getinfo(1, "S").source:sub(2)
    assert.are.equal(src, seen[1][1])
    assert.are.equal("handle_read", seen[1][2])
    assert.truthy(seen[1][3]:match("^%d+$"))
    assert.are.equal("<class 'KeyError'>", seen[2])
    assert.is_true(errors.KeyError:matches(seen[3]))
    assert.are.equal("read handle_read_event handle_read", frame_functions(seen[4]))
    b:close()
  end)

  for _, use_poll in ipairs {false, true} do
    it("ExitNow and KeyboardInterrupt leave the loop; handle_error is not called (use_poll "
      .. tostring(use_poll) .. ")", function()
      for _, cls in ipairs {asyncore.ExitNow, errors.KeyboardInterrupt} do
        local log = {}
        local a, b = socket.socketpair()
        local map = {}
        recorder(nil, log, {
          writable = function() return false end,
          handle_read = function() error(cls("stop")) end,
          handle_error = function() log[#log + 1] = "handle_error" end,
        })(a, map)
        b:send("x")
        local ok, err = pcall(asyncore.loop, 1, use_poll, map, 1)
        assert.is_false(ok)
        assert.is_true(cls:matches(err))
        assert.are.same({}, log)
        asyncore.close_all(map)
        b:close()
      end
    end)
  end

  it("a disconnection error closes the channel under poll, goes to handle_error under select", function()
    local out = py [[
for use_poll in (False, True):
    log = []
    class R(asyncore.dispatcher):
        def writable(self): return False
        def handle_read(self): raise ConnectionResetError(errno.ECONNRESET, 'reset')
        def handle_error(self): log.append('handle_error'); self.close()
        def handle_close(self): log.append('handle_close'); self.close()
    a, b = socket.socketpair()
    m = {}
    R(a, m)
    b.send(b'x')
    asyncore.loop(1, use_poll, m, 1)
    print(use_poll, ','.join(log))
    b.close()
]]
    local lines = {}
    for _, use_poll in ipairs {false, true} do
      local log = {}
      local a, b = socket.socketpair()
      local map = {}
      asyncore.dispatcher:extend {
        writable = function() return false end,
        handle_read = function() error(errors.raise_new("OSError", asyncore.ECONNRESET, "reset")) end,
        handle_error = function(self)
          log[#log + 1] = "handle_error"
          self:close()
        end,
        handle_close = function(self)
          log[#log + 1] = "handle_close"
          self:close()
        end,
      }(a, map)
      b:send("x")
      asyncore.loop(1, use_poll, map, 1)
      lines[#lines + 1] = pybool(use_poll) .. " " .. table.concat(log, ",")
      b:close()
    end
    assert.are.same(lines_of(out), lines)
  end)

  it("readwrite calls the handlers the poll flags ask for, as Python does", function()
    local out = py [[
log = []
class R(asyncore.dispatcher):
    def handle_read(self): log.append('handle_read')
    def handle_write(self): log.append('handle_write')
    def handle_expt(self): log.append('handle_expt')
    def handle_close(self): log.append('handle_close')
for flags in (select.POLLIN, select.POLLOUT, select.POLLPRI, select.POLLHUP, select.POLLERR,
              select.POLLNVAL, select.POLLIN | select.POLLHUP, select.POLLIN | select.POLLOUT | select.POLLPRI):
    a, b = socket.socketpair()
    r = R(a, {})
    del log[:]
    asyncore.readwrite(r, flags)
    print(flags, ','.join(log))
    a.close(); b.close()
]]
    local lines = {}
    for _, flags in ipairs {select.POLLIN, select.POLLOUT, select.POLLPRI, select.POLLHUP, select.POLLERR,
                            select.POLLNVAL, select.POLLIN | select.POLLHUP,
                            select.POLLIN | select.POLLOUT | select.POLLPRI} do
      local a, b = socket.socketpair()
      local log = {}
      local r = recorder(nil, log)(a, {})
      asyncore.readwrite(r, flags)
      lines[#lines + 1] = flags .. " " .. table.concat(log, ",")
      a:close()
      b:close()
    end
    assert.are.same(lines_of(out), lines)
    assert.has_error(function() asyncore.readwrite(asyncore.dispatcher(nil, {}), "x") end,
      "bad argument #2 to 'readwrite' (integer expected, got string)")
  end)

  it("read, write and _exception send errors to handle_error and let ExitNow through", function()
    for _, pair in ipairs {{asyncore.read, "handle_read_event"}, {asyncore.write, "handle_write_event"},
                           {asyncore._exception, "handle_expt_event"}} do
      local log = {}
      local d = asyncore.dispatcher:extend {
        [pair[2]] = function() error("failed") end,
        handle_error = function() log[#log + 1] = "handle_error" end,
      }(nil, {})
      pair[1](d)
      assert.are.same({"handle_error"}, log)
      d[pair[2]] = function() error(asyncore.ExitNow()) end
      local ok, err = pcall(pair[1], d)
      assert.is_false(ok)
      assert.is_true(asyncore.ExitNow:matches(err))
    end
  end)
end)

describe("asyncore.dispatcher_with_send", function()
  it("buffers what the socket does not take and is writable until it is sent; 1 MiB arrives intact", function()
    local a, b = socket.socketpair()
    local map = {}
    local d = asyncore.dispatcher_with_send:extend {handle_read = function() end}(a, map)
    assert.are.equal("", d.out_buffer)
    assert.is_false(d:writable())
    local parts = {}
    for i = 1, 16384 do parts[i] = string.format("%063d\n", i) end
    local data = table.concat(parts)
    assert.are.equal(1024 * 1024, #data)
    assert.is_nil(d:send(data))
    assert.is_true(#d.out_buffer > 0)
    assert.is_true(d:writable())
    local reader = task.spawn(function()
      local got = {}
      local n = 0
      while n < #data do
        local chunk = b:recv(65536)
        if chunk == "" then break end
        got[#got + 1] = chunk
        n = n + #chunk
      end
      return table.concat(got)
    end)
    local deadline = task.now() + 10
    while #d.out_buffer > 0 and task.now() < deadline do asyncore.loop(1, false, map, 1) end
    assert.are.equal(data, reader:join(10))
    assert.is_false(d:writable())
    d:close()
    b:close()
  end)

  it("is writable while not connected", function()
    local d = asyncore.dispatcher_with_send(nil, {})
    assert.is_true(d:writable())
  end)

  it("logs what it sends when debug is on, as Python does", function()
    local out = py [[
a, b = socket.socketpair()
d = asyncore.dispatcher_with_send(a, {})
d.debug = True
d.send(b"hi\n")
d.send(b"it's \x00\xff")
d.send(b'q"\'')
print(b.recv(100))
]]
    local a, b = socket.socketpair()
    local d = asyncore.dispatcher_with_send(a, {})
    d.debug = true
    local lines = capture_print(function()
      d:send("hi\n")
      d:send("it's \0\255")
      d:send("q\"'")
      print(asyncore._bytes_repr(b:recv(100)))
    end)
    assert.are.same(lines_of(out), lines)
    d:close()
    b:close()
  end)
end)

describe("asyncore.loop and poll", function()
  it("returns at once when the map is empty", function()
    local t0 = task.now()
    asyncore.loop(5, false, {})
    asyncore.loop(5, true, {})
    assert.is_true(task.now() - t0 < 1)
  end)

  for _, use_poll in ipairs {false, true} do
    local mode = " (use_poll " .. tostring(use_poll) .. ")"

    it("runs count rounds" .. mode, function()
      local a, b = socket.socketpair()
      local map = {}
      local writes = 0
      asyncore.dispatcher:extend {
        readable = function() return false end,
        handle_write = function() writes = writes + 1 end,
      }(a, map)
      asyncore.loop(1, use_poll, map, 3)
      assert.are.equal(3, writes)
      asyncore.loop {timeout = 1, use_poll = use_poll, map = map, count = 2}
      assert.are.equal(5, writes)
      asyncore.close_all(map)
      b:close()
    end)

    it("waits for timeout when nothing happens, and other tasks run meanwhile" .. mode, function()
      local a, b = socket.socketpair()
      local map = {}
      local log = {}
      recorder(nil, log, {writable = function() return false end})(a, map)
      local ticks = 0
      local ticker = task.spawn(function()
        for _ = 1, 5 do
          task.sleep(0.02)
          ticks = ticks + 1
        end
      end)
      local t0 = task.now()
      asyncore.loop(0.3, use_poll, map, 1)
      local took = task.now() - t0
      assert.is_true(took >= 0.28 and took < 2, "took " .. took)
      assert.are.equal(5, ticks)
      assert.are.same({}, log)
      ticker:join(1)
      asyncore.close_all(map)
      b:close()
    end)

    it("leaves out channels that are neither readable nor writable" .. mode, function()
      local a, b = socket.socketpair()
      local map = {}
      local log = {}
      recorder(nil, log, {readable = function() return false end, writable = function() return false end})(a, map)
      b:send("data")
      local t0 = task.now()
      asyncore.loop(0.2, use_poll, map, 1)
      assert.is_true(task.now() - t0 >= 0.18)
      assert.are.same({}, log)
      asyncore.close_all(map)
      b:close()
    end)

    it("a channel closed by another task while the loop waits ends the round quietly" .. mode, function()
      local a, b = socket.socketpair()
      local map = {}
      local d = recorder(nil, {}, {writable = function() return false end})(a, map)
      local closer = task.spawn(function()
        task.sleep(0.05)
        d:close()
      end)
      local t0 = task.now()
      asyncore.loop(5, use_poll, map)
      assert.is_true(task.now() - t0 < 2)
      closer:join(1)
      b:close()
    end)
  end

  it("a cancelled task leaves the loop, also from inside a handler, without handle_error", function()
    for _, in_handler in ipairs {false, true} do
      local a, b = socket.socketpair()
      local map = {}
      local log = {}
      recorder(nil, log, {
        writable = function() return false end,
        handle_read = function() task.sleep(5) end,
        handle_error = function() log[#log + 1] = "handle_error" end,
      })(a, map)
      if in_handler then b:send("x") end
      local t = task.spawn(asyncore.loop, 5, false, map)
      task.sleep(0.05)
      t:cancel()
      local ok, err = pcall(t.join, t, 2)
      assert.is_false(ok)
      assert.is_true(task.Cancelled:matches(err))
      assert.are.same({}, log)
      asyncore.close_all(map)
      b:close()
    end
  end)

  it("poll and poll2 handle one round; poll(false) cannot sleep for ever on nothing", function()
    local a, b = socket.socketpair()
    local map = {}
    local log = {}
    recorder(nil, log, {writable = function() return false end})(a, map)
    b:send("x")
    asyncore.poll(1, map)
    assert.are.same({"handle_read"}, log)
    asyncore.poll2(1, map)
    assert.are.same({"handle_read", "handle_read"}, log)
    assert.are.equal(asyncore.poll2, asyncore.poll3)
    local idle = asyncore.dispatcher:extend {readable = function() return false end,
                                             writable = function() return false end}
    local m2 = {}
    local c, e = socket.socketpair()
    idle(c, m2)
    assert.has_error(function() asyncore.poll(false, m2) end,
      "bad argument #1 to 'poll' (no channel is readable or writable: cannot sleep for ever)")
    asyncore.close_all(map)
    asyncore.close_all(m2)
    b:close()
    e:close()
  end)

  it("uses the global socket_map by default", function()
    local a, b = socket.socketpair()
    local log = {}
    local d = recorder(nil, log, {writable = function() return false end})(a)
    assert.are.equal(d, asyncore.socket_map[a:fileno()])
    b:send("x")
    asyncore.loop(1, false, nil, 1)
    assert.are.same({"handle_read"}, log)
    d:close()
    assert.is_nil(next(asyncore.socket_map))
    b:close()
  end)

  it("names bad arguments", function()
    assert.has_error(function() asyncore.loop("x") end,
      "bad argument #1 to 'loop' (number or false expected, got string)")
    assert.has_error(function() asyncore.loop(1, false, 5) end,
      "bad argument #3 to 'loop' (map must be a table, got number)")
    assert.has_error(function() asyncore.loop(1, false, {}, 1.5) end,
      "bad argument #4 to 'loop' (count must be an integer, got number)")
    assert.has_error(function() asyncore.poll("x") end,
      "bad argument #1 to 'poll' (number or false expected, got string)")
    assert.has_error(function() asyncore.poll2(0, "m") end,
      "bad argument #2 to 'poll2' (map must be a table, got string)")
  end)
end)

describe("asyncore.close_all", function()
  it("closes every channel and empties the map", function()
    local map = {}
    local socks = {}
    for i = 1, 3 do
      local a, b = socket.socketpair()
      asyncore.dispatcher(a, map)
      socks[i] = {a, b}
    end
    asyncore.close_all(map)
    assert.is_nil(next(map))
    for _, p in ipairs(socks) do
      assert.are.equal(-1, p[1]:fileno())
      p[2]:close()
    end
  end)

  it("raises a close error unless ignore_all; EBADF is ignored; the map is emptied", function()
    local out = py [[
class Bad(asyncore.dispatcher):
    def close(self): raise ValueError('nope')
class Gone(asyncore.dispatcher):
    def close(self): raise OSError(errno.EBADF, 'gone')
m = {1: Bad(map={}), 2: Gone(map={})}
try:
    asyncore.close_all(m)
except ValueError as e:
    print('raised', e, len(m))
m = {1: Bad(map={}), 2: Gone(map={})}
asyncore.close_all(m, ignore_all=True)
print('ignored', len(m))
m = {2: Gone(map={})}
asyncore.close_all(m)
print('ebadf', len(m))
]]
    local Bad = asyncore.dispatcher:extend {close = function() error(errors.ValueError("nope")) end}
    local Gone = asyncore.dispatcher:extend {
      close = function() error(errors.raise_new("OSError", asyncore.EBADF, "gone")) end,
    }
    local lines = {}
    local m = {[1] = Bad(nil, {}), [2] = Gone(nil, {})}
    local ok, err = pcall(asyncore.close_all, m)
    assert.is_false(ok)
    lines[#lines + 1] = string.format("raised %s %d", tostring(err), #m)
    m = {[1] = Bad(nil, {}), [2] = Gone(nil, {})}
    asyncore.close_all(m, true)
    lines[#lines + 1] = "ignored " .. #m
    m = {[2] = Gone(nil, {})}
    asyncore.close_all(m)
    lines[#lines + 1] = "ebadf " .. (next(m) and 1 or 0)
    assert.are.same(lines_of(out), lines)
  end)
end)

describe("asyncore.file_wrapper and file_dispatcher", function()
  it("file_wrapper works on a dup of the fd and looks enough like a socket", function()
    local a, b = socket.socketpair()
    local w = asyncore.file_wrapper(a:fileno())
    assert.are_not.equal(a:fileno(), w:fileno())
    assert.are.equal(w.fd, w:fileno())
    assert.are.equal(3, w:send("abc"))
    assert.are.equal("abc", b:recv(10))
    b:send("xyz")
    assert.are.equal("xy", w:recv(2))
    assert.are.equal("z", w:read(5))
    assert.are.equal(2, w:write("ok"))
    assert.are.equal("ok", b:recv(10))
    local ok, err = pcall(w.recv, w, 10)
    assert.is_false(ok)
    assert.is_true(errors.BlockingIOError:matches(err))
    assert.are.equal(0, w:getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
    local ok2, err2 = pcall(w.getsockopt, w, socket.SOL_SOCKET, socket.SO_TYPE)
    assert.is_false(ok2)
    assert.is_true(asyncore.NotImplementedError:matches(err2))
    assert.are.equal("Only asyncore specific behaviour implemented.", tostring(err2))
    w:close()
    assert.are.equal(-1, w:fileno())
    w:close()
    local ok3, err3 = pcall(w.recv, w, 1)
    assert.is_false(ok3)
    assert.are.equal(asyncore.EBADF, err3.errno)
    -- the original fd is still open
    assert.are.equal(2, a:send("ok"))
    a:close()
    b:close()
  end)

  it("file_wrapper refuses what moonsock cannot read as a socket", function()
    local ep = select.epoll()
    local ok, err = pcall(asyncore.file_wrapper, ep:fileno())
    assert.is_false(ok)
    assert.are.equal(88, err.errno)  -- ENOTSOCK
    ep:close()
    assert.has_error(function() asyncore.file_wrapper("0") end,
      "bad argument #1 to 'file_wrapper' (integer expected, got string)")
  end)

  it("file_dispatcher reads its fd through the loop, and closes only the dup", function()
    local a, b = socket.socketpair()
    local map = {}
    local got = {}
    local F = asyncore.file_dispatcher:extend {
      writable = function() return false end,
      handle_read = function(self) got[#got + 1] = self:recv(100) end,
    }
    local f = F(a, map)
    assert.is_true(f.connected)
    assert.are.equal(f, map[f.socket:fileno()])
    assert.are_not.equal(a:fileno(), f.socket:fileno())
    b:send("through the file")
    asyncore.loop(1, false, map, 1)
    assert.are.same({"through the file"}, got)
    f:close()
    assert.is_nil(next(map))
    assert.are.equal(1, a:send("x"))
    assert.are.equal("x", b:recv(1))
    local g = F(a:fileno(), map)
    assert.are.equal(g, map[g.socket:fileno()])
    g:close()
    a:close()
    b:close()
    assert.has_error(function() asyncore.file_dispatcher("x", map) end,
      "bad argument #1 to 'file_dispatcher' (integer or object with fileno() expected, got string)")
  end)
end)

describe("asyncore classes", function()
  it("subclass with extend, construct with __init__ calling the parent's, test with isinstance", function()
    local Server = asyncore.dispatcher:extend {__name = "Server"}
    function Server:__init__(host, map)
      asyncore.dispatcher.__init__(self, nil, map)
      self:create_socket()
      self:bind({host, 0})
      self:listen(1)
    end
    local map = {}
    local s = Server("127.0.0.1", map)
    assert.is_true(s.accepting)
    assert.are.equal(s, map[s.socket:fileno()])
    assert.is_true(asyncore.isinstance(s, asyncore.dispatcher))
    assert.is_false(asyncore.isinstance(s, asyncore.dispatcher_with_send))
    assert.truthy(tostring(s):match("^<Server listening 127%.0%.0%.1:0 at 0x%x+>$"))
    assert.are.equal("<class 'asyncore.dispatcher'>", tostring(asyncore.dispatcher))
    s:close()
  end)
end)
