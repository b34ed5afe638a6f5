-- moonsock.posix: fork, a waitpid that parks only its task, _exit, getpid,
-- getppid, kill and the wait-status helpers. The references are the kernel
-- (/proc, the exit statuses it reports) and Python's os and signal modules.
local posix = require "moonsock.posix"
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local helpers = require "spec.support.helpers"

local TIMEOUT = 5

-- Python's answers, one value per line.
local function python_lines(code)
  local out = helpers.python(code)
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines
end

-- Runs fn in a child process, which ends with _exit(fn's result or 0), or
-- _exit(99) if fn raised: a child never returns into busted.
local function spawn_child(fn)
  local pid = posix.fork()
  if pid == 0 then
    local ok, code = pcall(fn)
    posix._exit(ok and (code or 0) or 99)
  end
  return pid
end

-- A field of /proc/PID/stat (1-based, after the command name).
local function proc_stat(pid, field)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local rest = text:match("%) (.*)$")
  local fields = {}
  for v in rest:gmatch("%S+") do fields[#fields + 1] = v end
  return fields[field - 2]
end

-- Waits for pid with a bound: the test fails rather than hangs.
local function reap(pid)
  local deadline = task.now() + TIMEOUT
  while task.now() < deadline do
    local r, status = posix.waitpid(pid, posix.WNOHANG)
    if r == pid then return status end
    task.sleep(0.01)
  end
  posix.kill(pid, posix.SIGKILL)
  posix.waitpid(pid, 0)
  error("child " .. pid .. " did not end")
end

describe("moonsock.posix constants", function()
  it("has Python's values for WNOHANG and the signals", function()
    local names = {"WNOHANG", "SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGCHLD", "SIGUSR1", "SIGUSR2"}
    local expected = python_lines([[
import os, signal
print(os.WNOHANG)
for n in ["SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGCHLD", "SIGUSR1", "SIGUSR2"]:
    print(int(getattr(signal, n)))
]])
    for i, name in ipairs(names) do
      assert.are.equal(tonumber(expected[i]), posix[name], name)
    end
  end)
end)

describe("moonsock.posix.getpid/getppid", function()
  it("are the kernel's pid and parent pid of this process", function()
    assert.are.equal(helpers.getpid(), posix.getpid())
    assert.are.equal(tonumber(proc_stat("self", 4)), posix.getppid())
  end)
end)

describe("moonsock.posix.fork", function()
  it("returns 0 in the child and the child's pid in the parent", function()
    local a, b = socket.socketpair()
    a:settimeout(TIMEOUT)
    local parent = posix.getpid()
    local pid = spawn_child(function()
      b:sendall(string.format("%d %d", posix.getpid(), posix.getppid()))
      return 0
    end)
    assert.is_true(pid > 0)
    assert.are_not.equal(parent, pid)
    local reply = a:recv(100)
    local cpid, cppid = reply:match("(%d+) (%d+)")
    assert.are.equal(pid, tonumber(cpid))
    assert.are.equal(parent, tonumber(cppid))
    -- The kernel agrees: the child's parent is this process.
    assert.are.equal(tostring(parent), proc_stat(pid, 4))
    local status = reap(pid)
    assert.is_true(posix.WIFEXITED(status))
    assert.are.equal(0, posix.WEXITSTATUS(status))
    a:close()
    b:close()
  end)

  it("runs only the forking task in the child", function()
    local a, b = socket.socketpair()
    a:settimeout(TIMEOUT)
    b:settimeout(TIMEOUT)
    -- Another task that reports the pid it runs in, again and again.
    local ticker = task.spawn(function()
      for _ = 1, 20 do
        b:sendall(string.format("%d\n", posix.getpid()))
        task.sleep(0.01)
      end
    end)
    task.sleep(0.02) -- the ticker is parked in its sleep when we fork
    local pid = spawn_child(function()
      -- Long enough for the ticker to tick several times if it ran here.
      task.sleep(0.3)
      return 0
    end)
    local status = reap(pid)
    ticker:join(TIMEOUT)
    b:close()
    local f = a:makefile("r")
    local pids, n = {}, 0
    for line in f:lines() do
      pids[tonumber(line)] = true
      n = n + 1
    end
    f:close()
    a:close()
    assert.are.equal(20, n)
    assert.are.same({[posix.getpid()] = true}, pids)
    assert.is_true(posix.WIFEXITED(status))
    assert.are.equal(0, posix.WEXITSTATUS(status))
  end)

  it("flushes buffered output first, so it is not written twice (as with os._exit in Python)", function()
    local script = [[
      local posix = require "moonsock.posix"
      io.write("before\n")
      local pid = posix.fork()
      if pid == 0 then posix._exit(0) end
      posix.waitpid(pid, 0)
      io.write("after\n")
    ]]
    local out, _, code = helpers.moonsock_script(script)
    local pyout = helpers.python([[
import os, sys
print("before")
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("after")
]])
    assert.are.equal(pyout, out)
    assert.are.equal(0, code)
  end)
end)

describe("moonsock.posix._exit", function()
  it("ends the process with the status at once, without flushing, as os._exit", function()
    for _, n in ipairs {0, 3, 255} do
      local out, _, code = helpers.moonsock_script(string.format([[
        io.stdout:write("lost")
        require("moonsock.posix")._exit(%d)
        print("not reached")
      ]], n))
      local pyout, _, pycode = helpers.run(string.format(
        -- Python's default buffering: this environment may set PYTHONUNBUFFERED.
        "env -u PYTHONUNBUFFERED python3 -c 'import os, sys; sys.stdout.write(\"lost\"); os._exit(%d)'", n))
      assert.are.equal(pyout, out)
      assert.are.equal(pycode, code)
      assert.are.equal(n, code)
    end
  end)

  it("gives the parent the status through waitpid", function()
    for _, n in ipairs {0, 1, 42, 255} do
      local pid = spawn_child(function() return n end)
      local r, status = posix.waitpid(pid, 0)
      assert.are.equal(pid, r)
      assert.is_true(posix.WIFEXITED(status))
      assert.is_false(posix.WIFSIGNALED(status))
      assert.are.equal(n, posix.WEXITSTATUS(status))
      assert.are.equal(n, posix.waitstatus_to_exitcode(status))
    end
  end)
end)

describe("moonsock.posix.waitpid", function()
  it("without WNOHANG parks only its task until the child ends", function()
    local pid = spawn_child(function()
      task.sleep(0.3)
      return 5
    end)
    local ticks = 0
    local ticker = task.spawn(function()
      for _ = 1, 100 do
        ticks = ticks + 1
        task.sleep(0.01)
      end
    end)
    local t0 = task.now()
    local r, status = posix.waitpid(pid, 0)
    local waited = task.now() - t0
    assert.are.equal(pid, r)
    assert.are.equal(5, posix.WEXITSTATUS(status))
    assert.is_true(waited >= 0.2, "returned before the child ended")
    -- The ticker went on while this task waited.
    assert.is_true(ticks >= 10, "other task ran only " .. ticks .. " times")
    ticker:cancel()
    pcall(ticker.join, ticker, TIMEOUT)
  end)

  it("with WNOHANG returns 0, 0 while the child runs, then its pid and status", function()
    local a, b = socket.socketpair()
    a:settimeout(TIMEOUT)
    b:settimeout(TIMEOUT)
    local pid = spawn_child(function()
      b:recv(1) -- runs until told to end
      return 7
    end)
    local r, status = posix.waitpid(pid, posix.WNOHANG)
    assert.are.equal(0, r)
    assert.are.equal(0, status)
    -- The kernel says it is not a zombie yet.
    assert.are_not.equal("Z", proc_stat(pid, 3))
    a:sendall("x")
    status = reap(pid)
    assert.are.equal(7, posix.WEXITSTATUS(status))
    -- Reaped: no zombie left behind.
    assert.is_nil(proc_stat(pid, 3))
    a:close()
    b:close()
  end)

  it("with pid -1 reaps any child", function()
    local pid = spawn_child(function() return 9 end)
    local r, status = posix.waitpid(-1, 0)
    assert.are.equal(pid, r)
    assert.are.equal(9, posix.WEXITSTATUS(status))
  end)

  it("raises ChildProcessError (ECHILD, Python's errno) for a pid that is no child", function()
    local expected = python_lines([[
import errno, os
try:
    os.waitpid(1, 0)
except ChildProcessError as e:
    print(e.errno)
    print(e)
]])
    local ok, err = pcall(posix.waitpid, 1, 0)
    assert.is_false(ok)
    assert.is_true(errors.ChildProcessError:matches(err))
    assert.are.equal(tonumber(expected[1]), err.errno)
    assert.are.equal(expected[2], tostring(err))
    local ok2, err2 = pcall(posix.waitpid, 1, posix.WNOHANG)
    assert.is_false(ok2)
    assert.is_true(errors.ChildProcessError:matches(err2))
  end)

  it("can be cancelled while it waits", function()
    local a, b = socket.socketpair()
    local pid = spawn_child(function()
      b:recv(1)
      return 0
    end)
    local waiter = task.spawn(posix.waitpid, pid, 0)
    task.sleep(0.05)
    waiter:cancel()
    local ok, err = pcall(waiter.join, waiter, TIMEOUT)
    assert.is_false(ok)
    assert.is_true(errors.Cancelled:matches(err))
    a:sendall("x")
    reap(pid)
    a:close()
    b:close()
  end)
end)

describe("moonsock.posix.kill", function()
  it("sends a signal: the status says which, as Python's os functions read it", function()
    local a, b = socket.socketpair()
    local pid = spawn_child(function()
      b:recv(1)
      return 0
    end)
    posix.kill(pid, posix.SIGTERM)
    local status = reap(pid)
    local expected = python_lines(string.format([[
import os
s = %d
print(os.WIFEXITED(s), os.WIFSIGNALED(s), os.WTERMSIG(s), os.waitstatus_to_exitcode(s))
]], status))
    assert.are.equal(expected[1], string.format("%s %s %d %d",
      posix.WIFEXITED(status) and "True" or "False", posix.WIFSIGNALED(status) and "True" or "False",
      posix.WTERMSIG(status), posix.waitstatus_to_exitcode(status)))
    assert.are.equal(posix.SIGTERM, posix.WTERMSIG(status))
    assert.are.equal(-posix.SIGTERM, posix.waitstatus_to_exitcode(status))
    a:close()
    b:close()
  end)

  it("with signal 0 only checks, and raises ProcessLookupError for no such process", function()
    posix.kill(posix.getpid(), 0)
    local pid = spawn_child(function() return 0 end)
    reap(pid)
    -- A reaped pid is free; the kernel may reuse it, but not this soon.
    local ok, err = pcall(posix.kill, pid, 0)
    assert.is_false(ok)
    assert.is_true(errors.ProcessLookupError:matches(err))
    local expected = python_lines(string.format([[
try:
    import os
    os.kill(%d, 0)
except ProcessLookupError as e:
    print(e.errno)
]], pid))
    assert.are.equal(tonumber(expected[1]), err.errno)
  end)
end)

describe("moonsock.posix wait-status helpers", function()
  it("give what Python's os module gives for the same statuses", function()
    -- Exits, signals (with and without core dump), a stopped and a continued status.
    local statuses = {0, 256, 768, 0xff00, 1, 9, 15, 0x80 | 11, 0x137f, 0xffff}
    local code = {"import os", "for s in [" .. table.concat(statuses, ", ") .. "]:",
      "    try: e = os.waitstatus_to_exitcode(s)",
      "    except ValueError as x: e = 'ValueError: ' + str(x)",
      "    print(os.WIFEXITED(s), os.WEXITSTATUS(s), os.WIFSIGNALED(s), os.WTERMSIG(s), e, sep='|')"}
    local expected = python_lines(table.concat(code, "\n") .. "\n")
    for i, s in ipairs(statuses) do
      local ok, e = pcall(posix.waitstatus_to_exitcode, s)
      if not ok then
        assert.is_true(errors.ValueError:matches(e))
        e = "ValueError: " .. tostring(e)
      end
      local got = string.format("%s|%d|%s|%d|%s", posix.WIFEXITED(s) and "True" or "False",
        posix.WEXITSTATUS(s), posix.WIFSIGNALED(s) and "True" or "False", posix.WTERMSIG(s), tostring(e))
      assert.are.equal(expected[i], got, "status " .. s)
    end
  end)
end)

describe("moonsock.posix bad arguments", function()
  it("name the argument and the function", function()
    local cases = {
      {posix.waitpid, {"x", 0}, "bad argument #1 to '[%w.]*waitpid' %(number expected, got string%)"},
      {posix.waitpid, {1}, "bad argument #2 to '[%w.]*waitpid' %(number expected, got no value%)"},
      {posix.kill, {1.5, 0}, "bad argument #1 to '[%w.]*kill' %(number has no integer representation%)"},
      {posix.kill, {1, {}}, "bad argument #2 to '[%w.]*kill' %(number expected, got table%)"},
      {posix._exit, {"no"}, "bad argument #1 to '[%w.]*_exit' %(number expected, got string%)"},
      {posix.WIFEXITED, {}, "bad argument #1 to '[%w.]*WIFEXITED' %(number expected, got no value%)"},
      {posix.waitpid, {1 << 40, 0}, "bad argument #1 to '[%w.]*waitpid' %(value out of range%)"},
    }
    for _, c in ipairs(cases) do
      local ok, err = pcall(c[1], table.unpack(c[2]))
      assert.is_false(ok)
      assert.matches(c[3], tostring(err))
    end
  end)
end)

describe("moonsock.posix.umask", function()
  it("sets the mask and returns the previous one, as os.umask", function()
    local h = require "spec.support.helpers"
    local py = h.python("import os\nold = os.umask(0o27)\nprint(os.umask(old) == 0o27)")
    local old = posix.umask(tonumber("27", 8))
    local back = posix.umask(old)
    assert.are.equal(py, tostring(back == tonumber("27", 8)):gsub("^%l", string.upper) .. "\n")
    assert.has_error(function() posix.umask(-1) end)
  end)
end)
