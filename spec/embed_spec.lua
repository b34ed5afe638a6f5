-- Embedding moonsock: the C hosts of examples/embed/ (built by scripts/build
-- into bin/examples/), plain and under valgrind's memcheck; require
-- "moonsock" from a stock lua5.4, against the same script under
-- bin/moonsock; scripts/install into a temporary prefix, then a host built
-- with pkg-config and lua5.4 using the installed module; the rockspec's
-- build. The C tests of include/moonsock.h are spec/c/ (spec/c/run).
-- Expected replies come from python3 (zlib.crc32, repr of an address, the
-- text of a timeout) or are the bytes the clients sent.
local h = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"

local q = h.shell_quote

local ROOT = (function()
  local p = assert(io.popen("pwd"))
  local dir = p:read("l")
  p:close()
  return dir
end)()

local read_file = h.read_file

local function write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- The version the header declares: what every installed piece must carry.
local VERSION = read_file(ROOT .. "/include/moonsock.h"):match('#define MOONSOCK_VERSION "([^"]+)"')

local VALGRIND = "valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"

-- ---- programs in the background ----

-- start(cmd, env): runs cmd (from ROOT, bounded by timeout(1)) with its
-- stdout and stderr in files; returns a process whose stdin is a pipe.
local function start(cmd, env)
  local dir = h.tempdir()
  local proc = {dir = dir}
  proc.pipe = assert(io.popen(string.format(
    "cd %s && (%s timeout 120 %s > %s/out 2> %s/err; echo $? > %s/rc)",
    q(ROOT), env or "", cmd, dir, dir, dir), "w"))
  return proc
end

local function output(proc) return read_file(proc.dir .. "/out") or "" end

-- Waits (parking only this task) for the "port N" the program prints first.
local function port_of(proc, seconds)
  local deadline = task.now() + (seconds or 10)
  repeat
    local port = output(proc):match("port (%d+)")
    if port then return tonumber(port) end
    task.sleep(0.02)
  until task.now() > deadline
  error("no port printed; stderr: " .. (read_file(proc.dir .. "/err") or ""))
end

-- Closes its stdin, waits for it to end: its exit status, stdout, stderr.
local function finish(proc)
  proc.pipe:close()
  local res = {
    code = tonumber(read_file(proc.dir .. "/rc")),
    out = output(proc),
    err = read_file(proc.dir .. "/err") or "",
  }
  os.execute("rm -rf " .. q(proc.dir))
  return res
end

