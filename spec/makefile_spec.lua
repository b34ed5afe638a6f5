-- sock:makefile(): a Lua io file over a socket. The references are Lua's
-- own io library (the same bytes in a temp file, read with the same formats)
-- and Python 3's socket.makefile, run from here.
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local helpers = require "spec.support.helpers"

local TIMEOUT = 5
local HERE = debug.getinfo(1, "S").short_src -- how errors name this file

-- Python's answers: the script prints one line per answer.
local function python(code)
  local path = os.tmpname()
  local fh = assert(io.open(path, "w"))
  fh:write(code)
  fh:close()
  local p = assert(io.popen("python3 " .. path .. " 2>&1"))
  local lines = {}
  for line in p:lines() do lines[#lines + 1] = line end
  p:close()
  os.remove(path)
  return lines
end

local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

-- A value as text that tells integers, floats, strings and nil apart.
local function show(v)
  if v == nil then return "nil" end
  if type(v) == "number" then return math.type(v) .. ":" .. string.format("%q", v) end
  if type(v) == "string" then return "string:" .. string.format("%q", v) end
  return type(v) .. ":" .. tostring(v)
end

local function show_pack(t)
  local out = {}
  for i = 1, t.n do out[i] = show(t[i]) end
  return table.concat(out, ", ")
end

-- An error message without the "file:line: " a Lua error may carry (a
-- tail call leaves no line to blame).
local function bare(msg) return (msg:gsub("^[^:]*:%d+: ", "")) end

local function errmsg(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  return err
end

-- A connected pair: a is the file's side, b the peer; both time out.
local function pair()
  local a, b = socket.socketpair()
  a:settimeout(TIMEOUT)
  b:settimeout(TIMEOUT)
  return a, b
end

local function tcp_pair() return helpers.tcp_pair(TIMEOUT) end

-- The peer: sends data in pieces of `chunk` bytes (1: byte by byte), then
-- ends it. sleep(0) lets the loop poll between pieces, so the reader wakes
-- for each one and sees the stream split.
local function feeder(b, data, chunk, keep_open)
  return task.spawn(function()
    chunk = chunk or #data
    for i = 1, #data, math.max(chunk, 1) do
      b:sendall(data:sub(i, i + chunk - 1))
      task.sleep(0)
    end
    if not keep_open then b:shutdown(socket.SHUT_WR) end
  end)
end

-- Everything b receives until nothing comes for `quiet` seconds.
local function drain(b, quiet)
  local parts = {}
  b:settimeout(quiet or 0.2)
  while true do
    local ok, data = pcall(b.recv, b, 65536)
    if not ok then
      assert(errors.TimeoutError:matches(data), tostring(data))
      break
    end
    if data == "" then break end
    parts[#parts + 1] = data
  end
  b:settimeout(TIMEOUT)
  return table.concat(parts)
end

local function tmpfile_with(data)
  local path = os.tmpname()
  local fh = assert(io.open(path, "wb"))
  fh:write(data)
  fh:close()
  return path
end

-- The reads `calls` (a list of format lists) on a real file with `data`.
local function io_reads(data, calls)
  local path = tmpfile_with(data)
  local fh = assert(io.open(path, "rb"))
  local out = {}
  for i, fmts in ipairs(calls) do out[i] = show_pack(table.pack(fh:read(table.unpack(fmts)))) end
  fh:close()
  os.remove(path)
  return out
end

local function sock_reads(data, calls, buffering, chunk, maker)
  local a, b = (maker or pair)()
  local f = a:makefile("rb", buffering)
  local t = feeder(b, data, chunk)
  local out = {}
  for i, fmts in ipairs(calls) do out[i] = show_pack(table.pack(f:read(table.unpack(fmts)))) end
  t:join(TIMEOUT)
  f:close()
  a:close()
  b:close()
  return out
end

-- Every read sequence gives what io gives on a file with the same bytes,
-- buffered and unbuffered, the stream whole or split into 1 and 3 bytes.
local function same_as_io(data, calls, chunks)
  local want = io_reads(data, calls)
  for _, buffering in ipairs {-1, 0, 5} do
    for _, chunk in ipairs(chunks or {1, 3, #data}) do
      assert.are.same(want, sock_reads(data, calls, buffering, chunk))
    end
  end
  return want
end

describe("sock:makefile", function()
  describe("modes and buffering", function()
    it("reads and writes as Python's modes say", function()
      local modes = {"r", "w", "rw", "wr", "rb", "wb", "rwb", "wrb", "b", "", "rr", "bw"}
      local quoted = {}
      for i, m in ipairs(modes) do quoted[i] = "'" .. m .. "'" end
      local lines = python(([[
import socket
a, b = socket.socketpair()
for m in [%s]:
    f = a.makefile(m)
    print(m, f.readable(), f.writable())
]]):format(table.concat(quoted, ", ")))
      assert.are.equal(#modes, #lines)
      for i, m in ipairs(modes) do
        local a, b = pair()
        local f = a:makefile(m)
        assert.are.equal(lines[i], string.format("%s %s %s", m, f:readable() and "True" or "False",
          f:writable() and "True" or "False"))
        assert.are.equal(m, f.mode)
        f:close()
        a:close()
        b:close()
      end
    end)

    it("rejects modes Python rejects, naming the argument", function()
      local bad = {"x", "rt", "a", "r+", "w+b", "R"}
      local quoted = {}
      for i, m in ipairs(bad) do quoted[i] = "'" .. m .. "'" end
      local lines = python(([[
import socket
a, b = socket.socketpair()
for m in [%s]:
    try:
        a.makefile(m)
        print("accepted")
    except ValueError as e:
        print(e)
]]):format(table.concat(quoted, ", ")))
      local a, b = pair()
      for i, m in ipairs(bad) do
        local err = errmsg(function() return a:makefile(m) end)
        assert.are.equal("bad argument #1 to 'makefile' (" .. lines[i] .. ")", bare(err))
      end
      -- The error blames the line that called makefile.
      local line = debug.getinfo(1, "l").currentline + 1
      local err = errmsg(function() local f = a:makefile("x") return f end)
      assert.are.equal(HERE .. ":" .. line .. ": bad argument #1 to 'makefile' (" .. lines[1] .. ")", err)
      assert.matches("bad argument #1 to 'makefile' %(string expected, got number%)",
        errmsg(function() return a:makefile(5) end))
      assert.matches("bad argument #2 to 'makefile' %(number expected, got string%)",
        errmsg(function() return a:makefile("r", "big") end))
      assert.matches("bad argument #2 to 'makefile' %(number has no integer representation%)",
        errmsg(function() return a:makefile("r", 1.5) end))
      a:close()
      b:close()
    end)

    it("takes nil, any negative size and 8192.0 as buffering, as Python does", function()
      local a, b = pair()
      for _, buffering in ipairs {-1, -7, 8192.0} do
        local f = a:makefile("w", buffering)
        f:write("x")
        assert.are.equal("", drain(b, 0.05)) -- buffered: nothing sent yet
        f:flush()
        assert.are.equal("x", drain(b, 0.05))
        f:close()
      end
      a:close()
      b:close()
    end)
  end)

  describe("read", function()
    local text = "first line\nsecond\n  -12.5e1 0x10 tail\n\nxyz"

    it("reads every format as io does, at any split of the stream", function()
      local calls = {{"l"}, {"L"}, {"n"}, {"n", "l"}, {}, {2}, {0}, {"a"},
                     {"l"}, {"L"}, {"n"}, {3}, {0}, {"a"}, {"l", "a"}}
      local want = same_as_io(text, calls)
      -- The reference itself, so a wrong reference cannot pass unseen.
      assert.are.equal('string:"first line"', want[1])
      assert.are.equal('string:"z"', want[8])
      assert.are.equal("nil", want[9])
      assert.are.equal('string:""', want[14])
    end)

    it("accepts Lua 5.4's old '*' formats and long names", function()
      same_as_io(text, {{"*l"}, {"*L"}, {"*n", "*l"}, {"line"}, {"Line"}, {"number"}, {"*a"}, {"all"}},
        {1, #text})
    end)

    it("reads several formats at once and stops at the first that fails", function()
      local calls = {{"l", "L", "n", "n", "l", 1, 0, "a"}, {"l", "n", "a"}, {"a", "a", 0}}
      local want = same_as_io(text, calls, {2, #text})
      assert.are.equal("nil", want[2])
    end)

    it("stops after a number that fails, consuming what io consumes", function()
      local data = "12 0xg 3.5 .e 7\n-- 8"
      same_as_io(data, {{"n", "n", "n"}, {"l"}, {"n", "n"}, {"l"}, {"n"}, {"a"}})
    end)

    it("reads up to n bytes: waits for n or EOF, nil at EOF", function()
      local a, b = pair()
      local f = a:makefile("r")
      local t = task.spawn(function()
        b:sendall("abc")
        task.sleep(0.05)
        b:sendall("defgh")
        b:shutdown(socket.SHUT_WR)
      end)
      assert.are.equal("abcde", f:read(5))
      assert.are.equal("fgh", f:read(10))
      assert.is_nil(f:read(1))
      assert.is_nil(f:read(0))
      assert.are.equal("", f:read("a"))
      t:join(TIMEOUT)
      f:close()
      a:close()
      b:close()
    end)

    it("read(0) waits for a byte and returns '' while the stream goes on", function()
      local a, b = pair()
      local f = a:makefile("r")
      local t = feeder(b, "z", 1, true)
      assert.are.equal("", f:read(0))
      assert.are.equal("z", f:read(1))
      t:join(TIMEOUT)
      b:shutdown(socket.SHUT_WR)
      assert.is_nil(f:read(0))
      f:close()
      a:close()
      b:close()
    end)

    it("reads 1 MiB with 'a', sent in uneven pieces", function()
      local parts = {}
      for i = 1, 1 << 20 do parts[i] = string.char((i * 7 + (i >> 8)) % 256) end
      local data = table.concat(parts)
      local a, b = pair()
      local f = a:makefile("rb")
      local t = task.spawn(function()
        local i, n = 1, 1
        while i <= #data do
          b:sendall(data:sub(i, i + n - 1))
          i = i + n
          n = n % 70000 + 1237
        end
        b:close()
      end)
      local got = f:read("a")
      t:join(TIMEOUT)
      assert.are.equal(#data, #got)
      assert.is_true(got == data)
      assert.are.equal("", f:read("a"))
      f:close()
      a:close()
    end)

    it("raises argument errors as io does, counting from 1 after self", function()
      local path = tmpfile_with("x")
      local fh = assert(io.open(path, "rb"))
      local a, b = pair()
      local f = a:makefile("r")
      local cases = {{"x"}, {""}, {"5"}, {{}}, {1.5}, {"l", "q"}, {"l", true}}
      for _, args in ipairs(cases) do
        fh:seek("set", 0) -- io checks a format only when it gets to it
        local want = errmsg(function() return fh:read(table.unpack(args)) end)
        local got = errmsg(function() return f:read(table.unpack(args)) end)
        assert.are.equal(bare(want), bare(got))
        local line = debug.getinfo(1, "l").currentline + 1
        got = errmsg(function() local r = f:read(table.unpack(args)) return r end)
        assert.are.equal(HERE .. ":" .. line .. ": " .. bare(want), got)
      end
      assert.matches("bad argument #1 to 'read' %(count must be non%-negative%)",
        errmsg(function() return f:read(-1) end))
      -- A bad format is found before anything is read.
      b:sendall("kept\n")
      errmsg(function() return f:read("l", "q") end)
      assert.are.equal("kept", f:read("l"))
      fh:close()
      os.remove(path)
      f:close()
      a:close()
      b:close()
    end)
  end)

  describe("read('n')", function()
    local inputs = {"  42", "0x1F", "0x", "0xg", "1e10", "1e", "1e+", "1.5e-3", "-.5", "+.5", ".", "-",
      "--1", "0x1p4", "0x.8p1", "1.2.3", "123abc", "\t\n\v\f\r 7", "", "   ", "9007199254740993",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1" .. ("0"):rep(198) .. "x",
      ("1"):rep(200) .. "x", ("1"):rep(201) .. "x", ("1"):rep(200), ("1"):rep(199) .. "e5",
      "0x" .. ("f"):rep(300), ("0"):rep(250) .. "1", " " .. ("9"):rep(205), "1e5000", "-1e5000",
      "0x7fffffffffffffff", "0xffffffffffffffffff", "inf", "nan", "1 2 3", "3.", ".e5", "0e", "00012",
      "0X1A", "1E2", "1P2", "0x1P-2", "5\n", "   -0", "-0x10", "1ee", "1e1e1", "0b101", "1,5",
      ("  "):rep(3000) .. "77 rest", "0.", "0x.", "0x.p1", "-0x", "+-1", "1e-", "0x1e+5", "1.e3",
      "0xA.8P0", "08", "0x1.8", "\0" .. "1", "1\0", "0x1p", "0x1pz", ".5.5", "1..2", "١"}

    it("parses every input as io.read('n') does, and leaves the same rest", function()
      for _, s in ipairs(inputs) do
        local want = io_reads(s, {{"n"}, {"a"}})
        for _, buffering in ipairs {-1, 0, 3} do
          local chunk = #s > 300 and 97 or 1
          assert.are.same(want, sock_reads(s, {{"n"}, {"a"}}, buffering, chunk), ("%q"):format(s))
        end
        assert.are.same(want, sock_reads(s, {{"n"}, {"a"}}, nil, #s + 1), ("%q"):format(s))
      end
    end)

    it("reads numbers in a row as io does", function()
      local data = " 1 2.5\n0x10\t-3e2 4e 5 6"
      local calls = {{"n", "n", "n", "n"}, {"n"}, {"l"}, {"n", "n"}, {"n"}, {"a"}}
      local want = same_as_io(data, calls)
      assert.are.equal("integer:1, float:0x1.4p+1, integer:16, float:-0x1.2cp+8", want[1])
    end)
  end)

  describe("lines", function()
    local data = "alpha\nbeta 12\n\n7 8 9\ngamma"

    local function io_lines(fmts)
      local path = tmpfile_with(data)
      local fh = assert(io.open(path, "rb"))
      local out = {}
      for _ = 1, 100 do
        local r = table.pack(fh:lines(table.unpack(fmts))())
        if r[1] == nil then
          out[#out + 1] = show_pack(r)
          break
        end
        out[#out + 1] = show_pack(r)
      end
      fh:close()
      os.remove(path)
      return out
    end

    it("iterates with each format as io's lines does", function()
      for _, fmts in ipairs {{}, {"l"}, {"L"}, {3}, {"l", "l"}, {"n"}, {"L", 1}} do
        local want = io_lines(fmts)
        for _, chunk in ipairs {1, #data} do
          local a, b = pair()
          local f = a:makefile("r")
          local t = feeder(b, data, chunk)
          local got = {}
          local iter = f:lines(table.unpack(fmts))
          for _ = 1, 100 do
            local r = table.pack(iter())
            got[#got + 1] = show_pack(r)
            if r[1] == nil then break end
          end
          t:join(TIMEOUT)
          assert.are.same(want, got)
          f:close()
          a:close()
          b:close()
        end
      end
    end)

    it("works in a generic for", function()
      local a, b = pair()
      local f = a:makefile("r")
      local t = feeder(b, data, 2)
      local got = {}
      for line in f:lines() do got[#got + 1] = line end
      t:join(TIMEOUT)
      assert.are.same({"alpha", "beta 12", "", "7 8 9", "gamma"}, got)
      f:close()
      a:close()
      b:close()
    end)

    it("checks formats when made and the file when called", function()
      local a, b = pair()
      local f = a:makefile("r")
      assert.matches("bad argument #2 to 'lines' %(invalid format%)",
        errmsg(function() return f:lines("l", "x") end))
      local iter = f:lines()
      f:close()
      -- io's iterator over a closed file says this.
      local path = tmpfile_with("")
      local fh = assert(io.open(path, "rb"))
      local io_it = fh:lines()
      fh:close()
      os.remove(path)
      local want = errmsg(io_it)
      assert.are.equal(bare(want), bare(errmsg(iter)))
      a:close()
      b:close()
    end)
  end)

  describe("readline and readlines (Python's)", function()
    it("give what Python's makefile gives", function()
      local data = "abcdef\nxy\nlast line\nz"
      local lines = python(([[
import socket
a, b = socket.socketpair()
b.sendall(bytes.fromhex("%s")); b.shutdown(socket.SHUT_WR)
r = a.makefile("rb")
for x in [r.readline(3), r.readline(), r.readline(0), r.readline(2), r.readline(-1), r.readline(2)]:
    print(x.hex())
print(",".join(x.hex() for x in r.readlines()))
print(r.readline().hex())
]]):format((data:gsub(".", function(c) return ("%02x"):format(c:byte()) end))))
      -- Byte by byte, and all at once so a limit cuts into buffered bytes.
      for _, chunk in ipairs {1, #data} do
        local a, b = pair()
        local f = a:makefile("rb")
        local t = feeder(b, data, chunk)
        local got = {f:readline(3), f:readline(), f:readline(0), f:readline(2), f:readline(-1),
                     f:readline(2)}
        assert.are.equal(8, #lines)
        for i = 1, 6 do assert.are.equal(unhex(lines[i]), got[i]) end
        local rest = f:readlines()
        local want = {}
        for h in lines[7]:gmatch("[^,]+") do want[#want + 1] = unhex(h) end
        assert.are.same(want, {table.unpack(rest)})
        assert.are.equal(unhex(lines[8]), f:readline())
        assert.are.equal("", f:readline())
        t:join(TIMEOUT)
        f:close()
        a:close()
        b:close()
      end
    end)

    it("readlines(hint) stops where Python's does", function()
      local data = "a\nbb\nccc\ndddd\n"
      for _, hint in ipairs {0, 1, 2, 3, 4, 5, 6, 9, 100, -1} do
        local out = python(([[
import socket
a, b = socket.socketpair()
b.sendall(b"a\nbb\nccc\ndddd\n"); b.shutdown(socket.SHUT_WR)
r = a.makefile("rb")
print(len(r.readlines(%d)), len(r.readlines()))
]]):format(hint))
        local a, b = pair()
        local f = a:makefile("r")
        local t = feeder(b, data)
        local first = f:readlines(hint)
        local second = f:readlines()
        t:join(TIMEOUT)
        assert.are.equal(out[1], #first .. " " .. #second)
        f:close()
        a:close()
        b:close()
      end
    end)

    it("names a bad limit", function()
      local a, b = pair()
      local f = a:makefile("r")
      assert.matches("bad argument #1 to 'readline' %(number expected, got string%)",
        errmsg(function() return f:readline("x") end))
      assert.matches("bad argument #1 to 'readlines' %(number has no integer representation%)",
        errmsg(function() return f:readlines(0.5) end))
      f:close()
      a:close()
      b:close()
    end)
  end)

  describe("write", function()
    it("writes strings and numbers as io does and returns the file", function()
      local args = {"a\n", 1, 2.5, -0.0, 1 / 0, -1 / 0, math.mininteger, math.maxinteger, 1e100, 0.1,
                    2 ^ 53, 3.0, "", "\0z"}
      local path = os.tmpname()
      local fh = assert(io.open(path, "wb"))
      assert.are.equal(fh, fh:write(table.unpack(args)))
      fh:close()
      fh = assert(io.open(path, "rb"))
      local want = fh:read("a")
      fh:close()
      os.remove(path)
      local a, b = pair()
      local f = a:makefile("w")
      local r = f:write(table.unpack(args))
      assert.is_true(rawequal(f, r))
      assert.is_true(rawequal(f, f:write("x"):write("y", 7)))
      f:flush()
      assert.are.equal(want .. "xy7", drain(b))
      f:close()
      a:close()
      b:close()
    end)

    it("rejects other values as io does, writing none of the call", function()
      local path = os.tmpname()
      local fh = assert(io.open(path, "wb"))
      local a, b = pair()
      local f = a:makefile("w", 0)
      for _, args in ipairs {{true}, {"ok", {}}, {"ok", 1, nil}} do
        local want = errmsg(function() return fh:write(table.unpack(args, 1, 3)) end)
        local got = errmsg(function() return f:write(table.unpack(args, 1, 3)) end)
        assert.are.equal(bare(want), bare(got))
      end
      assert.are.equal("", drain(b, 0.05))
      fh:close()
      os.remove(path)
      f:writelines({"x", "y"}):writelines({})
      assert.are.equal("xy", drain(b, 0.05))
      assert.matches("bad argument #1 to 'writelines' %(string expected at index 2, got number%)",
        errmsg(function() return f:writelines({"a", 5}) end))
      assert.matches("bad argument #1 to 'writelines' %(table expected, got string%)",
        errmsg(function() return f:writelines("a") end))
      f:close()
      a:close()
      b:close()
    end)

    it("unbuffered writes reach the peer at once; buffered ones at flush", function()
      local a, b = pair()
      local u = a:makefile("w", 0)
      u:write("now")
      assert.are.equal("now", drain(b, 0.1))
      local f = a:makefile("w")
      f:write("later")
      assert.are.equal("", drain(b, 0.1))
      assert.is_true(f:flush())
      assert.are.equal("later", drain(b, 0.1))
      u:close()
      f:close()
      a:close()
      b:close()
    end)

    it("flushes by itself when the buffer fills", function()
      local a, b = pair()
      local f = a:makefile("w", 16)
      f:write("0123456789")
      assert.are.equal("", drain(b, 0.05))
      f:write("abcdef")
      assert.are.equal("0123456789abcdef", drain(b, 0.05))
      f:close()
      a:close()
      b:close()
    end)

    it("setvbuf switches between no, full and line buffering", function()
      local a, b = pair()
      local f = a:makefile("w")
      assert.is_true(f:setvbuf("line"))
      f:write("abc")
      assert.are.equal("", drain(b, 0.05))
      f:write("d\ne")
      assert.are.equal("abcd\ne", drain(b, 0.05))
      assert.is_true(f:setvbuf("full", 4))
      f:write("xyz")
      assert.are.equal("", drain(b, 0.05))
      f:write("w")
      assert.are.equal("xyzw", drain(b, 0.05))
      f:write("q")
      assert.is_true(f:setvbuf("no")) -- what waits goes out with the switch
      assert.are.equal("q", drain(b, 0.05))
      f:write("r")
      assert.are.equal("r", drain(b, 0.05))
      -- io's own errors for bad options.
      local fh = io.tmpfile()
      local want = errmsg(function() return fh:setvbuf("sometimes") end)
      assert.are.equal(bare(want), bare(errmsg(function() return f:setvbuf("sometimes") end)))
      want = errmsg(function() return fh:setvbuf() end)
      assert.are.equal(bare(want), bare(errmsg(function() return f:setvbuf() end)))
      fh:close()
      assert.matches("bad argument #2 to 'setvbuf' %(size must be positive%)",
        errmsg(function() return f:setvbuf("full", 0) end))
      f:close()
      a:close()
      b:close()
    end)

    it("keeps the unsent rest after a send timeout and sends it once", function()
      local a, b = pair()
      local f = a:makefile("w")
      local parts = {}
      for i = 1, 4096 do parts[i] = string.format("%07d\n", i) end -- 32 KiB, each line unique
      local chunk = table.concat(parts)
      local data = chunk:rep(128) -- 4 MiB, more than the socket buffers hold
      a:settimeout(0.2)
      -- More than the buffer: write flushes by itself, and times out.
      local err = errmsg(function() return f:write(data) end)
      assert.is_true(errors.TimeoutError:matches(err))
      a:settimeout(TIMEOUT)
      local t = task.spawn(function()
        local got = {}
        local n = 0
        while n < #data do
          local d = b:recv(1 << 20)
          if d == "" then break end
          got[#got + 1] = d
          n = n + #d
        end
        return table.concat(got)
      end)
      f:flush()
      local got = t:join(TIMEOUT)
      assert.are.equal(#data, #got)
      assert.is_true(got == data)
      f:close()
      a:close()
      b:close()
    end)
  end)

  describe("timeouts and errors", function()
    it("a timeout mid-line keeps the bytes for the next read", function()
      local a, b = pair()
      local f = a:makefile("r")
      a:settimeout(0.1)
      b:sendall("partial")
      local err = errmsg(function() return f:read("l") end)
      assert.is_true(errors.TimeoutError:matches(err))
      assert.are.equal("timed out", tostring(err))
      b:sendall(" line\nnext")
      assert.are.equal("partial line", f:read("l"))
      assert.are.equal("next", f:read(4))
      -- The same for a number, a count, 'a' and a readline.
      b:sendall(" 12")
      assert.is_true(errors.TimeoutError:matches(errmsg(function() return f:read("n") end)))
      b:sendall("34 ")
      assert.are.equal(1234, f:read("n"))
      b:sendall("abc")
      assert.is_true(errors.TimeoutError:matches(errmsg(function() return f:read(5) end)))
      b:sendall("de")
      assert.are.equal(" abcde", f:read(6))
      b:sendall("xy")
      assert.is_true(errors.TimeoutError:matches(errmsg(function() return f:readline() end)))
      b:sendall("z")
      assert.is_true(errors.TimeoutError:matches(errmsg(function() return f:read("a") end)))
      b:shutdown(socket.SHUT_WR)
      assert.are.equal("xyz", f:read("a"))
      f:close()
      a:close()
      b:close()
    end)

    it("a timeout in a later format gives back what the earlier ones read", function()
      local a, b = pair()
      local f = a:makefile("r", 0)
      a:settimeout(0.1)
      b:sendall("one\n2")
      assert.is_true(errors.TimeoutError:matches(errmsg(function() return f:read("l", "n") end)))
      b:sendall("5\n")
      assert.are.same({"one", 25}, {f:read("l", "n")})
      f:close()
      a:close()
      b:close()
    end)

    it("a cancelled reader loses nothing and frees the file", function()
      local a, b = pair()
      local f = a:makefile("r")
      b:sendall("half")
      local t = task.spawn(function() return f:read("l") end)
      task.sleep(0.05)
      t:cancel()
      assert.is_true(errors.Cancelled:matches(errmsg(function() return t:join(TIMEOUT) end)))
      b:sendall(" and half\n")
      assert.are.equal("half and half", f:read("l"))
      f:close()
      a:close()
      b:close()
    end)

    it("tasks reading one file at once each get whole lines", function()
      local a, b = pair()
      local f = a:makefile("r", 7)
      local lines = {}
      for i = 1, 60 do lines[i] = "line " .. i .. string.rep("!", i % 13) end
      local feed = feeder(b, table.concat(lines, "\n") .. "\n", 5)
      local readers = {}
      for r = 1, 3 do
        readers[r] = task.spawn(function()
          local mine = {}
          for line in f:lines() do mine[#mine + 1] = line end
          return mine
        end)
      end
      local all = {}
      for r = 1, 3 do
        for _, line in ipairs(readers[r]:join(TIMEOUT)) do all[#all + 1] = line end
      end
      feed:join(TIMEOUT)
      table.sort(all)
      table.sort(lines)
      assert.are.same(lines, all)
      f:close()
      a:close()
      b:close()
    end)

    it("socket errors come through as the socket's error objects", function()
      local c, s = tcp_pair()
      local f = c:makefile("r")
      s:setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, string.pack("ii", 1, 0))
      s:sendall("x")
      task.sleep(0.05)
      s:close() -- an RST
      task.sleep(0.05)
      local err = errmsg(function() return f:read("a") end)
      assert.is_true(errors.ConnectionResetError:matches(err), tostring(err))
      f:close()
      c:close()
      local a, b = pair()
      local w = a:makefile("w")
      b:close()
      w:write("into the void")
      err = errmsg(function() return w:flush() end)
      assert.is_true(errors.BrokenPipeError:matches(err), tostring(err))
      -- close still tries to send what waits, and closes even so.
      err = errmsg(function() return w:close() end)
      assert.is_true(errors.BrokenPipeError:matches(err), tostring(err))
      assert.is_true(w.closed)
      a:close()
    end)

    it("works over loopback TCP as a request/response pair", function()
      local c, s = tcp_pair()
      local server = task.spawn(function()
        local rfile, wfile = s:makefile("rb"), s:makefile("wb")
        for _ = 1, 10 do
          local line = rfile:readline()
          if line == "" then break end
          wfile:write(line:upper()):flush()
        end
        rfile:close()
        wfile:close()
        s:close()
      end)
      local f = c:makefile("rw")
      for i = 1, 3 do
        f:write("hello ", i, "\n"):flush()
        assert.are.equal("HELLO " .. i, f:read("l"))
      end
      c:shutdown(socket.SHUT_WR)
      assert.is_nil(f:read("l"))
      server:join(TIMEOUT)
      f:close()
      c:close()
    end)
  end)

  describe("closing", function()
    it("close flushes, returns true and leaves the socket open", function()
      local a, b = pair()
      local f = a:makefile("w")
      f:write("bye")
      assert.is_true(f:close())
      assert.is_true(f.closed)
      assert.are.equal("bye", drain(b, 0.05))
      assert.is_true(a:fileno() >= 0)
      a:sendall("still")
      assert.are.equal("still", b:recv(10))
      a:close()
      b:close()
    end)

    it("a closed file raises what io raises", function()
      local a, b = pair()
      local f = a:makefile("rw")
      f:close()
      local fh = io.tmpfile()
      fh:close()
      local want = errmsg(function() return fh:read() end)
      for _, call in ipairs {
        function() return f:read() end, function() return f:write("x") end,
        function() return f:lines() end, function() return f:flush() end,
        function() return f:close() end, function() return f:setvbuf("no") end,
        function() return f:seek() end, function() return f:readline() end,
      } do
        assert.are.equal(bare(want), bare(errmsg(call)))
      end
      assert.are.equal("<socket file [closed] mode='rw'>", tostring(f))
      a:close()
      b:close()
    end)

    it("a <close> variable flushes and closes, also when it must wait", function()
      local a, b = pair()
      local data = ("0123456789abcdef"):rep(1 << 18) -- 4 MiB: the flush must park
      local t = task.spawn(function()
        task.sleep(0.05)
        local got, n = {}, 0
        while n < #data do
          local d = b:recv(1 << 20)
          got[#got + 1] = d
          n = n + #d
        end
        return table.concat(got)
      end)
      local f
      do
        local g <close> = a:makefile("w", 1 << 23) -- write keeps it all
        f = g
        g:write(data)
      end
      assert.is_true(f.closed)
      assert.is_true(t:join(TIMEOUT) == data)
      a:close()
      b:close()
    end)

    it("keeps the socket open until its last file closes, as Python does", function()
      local lines = python([[
import socket
a, b = socket.socketpair()
f1, f2 = a.makefile("rb"), a.makefile("wb")
a.close()
print(a.fileno() >= 0)
print(repr(a).startswith("<socket.socket [closed] fd=%d," % a.fileno()))
b.sendall(b"x\n")
print(f1.readline().hex())
f1.close()
print(a.fileno() >= 0)
f2.close()
print(a.fileno())
]])
      local a, b = pair()
      local f1, f2 = a:makefile("rb"), a:makefile("wb")
      a:close()
      assert.are.equal(lines[1], (tostring(a:fileno() >= 0):gsub("^%l", string.upper)))
      local marked = tostring(a):find("<socket [closed] fd=" .. a:fileno() .. ",", 1, true) == 1
      assert.are.equal(lines[2], (tostring(marked):gsub("^%l", string.upper)))
      b:sendall("x\n")
      assert.are.equal(unhex(lines[3]), f1:readline())
      f2:write("pong"):flush()
      assert.are.equal("pong", b:recv(10))
      f1:close()
      assert.are.equal(lines[4], (tostring(a:fileno() >= 0):gsub("^%l", string.upper)))
      f2:close()
      assert.are.equal(tonumber(lines[5]), a:fileno())
      b:close()
    end)

    it("a collected file lets go of the closed socket", function()
      local a, b = pair()
      local f = a:makefile("r")
      a:close()
      assert.is_true(a:fileno() >= 0)
      assert.is_false(f.closed)
      f = nil -- luacheck: ignore 311
      collectgarbage()
      collectgarbage()
      assert.are.equal(-1, a:fileno())
      b:close()
    end)
  end)

  describe("the rest of the file interface", function()
    it("seek, read on 'w' and write on 'r' raise Python's errors", function()
      local lines = python([[
import socket
a, b = socket.socketpair()
try: a.makefile("rb").seek(0)
except OSError as e: print(e)
try: a.makefile("wb", buffering=0).read(1)
except OSError as e: print(e)
try: a.makefile("rb", buffering=0).write(b"x")
except OSError as e: print(e)
]])
      local a, b = pair()
      local r, w = a:makefile("r"), a:makefile("w")
      local cases = {function() return r:seek("set", 0) end, function() return w:read(1) end,
                     function() return r:write("x") end}
      for i, call in ipairs(cases) do
        local err = errmsg(call)
        assert.is_true(errors.OSError:matches(err))
        assert.are.equal(lines[i], tostring(err))
      end
      r:close()
      w:close()
      a:close()
      b:close()
    end)

    it("prints its fd and mode and answers fileno, readable, writable", function()
      local a, b = pair()
      local f = a:makefile("wb")
      assert.are.equal(string.format("<socket file fd=%d mode='wb'>", a:fileno()), tostring(f))
      assert.are.equal(a:fileno(), f:fileno())
      assert.is_false(f:readable())
      assert.is_true(f:writable())
      assert.is_false(f.closed)
      assert.matches("calling 'read' on bad self", errmsg(function() return f.read({}) end))
      f:close()
      a:close()
      b:close()
    end)

    it("an unbuffered reader leaves the rest of the stream in the socket", function()
      local a, b = pair()
      local u = a:makefile("r", 0)
      b:sendall("one\ntwo\n")
      task.sleep(0.02)
      assert.are.equal("one", u:read("l"))
      assert.are.equal("two\n", a:recv(100))
      local f = a:makefile("r")
      b:sendall("three\nfour\n")
      task.sleep(0.02)
      assert.are.equal("three", f:read("l"))
      a:settimeout(0.05)
      assert.is_true(errors.TimeoutError:matches(errmsg(function() return a:recv(100) end)))
      assert.are.equal("four", f:read("l"))
      u:close()
      f:close()
      a:close()
      b:close()
    end)
  end)
end)
