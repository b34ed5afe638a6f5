-- Cooperative standard streams (lua/moonsock/stdio.lua, src/stream.c): a
-- task reading stdin or writing a full stdout parks alone, and Lua's read
-- formats and results stay stock lua5.4's, which each case runs as the
-- reference on the same script and the same stdin.
local helpers = require "spec.support.helpers"

local q = helpers.shell_quote
local ms = q(helpers.moonsock)

local function temp(content, suffix)
  return helpers.write_temp(content, suffix)
end

-- show(...) in the scripts below: every value with its type, one line.
local SHOW = [[
local function show(...)
  local t = table.pack(...)
  local out = {}
  for i = 1, t.n do
    local v = t[i]
    out[i] = type(v) == "string" and string.format("%q", v) or (math.type(v) or type(v)) .. ":" .. tostring(v)
  end
  io.write(t.n, " ", table.concat(out, ","), "\n")
end
local function try(f, ...) show(pcall(f, ...)) end
]]

-- Runs script under lua5.4 and moonsock with input on a pipe, and under
-- moonsock with input from a regular file; all three outputs must match.
local function same_as_lua(script, input)
  local spath = temp(SHOW .. script, ".lua")
  local ipath = temp(input)
  local ref = helpers.run("cat " .. q(ipath) .. " | lua5.4 " .. q(spath))
  local piped = helpers.run("cat " .. q(ipath) .. " | " .. ms .. " " .. q(spath))
  local file = helpers.run(ms .. " " .. q(spath) .. " < " .. q(ipath))
  os.remove(spath)
  os.remove(ipath)
  assert.is_true(#ref > 0)
  assert.are.equal(ref, piped)
  assert.are.equal(ref, file)
end

describe("standard streams: formats as lua5.4's", function()
  it("n, l, L, a, counts, 0 and several formats in one call", function()
    same_as_lua([[
show(io.read("n", "n", "n", "n", "n"))
show(io.read("l"))
show(io.read("L"))
show(io.read(0))
show(io.read(3, 2))
show(io.stdin:read("l", "n"))
show(io.read("*l"))
show(io.read("a"))
show(io.read("a"))
show(io.read("l"))
show(io.read("L"))
show(io.read(0))
show(io.read(5))
show(io.read("n"))
show(io.stdin:read())
]], "12 0x10 1e3  -7.5 abc\nline2\r\n\nxyzuvw rest\n 42tail\nmore\n\nlast")
  end)

  it("numbers, good and bad, and what a bad one consumes", function()
    same_as_lua([[
for _ = 1, 40 do
  local v = io.read("n")
  local c = io.read(1)
  show(v, c)
  if c == nil then break end
end
]], " 12 \n0x 1e -- .5 5. 0x1p4 +12abc 1e+ 0xAbC 99999999999999999999 -0 0x.8 1e3x "
      .. string.rep("9", 205) .. " 7\t\v\f8 inf nan 3")
  end)

  it("io.lines and file:lines with formats, and what comes after EOF", function()
    same_as_lua([[
for a, b, c in io.lines(nil, "n", "L", 2) do show(a, b, c) end
show(io.read())
show(io.read("a"))
show(io.read(0))
for l in io.stdin:lines() do show(l) end
show(select("#", io.lines()))
]], "1 one\nab2 two\ncd3\n")
    same_as_lua([[
local n = 0
for l in io.lines() do n = n + 1 show(l) end
for l in io.stdin:lines("L") do show(l) end
show(n)
]], "first\n\nthird\r\nno newline")
  end)

  it("argument errors", function()
    same_as_lua([[
try(function() return io.read("x") end)
try(function() return io.read({}) end)
try(function() return io.read(1.5) end)
try(function() return io.stdin:read("*z") end)
try(function() return io.stdin:read(nil) end)
try(function() for _ in io.lines(nil, "z") do end end)
try(function() for _ in io.stdin:lines({}) do end end)
try(function() return io.write({}) end)
try(function() return io.stdout:write(1, true) end)
try(function() return print(setmetatable({}, {__tostring = function() return 1 end})) end)
show(io.read())
]], "still here\n")
  end)

  it("write and print results, numbers and order", function()
    same_as_lua([[
show(io.write(1, " ", 2.5, " ", -0.0, " ", 1e100, " ", math.mininteger, "\n") == io.stdout)
show(io.stdout:write("a", "b"):write("c\n") == io.stdout)
print()
print(nil, true, 1, 2.0, "x")
io.write("no newline, then print: ")
print("done")
io.stderr:write("")
]], "")
  end)
end)

describe("standard streams: only the calling task waits", function()
  -- The tutorials' chat client: one task reads the keyboard, one prints
  -- what a server sends, a ticker ticks. python3 feeds a line every 0.2 s.
  it("reads stdin lines while a ticker and a socket reader run", function()
    local child = temp([[
local task = require "task"
local socket = require "socket"
local ticks, msgs = 0, 0
local ticker = task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
local srv = socket.create_server({"127.0.0.1", 0})
local server = task.spawn(function()
  local conn = srv:accept()
  for i = 1, 200 do
    if not pcall(conn.sendall, conn, "msg " .. i .. "\n") then break end
    task.sleep(0.02)
  end
  conn:close()
end)
local cli = socket.create_connection(srv:getsockname())
local f = cli:makefile("r")
local netreader = task.spawn(function()
  for _ in f:lines() do msgs = msgs + 1 end
end)
local last = 0
local n = 0
for line in io.lines() do
  n = n + 1
  print(n, line, ticks - last, msgs)
  last = ticks
end
local rest = io.read("a")
print("eof", #rest, io.read() == nil)
ticker:cancel()
server:cancel()
netreader:cancel()
]], ".lua")
    local feeder = temp([[
import sys, time
for i in range(5):
    time.sleep(0.2)
    sys.stdout.write("line %d: %s\n" % (i + 1, "x" * (i * 1000)))
    sys.stdout.flush()
]], ".py")
    local out, err = helpers.run("python3 " .. q(feeder) .. " | " .. ms .. " " .. q(child))
    os.remove(child)
    os.remove(feeder)
    assert.are.equal("", err)
    local n, prev_msgs = 0, 0
    for num, line, dticks, msgs in out:gmatch("(%d+)\t([^\t\n]*)\t(%d+)\t(%d+)\n") do
      n = n + 1
      assert.are.equal(n, tonumber(num))
      assert.are.equal(string.format("line %d: %s", n, string.rep("x", (n - 1) * 1000)), line)
      if n > 1 then
        -- 0.2 s at a 10 ms ticker: about 19 ticks; blocked reads give 0
        assert.is_true(tonumber(dticks) >= 10, "ticks during read " .. n .. ": " .. dticks)
        assert.is_true(tonumber(msgs) > prev_msgs, "no socket data during read " .. n)
      end
      prev_msgs = tonumber(msgs)
    end
    assert.are.equal(5, n)
    assert.is_truthy(out:find("eof\t0\ttrue\n", 1, true))
  end)

  it("a write to a full stdout pipe lets other tasks run; every byte arrives in order", function()
    local ticks_file = os.tmpname()
    local child = temp([[
local task = require "task"
local ticks = 0
local ticker = task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
local parts = {}
for i = 1, 16384 do parts[#parts + 1] = string.format("%07d\n", i) end
local block = table.concat(parts) -- 128 KiB
for _ = 1, 4 do io.write(block) end
for i = 1, 4096 do print(string.format("%06d", i)) end
io.stdout:write(block, block, block):write(block)
ticker:cancel()
local f = io.open(arg[1], "w")
f:write(ticks)
f:close()
]], ".lua")
    local reader = temp([[
import sys, time, hashlib
time.sleep(0.5)
data = sys.stdin.buffer.read()
block = b"".join(b"%07d\n" % i for i in range(1, 16385))
expect = block * 4 + b"".join(b"%06d\n" % i for i in range(1, 4097)) + block * 4
print(len(data), data == expect)
]], ".py")
    local out = helpers.run(ms .. " " .. q(child) .. " " .. q(ticks_file) .. " | python3 " .. q(reader))
    local ticks = tonumber(helpers.read_file(ticks_file))
    os.remove(child)
    os.remove(reader)
    os.remove(ticks_file)
    assert.are.equal(string.format("%d True\n", 8 * 131072 + 4096 * 7), out)
    -- the reader sleeps 0.5 s while the pipe is full: about 45 ticks
    assert.is_true(ticks >= 20, "ticks while stdout was full: " .. tostring(ticks))
  end)

  it("writes of two tasks to a full pipe do not interleave", function()
    local child = temp([[
local task = require "task"
local a = task.spawn(function() io.write(string.rep("a", 300000), "\n") end)
local b = task.spawn(function() io.stdout:write(string.rep("b", 300000), "\n") end)
print(string.rep("c", 100000))
a:join()
b:join()
]], ".lua")
    local reader = temp([[
import sys, time
time.sleep(0.3)
parts = []
while True:
    part = sys.stdin.buffer.read1(8192)
    if not part:
        break
    parts.append(part)
    time.sleep(0.001)
data = b"".join(parts).decode()
print(sorted(data.split("\n")) == ["", "a" * 300000, "b" * 300000, "c" * 100000])
]], ".py")
    local out = helpers.run(ms .. " " .. q(child) .. " | python3 " .. q(reader))
    os.remove(child)
    os.remove(reader)
    assert.are.equal("True\n", out)
  end)

  it("io.read at the REPL on a terminal lets tasks print while it waits", function()
    local pty = require "spec.support.pty"
    local t = pty.start("env MOONSOCK_HISTORY= " .. ms)
    finally(function() t:close() end)
    assert.is_true((t:wait("\n>$")))
    t:line('T = require "task"')
    assert.is_true((t:wait("\n>$")))
    t:line('T.spawn(function() for i = 1, 3 do T.sleep(0.05) print("tick", i) end end) x = io.read()')
    local ok, screen = t:wait("tick\\s+3", 5)
    assert.is_true(ok, screen)
    t:line("typed here")
    t:line("=x")
    ok, screen = t:wait("'typed here'\n>$", 5)
    assert.is_true(ok, screen)
  end)

  it("stdin and stdout on a socket", function()
    local driver = temp([[
import socket, subprocess, sys, time
a, b = socket.socketpair()
child = """
-- a socket is fully buffered, as a pipe: line buffering lets each answer out
io.stdout:setvbuf("line")
local task = require "task"
local ticks = 0
local tk = task.spawn(function() while true do task.sleep(0.01) ticks = ticks + 1 end end)
for line in io.lines() do io.write(line:upper(), " ", ticks >= 10 and "ticked" or "still", "\\n") ticks = 0 end
io.write(string.rep("z", 500000), "\\n")
tk:cancel()
"""
p = subprocess.Popen([sys.argv[1], "-e", child], stdin=b, stdout=b)
b.close()
out = b""
for w in [b"one\n", b"two\n"]:
    time.sleep(0.2)
    a.sendall(w)
    out += a.recv(100)
a.shutdown(socket.SHUT_WR)
time.sleep(0.3)
while True:
    d = a.recv(65536)
    if not d:
        break
    out += d
p.wait()
print(out == b"ONE ticked\nTWO ticked\n" + b"z" * 500000 + b"\n", p.returncode)
]], ".py")
    local out = helpers.run("python3 " .. q(driver) .. " " .. ms)
    os.remove(driver)
    assert.are.equal("True 0\n", out)
  end)

  it("stderr is written at once", function()
    local child = temp([[
local task = require "task"
io.stderr:write("early")
task.sleep(1)
]], ".lua")
    local reader = temp([[
import sys, time, select
t = time.monotonic()
r, _, _ = select.select([sys.stdin], [], [], 0.8)
print("in time" if r and sys.stdin.buffer.read1(5) == b"early" else "late")
]], ".py")
    local out = helpers.run(ms .. " " .. q(child) .. " 2>&1 >/dev/null | python3 " .. q(reader))
    os.remove(child)
    os.remove(reader)
    assert.are.equal("in time\n", out)
  end)
end)
