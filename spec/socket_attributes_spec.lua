-- A socket's attributes (family, type, proto, timeout) after everything
-- that sets them, against Python's on the same steps. Sockets share
-- metatables by their attributes (src/socket.c's kinds), so each step that
-- changes one must show in that socket alone.
local socket = require "socket"
local h = require "spec.support.helpers"

local function attrs(s)
  return string.format("%d %d %d %s", s.family, s.type, s.proto,
    s.timeout == nil and "None" or string.format("%.2f", s.timeout))
end

describe("socket attributes", function()
  it("follow settimeout, setblocking, dup, accept, fromfd and socketpair as in Python", function()
    local py = h.python([[
import socket
def attrs(s):
    t = "None" if s.timeout is None else "%.2f" % s.timeout
    return "%d %d %d %s" % (s.family, s.type, s.proto, t)
out = []
a = socket.socket(); out.append(attrs(a))
a.settimeout(2.5); out.append(attrs(a))
b = socket.socket(); out.append(attrs(b))
d = a.dup(); out.append(attrs(d))
a.setblocking(False); out.append(attrs(a)); out.append(attrs(d))
a.setblocking(True); out.append(attrs(a))
a.settimeout(0); out.append(attrs(a))
a.settimeout(None); out.append(attrs(a))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); out.append(attrs(u))
n = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK); out.append(attrs(n))
p, q = socket.socketpair(); out.append(attrs(p)); out.append(attrs(q))
f = socket.fromfd(u.fileno(), socket.AF_INET, socket.SOCK_DGRAM); out.append(attrs(f))
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(); l.settimeout(3)
c = socket.create_connection(l.getsockname())
s, _ = l.accept(); out.append(attrs(s)); out.append(attrs(l))
socket.setdefaulttimeout(1.5)
g = socket.socket(); out.append(attrs(g))
socket.setdefaulttimeout(None)
print("\n".join(out))
for x in (a, b, d, u, n, p, q, f, l, c, s, g): x.close()]])
    local out = {}
    local a = socket.socket(); out[#out + 1] = attrs(a)
    a:settimeout(2.5); out[#out + 1] = attrs(a)
    local b = socket.socket(); out[#out + 1] = attrs(b)
    local d = a:dup(); out[#out + 1] = attrs(d)
    a:setblocking(false); out[#out + 1] = attrs(a); out[#out + 1] = attrs(d)
    a:setblocking(true); out[#out + 1] = attrs(a)
    a:settimeout(0); out[#out + 1] = attrs(a)
    a:settimeout(nil); out[#out + 1] = attrs(a)
    local u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); out[#out + 1] = attrs(u)
    local n = socket.socket(socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_NONBLOCK)
    out[#out + 1] = attrs(n)
    local p, q = socket.socketpair(); out[#out + 1] = attrs(p); out[#out + 1] = attrs(q)
    local f = socket.fromfd(u:fileno(), socket.AF_INET, socket.SOCK_DGRAM); out[#out + 1] = attrs(f)
    local l = socket.socket(); l:bind({"127.0.0.1", 0}); l:listen(); l:settimeout(3)
    local c = socket.create_connection(l:getsockname())
    local s = l:accept(); out[#out + 1] = attrs(s); out[#out + 1] = attrs(l)
    socket.setdefaulttimeout(1.5)
    local g = socket.socket(); out[#out + 1] = attrs(g)
    socket.setdefaulttimeout(nil)
    assert.are.equal(py, table.concat(out, "\n") .. "\n")
    for _, x in ipairs {a, b, d, u, n, p, q, f, l, c, s, g} do x:close() end
  end)

  it("TCP_NODELAY set on a listening socket is inherited by accepted ones, as under Python", function()
    local py = h.python([[
import socket
l = socket.create_server(("127.0.0.1", 0))
l.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c = socket.create_connection(l.getsockname())
s, _ = l.accept()
print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), c.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))]])
    local l = socket.create_server({"127.0.0.1", 0})
    l:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    local c = socket.create_connection(l:getsockname())
    local s = l:accept()
    assert.are.equal(py, s:getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) .. " " ..
      c:getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) .. "\n")
    assert.are.equal("1 0\n", py)
    l:close(); c:close(); s:close()
  end)

  it("stay right across many kinds (timeouts of 200 values) and the cache starting afresh", function()
    local socks = {}
    for i = 1, 200 do
      local s = socket.socket(socket.AF_INET, i % 2 == 0 and socket.SOCK_STREAM or socket.SOCK_DGRAM)
      s:settimeout(i / 8)
      socks[i] = s
    end
    collectgarbage()
    for i, s in ipairs(socks) do
      assert.are.equal(i / 8, s.timeout)
      assert.are.equal(i % 2 == 0 and socket.SOCK_STREAM or socket.SOCK_DGRAM, s.type)
      assert.are.equal(socket.SocketType, getmetatable(s))
      assert.is_true(socket.issocket(s))
      s:close()
    end
  end)

  it("are one metatable to getmetatable, and other values are not sockets", function()
    local a, b = socket.socketpair()
    a:settimeout(1)
    assert.are.equal(socket.SocketType, getmetatable(a))
    assert.are.equal(socket.SocketType, getmetatable(b))
    assert.is_true(socket.issocket(a))
    for _, v in ipairs {io.stdout, {}, "s", 1, coroutine.create(print), false} do
      assert.is_false(socket.issocket(v))
      local ok, err = pcall(a.recv, v, 1)
      assert.is_false(ok)
      assert.matches("bad argument #1 to '%?' %(moonsock.socket expected, got ", err)
    end
    a:close(); b:close()
    -- A closed socket keeps its attributes, as in Python.
    assert.are.equal(socket.AF_UNIX, a.family)
    assert.are.equal(1, a.timeout)
  end)
end)
