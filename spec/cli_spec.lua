-- The command line follows lua.c: the same arguments give the same output
-- from moonsock and from Debian's lua5.4 (the reference).
local h = require "spec.support.helpers"
local socket = require "socket"
local task = require "task"

local q = h.shell_quote

-- A shell starts background commands with SIGINT ignored, and moonsock then
-- keeps ignoring it, as Python does: the children these specs interrupt
-- need SIGINT back at its default.
local SIGINT_DFL = "env --default-signal=INT"

local function both(args, stdin)
  local pre = stdin and ("printf %s " .. q(stdin) .. " | ") or ""
  local mo, me, mc = h.run(pre .. q(h.moonsock) .. " " .. args)
  local lo, le, lc = h.run(pre .. "lua5.4 " .. args)
  return {out = mo, err = me, code = mc}, {out = lo, err = le, code = lc}
end

-- Error messages name the interpreter; put lua5.4's name in moonsock's place.
local function same_err(m, l)
  return m.err:gsub(q(h.moonsock):sub(2, -2), "lua5.4"):gsub("^%S+moonsock:", "lua5.4:")
    == l.err:gsub("^lua5%.4:", "lua5.4:")
end

describe("the moonsock command line", function()
  local dir, script
  setup(function()
    dir = h.tempdir()
    script = dir .. "/args.lua"
    local f = assert(io.open(script, "w"))
    f:write([[
print("...", select("#", ...), ...)
for i = -3, #arg do print(i, arg[i]) end
]])
    f:close()
  end)
  teardown(function() os.execute("rm -rf " .. q(dir)) end)

  it("passes script arguments in arg and ... as lua.c does", function()
    local m, l = both("-e 'x=1' " .. q(script) .. " a 'b c' -e")
    assert.are.equal(l.code, m.code)
    -- arg[-3..-1] hold the interpreter's own name: compare the rest.
    local function strip(s) return (s:gsub("\n%-%d\t[^\n]*", "")) end
    assert.are.equal(strip(l.out), strip(m.out))
  end)

  it("runs -e statements and -l libraries in order", function()
    local m, l = both("-l string -e 'print(string.rep(\"a\", 3))' -e 'print(type(string))'")
    assert.are.same(l, m)
  end)

  it("supports -l g=mod", function()
    local m, l = both("-l s=string -e 'print(s.upper(\"x\"))'")
    assert.are.same(l, m)
  end)

  it("runs stdin with -", function()
    local m, l = both("- x y", "print(...)\n")
    assert.are.same(l, m)
  end)

  it("stops handling options at --", function()
    local m, l = both("-- " .. q(script) .. " -v")
    assert.are.equal(l.out:gsub("\n%-%d\t[^\n]*", ""), m.out:gsub("\n%-%d\t[^\n]*", ""))
  end)

  it("ignores LUA_INIT with -E and runs it otherwise", function()
    local m, l = both("-e 'print(1)'")
    assert.are.same(l, m)
    local mo = h.run("LUA_INIT='print(\"init\")' " .. q(h.moonsock) .. " -e 'print(2)'")
    local lo = h.run("LUA_INIT='print(\"init\")' lua5.4 -e 'print(2)'")
    assert.are.equal(lo, mo)
    mo = h.run("LUA_INIT='print(\"init\")' " .. q(h.moonsock) .. " -E -e 'print(2)'")
    lo = h.run("LUA_INIT='print(\"init\")' lua5.4 -E -e 'print(2)'")
    assert.are.equal(lo, mo)
  end)

  it("turns warnings on with -W", function()
    local m, l = both("-W -e 'warn(\"hello\")'")
    assert.are.equal(l.err, m.err)
  end)

  it("rejects an unknown option with lua.c's usage and status", function()
    local m, l = both("-z")
    assert.are.equal(l.code, m.code)
    assert.matches("unrecognized option '%-z'", m.err)
    assert.matches("usage: ", m.err)
  end)

  it("prints its version with -v", function()
    local out, _, code = h.run(q(h.moonsock) .. " -v")
    assert.are.equal(0, code)
    assert.matches("^moonsock %d+%.%d+%.%d+ %(Lua 5%.4", out)
  end)

  it("runs #! scripts", function()
    local path = dir .. "/hashbang"
    local f = assert(io.open(path, "w"))
    f:write("#!/usr/bin/env moonsock\nprint('hashbang', ...)\n")
    f:close()
    local m, l = both(q(path) .. " 1")
    assert.are.same(l, m)
  end)

  it("prints an uncaught error with a traceback to stderr and exits 1", function()
    local m, l = both("-e 'error(\"boom\")'")
    assert.are.equal(1, m.code)
    assert.are.equal(l.code, m.code)
    assert.is_true(same_err(m, l), m.err .. "\n---\n" .. l.err)
  end)

  it("describes an uncaught socket error the way Python names it", function()
    local out, err, code = h.moonsock_script([[
local socket = require "socket"
local s = socket.socket()
s:close()
s:recv(1)
]])
    assert.are.equal("", out)
    assert.are.equal(1, code)
    assert.matches("OSError: %[Errno 9%] Bad file descriptor\nstack traceback:", err)
  end)

  it("can require Debian's Lua 5.4 libraries through the system paths", function()
    local out, err, code = h.run(q(h.moonsock) .. " -e 'print(require(\"lfs\") ~= nil)'")
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("true\n", out)
  end)

  it("finds its own modules from any directory, with no source tree", function()
    local out, _, code = h.run("cd / && " .. q(h.moonsock) .. " -e 'print(require(\"socket\").AF_INET)'")
    assert.are.equal(0, code)
    assert.are.equal(tostring(socket.AF_INET) .. "\n", out)
  end)
end)

