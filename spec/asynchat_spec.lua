-- asynchat against CPython 3.11's Lib/asynchat.py. The terminator search is
-- checked differentially: python3 feeds the same input, split the same way
-- across recv calls, to the same handler, and both must report the same
-- collect_incoming_data chunks, found_terminator calls, leftover buffer and
-- terminator after every read. Output queueing (push, producers,
-- close_when_done) runs on real socket pairs.
--
-- Run: bin/moonsock /usr/bin/busted spec/asynchat_spec.lua
local asyncore = require "asyncore"
local asynchat = require "asynchat"
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local socketserver = require "socketserver"
local h = require "spec.support.helpers"

local PRELUDE = [[
import warnings
warnings.simplefilter('ignore')
import asyncore, asynchat, socket, errno
]]
local function py(code) return h.python(PRELUDE .. code) end

local function lines_of(text)
  local out = {}
  for line in text:gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end

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

local brepr = asyncore._bytes_repr

-- Python's repr of a terminator (bytes, int or None).
local function term_repr(t)
  if t == nil then return "None" end
  if type(t) == "string" then return brepr(t) end
  return tostring(t)
end

-- Python's repr of a list of bytes.
local function list_repr(items)
  local parts = {}
  for i, v in ipairs(items) do parts[i] = brepr(v) end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function py_bytes(s) return brepr(s) end

after_each(function() asyncore.close_all(nil, true) end)

describe("asynchat module", function()
  it("has Python's public names, and async_chat Python's attributes and methods", function()
    local out = py [[
for n in ('async_chat', 'simple_producer', 'find_prefix_at_end', 'deque'):
    print('module', n)
for n in sorted(dir(asynchat.async_chat)):
    # use_encoding/encoding turn str into bytes: Lua strings are bytes.
    if n.startswith('__') or n in ('use_encoding', 'encoding'):
        continue
    v = getattr(asynchat.async_chat, n)
    print('async_chat', n, 'function' if callable(v) else repr(v) if not isinstance(v, frozenset) else 'set')
for n in sorted(dir(asynchat.simple_producer)):
    if not n.startswith('__'):
        print('simple_producer', n, 'function')
]]
    for _, line in ipairs(lines_of(out)) do
      local where, name, kind = line:match("^(%S+) (%S+) ?(.*)$")
      if where == "module" then
        assert.is_not_nil(asynchat[name], name)
      else
        local v = asynchat[where][name]
        if kind == "function" then
          assert.are.equal("function", type(v), where .. "." .. name)
        elseif kind == "set" then
          assert.are.equal("table", type(v), where .. "." .. name)
        else
          assert.are.equal(kind, require("moonsock.repr").repr(v), where .. "." .. name)
        end
      end
    end
  end)
end)

