-- The select module (select.select, poll and epoll objects) against Python 3's
-- select module and the kernel. Where both can observe a value, the same
-- scenario runs in python3 and here and the answers must be the same.
local select = require "select"
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

-- ---- helpers ----

local function errof(fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected an error")
  return err
end

-- The error of a method called as users call it (o:m(...)), so that Lua
-- numbers the arguments without self and names the method.
local function method_err(o, name, ...)
  local args = table.pack(...)
  local call = load("local o, args = ... local r = o:" .. name .. "(table.unpack(args, 1, args.n)) return r")
  local ok, err = pcall(call, o, args)
  assert.is_false(ok, "expected an error from " .. name)
  return err
end

local function listener()
  local s = socket.socket()
  s:bind({"127.0.0.1", 0})
  s:listen(5)
  return s
end

-- A connected TCP pair over loopback: client, server-side connection.
local function tcp_pair()
  local l = listener()
  local c = socket.socket()
  c:connect(l:getsockname())
  local s = l:accept()
  l:close()
  return c, s
end

-- The fds this process has open, as the kernel lists them (os.execute
-- opens nothing here, where io.popen would add a pipe of its own).
local open_fds = h.fd_table

-- Runs open() and returns what it returns plus the one fd it opened.
local function fd_opened_by(open)
  local before = open_fds()
  local handle = open()
  local found
  for fd, target in pairs(open_fds()) do
    if before[fd] ~= target then
      assert.is_nil(found, "more than one new fd")
      found = fd
    end
  end
  return assert(found, "no new fd"), handle
end

-- A regular file open for reading and writing, and its fd.
local function regular_file()
  local path = os.tmpname()
  local fd, fh = fd_opened_by(function() return assert(io.open(path, "r+")) end)
  return fd, fh, path
end

-- The read end of a pipe whose writer has gone, and its fd.
local function hung_up_pipe()
  return fd_opened_by(h.hung_up_fifo)
end

-- ---- differential scenarios: select.select(r, w, x, 0) on named objects ----

local PY_PRELUDE = [[
import os, select, socket, sys
def tcp_pair():
    l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(5)
    c = socket.create_connection(l.getsockname()); s, _ = l.accept(); l.close()
    return c, s
class F:
    def __init__(self, fd): self.fd = fd
    def fileno(self): return self.fd
def show(title, objs, r, w, x):
    def names(res, cand):
        out = []
        for o in res:
            for n in cand:
                v = objs[n]
                if v is o or (type(o) is int and type(v) is int and v == o):
                    out.append(n); break
        return ','.join(out)
    try:
        res = select.select([objs[n] for n in r], [objs[n] for n in w], [objs[n] for n in x], 0)
        print('%s: r=%s w=%s x=%s' % (title, names(res[0], r), names(res[1], w), names(res[2], x)))
    except OSError as e:
        print('%s: %s %d' % (title, type(e).__name__, e.errno))
]]

local function lua_show(title, objs, r, w, x)
  local function pick(names)
    local t = {}
    for i, n in ipairs(names) do t[i] = objs[n] end
    return t
  end
  local function names(res, cand)
    local out = {}
    for _, o in ipairs(res) do
      for _, n in ipairs(cand) do
        if rawequal(objs[n], o) then
          out[#out + 1] = n
          break
        end
      end
    end
    return table.concat(out, ",")
  end
  local ok, rr, ww, xx = pcall(select.select, pick(r), pick(w), pick(x), 0)
  if not ok then
    assert(errors.OSError:matches(rr), tostring(rr))
    return string.format("%s: %s %d", title, getmetatable(rr).__name, rr.errno)
  end
  return string.format("%s: r=%s w=%s x=%s", title, names(rr, r), names(ww, w), names(xx, x))
end

local function py_list(names)
  local q = {}
  for i, n in ipairs(names) do q[i] = "'" .. n .. "'" end
  return "[" .. table.concat(q, ", ") .. "]"
end

local ALL = {"a", "b"}
local scenarios = {
  {title = "idle socketpair", r = ALL, w = ALL, x = ALL,
   py = "a, b = socket.socketpair()",
   lua = function() local a, b = socket.socketpair() return {a = a, b = b} end},
  {title = "socketpair with data waiting", r = ALL, w = ALL, x = ALL,
   py = "a, b = socket.socketpair(); b.send(b'x')",
   lua = function() local a, b = socket.socketpair(); b:send("x") return {a = a, b = b} end},
  {title = "peer closed", r = {"a"}, w = {"a"}, x = {"a"},
   py = "a, b = socket.socketpair(); b.close()",
   lua = function() local a, b = socket.socketpair(); b:close() return {a = a} end},
  {title = "peer shut down its writing side", r = ALL, w = ALL, x = ALL,
   py = "a, b = socket.socketpair(); b.shutdown(socket.SHUT_WR)",
   lua = function() local a, b = socket.socketpair(); b:shutdown(socket.SHUT_WR) return {a = a, b = b} end},
  {title = "unconnected TCP socket", r = {"a"}, w = {"a"}, x = {"a"},
   py = "a = socket.socket()",
   lua = function() return {a = socket.socket()} end},
  {title = "listening socket, nothing pending", r = {"a"}, w = {"a"}, x = {"a"},
   py = "a = socket.socket(); a.bind(('127.0.0.1', 0)); a.listen(5)",
   lua = function() return {a = listener()} end},
  {title = "listening socket with a connection pending", r = {"a"}, w = {"a"}, x = {"a"},
   py = "a = socket.socket(); a.bind(('127.0.0.1', 0)); a.listen(5); "
     .. "b = socket.create_connection(a.getsockname())",
   lua = function()
     local a = listener()
     local b = socket.socket()
     b:connect(a:getsockname())
     return {a = a, b = b}
   end},
  {title = "TCP urgent data (MSG_OOB)", r = ALL, w = ALL, x = ALL,
   py = "a, b = tcp_pair(); b.send(b'!', socket.MSG_OOB); select.select([], [], [a], 5)",
   lua = function()
     local a, b = tcp_pair()
     b:send("!", socket.MSG_OOB)
     select.select({}, {}, {a}, 5)
     return {a = a, b = b}
   end},
  {title = "TCP urgent data after normal data", r = ALL, w = ALL, x = ALL,
   py = "a, b = tcp_pair(); b.send(b'data'); b.send(b'!', socket.MSG_OOB); select.select([], [], [a], 5)",
   lua = function()
     local a, b = tcp_pair()
     b:send("data")
     b:send("!", socket.MSG_OOB)
     select.select({}, {}, {a}, 5)
     return {a = a, b = b}
   end},
  {title = "UDP socket with a datagram waiting", r = ALL, w = ALL, x = ALL,
   py = "a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('127.0.0.1', 0)); "
     .. "b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.sendto(b'x', a.getsockname())",
   lua = function()
     local a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
     a:bind({"127.0.0.1", 0})
     local b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
     b:sendto("x", a:getsockname())
     return {a = a, b = b}
   end},
  {title = "duplicates within and across the lists",
   r = {"a", "a", "b", "a"}, w = {"b", "a", "b"}, x = {"a", "a"},
   py = "a, b = socket.socketpair(); b.send(b'x')",
   lua = function() local a, b = socket.socketpair(); b:send("x") return {a = a, b = b} end},
  {title = "objects with fileno() and integer fds for the same sockets",
   r = {"fa", "ia", "a", "fb", "ib"}, w = {"ia", "fb"}, x = {"fa"},
   py = "a, b = socket.socketpair(); b.send(b'x'); fa = F(a.fileno()); ia = a.fileno(); "
     .. "fb = F(b.fileno()); ib = b.fileno()",
   lua = function()
     local a, b = socket.socketpair()
     b:send("x")
     local function F(s) return {fileno = function() return s:fileno() end} end
     return {a = a, b = b, fa = F(a), ia = a:fileno(), fb = F(b), ib = b:fileno()}
   end},
  {title = "bare fds (detached sockets)", r = ALL, w = ALL, x = ALL,
   py = "a, b = socket.socketpair(); b.send(b'x'); a = a.detach(); b = b.detach()",
   lua = function()
     local a, b = socket.socketpair()
     b:send("x")
     a, b = a:detach(), b:detach()
     return {a = a, b = b, _fds = {a, b}}
   end},
  {title = "regular file", r = {"a"}, w = {"a"}, x = {"a"},
   py = "import tempfile; a = tempfile.TemporaryFile()",
   lua = function() local fd, fh = regular_file() return {a = fd, keep = fh} end},
  {title = "pipe whose writer has gone", r = {"a"}, w = {"a"}, x = {"a"},
   py = "a, w = os.pipe(); os.close(w)",
   lua = function() local fd, fh = hung_up_pipe() return {a = fd, keep = fh} end},
  {title = "closed fd", r = {"a"}, w = {}, x = {},
   py = "s, b = socket.socketpair(); a = s.fileno(); s.close()",
   lua = function() local s, b = socket.socketpair(); local a = s:fileno(); s:close() return {a = a, b = b} end},
  {title = "closed fd in xlist only", r = {}, w = {}, x = {"a"},
   py = "s, b = socket.socketpair(); a = s.fileno(); s.close()",
   lua = function() local s, b = socket.socketpair(); local a = s:fileno(); s:close() return {a = a, b = b} end},
  {title = "empty lists", r = {}, w = {}, x = {}, py = "", lua = function() return {} end},
}

describe("select.select", function()
  it("answers every scenario as Python's select.select does", function()
    local code = {PY_PRELUDE}
    for i, s in ipairs(scenarios) do
      code[#code + 1] = string.format("def scenario%d():\n    %s\n    show(%q, locals(), %s, %s, %s)\nscenario%d()",
        i, s.py ~= "" and s.py or "pass", s.title, py_list(s.r), py_list(s.w), py_list(s.x), i)
    end
    local expected = h.python(table.concat(code, "\n"))
    local got = {}
    for _, s in ipairs(scenarios) do
      local objs = s.lua()
      got[#got + 1] = lua_show(s.title, objs, s.r, s.w, s.x)
      for _, o in pairs(objs) do
        if type(o) == "userdata" then o:close() end
      end
      for _, fd in ipairs(objs._fds or {}) do socket.close(fd) end
    end
    assert.are.equal(expected, table.concat(got, "\n") .. "\n")
  end)

  it("returns the objects it was given, in list order, and new lists", function()
    local a, b = socket.socketpair()
    b:send("x")
    local obj = {fileno = function() return a:fileno() end}
    local rlist, wlist = {obj, b, a}, {a}
    local r, w, x = select.select(rlist, wlist, {}, 0)
    assert.are.equal(2, #r)
    assert.are.equal(obj, r[1])
    assert.are.equal(a, r[2])
    assert.are.equal(a, w[1])
    assert.are.equal(0, #x)
    assert.are_not.equal(rlist, r)
    assert.are.equal("[]", tostring(x)) -- a list, printed as Python prints one
    a:close()
    b:close()
  end)

  it("with timeout 0 returns at once, and with a small timeout waits it out", function()
    local a, b = socket.socketpair()
    local t0 = task.now()
    local r, w, x = select.select({a}, {}, {a}, 0)
    assert.is_true(task.now() - t0 < 0.05)
    assert.are.same({0, 0, 0}, {#r, #w, #x})
    t0 = task.now()
    r = select.select({a}, {}, {a}, 0.2)
    local took = task.now() - t0
    assert.are.equal(0, #r)
    assert.is_true(took >= 0.19 and took < 1, "took " .. took)
    a:close()
    b:close()
  end)

  it("with no timeout waits until another task makes an fd ready", function()
    local a, b = socket.socketpair()
    local t = task.spawn(function()
      task.sleep(0.1)
      b:send("x")
    end)
    local t0 = task.now()
    local r = select.select({a}, {}, {})
    assert.is_true(task.now() - t0 >= 0.09)
    assert.are.equal(a, r[1])
    t:join(5)
    a:close()
    b:close()
  end)

  it("parks only its task: another task keeps running meanwhile", function()
    local a, b = socket.socketpair()
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 20 do
        ticks = ticks + 1
        task.sleep(0.01)
      end
    end)
    select.select({a}, {}, {}, 0.3)
    assert.is_true(ticks >= 10, "ticks: " .. ticks)
    ticker:join(5)
    a:close()
    b:close()
  end)

  it("wakes for an fd in any of the lists, whichever becomes ready", function()
    local l = listener()
    local a, b = socket.socketpair()
    local t = task.spawn(function()
      task.sleep(0.05)
      local c = socket.socket()
      c:connect(l:getsockname())
      task.sleep(0.2)
      c:close()
    end)
    local r, w, x = select.select({a, l}, {}, {a}, 5)
    assert.are.same({1, 0, 0}, {#r, #w, #x})
    assert.are.equal(l, r[1])
    t:join(5)
    for _, s in ipairs {l, a, b} do s:close() end
  end)

  it("wakes for urgent data in xlist", function()
    local a, b = tcp_pair()
    local t = task.spawn(function()
      task.sleep(0.05)
      b:send("!", socket.MSG_OOB)
    end)
    local r, w, x = select.select({}, {}, {a}, 5)
    assert.are.same({0, 0, 1}, {#r, #w, #x})
    assert.are.equal(a, x[1])
    t:join(5)
    a:close()
    b:close()
  end)

  it("raises EBADF, as select(2) answers, when an fd is closed while it waits", function()
    local py = h.python([[
import select, socket
a, b = socket.socketpair(); fd = a.fileno(); a.close()
try:
    select.select([fd], [], [], 0)
except OSError as e:
    print(type(e).__name__, e.errno, e)]])
    local a, b = socket.socketpair()
    local t = task.spawn(function()
      task.sleep(0.05)
      a:close()
    end)
    local t0 = task.now()
    local err = errof(select.select, {a}, {}, {}, 5)
    assert.is_true(task.now() - t0 < 2)
    assert.are.equal(py, string.format("%s %d %s\n", getmetatable(err).__name, err.errno, tostring(err)))
    t:join(5)
    b:close()
  end)

  it("waits on thousands of fds: no FD_SETSIZE limit", function()
    local script = [[
local select = require "select"
local socket = require "socket"
local task = require "task"
local readers, writers = {}, {}
for i = 1, 3000 do readers[i], writers[i] = socket.socketpair() end
print("highest fd above 1024", readers[3000]:fileno() > 1024)
local r, w, x = select.select(readers, {}, readers, 0)
print("idle", #r, #w, #x)
writers[2999]:send("x")
r = select.select(readers, {}, {}, 0)
print("one ready", #r, r[1] == readers[2999])
readers[2999]:recv(1)
local t = task.spawn(function() task.sleep(0.05) writers[1500]:send("y") end)
r = select.select(readers, {}, {})
print("woken by", #r, r[1] == readers[1500])
t:join(5)
_, w = select.select({}, writers, {}, 0)
print("all writable", #w)
]]
    local path = h.write_temp(script, ".lua")
    local out, err, code = h.run("sh -c " .. h.shell_quote("ulimit -n 10000 && exec timeout 60 "
      .. h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path)))
    os.remove(path)
    assert.are.equal(0, code, err)
    assert.are.equal("highest fd above 1024\ttrue\nidle\t0\t0\t0\none ready\t1\ttrue\n"
      .. "woken by\t1\ttrue\nall writable\t3000\n", out)
  end)

  it("a regular file is always ready for reading and writing, never exceptional", function()
    local fd, fh = regular_file()
    local r, w, x = select.select({fd}, {fd}, {fd})
    assert.are.same({{fd}, {fd}, {}}, {r, w, x})
    -- Only in xlist it never becomes ready: the timeout ends the wait, and
    -- other tasks run meanwhile.
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 10 do
        ticks = ticks + 1
        task.sleep(0.01)
      end
    end)
    local t0 = task.now()
    r, w, x = select.select({}, {}, {fd}, 0.2)
    assert.are.same({0, 0, 0}, {#r, #w, #x})
    assert.is_true(task.now() - t0 >= 0.19)
    assert.is_true(ticks >= 5, "ticks: " .. ticks)
    ticker:join(5)
    fh:close()
  end)

  describe("bad arguments", function()
    it("names the list that is not a table", function()
      assert.matches("bad argument #1 to '[%w.]*select' %(rlist must be a table %(list%)%)",
        tostring(errof(select.select, 1, {}, {})))
      assert.matches("bad argument #2 to '[%w.]*select' %(wlist must be a table %(list%)%)",
        tostring(errof(select.select, {}, "x", {})))
      assert.matches("bad argument #3 to '[%w.]*select' %(xlist must be a table %(list%)%)",
        tostring(errof(select.select, {}, {}, nil)))
    end)

    it("names the entry that is no file object, with Python's TypeError text", function()
      local py = h.python([[
import select
try:
    select.select([object()], [], [])
except TypeError as e:
    print(e)]])
      local err = tostring(errof(select.select, {}, {0, {}}, {}))
      assert.are.equal("bad argument #2 to 'select' (wlist[2]: " .. py:gsub("\n$", "") .. ")",
        err:gsub("'select%.select'", "'select'"))
      err = tostring(errof(select.select, {"3"}, {}, {}))
      assert.matches("rlist%[1%]: argument must be an int", err)
      err = tostring(errof(select.select, {}, {}, {{fileno = function() return "x" end}}))
      assert.matches("bad argument #3 .*xlist%[1%]: fileno%(%) returned a non%-integer", err)
    end)

    it("raises Python's ValueError for a negative fd and a negative timeout", function()
      local py = h.python([[
import select
for args in (([-1], [], []), ([], [], [], -1)):
    try:
        select.select(*args)
    except ValueError as e:
        print(e)]])
      local neg = errof(select.select, {-1}, {}, {})
      assert.is_true(errors.ValueError:matches(neg))
      local timeout = tostring(errof(select.select, {}, {}, {}, -1))
      assert.matches("bad argument #4", timeout)
      local want1, want2 = py:match("^(.-)\n(.-)\n$")
      assert.are.equal(want1, tostring(neg))
      assert.is_truthy(timeout:find("(" .. want2 .. ")", 1, true))
      assert.matches("bad argument #4 .*number expected", tostring(errof(select.select, {}, {}, {}, "x")))
      assert.matches("bad argument #4 .*NaN", tostring(errof(select.select, {}, {}, {}, 0 / 0)))
    end)

    it("rejects a closed socket object as Python does (its fileno() is -1)", function()
      local py = h.python([[
import select, socket
a, b = socket.socketpair(); a.close()
try:
    select.select([a], [], [], 0)
except ValueError as e:
    print(e)]])
      local a, b = socket.socketpair()
      a:close()
      assert.are.equal(py, tostring(errof(select.select, {a}, {}, {}, 0)) .. "\n")
      b:close()
    end)
  end)

  it("select.error is OSError, as in Python 3", function()
    assert.are.equal("True\n", h.python("import select; print(select.error is OSError)"))
    assert.are.equal(errors.OSError, select.error)
  end)
end)

describe("select constants", function()
  it("are Python's select module constants, the same names and values", function()
    local py = h.python([[
import select
for k in sorted(dir(select)):
    if k.isupper(): print(k, getattr(select, k))]])
    local mine = {}
    for k, v in pairs(select) do
      if k:match("^[A-Z][A-Z0-9_]*$") then mine[#mine + 1] = k .. " " .. v end
    end
    table.sort(mine)
    assert.are.equal(py, table.concat(mine, "\n") .. "\n")
  end)
end)

describe("select.poll objects", function()
  it("report what Python's poll objects report, in the same order", function()
    -- Registration order decides the order of the results in CPython (a
    -- dict): fds registered out of numeric order, one re-registered, one
    -- unregistered and registered again, one modified.
    local steps = [[
a, b = socket.socketpair(); c, d = socket.socketpair()
b.send(b'x'); d.close()
p = select.poll()
names = {a.fileno(): 'a', b.fileno(): 'b', c.fileno(): 'c'}
p.register(c)
p.register(a, select.POLLIN | select.POLLOUT)
p.register(b, select.POLLIN)
p.register(c, select.POLLIN)
show(p.poll(0))
p.unregister(a)
p.register(a, select.POLLIN)
p.modify(c, select.POLLOUT)
show(p.poll(0))
p.modify(b, select.POLLOUT | select.POLLPRI)
p.register(a, 0)
show(p.poll(0))
p.unregister(a); p.unregister(b)
show(p.poll(0))
]]
    local py = h.python("import select, socket\ndef show(res):\n"
      .. "    print(' '.join('%s:%d' % (names[fd], ev) for fd, ev in res))\n" .. steps)
    local out = {}
    local a, b = socket.socketpair()
    local c, d = socket.socketpair()
    local names = {[a:fileno()] = "a", [b:fileno()] = "b", [c:fileno()] = "c"}
    local function show(res)
      local parts = {}
      for i, pair in ipairs(res) do parts[i] = string.format("%s:%d", names[pair[1]], pair[2]) end
      out[#out + 1] = table.concat(parts, " ")
    end
    b:send("x")
    d:close()
    local p = select.poll()
    p:register(c)
    p:register(a, select.POLLIN | select.POLLOUT)
    p:register(b, select.POLLIN)
    p:register(c, select.POLLIN)
    show(p:poll(0))
    p:unregister(a)
    p:register(a, select.POLLIN)
    p:modify(c, select.POLLOUT)
    show(p:poll(0))
    p:modify(b, select.POLLOUT | select.POLLPRI)
    p:register(a, 0)
    show(p:poll(0))
    p:unregister(a)
    p:unregister(b)
    show(p:poll(0))
    assert.are.equal(py, table.concat(out, "\n") .. "\n")
    for _, s in ipairs {a, b, c} do s:close() end
  end)

  it("count the timeout in milliseconds; nil or negative waits for ever", function()
    local a, b = socket.socketpair()
    local p = select.poll()
    p:register(a, select.POLLIN)
    local t0 = task.now()
    assert.are.equal(0, #p:poll(0))
    assert.is_true(task.now() - t0 < 0.05)
    t0 = task.now()
    assert.are.equal(0, #p:poll(150))
    local took = task.now() - t0
    assert.is_true(took >= 0.14 and took < 1, "took " .. took)
    for _, timeout in ipairs {false, -1} do
      local t = task.spawn(function()
        task.sleep(0.05)
        b:send("x")
      end)
      local res
      if timeout then res = p:poll(timeout) else res = p:poll() end
      assert.are.equal(tostring(res), string.format("[(%d, %d)]", a:fileno(), select.POLLIN))
      assert.are.equal("x", a:recv(1))
      t:join(5)
    end
    a:close()
    b:close()
  end)

  it("park only their task", function()
    local a, b = socket.socketpair()
    local p = select.poll()
    p:register(a, select.POLLIN)
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 20 do
        ticks = ticks + 1
        task.sleep(0.01)
      end
    end)
    p:poll(300)
    assert.is_true(ticks >= 10, "ticks: " .. ticks)
    ticker:join(5)
    a:close()
    b:close()
  end)

  it("report POLLNVAL, as poll(2) does, for an fd closed while they wait", function()
    local py = h.python([[
import select, socket
a, b = socket.socketpair(); p = select.poll(); p.register(a, select.POLLIN); fd = a.fileno(); a.close()
print(p.poll(0) == [(fd, select.POLLNVAL)])]])
    assert.are.equal("True\n", py)
    local a, b = socket.socketpair()
    local fd = a:fileno()
    local p = select.poll()
    p:register(a, select.POLLIN)
    local t = task.spawn(function()
      task.sleep(0.05)
      a:close()
    end)
    assert.are.equal(string.format("[(%d, %d)]", fd, select.POLLNVAL), tostring(p:poll(5000)))
    t:join(5)
    b:close()
  end)

  it("wake for a hang-up on an fd registered for nothing, and for POLLRDHUP, as Python's do", function()
    local py = h.python([[
import select, socket, threading, time
a, b = socket.socketpair(); p = select.poll(); p.register(a, 0)
threading.Thread(target=lambda: (time.sleep(0.05), b.close())).start()
print(p.poll(5000)[0][1])
c, d = socket.socketpair(); p = select.poll(); p.register(c, select.POLLRDHUP)
threading.Thread(target=lambda: (time.sleep(0.05), d.shutdown(socket.SHUT_WR))).start()
print(p.poll(5000)[0][1])]])
    local got = {}
    for _, case in ipairs {{0, "close"}, {select.POLLRDHUP, "shutdown"}} do
      local a, b = socket.socketpair()
      local p = select.poll()
      p:register(a, case[1])
      local t = task.spawn(function()
        task.sleep(0.05)
        if case[2] == "close" then b:close() else b:shutdown(socket.SHUT_WR) end
      end)
      local t0 = task.now()
      local res = p:poll(5000)
      assert.is_true(task.now() - t0 < 2)
      got[#got + 1] = tostring(res[1][2])
      t:join(5)
      a:close()
      b:close()
    end
    assert.are.equal(py, table.concat(got, "\n") .. "\n")
  end)

  it("report a regular file ready for reading and writing, as poll(2) does", function()
    local py = h.python([[
import select, tempfile
f = tempfile.TemporaryFile(); p = select.poll(); p.register(f)
print(p.poll(0)[0][1]); p.modify(f, select.POLLPRI); print(p.poll(100))]])
    local fd, fh = regular_file()
    local p = select.poll()
    p:register(fd)
    local res = p:poll(0)
    local t0 = task.now()
    local none = p:modify(fd, select.POLLPRI) or p:poll(100)
    assert.is_true(task.now() - t0 >= 0.09)
    assert.are.equal(py, res[1][2] .. "\n" .. tostring(none) .. "\n")
    fh:close()
  end)

  it("raise Python's errors: KeyError on unregister, FileNotFoundError on modify", function()
    local py = h.python([[
import select
p = select.poll()
for f in (lambda: p.unregister(99), lambda: p.modify(99, select.POLLIN)):
    try:
        f()
    except Exception as e:
        print(type(e).__name__, e.args, e)]])
    local p = select.poll()
    local lines = {}
    for _, e in ipairs {errof(p.unregister, p, 99), errof(p.modify, p, 99, select.POLLIN)} do
      local args = {}
      for i = 1, e.args.n do
        args[i] = type(e.args[i]) == "string" and "'" .. e.args[i] .. "'" or tostring(e.args[i])
      end
      lines[#lines + 1] = string.format("%s (%s%s) %s", getmetatable(e).__name, table.concat(args, ", "),
        #args == 1 and "," or "", tostring(e))
    end
    assert.are.equal(py, table.concat(lines, "\n") .. "\n")
  end)

  it("refuse a second poll() at the same time, as Python does", function()
    local py = h.python([[
import select, socket, threading, time
a, b = socket.socketpair(); p = select.poll(); p.register(a, select.POLLIN)
t = threading.Thread(target=lambda: p.poll(500)); t.start(); time.sleep(0.1)
try:
    p.poll(0)
except RuntimeError as e:
    print(e)
t.join()]])
    local a, b = socket.socketpair()
    local p = select.poll()
    p:register(a, select.POLLIN)
    local t = task.spawn(function() return p:poll(300) end)
    task.sleep(0.05)
    local err = errof(p.poll, p, 0)
    assert.is_true(errors.RuntimeError:matches(err))
    assert.are.equal(py, tostring(err) .. "\n")
    t:join(5)
    assert.are.equal(0, #p:poll(0)) -- usable again once the first one ends
    a:close()
    b:close()
  end)

  it("name bad arguments", function()
    local p = select.poll()
    assert.matches("bad argument #1 to 'register' %(argument must be an int", tostring(method_err(p, "register", "x")))
    assert.matches("bad argument #2 to 'register'", tostring(method_err(p, "register", 1, 1 << 20)))
    assert.matches("bad argument #1 to 'poll'", tostring(method_err(p, "poll", "soon")))
    assert.is_true(errors.ValueError:matches(method_err(p, "register", -1)))
  end)
end)

describe("select.epoll objects", function()
  it("register, modify, unregister and poll as Python's epoll does", function()
    local steps = [[
a, b = socket.socketpair()
ep = select.epoll()
ep.register(a, select.EPOLLIN)
r1 = ep.poll(0)
b.send(b'x')
r2 = ep.poll(0)
ep.modify(a, select.EPOLLOUT)
r3 = ep.poll(0)
ep.unregister(a)
r4 = ep.poll(0)
ep.register(a.fileno())
r5 = ep.poll(0)
]]
    local py = h.python("import select, socket\n" .. steps .. [[
fd = a.fileno()
for r in (r1, r2, r3, r4, r5):
    print(' '.join('%s:%d' % ('a' if f == fd else f, ev) for f, ev in r))]])
    local a, b = socket.socketpair()
    local ep = select.epoll()
    local res = {}
    ep:register(a, select.EPOLLIN)
    res[1] = ep:poll(0)
    b:send("x")
    res[2] = ep:poll(0)
    ep:modify(a, select.EPOLLOUT)
    res[3] = ep:poll(0)
    ep:unregister(a)
    res[4] = ep:poll(0)
    ep:register(a:fileno())
    res[5] = ep:poll(0)
    local lines = {}
    for i, r in ipairs(res) do
      local parts = {}
      for j, pair in ipairs(r) do
        parts[j] = string.format("%s:%d", pair[1] == a:fileno() and "a" or pair[1], pair[2])
      end
      lines[i] = table.concat(parts, " ")
    end
    assert.are.equal(py, table.concat(lines, "\n") .. "\n")
    ep:close()
    a:close()
    b:close()
  end)

  it("are edge-triggered with EPOLLET, as the kernel is", function()
    local py = h.python([[
import select, socket
a, b = socket.socketpair(); ep = select.epoll()
ep.register(a, select.EPOLLIN | select.EPOLLET)
b.send(b'x'); print(len(ep.poll(0)), len(ep.poll(0)))
b.send(b'y'); print(len(ep.poll(0)), len(ep.poll(0)))]])
    local a, b = socket.socketpair()
    local ep = select.epoll()
    ep:register(a, select.EPOLLIN | select.EPOLLET)
    b:send("x")
    local out = string.format("%d %d\n", #ep:poll(0), #ep:poll(0))
    b:send("y")
    out = out .. string.format("%d %d\n", #ep:poll(0), #ep:poll(0))
    assert.are.equal(py, out)
    -- Waiting: the second send arrives while poll() waits.
    local t = task.spawn(function()
      task.sleep(0.05)
      b:send("z")
    end)
    local res = ep:poll(5)
    assert.are.equal(tostring(res), string.format("[(%d, %d)]", a:fileno(), select.EPOLLIN))
    t:join(5)
    ep:close()
    a:close()
    b:close()
  end)

  it("wait with a timeout in seconds, park only their task, and wake for another task's send", function()
    local a, b = socket.socketpair()
    local ep = select.epoll()
    ep:register(a, select.EPOLLIN)
    local t0 = task.now()
    assert.are.equal(0, #ep:poll(0.15))
    local took = task.now() - t0
    assert.is_true(took >= 0.14 and took < 1, "took " .. took)
    local ticks = 0
    local t = task.spawn(function()
      for _ = 1, 10 do
        ticks = ticks + 1
        task.sleep(0.01)
      end
      b:send("x")
    end)
    local res = ep:poll()
    assert.is_true(ticks >= 10)
    assert.are.equal(1, #res)
    t:join(5)
    ep:close()
    a:close()
    b:close()
  end)

  it("raise Python's errors: EEXIST, ENOENT, closed objects", function()
    local py = h.python([[
import select, socket
a, b = socket.socketpair(); ep = select.epoll(); ep.register(a)
def attempt(f):
    try:
        f()
        print('ok')
    except Exception as e:
        print(type(e).__name__, e)
attempt(lambda: ep.register(a))
attempt(lambda: ep.modify(b, select.EPOLLIN))
attempt(lambda: ep.unregister(b))
print(ep.closed); ep.close(); print(ep.closed); ep.close()
attempt(lambda: ep.register(b))
attempt(lambda: ep.poll(0))
attempt(lambda: ep.fileno())
attempt(lambda: ep.unregister(a))]])
    local a, b = socket.socketpair()
    local ep = select.epoll()
    ep:register(a)
    local lines = {}
    local function attempt(f)
      local ok, e = pcall(f)
      lines[#lines + 1] = ok and "ok" or getmetatable(e).__name .. " " .. tostring(e)
    end
    attempt(function() ep:register(a) end)
    attempt(function() ep:modify(b, select.EPOLLIN) end)
    attempt(function() ep:unregister(b) end)
    lines[#lines + 1] = ep.closed and "True" or "False"
    ep:close()
    lines[#lines + 1] = ep.closed and "True" or "False"
    ep:close()
    attempt(function() ep:register(b) end)
    attempt(function() ep:poll(0) end)
    attempt(function() ep:fileno() end)
    attempt(function() ep:unregister(a) end)
    assert.are.equal(py, table.concat(lines, "\n") .. "\n")
    a:close()
    b:close()
  end)

  it("own a real epoll fd, closed by close() and by a <close> variable", function()
    local fd
    do
      local ep <close> = select.epoll()
      fd = ep:fileno()
      local target = open_fds()[fd]
      assert.are.equal("anon_inode:[eventpoll]", target)
    end
    assert.is_nil(open_fds()[fd])
  end)

  it("can themselves be watched by select.select and poll objects", function()
    local a, b = socket.socketpair()
    local ep = select.epoll()
    ep:register(a, select.EPOLLIN)
    local t = task.spawn(function()
      task.sleep(0.05)
      b:send("x")
    end)
    local r = select.select({ep}, {}, {}, 5)
    assert.are.equal(ep, r[1])
    t:join(5)
    ep:close()
    a:close()
    b:close()
  end)

  it("name bad arguments", function()
    local ep = select.epoll()
    assert.matches("bad argument #1 to 'register' %(argument must be an int", tostring(method_err(ep, "register", {})))
    assert.matches("bad argument #2 to 'register'", tostring(method_err(ep, "register", 0, -1)))
    assert.matches("bad argument #2 to 'poll' %(maxevents must be greater than 0, got 0%)",
      tostring(method_err(ep, "poll", 0, 0)))
    ep:close()
  end)
end)