describe("the process lifetime", function()
  it("waits for non-daemon tasks after the main chunk ends", function()
    local out, _, code = h.moonsock_script([[
local task = require "task"
task.spawn(function() task.sleep(0.05) print("late") end)
print("main done")
]])
    assert.are.equal(0, code)
    assert.are.equal("main done\nlate\n", out)
  end)

  it("prints the main task's uncaught error at once, as Python does, then waits for the others", function()
    local out, err, code = h.moonsock_script([[
local task = require "task"
task.spawn(function() task.sleep(0.1) io.stderr:write("late\n") end)
error("boom")
]])
    assert.are.equal("", out)
    assert.are.equal(1, code)
    assert.matches("boom.*stack traceback:.*late\n$", err)
  end)

  it("interrupts code outside any task (-e) on SIGINT, with status 130", function()
    local dir = h.tempdir()
    local marker = dir .. "/started"
    finally(function() os.execute("pkill -KILL -f " .. q(marker) .. " 2>/dev/null") end)
    os.execute(string.format("(%s %s -e %s >/dev/null 2>%s/err; echo $? > %s/status) &", SIGINT_DFL, q(h.moonsock),
      q("io.open('" .. marker .. "', 'w'):close() require('task').sleep(30)"), q(dir), q(dir)))
    for _ = 1, 250 do
      if io.open(marker) then break end
      task.sleep(0.02)
    end
    task.sleep(0.1)
    os.execute("pkill -INT -f " .. q(marker))
    local code
    for _ = 1, 250 do
      local f = io.open(dir .. "/status")
      if f then code = f:read("n") f:close() end
      if code then break end
      task.sleep(0.02)
    end
    local ef = io.open(dir .. "/err")
    local err = ef and ef:read("a") or ""
    if ef then ef:close() end
    os.execute("rm -rf " .. q(dir))
    assert.are.equal(130, code)
    assert.matches("KeyboardInterrupt", err)
  end)

  it("ends on os.exit with its status", function()
    local out, _, code = h.moonsock_script([[
local task = require "task"
task.spawn(function() task.sleep(10) end)
print("bye")
os.exit(3)
]])
    assert.are.equal("bye\n", out)
    assert.are.equal(3, code)
  end)

  it("exits 130 on an uncaught SIGINT, closing its sockets", function()
    local dir = h.tempdir()
    local portfile = dir .. "/port"
    local script = h.write_temp(string.format([[
local socket = require "socket"
local s = socket.create_server({"127.0.0.1", 0})
local f = io.open(%q, "w") f:write(s:getsockname()[2]) f:close()
s:accept()
]], portfile), ".lua")
    local status = dir .. "/status"
    -- A failure must not leave a child holding busted's stdout open.
    finally(function() os.execute("pkill -KILL -f " .. q(script) .. " 2>/dev/null") end)
    os.execute(string.format("(%s %s %s >/dev/null 2>%s/err; echo $? > %s) &", SIGINT_DFL, q(h.moonsock), q(script),
      q(dir), q(status)))
    local port
    for _ = 1, 200 do
      local f = io.open(portfile)
      if f then port = f:read("n") f:close() end
      if port then break end
      task.sleep(0.02)
    end
    assert.is_not_nil(port)
    os.execute("pkill -INT -f " .. q(script))
    local code
    for _ = 1, 200 do
      local f = io.open(status)
      if f then code = f:read("n") f:close() end
      if code then break end
      task.sleep(0.02)
    end
    assert.are.equal(130, code)
    local ef = io.open(dir .. "/err")
    local err = ef:read("a")
    ef:close()
    assert.matches("KeyboardInterrupt", err)
    -- Its listening socket is gone: connecting is refused.
    local c = socket.socket()
    assert.are.equal(111, c:connect_ex({"127.0.0.1", port}))
    c:close()
    os.execute("rm -rf " .. q(dir) .. " " .. q(script))
  end)

  it("lets the main task catch SIGINT, while parked and while busy in Lua", function()
    local script = h.write_temp([[
local task = require "task"
local errors = require "moonsock.errors"
local ok, err = pcall(task.sleep, 10)
print("parked:", ok, errors.KeyboardInterrupt:matches(err))
io.stdout:flush()
ok, err = pcall(function() local x = 0 while true do x = x + 1 end end)
print("busy:", ok, errors.KeyboardInterrupt:matches(err))
]], ".lua")
    local out = h.tempdir() .. "/out"
    finally(function() os.execute("pkill -KILL -f " .. q(script) .. " 2>/dev/null") end)
    os.execute(string.format("%s %s %s > %s 2>&1 &", SIGINT_DFL, q(h.moonsock), q(script), q(out)))
    local function wait_for(pattern)
      for _ = 1, 250 do
        local f = io.open(out)
        local text = f and f:read("a") or ""
        if f then f:close() end
        if text:find(pattern) then return text end
        task.sleep(0.02)
      end
      return nil
    end
    task.sleep(0.2)
    os.execute("pkill -INT -f " .. q(script))
    assert.is_not_nil(wait_for("parked:"))
    task.sleep(0.2)
    os.execute("pkill -INT -f " .. q(script))
    local text = wait_for("busy:")
    assert.are.equal("parked:\tfalse\ttrue\nbusy:\tfalse\ttrue\n", text)
    os.remove(script)
  end)

  -- Issue 14, item 5: the docs promised status 130 at the first ^C, but a
  -- live non-daemon task keeps the process running, as a non-daemon thread
  -- keeps python3's. Both: the traceback at the first ^C, still running,
  -- status 130 at the second.
  it("prints an uncaught KeyboardInterrupt, waits for a non-daemon task, and exits 130 at a second SIGINT",
     function()
    local dir = h.tempdir()
    local function session(name, cmd, ready)
      -- files of its own: the next session must not read this one's
      local out, err, st, pidf = dir .. "/out" .. name, dir .. "/err" .. name, dir .. "/status" .. name,
        dir .. "/pid" .. name
      os.execute(string.format("(%s sh -c 'echo $$ > %s; exec %s' > %s 2> %s; echo $? > %s) &", SIGINT_DFL, q(pidf),
        cmd, q(out), q(err), q(st)))
      local function wait_file(path, pattern)
        for _ = 1, 250 do
          local text = h.read_file(path)
          if text and text:find(pattern) then return text end
          task.sleep(0.02)
        end
      end
      assert.is_not_nil(wait_file(out, ready))
      local pid = assert(tonumber(wait_file(pidf, "%d+"):match("%d+")))
      finally(function() os.execute("kill -KILL " .. pid .. " 2>/dev/null") end)
      os.execute("kill -INT " .. pid)
      local text = assert(wait_file(err, "KeyboardInterrupt"), "no traceback after the first SIGINT")
      task.sleep(0.3)
      local running = h.read_file(st) == nil
      os.execute("kill -INT " .. pid)
      local code = tonumber(wait_file(st, "%d+"))
      return text, running, code
    end
    local script = h.write_temp([[
local task = require "task"
task.spawn(function() task.sleep(20) end)
print("ready") io.stdout:flush()
task.sleep(20)
]], ".lua")
    local pyscript = h.write_temp([[
import threading, time
threading.Thread(target=time.sleep, args=(20,)).start()
print("ready", flush=True)
time.sleep(20)
]], ".py")
    local err, running, code = session("lua", q(h.moonsock) .. " " .. q(script), "ready")
    assert.matches("^" .. h.moonsock:gsub("%p", "%%%0") .. ": KeyboardInterrupt\nstack traceback:\n", err)
    assert.matches(q(script):gsub("'", ""):gsub("%p", "%%%0") .. ":4: in main chunk", err)
    local perr, prunning, pcode = session("py", "python3 " .. q(pyscript), "ready")
    assert.matches("KeyboardInterrupt", perr)
    assert.is_true(prunning)
    assert.is_true(running)
    assert.are.equal(pcode, code)
    assert.are.equal(130, code)
    os.execute("rm -rf " .. q(dir) .. " " .. q(script) .. " " .. q(pyscript))
  end)
end)