describe("asynchat.find_prefix_at_end", function()
  it("gives Python's answers", function()
    local cases = {
      {"qwerty\r", "\r\n"}, {"qwertydkjf", "\r\n"}, {"", "\r\n"}, {"abc\r\n.", "\r\n.\r\n"},
      {"abc\r\n.\r", "\r\n.\r\n"}, {"abc\r", "\r\n.\r\n"}, {"a", "a"}, {"x", ""}, {"", ""},
      {"END", "ENDX"}, {"EN", "ENDX"}, {"aaa", "aab"}, {"abab", "ababc"}, {"\0\1", "\1\2"},
      {"zz", "z"}, {"z\r\n\r", "\r\n\r\n"},
    }
    local code = {"cases = ["}
    for _, c in ipairs(cases) do code[#code + 1] = string.format("(%s, %s),", py_bytes(c[1]), py_bytes(c[2])) end
    code[#code + 1] = "]\nfor hay, needle in cases:\n    print(asynchat.find_prefix_at_end(hay, needle))\n"
    local want = lines_of(py(table.concat(code, "\n")))
    local got = {}
    for i, c in ipairs(cases) do got[i] = tostring(asynchat.find_prefix_at_end(c[1], c[2])) end
    assert.are.same(want, got)
  end)

  it("names bad arguments", function()
    assert.has_error(function() asynchat.find_prefix_at_end(1, "x") end,
      "bad argument #1 to 'find_prefix_at_end' (string expected, got number)")
    assert.has_error(function() asynchat.find_prefix_at_end("x") end,
      "bad argument #2 to 'find_prefix_at_end' (string expected, got nil)")
  end)
end)

-- ---- the terminator search, read by read ----

-- Each scenario: the terminator, the pieces the peer sends (one recv each),
-- and whether found_terminator switches between a header terminator
-- "\r\n\r\n" and a 4-byte body.
local SCENARIOS = {
  {"\r\n", {"hel", "lo\r", "\nwor", "ld\r\n\r\n", "x\r", "\r\n"}},
  {"\r\n.\r\n", {"a\r\n", ".", "\r", "\n", "b\r\n.\r", "\n.\r\n.\r\n", "\r\n.\r"}},
  {5, {"abc", "defgh", "ijklmnop"}},
  {nil, {"abc", "def\r\n"}},
  {"\r\n\r\n", {"GET / HTTP/1.0\r\nLength: 4\r", "\n\r\nbo", "dyGET", " /x\r\n\r\n", "abcd"}, true},
  {"", {"ab", "cd"}},
  {0, {"ab"}},
  {"\n", {"a\nb\nc", "\n\n", "d"}},
  {"END", {"xxE", "N", "Dyy", "EN", "zEND", "E"}},
  {3, {"ab", "cdefgh", "i"}},
}

local function python_scenario(term, pieces, switch)
  local splits = {}
  for i, p in ipairs(pieces) do splits[i] = py_bytes(p) end
  return py(string.format([[
log = []
term = %s
switch = %s
class C(asynchat.async_chat):
    def collect_incoming_data(self, data):
        log.append('collect %%r' %% data)
    def found_terminator(self):
        log.append('found')
        if switch:
            self.set_terminator(4 if self.get_terminator() == b'\r\n\r\n' else b'\r\n\r\n')
a, b = socket.socketpair()
m = {}
c = C(a, m)
c.set_terminator(term)
for piece in [%s]:
    b.send(piece)
    asyncore.loop(1, False, m, 1)
    log.append('buffer %%r terminator %%r' %% (c.ac_in_buffer, c.get_terminator()))
print('\n'.join(log))
]], term_repr(term), switch and "True" or "False", table.concat(splits, ", ")))
end

local function lua_scenario(term, pieces, switch)
  local log = {}
  local C = asynchat.async_chat:extend {
    collect_incoming_data = function(_, data) log[#log + 1] = "collect " .. brepr(data) end,
    found_terminator = function(self)
      log[#log + 1] = "found"
      if switch then
        self:set_terminator(self:get_terminator() == "\r\n\r\n" and 4 or "\r\n\r\n")
      end
    end,
  }
  local a, b = socket.socketpair()
  local map = {}
  local c = C(a, map)
  c:set_terminator(term)
  for _, piece in ipairs(pieces) do
    b:send(piece)
    asyncore.loop(1, false, map, 1)
    log[#log + 1] = string.format("buffer %s terminator %s", brepr(c.ac_in_buffer), term_repr(c:get_terminator()))
  end
  c:close()
  b:close()
  return log
end

describe("async_chat input", function()
  for i, sc in ipairs(SCENARIOS) do
    it(string.format("scenario %d (terminator %s): the same chunks, terminators and leftovers as Python", i,
      term_repr(sc[1])), function()
      local want = lines_of(python_scenario(sc[1], sc[2], sc[3]))
      assert.are.same(want, lua_scenario(sc[1], sc[2], sc[3]))
    end)
  end

  it("a 1 MiB message cut by a byte count arrives intact, in ac_in_buffer_size reads", function()
    local parts = {}
    for i = 1, 16384 do parts[i] = string.format("%063d\n", i) end
    local data = table.concat(parts)
    local chunks, found = {}, 0
    local R = asynchat.async_chat:extend {
      collect_incoming_data = function(_, d) chunks[#chunks + 1] = d end,
      found_terminator = function(self)
        found = found + 1
        self:close()
      end,
    }
    local a, b = socket.socketpair()
    local map = {}
    local r = R(a, map)
    r:set_terminator(#data)
    local writer = task.spawn(function() b:sendall(data) end)
    local deadline = task.now() + 10
    while next(map) and task.now() < deadline do asyncore.loop(1, false, map, 1) end
    writer:join(5)
    assert.are.equal(1, found)
    assert.are.equal(data, table.concat(chunks))
    for _, chunk in ipairs(chunks) do assert.is_true(#chunk <= r.ac_in_buffer_size) end
    b:close()
  end)

  it("set_terminator takes a string, a byte count or nil; get_terminator gives it back", function()
    local out = py [[
c = asynchat.async_chat(map={})
try:
    c.set_terminator(-1)
except ValueError as e:
    print(e)
]]
    local c = asynchat.async_chat(nil, {})
    assert.is_nil(c:get_terminator())
    c:set_terminator("\r\n")
    assert.are.equal("\r\n", c:get_terminator())
    c:set_terminator(10)
    assert.are.equal(10, c:get_terminator())
    c:set_terminator(nil)
    assert.is_nil(c:get_terminator())
    assert.has_error(function() c:set_terminator(-1) end,
      "bad argument #1 to 'set_terminator' (" .. out:gsub("\n$", "") .. ")")
    assert.has_error(function() c:set_terminator({}) end,
      "bad argument #1 to 'set_terminator' (string, integer or nil expected, got table)")
    assert.has_error(function() c:set_terminator(1.5) end,
      "bad argument #1 to 'set_terminator' (string, integer or nil expected, got number)")
  end)

  it("_collect_incoming_data and _get_data gather and hand over the chunks", function()
    local c = asynchat.async_chat(nil, {})
    c:_collect_incoming_data("ab")
    c:_collect_incoming_data("cd")
    assert.are.equal("abcd", c:_get_data())
    assert.are.equal("", c:_get_data())
  end)

  it("without collect_incoming_data/found_terminator: NotImplementedError through handle_error", function()
    local out = py [[
a, b = socket.socketpair()
m = {}
c = asynchat.async_chat(a, m)
c.set_terminator(b'\n')
b.send(b'x\n')
asyncore.loop(1, False, m, 1)
print(len(m))
]]
    local a, b = socket.socketpair()
    local map = {}
    local lines = capture_print(function()
      local c = asynchat.async_chat(a, map)
      c:set_terminator("\n")
      b:send("x\n")
      asyncore.loop(1, false, map, 1)
      print(next(map) and 1 or 0)
    end)
    local want = lines_of(out)
    local function head(line) return line:match("closing channel <[^>]*> %((.-) %[") end
    assert.are.equal(head(want[1]), head(lines[1]))
    assert.are.equal("<class 'NotImplementedError'>:must be implemented in subclass", head(lines[1]))
    assert.are.equal(want[2], lines[2])
    b:close()
  end)

  it("handle_read passes an OSError from recv to handle_error and ignores BlockingIOError", function()
    local out = py [[
log = []
for exc in (BlockingIOError(errno.EAGAIN, 'again'), OSError(errno.EIO, 'io')):
    class C(asynchat.async_chat):
        def recv(self, n): raise exc
        def handle_error(self): log.append('handle_error %s' % type(exc).__name__)
    C(None, {}).handle_read()
print('\n'.join(log))
]]
    local log = {}
    for _, exc in ipairs {errors.raise_new("OSError", asyncore.EAGAIN, "again"),
                          errors.raise_new("OSError", 5, "io")} do
      local C = asynchat.async_chat:extend {
        recv = function() error(exc) end,
        handle_error = function()
          log[#log + 1] = "handle_error " .. getmetatable(exc).__name
          assert.are.equal(exc, select(3, asyncore.compact_traceback()))
        end,
      }
      C(nil, {}):handle_read()
    end
    assert.are.same(lines_of(out), log)
  end)
end)

describe("async_chat output", function()
  it("push queues ac_out_buffer_size pieces; nothing goes out while unconnected", function()
    local out = py [[
c = asynchat.async_chat(map={})
c.ac_out_buffer_size = 4
c.push(b'0123456789')
c.push(b'ab')
print(list(c.producer_fifo), bool(c.writable()))
]]
    local c = asynchat.async_chat(nil, {})
    c.ac_out_buffer_size = 4
    c:push("0123456789")
    c:push("ab")
    local items = {}
    for i = 1, #c.producer_fifo do items[i] = c.producer_fifo[i] end
    assert.are.equal(out, list_repr(items) .. " " .. (c:writable() and "True" or "False") .. "\n")
    assert.has_error(function() c:push(5) end, "bad argument #1 to 'push' (data argument must be byte-ish (number))")
  end)

  it("initiate_send sends one piece per call, as Python does", function()
    local out = py [[
a, b = socket.socketpair()
c = asynchat.async_chat(a, {})
c.ac_out_buffer_size = 4
c.push(b'0123456789')
print(b.recv(100), list(c.producer_fifo), bool(c.writable()))
c.initiate_send()
print(b.recv(100), list(c.producer_fifo))
c.push(b'')
c.initiate_send(); c.initiate_send()
print(b.recv(100), list(c.producer_fifo), bool(c.writable()))
]]
    local a, b = socket.socketpair()
    local c = asynchat.async_chat(a, {})
    c.ac_out_buffer_size = 4
    local function fifo()
      local items = {}
      for i = 1, #c.producer_fifo do items[i] = c.producer_fifo[i] end
      return list_repr(items)
    end
    local pyb = function(v) return v and "True" or "False" end
    local lines = {}
    c:push("0123456789")
    lines[1] = string.format("%s %s %s", brepr(b:recv(100)), fifo(), pyb(c:writable()))
    c:initiate_send()
    lines[2] = string.format("%s %s", brepr(b:recv(100)), fifo())
    c:push("")
    c:initiate_send()
    c:initiate_send()
    lines[3] = string.format("%s %s %s", brepr(b:recv(100)), fifo(), pyb(c:writable()))
    assert.are.same(lines_of(out), lines)
    c:close()
    b:close()
  end)

  for _, use_poll in ipairs {false, true} do
    it("a 1 MiB push arrives intact (use_poll " .. tostring(use_poll) .. ")", function()
      local parts = {}
      for i = 1, 16384 do parts[i] = string.format("%063d\n", i) end
      local data = table.concat(parts)
      local a, b = socket.socketpair()
      local map = {}
      local c = asynchat.async_chat(a, map)
      c:push(data)
      assert.is_true(#c.producer_fifo > 1)
      local reader = task.spawn(function()
        local got, n = {}, 0
        while n < #data do
          local chunk = b:recv(65536)
          if chunk == "" then break end
          got[#got + 1] = chunk
          n = n + #chunk
        end
        return table.concat(got)
      end)
      local deadline = task.now() + 10
      while c:writable() and task.now() < deadline do asyncore.loop(1, use_poll, map, 1) end
      assert.are.equal(data, reader:join(10))
      assert.are.equal(0, #c.producer_fifo)
      c:close()
      b:close()
    end)
  end

  it("simple_producer hands out buffer_size pieces, as Python's does", function()
    local out = py [[
p = asynchat.simple_producer(b'abcdefghijklmnopq', 5)
print([p.more() for _ in range(6)])
p = asynchat.simple_producer(b'x' * 600)
print([len(p.more()) for _ in range(3)])
]]
    local p = asynchat.simple_producer("abcdefghijklmnopq", 5)
    local got = {}
    for i = 1, 6 do got[i] = p:more() end
    local q = asynchat.simple_producer(string.rep("x", 600))
    local sizes = {}
    for i = 1, 3 do sizes[i] = tostring(#q:more()) end
    assert.are.equal(out, list_repr(got) .. "\n[" .. table.concat(sizes, ", ") .. "]\n")
    assert.has_error(function() asynchat.simple_producer(5) end,
      "bad argument #1 to 'simple_producer' (string expected, got number)")
    assert.has_error(function() asynchat.simple_producer("x", "5") end,
      "bad argument #2 to 'simple_producer' (integer expected, got string)")
  end)

  it("push_with_producer sends producers in their place in the queue", function()
    local a, b = socket.socketpair()
    local map = {}
    local c = asynchat.async_chat(a, map)
    local big = string.rep("0123456789", 10000)
    local pieces = {"b", "c", "d"}
    local custom = {more = function() return table.remove(pieces, 1) end}
    c:push("a")
    c:push_with_producer(custom)
    c:push_with_producer(asynchat.simple_producer(big, 7000))
    c:push_with_producer("tail-as-string")
    c:push("!")
    local want = "abcd" .. big .. "tail-as-string!"
    local reader = task.spawn(function()
      local got, n = {}, 0
      while n < #want do
        local chunk = b:recv(65536)
        if chunk == "" then break end
        got[#got + 1] = chunk
        n = n + #chunk
      end
      return table.concat(got)
    end)
    local deadline = task.now() + 10
    while c:writable() and task.now() < deadline do asyncore.loop(1, false, map, 1) end
    assert.are.equal(want, reader:join(10))
    assert.has_error(function() c:push_with_producer(42) end,
      "bad argument #1 to 'push_with_producer' (producer must have a more() method, got number)")
    c:close()
    b:close()
  end)

  it("close_when_done closes the channel once everything queued is sent", function()
    local a, b = socket.socketpair()
    local map = {}
    local closed = 0
    local C = asynchat.async_chat:extend {
      handle_close = function(self)
        closed = closed + 1
        self:close()
      end,
    }
    local c = C(a, map)
    local data = string.rep("z", 300000)
    c:push(data)
    c:close_when_done()
    -- Python's None, the close marker, is false here
    assert.is_false(c.producer_fifo[#c.producer_fifo])
    local reader = task.spawn(function()
      local got = {}
      while true do
        local chunk = b:recv(65536)
        if chunk == "" then break end
        got[#got + 1] = chunk
      end
      return table.concat(got)
    end)
    local deadline = task.now() + 10
    while next(map) and task.now() < deadline do asyncore.loop(1, false, map, 1) end
    assert.are.equal(data, reader:join(10))
    assert.are.equal(1, closed)
    assert.is_false(c.connected)
    b:close()
  end)

  it("discard_buffers empties input and output", function()
    local a, b = socket.socketpair()
    local c = asynchat.async_chat(nil, {})
    c.ac_in_buffer = "partial"
    c:_collect_incoming_data("x")
    c:push("queued")
    c:discard_buffers()
    assert.are.equal("", c.ac_in_buffer)
    assert.are.equal("", c:_get_data())
    assert.are.equal(0, #c.producer_fifo)
    a:close()
    b:close()
  end)

  it("is always readable; writable while unconnected or with output queued", function()
    local out = py [[
a, b = socket.socketpair()
c = asynchat.async_chat(map={})
print(bool(c.readable()), bool(c.writable()))
c = asynchat.async_chat(a, {})
print(bool(c.readable()), bool(c.writable()))
c.producer_fifo.append(b'x')
print(bool(c.readable()), bool(c.writable()))
]]
    local a, b = socket.socketpair()
    local pyb = function(v) return v and "True" or "False" end
    local lines = {}
    local c = asynchat.async_chat(nil, {})
    lines[1] = pyb(c:readable()) .. " " .. pyb(c:writable())
    c = asynchat.async_chat(a, {})
    lines[2] = pyb(c:readable()) .. " " .. pyb(c:writable())
    c.producer_fifo:append("x")
    lines[3] = pyb(c:readable()) .. " " .. pyb(c:writable())
    assert.are.same(lines_of(out), lines)
    c:close()
    b:close()
  end)

  it("a send that fails with OSError goes to handle_error", function()
    local log = {}
    local C = asynchat.async_chat:extend {
      send = function() error(errors.raise_new("OSError", 5, "Input/output error")) end,
      handle_error = function() log[#log + 1] = tostring(select(3, asyncore.compact_traceback())) end,
    }
    local a, b = socket.socketpair()
    local c = C(a, {})
    c:push("x")
    assert.are.same({"[Errno 5] Input/output error"}, log)
    c:close()
    b:close()
  end)

  it("a line echo server over the loop, select and poll alike", function()
    for _, use_poll in ipairs {false, true} do
      local Echo = asynchat.async_chat:extend {
        collect_incoming_data = asynchat.async_chat._collect_incoming_data,
        found_terminator = function(self) self:push(self:_get_data():upper() .. "\n") end,
      }
      local a, b = socket.socketpair()
      local map = {}
      local e = Echo(a, map)
      e:set_terminator("\n")
      local client = task.spawn(function()
        local f = b:makefile("rwb")
        local got = {}
        for i = 1, 50 do
          f:write("line " .. i .. "\n")
          f:flush()
          got[i] = f:readline()
        end
        f:close()
        b:close()
        return got
      end)
      local deadline = task.now() + 10
      while next(map) and task.now() < deadline do asyncore.loop(1, use_poll, map, 1) end
      local got = client:join(5)
      for i = 1, 50 do assert.are.equal("LINE " .. i .. "\n", got[i]) end
      assert.is_false(e.connected)
    end
  end)
end)

describe("asynchat.deque", function()
  it("appends at both ends, pops from the left, indexes from 1", function()
    local d = asynchat.deque()
    assert.are.equal(0, #d)
    d:append("b")
    d:append("c")
    d:appendleft("a")
    assert.are.equal(3, #d)
    assert.are.equal("a", d[1])
    assert.are.equal("c", d[3])
    assert.is_nil(d[4])
    d[1] = "A"
    assert.are.equal("A", d:popleft())
    assert.are.equal("b", d[1])
    d:append(false)
    assert.are.equal("deque(['b', 'c', None])", tostring(d))
    d:clear()
    assert.are.equal(0, #d)
    assert.has_error(function() d:popleft() end, "pop from an empty deque")
    assert.has_error(function() d[1] = "x" end, "deque index out of range")
  end)
end)

describe("asynchat classes", function()
  it("subclasses async_chat with __init__ and the parent's constructor", function()
    local Chat = asynchat.async_chat:extend {__name = "Chat"}
    function Chat:__init__(sock, map)
      asynchat.async_chat.__init__(self, sock, map)
      self:set_terminator("\r\n")
    end
    local a, b = socket.socketpair()
    local map = {}
    local c = Chat(a, map)
    assert.are.equal("\r\n", c:get_terminator())
    assert.are.equal(c, map[a:fileno()])
    assert.is_true(socketserver.isinstance(c, asyncore.dispatcher))
    assert.truthy(tostring(c):match("^<Chat connected '' at 0x%x+>$"))
    c:close()
    b:close()
  end)
end)