-- A client: sends data, ends its side, and returns all it gets back.
local function exchange(port, data, keep_open)
  local c = socket.create_connection({"127.0.0.1", port}, 30)
  c:settimeout(30)
  if data then c:sendall(data) end
  if not keep_open then c:shutdown(socket.SHUT_WR) end
  local parts = {}
  repeat
    local chunk = c:recv(65536)
    parts[#parts + 1] = chunk
  until chunk == ""
  c:close()
  return table.concat(parts)
end

local function join_all(handles)
  local results = {}
  for i, hd in ipairs(handles) do results[i] = hd:join(60) end
  return results
end

-- ---- what Python says ----

-- The replies host_tcp.lua must give: "crc32=%08x len=%d" per line.
local function python_crc_replies(lines)
  local hex = {}
  for i, l in ipairs(lines) do
    hex[i] = '"' .. l:gsub(".", function(c) return ("%02x"):format(c:byte()) end) .. '"'
  end
  return h.python(string.format([[
import sys, zlib
for b in (bytes.fromhex(x) for x in [%s]):
    sys.stdout.write("crc32=%%08x len=%%d\n" %% (zlib.crc32(b), len(b)))
]], table.concat(hex, ", ")))
end

-- ---- the tests ----

describe("examples/embed/host_tcp.c, a C host that embeds moonsock", function()
  local lines = {"hello", "", "tab\there", string.rep("x", 3000), "\xff\xfe bytes", "last"}

  local function serve_clients(prefix, nclients)
    local proc = start(prefix .. " bin/examples/host_tcp examples/embed/host_tcp.lua " .. nclients)
    local port = port_of(proc, 60)
    local handles = {}
    for i = 1, nclients do
      handles[i] = task.spawn(exchange, port, table.concat(lines, "\n") .. "\n")
    end
    local replies = join_all(handles)
    return replies, finish(proc)
  end

  it("serves TCP clients with its own C function: replies are Python's zlib.crc32", function()
    local replies, res = serve_clients("", 3)
    local expected = python_crc_replies(lines)
    for i = 1, 3 do assert.are.equal(expected, replies[i]) end
    assert.are.equal(0, res.code, res.err)
    assert.are.equal(("served %d clients, %d lines"):format(3, 3 * #lines), res.out:match("([^\n]*)\n$"))
  end)

  it("is clean under valgrind memcheck (no memory error, no definite leak)", function()
    local replies, res = serve_clients(VALGRIND, 2)
    local expected = python_crc_replies(lines)
    assert.are.equal(expected, replies[1])
    assert.are.equal(expected, replies[2])
    assert.are.equal(0, res.code, res.err)
    assert.are.equal("", res.err)
  end)

  it("ends with status 1 and the task's error, with its traceback, on stderr", function()
    local dir = h.tempdir()
    write_file(dir .. "/fails.lua", "local function deep() error('deliberate failure') end\ndeep()\n")
    local _, err, code = h.run("cd " .. q(ROOT) .. " && bin/examples/host_tcp " .. q(dir .. "/fails.lua"))
    assert.are.equal(1, code)
    assert.matches("deliberate failure", err, 1, true)
    assert.matches("stack traceback:", err, 1, true)
    assert.matches("fails.lua:1: in", err, 1, true)
    _, err, code = h.run("cd " .. q(ROOT) .. " && bin/examples/host_tcp " .. q(dir .. "/missing.lua"))
    assert.are.equal(1, code)
    assert.matches("cannot open " .. dir .. "/missing.lua", err, 1, true)
    os.execute("rm -rf " .. q(dir))
  end)
end)

describe("examples/embed/host_poll.c, a host with its own poll() loop", function()
  -- The lines reach the host's stdin in pieces that split a line; the
  -- last one has no newline.
  local pieces = {"first line\nsec", "ond line\n", "third\n", "no newline at the end"}
  local expected_lines = "first line\nsecond line\nthird\nno newline at the end\n"

  local function broadcast(prefix)
    local proc = start(prefix .. " bin/examples/host_poll examples/embed/host_poll.lua")
    local port = port_of(proc, 60)
    local clients = {}
    for i = 1, 2 do
      local c = socket.create_connection({"127.0.0.1", port}, 30)
      c:settimeout(30)
      clients[i] = {sock = c, file = c:makefile("rb")}
      -- Greeted once it is registered: lines written after this reach it.
      clients[i].welcome = clients[i].file:read("L")
    end
    for _, piece in ipairs(pieces) do
      proc.pipe:write(piece)
      proc.pipe:flush()
      task.sleep(0.05)
    end
    local res = finish(proc) -- the end of stdin: the host sends what is queued and ends
    for _, c in ipairs(clients) do
      c.rest = c.file:read("a")
      c.file:close()
      c.sock:close()
    end
    return clients, res
  end

  local function check(clients, res)
    for _, c in ipairs(clients) do
      assert.matches("^welcome, client %d+\n$", c.welcome)
      assert.are.equal(expected_lines, c.rest)
    end
    assert.are.equal(0, res.code, res.err)
    assert.are.equal("sent 8 lines to 2 clients", res.out:match("([^\n]*)\n$"))
  end

  it("hands each stdin line to every client; ends at the end of stdin", function()
    local clients, res = broadcast("")
    check(clients, res)
  end)

  it("is clean under valgrind memcheck", function()
    local clients, res = broadcast(VALGRIND)
    check(clients, res)
    assert.are.equal("", res.err)
  end)
end)

describe('require "moonsock" from a stock lua5.4', function()
  local env = "LUA_CPATH=" .. q(ROOT .. "/lib/lua/5.4/?.so;;")

  -- Runs examples/embed/lua_module.lua under interp with two clients: one
  -- sends two lines, one stays silent until it is timed out.
  local function run_module_script(interp)
    local proc = start(interp .. " examples/embed/lua_module.lua 2", env)
    local port = port_of(proc)
    local talker = socket.create_connection({"127.0.0.1", port}, 30)
    local talker_addr = talker:getsockname()
    local silent = socket.create_connection({"127.0.0.1", port}, 30)
    local silent_addr = silent:getsockname()
    talker:settimeout(30)
    silent:settimeout(30)
    local a = task.spawn(function()
      talker:sendall("hello\nworld\n")
      talker:shutdown(socket.SHUT_WR)
      local got = {}
      repeat got[#got + 1] = talker:recv(4096) until got[#got] == ""
      talker:close()
      return table.concat(got)
    end)
    local b = task.spawn(function()
      local got = {}
      repeat got[#got + 1] = silent:recv(4096) until got[#got] == ""
      silent:close()
      return table.concat(got)
    end)
    local replies = join_all({a, b})
    local res = finish(proc)
    res.port = port
    res.talker, res.silent = replies[1], replies[2]
    res.talker_port, res.silent_port = talker_addr[2], silent_addr[2]
    return res
  end

  -- What Python says the replies are.
  local function expected(res)
    return h.python(string.format([[
import socket
peer = ('127.0.0.1', %d)
print(repr(peer), "hello".upper())
print(repr(peer), "world".upper())
a, b = socket.socketpair()
b.settimeout(0.01)
try:
    b.recv(1)
except socket.timeout as e:
    print(str(e))
]], res.talker_port))
  end

  -- The ports differ from run to run: name them.
  local function normalise(res)
    return (res.out:gsub("port " .. res.port, "port <server>")
      :gsub("'127%.0%.0%.1', " .. res.talker_port, "'127.0.0.1', <talker>")
      :gsub("'127%.0%.0%.1', " .. res.silent_port, "'127.0.0.1', <silent>"))
  end

  it("serves clients from a script run by lua5.4", function()
    local res = run_module_script("lua5.4")
    local want = expected(res)
    local talker_part, timeout_text = want:match("^(.-\n.-\n)(.*)\n$")
    assert.are.equal(0, res.code, res.err)
    assert.are.equal(talker_part, res.talker)
    assert.are.equal(timeout_text .. "\n", res.silent)
    assert.are.equal(("moonsock %s, listening on port <server>\n"):format(VERSION)
      .. "client 1 ('127.0.0.1', <talker>): 2 lines\n"
      .. "client 2 ('127.0.0.1', <silent>): 0 lines, then " .. timeout_text .. "\n", normalise(res))
  end)

  it("prints what the same script prints under bin/moonsock", function()
    local lua = run_module_script("lua5.4")
    local moon = run_module_script(q(h.moonsock))
    assert.are.equal(0, moon.code, moon.err)
    assert.are.equal(lua.code, moon.code)
    assert.are.equal(normalise(lua), normalise(moon))
    assert.are.equal(lua.err, moon.err)
  end)

  it("moonsock.run() runs the tasks spawned from the main chunk; inside a task it raises", function()
    local out, err, code = h.run(env .. [[ lua5.4 -e '
local moonsock = require "moonsock"
local task = moonsock.task
local order = {}
task.spawn(function() task.sleep(0.05) order[#order + 1] = "slept" end)
task.spawn(function() order[#order + 1] = "ran" end)
order[#order + 1] = "spawned"
moonsock.run()
print(table.concat(order, " "))
local h = task.spawn(function() return pcall(moonsock.run) end)
print(select(2, h:join(5)))
']])
    assert.are.equal(0, code, err)
    assert.are.equal("spawned ran slept\nmoonsock.run() called from inside a task\n", out)
  end)
end)

describe("scripts/install", function()
  local prefix

  setup(function()
    prefix = h.tempdir() .. "/prefix"
  end)
  teardown(function() os.execute("rm -rf " .. q(prefix:match("^(.*)/prefix$"))) end)

  it("installs the command, both libraries, the header, moonsock.pc and the Lua module", function()
    local out, err, code = h.run("cd " .. q(ROOT) .. " && scripts/install " .. q(prefix))
    assert.are.equal(0, code, err)
    assert.matches("installed", out)
    for _, f in ipairs({"bin/moonsock", "lib/libmoonsock.so." .. VERSION, "lib/libmoonsock.so.0",
                        "lib/libmoonsock.so", "lib/libmoonsock.a", "include/moonsock.h",
                        "lib/pkgconfig/moonsock.pc", "lib/lua/5.4/moonsock.so"}) do
      assert.is_not_nil(read_file(prefix .. "/" .. f), f)
    end
    -- The soname, as the toolchain reads it.
    local dyn = h.run("readelf -d " .. q(prefix .. "/lib/libmoonsock.so." .. VERSION))
    assert.matches("Library soname: %[libmoonsock%.so%.0%]", dyn)
    local pc = h.run("PKG_CONFIG_PATH=" .. q(prefix .. "/lib/pkgconfig") .. " pkg-config --modversion moonsock")
    assert.are.equal(VERSION .. "\n", pc)
  end)

  it("gives a host built with `pkg-config --cflags --libs moonsock` what it needs", function()
    local dir = prefix:match("^(.*)/prefix$")
    write_file(dir .. "/host.c", [[
#include <stdio.h>
#include <moonsock.h>

int main(void) {
  lua_State *L = moonsock_newstate();
  if (!L || moonsock_spawnstring(L,
        "local socket, task = require 'socket', require 'task'\n"
        "local a, b = socket.socketpair()\n"
        "local reader = task.spawn(function() return b:recv(100) end)\n"
        "a:sendall('through the installed library')\n"
        "print(reader:join(5), socket.AF_INET6, socket.SOCK_DGRAM)\n", "=host") != 0)
    return 1;
  int rc = moonsock_run(L);
  if (rc != 0) fprintf(stderr, "%s\n", moonsock_lasterror(L));
  moonsock_close(L);
  return rc == 0 ? 0 : 1;
}
]])
    local pkg = "PKG_CONFIG_PATH=" .. q(prefix .. "/lib/pkgconfig")
    local _, err, code = h.run(string.format("cd %s && gcc -o host host.c $(%s pkg-config --cflags --libs moonsock)",
      q(dir), pkg))
    assert.are.equal(0, code, err)
    local run_env = "LD_LIBRARY_PATH=" .. q(prefix .. "/lib")
    local libs = h.run(run_env .. " ldd " .. q(dir .. "/host"))
    assert.matches("libmoonsock.so.0 => " .. prefix .. "/lib/libmoonsock.so.0", libs, 1, true)
    local out
    out, err, code = h.run(run_env .. " " .. q(dir .. "/host"))
    assert.are.equal(0, code, err)
    local want = h.python("import socket; print('through the installed library', "
      .. "socket.AF_INET6.value, socket.SOCK_DGRAM.value, sep='\\t')")
    assert.are.equal(want, out)
  end)

  it("puts a module lua5.4 loads and a command that runs", function()
    local out, err, code = h.run("LUA_CPATH=" .. q(prefix .. "/lib/lua/5.4/?.so") .. [[ lua5.4 -e '
local moonsock = require "moonsock"
local a, b = moonsock.socket.socketpair()
local t = moonsock.task.spawn(function() return b:recv(10) end)
a:sendall("ping")
print(moonsock.version, t:join(5))
']])
    assert.are.equal(0, code, err)
    assert.are.equal(VERSION .. "\tping\n", out)
    out, err, code = h.run(q(prefix .. "/bin/moonsock") .. " -e 'print(require(\"socket\").AF_UNIX)'")
    assert.are.equal(0, code, err)
    assert.are.equal(h.python("import socket; print(socket.AF_UNIX.value)"), out)
  end)
end)

describe("moonsock-" .. tostring(VERSION) .. "-1.rockspec", function()
  local name = "moonsock-" .. tostring(VERSION) .. "-1.rockspec"

  it("describes this version of the module", function()
    local spec = {}
    assert(loadfile(ROOT .. "/" .. name, "t", spec))()
    assert.are.equal("moonsock", spec.package)
    assert.are.equal(VERSION .. "-1", spec.version)
    assert.are.equal("command", spec.build.type)
    assert.are.equal("build/rock/moonsock.so", spec.build.install.lib.moonsock)
  end)

  it("builds a module lua5.4 loads, as luarocks make would run it", function()
    local spec = {}
    assert(loadfile(ROOT .. "/" .. name, "t", spec))()
    -- LuaRocks' variables, as it sets them on this machine.
    local function pkgvar(pkg, var)
      return (h.run("pkg-config --variable=" .. var .. " " .. pkg)):match("[^\n]*")
    end
    local vars = {CC = "gcc", CFLAGS = "-O2 -fPIC", LIBFLAG = "-shared",
                  LUA_INCDIR = pkgvar("lua5.4", "includedir") .. "/lua5.4",
                  LIBUV_INCDIR = pkgvar("libuv", "includedir"), LIBUV_LIBDIR = pkgvar("libuv", "libdir")}
    if not read_file(vars.LUA_INCDIR .. "/lua.h") then vars.LUA_INCDIR = pkgvar("lua5.4", "includedir") end
    local cmd = spec.build.build_command:gsub("%$%((%u[%u_]*)%)", vars)
    -- In a copy of the sources, as luarocks builds an unpacked rock.
    local dir = h.tempdir()
    local _, err, code = h.run(string.format("cd %s && cp -r src include lua scripts %s/", q(ROOT), q(dir)))
    assert.are.equal(0, code, err)
    _, err, code = h.run("cd " .. q(dir) .. " && " .. cmd)
    assert.are.equal(0, code, err)
    local out
    local cpath = dir .. "/" .. spec.build.install.lib.moonsock:gsub("moonsock%.so$", "?.so")
    out, err, code = h.run("LUA_CPATH=" .. q(cpath)
      .. " lua5.4 -e 'local m = require \"moonsock\" print(m.version, m.socket.AF_INET)'")
    os.execute("rm -rf " .. q(dir))
    assert.are.equal(0, code, err)
    assert.are.equal(h.python("import socket; print('" .. VERSION .. "', socket.AF_INET.value, sep='\\t')"), out)
  end)
end)

describe("docs/embedding.md", function()
  -- Every C and Lua block of the walk-through is an excerpt of a file the
  -- tests build and run, so the doc cannot drift from working code.
  local function sources(pattern)
    local files = {}
    local p = assert(io.popen("cd " .. q(ROOT) .. " && ls " .. pattern))
    for path in p:lines() do files[#files + 1] = {path = path, text = read_file(ROOT .. "/" .. path)} end
    p:close()
    return files
  end

  it("quotes only code that the examples and the C tests contain", function()
    local doc = read_file(ROOT .. "/docs/embedding.md")
    local candidates = {c = sources("examples/embed/*.c spec/c/*.c"), lua = sources("examples/embed/*.lua")}
    local checked = 0
    for lang, block in doc:gmatch("\n```(%a*)\n(.-\n)```") do
      if candidates[lang] then
        local found
        for _, f in ipairs(candidates[lang]) do
          if f.text:find(block, 1, true) then found = f.path end
        end
        assert.is_not_nil(found, "not found in any " .. lang .. " source:\n" .. block)
        checked = checked + 1
      end
    end
    assert.is_true(checked >= 8, "only " .. checked .. " blocks checked")
  end)

  it("names every function of include/moonsock.h in its reference table", function()
    local doc = read_file(ROOT .. "/docs/embedding.md")
    local header = read_file(ROOT .. "/include/moonsock.h")
    local count = 0
    local rows = {}
    for row in doc:gmatch("\n(| `[^\n]*)") do rows[#rows + 1] = row end
    for name in header:gmatch("\nMOONSOCK_API [%w_ %*]-([%w_]+)%(") do
      count = count + 1
      local found = false
      for _, row in ipairs(rows) do found = found or row:find("`" .. name .. "(", 1, true) ~= nil end
      assert.is_true(found, name .. " has no row")
    end
    assert.are.equal(14, count)
  end)
end)