describe("blocking outside any task", function()
  it("runs the loop until the call completes (-e code is not a task)", function()
    local out, err, code = h.run(q(h.moonsock) .. [[ -e '
local socket, task = require "socket", require "task"
local s = socket.create_server({"127.0.0.1", 0})
local t = task.spawn(function() local c = socket.create_connection(s:getsockname()) c:sendall("x") c:close() end)
local conn = s:accept()
print(conn:recv(10), task.current() ~= nil)
t:join(5)']])
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("x\ttrue\n", out)
  end)

  it("fails with a clear error inside a non-yieldable context", function()
    local ok, err = pcall(table.sort, {3, 2, 1}, function(a, b) task.sleep(0) return a < b end)
    assert.is_false(ok)
    assert.matches("non%-yieldable", tostring(err))
  end)

  it("still parks across pcall, xpcall and user coroutines inside a task", function()
    local a, b = socket.socketpair()
    local t = task.spawn(function()
      local ok1, v1 = pcall(function() return a:recv(10) end)
      local ok2, v2 = xpcall(function() return a:recv(10) end, debug.traceback)
      local co = coroutine.wrap(function() return a:recv(10) end)
      local v3 = co()
      local co2 = coroutine.create(function() coroutine.yield("own") return a:recv(10) end)
      local _, own = coroutine.resume(co2)
      local _, v4 = coroutine.resume(co2)
      return ok1, v1, ok2, v2, v3, own, v4
    end)
    for _, msg in ipairs {"one", "two", "three", "four"} do
      task.sleep(0.01)
      b:send(msg)
    end
    assert.are.same({true, "one", true, "two", "three", "own", "four"}, {t:join(5)})
    a:close(); b:close()
  end)
end)
