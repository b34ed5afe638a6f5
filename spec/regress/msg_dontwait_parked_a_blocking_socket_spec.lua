-- Issue 14, item 1: `a, b = socket.socketpair(); b:recv(10, socket.MSG_DONTWAIT)`
-- parked for ever. Every fd is non-blocking underneath, so the EAGAIN came
-- back and the retry-or-park tail parked the blocking socket's task, as for
-- a call without the flag. On Python's blocking fd the kernel answers EAGAIN
-- at once and Python raises BlockingIOError; with a timeout Python polls
-- first and waits it out (msg_dontwait_ignored_timeout_spec.lua). The tail
-- now asks whether the call waits, flags included. Every call that takes
-- flags, on a blocking, a timed and a non-blocking socket, against python3.
local h = require "spec.support.helpers"

local PYTHON = [[
import socket, time, os, tempfile
D = socket.MSG_DONTWAIT
d = tempfile.mkdtemp()
def setmode(s, mode):
    if mode == "blocking": s.settimeout(None)
    elif mode == "timeout": s.settimeout(0.05)
    else: s.setblocking(False)
def fill(s, send):
    s.setblocking(False)
    for _ in range(100000):
        try: send()
        except BlockingIOError: return
n = 0
def trial(name, mode, fn):
    global n
    a, b = socket.socketpair()
    n += 1
    path = os.path.join(d, "u%d" % n)
    r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); r.bind(path)
    u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    t = time.monotonic()
    try:
        fn(a, b, u, path, mode)
        res = "returned"
    except OSError as e:
        res = "%s %s" % (type(e).__name__, e)
    print(name, mode, res, "waited" if time.monotonic() - t > 0.03 else "at once")
    for s in (a, b, r, u): s.close()
    os.remove(path)
def recv(a, b, u, p, m): setmode(b, m); b.recv(10, D)
def recvfrom(a, b, u, p, m): setmode(b, m); b.recvfrom(10, D)
def recvmsg(a, b, u, p, m): setmode(b, m); b.recvmsg(10, 0, D)
def send(a, b, u, p, m): fill(b, lambda: b.send(b"x" * 65536)); setmode(b, m); b.send(b"y" * 65536, D)
def sendall(a, b, u, p, m): fill(b, lambda: b.send(b"x" * 65536)); setmode(b, m); b.sendall(b"y" * 65536, D)
def sendmsg(a, b, u, p, m): fill(b, lambda: b.send(b"x" * 65536)); setmode(b, m); b.sendmsg([b"y" * 65536], [], D)
def sendto(a, b, u, p, m): fill(u, lambda: u.sendto(b"x", p)); setmode(u, m); u.sendto(b"y", D, p)
for name, fn in (("recv", recv), ("recvfrom", recvfrom), ("recvmsg", recvmsg), ("send", send),
                 ("sendall", sendall), ("sendmsg", sendmsg), ("sendto", sendto)):
    for mode in ("blocking", "timeout", "non-blocking"):
        trial(name, mode, fn)
os.rmdir(d)
]]

-- The same trials in a child moonsock, under timeout(1) for 10 s: a call that parks
-- for ever ends the child instead of the spec run.
local MOONSOCK = [[
local socket = require "socket"
local task = require "task"
local D = socket.MSG_DONTWAIT
local d = assert(io.popen("mktemp -d")):read("l")
local function setmode(s, mode)
  if mode == "blocking" then s:settimeout(nil)
  elseif mode == "timeout" then s:settimeout(0.05)
  else s:setblocking(false) end
end
local function fill(s, send)
  s:setblocking(false)
  for _ = 1, 100000 do
    local ok, err = pcall(send)
    if not ok then
      assert(getmetatable(err).__name == "BlockingIOError", tostring(err))
      return
    end
  end
end
local n = 0
local function trial(name, mode, fn)
  local a, b = socket.socketpair()
  n = n + 1
  local path = d .. "/u" .. n
  local r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); r:bind(path)
  local u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
  local t = task.now()
  local ok, err = pcall(fn, a, b, u, path, mode)
  local res = ok and "returned" or getmetatable(err).__name .. " " .. tostring(err)
  print(name, mode, res, task.now() - t > 0.03 and "waited" or "at once")
  for _, s in ipairs{a, b, r, u} do s:close() end
  os.remove(path)
end
local big = string.rep("x", 65536)
local calls = {
  {"recv", function(_, b, _, _, m) setmode(b, m); b:recv(10, D) end},
  {"recvfrom", function(_, b, _, _, m) setmode(b, m); b:recvfrom(10, D) end},
  {"recvmsg", function(_, b, _, _, m) setmode(b, m); b:recvmsg(10, 0, D) end},
  {"send", function(_, b, _, _, m) fill(b, function() b:send(big) end); setmode(b, m); b:send(big, D) end},
  {"sendall", function(_, b, _, _, m) fill(b, function() b:send(big) end); setmode(b, m); b:sendall(big, D) end},
  {"sendmsg", function(_, b, _, _, m) fill(b, function() b:send(big) end); setmode(b, m); b:sendmsg({big}, {}, D) end},
  {"sendto", function(_, _, u, p, m) fill(u, function() u:sendto("x", p) end); setmode(u, m); u:sendto("y", D, p) end},
}
for _, c in ipairs(calls) do
  for _, mode in ipairs{"blocking", "timeout", "non-blocking"} do trial(c[1], mode, c[2]) end
end
os.remove(d)
]]

describe("MSG_DONTWAIT", function()
  it("raises BlockingIOError at once on a blocking socket, as Python does", function()
    local expected = h.python(PYTHON)
    local path = h.write_temp(MOONSOCK, ".lua")
    local out, err, rc = h.run("timeout 10 " .. h.shell_quote(h.moonsock) .. " " .. h.shell_quote(path))
    os.remove(path)
    assert.are.equal("", err)
    assert.are.equal(0, rc)
    assert.are.equal(expected, (out:gsub("\t", " ")))
  end)
end)
