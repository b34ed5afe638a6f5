-- Python's signal module (issue 16). What Python answers (texts, numbers,
-- default handlers, timer values, errors) is asked of python3; what signals
-- do is watched in child processes, each started with every signal at its
-- default (`env --default-signal`) and bounded by `timeout`, so that no
-- disposition of busted's process is changed and no wait can hang.
local signal = require "signal"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

local q = h.shell_quote

-- Runs code in a fresh moonsock; returns its stdout, stderr and exit status
-- (128 + n when signal n ended it).
local function child(code, limit, env)
  local path = h.write_temp(code, ".lua")
  local out, err = h.run(string.format("{ %s env --default-signal timeout %d %s %s; echo \"status=$?\"; }",
    env or "", limit or 10, q(h.moonsock), q(path)))
  os.remove(path)
  local status = tonumber(out:match("status=(%d+)\n$"))
  return out:gsub("status=%d+\n$", ""), err, status
end

local function python(code)
  local path = h.write_temp(code, ".py")
  local out = h.run("env --default-signal python3 " .. q(path))
  os.remove(path)
  return out
end

local function lines(text)
  local out = {}
  for l in text:gmatch("[^\n]+") do out[#out + 1] = l end
  return out
end

describe("signal, against python3", function()
  it("has Python's signal names and numbers", function()
    local want = {}
    for name, n in python("import signal\nfor n in dir(signal):\n"
      .. "    if n.isupper(): print(n, int(getattr(signal, n)))\n"):gmatch("(%S+) (%d+)") do
      want[name] = tonumber(n)
    end
    local have = {}
    for name, v in pairs(signal) do
      if name:match("^[A-Z][A-Z0-9_]*$") and math.type(v) == "integer" then have[name] = v end
    end
    assert.are.same(want, have)
  end)

  it("strsignal gives Python's text for every number, nil where Python gives None", function()
    local want = python("import signal\nfor n in range(1, signal.NSIG): print(n, signal.strsignal(n))\n")
    local have = {}
    for n = 1, signal.NSIG - 1 do have[#have + 1] = n .. " " .. tostring(signal.strsignal(n) or "None") end
    assert.are.equal(want, table.concat(have, "\n") .. "\n")
  end)

  it("valid_signals is Python's set, sorted", function()
    local want = python("import signal\nprint(' '.join(str(int(s)) for s in sorted(signal.valid_signals())))\n")
    assert.are.equal(want, table.concat(signal.valid_signals(), " ") .. "\n")
  end)

  it("getsignal answers Python's defaults: default_int_handler for SIGINT, SIG_DFL, SIG_IGN", function()
    local want = python([[
import signal
for s in sorted(signal.valid_signals()):
    h = signal.getsignal(s)
    print(s, 'int' if h is signal.default_int_handler else 'None' if h is None else int(h))
]])
    local out = child([[
local signal = require "signal"
for _, s in ipairs(signal.valid_signals()) do
  local h = signal.getsignal(s)
  print(s, h == signal.default_int_handler and "int" or h == nil and "None" or h)
end]], nil,
      -- the sanitizer build's own SIGSEGV, SIGBUS and SIGFPE handlers would
      -- be foreign handlers (None), as they would be in Python
      'ASAN_OPTIONS="${ASAN_OPTIONS:-}:handle_segv=0:handle_sigbus=0:handle_sigfpe=0"')
    assert.are.equal(want, (out:gsub("\t", " ")))
  end)

  it("signal() returns the previous handler as Python's does", function()
    local want = python([[
import signal
print(int(signal.signal(signal.SIGUSR1, signal.SIG_IGN)))
print(int(signal.signal(signal.SIGUSR1, signal.SIG_DFL)))
f = lambda s, fr: None
print(int(signal.signal(signal.SIGUSR1, f)))
print(signal.signal(signal.SIGUSR1, signal.SIG_DFL) is f)
]])
    local out = child([[
local signal = require "signal"
print(signal.signal(signal.SIGUSR1, signal.SIG_IGN))
print(signal.signal(signal.SIGUSR1, signal.SIG_DFL))
local f = function() end
print(signal.signal(signal.SIGUSR1, f))
print(signal.signal(signal.SIGUSR1, signal.SIG_DFL) == f and "True" or "False")]])
    assert.are.equal(want, out)
  end)

  it("raises Python's errors for bad signal numbers and handlers", function()
    local want = lines(python([[
import signal
def show(f):
    try:
        r = f()
        print('ok', r)
    except Exception as e:
        print(type(e).__name__ + ': ' + str(e))
for n in (0, signal.NSIG, -1):
    show(lambda: signal.signal(n, signal.SIG_IGN))
    show(lambda: signal.getsignal(n))
    show(lambda: signal.strsignal(n))
for n in (signal.SIGKILL, signal.SIGSTOP):
    show(lambda: signal.signal(n, signal.SIG_IGN))
    show(lambda: signal.signal(n, lambda s, f: None))
show(lambda: signal.setitimer(99, 1.0))
show(lambda: signal.setitimer(signal.ITIMER_REAL, -1.0))
show(lambda: signal.getitimer(99))
show(lambda: signal.pthread_sigmask(99, []))
show(lambda: signal.pthread_sigmask(signal.SIG_BLOCK, [0]))
show(lambda: signal.raise_signal(signal.NSIG + 1))
]]))
    local function show(f, ...)
      local ok, err = pcall(f, ...)
      if ok then return "ok " .. tostring(err) end
      if signal.ItimerError:matches(err) then return "itimer_error: " .. tostring(err) end
      for _, cls in ipairs {"ValueError", "OSError"} do
        if errors[cls]:matches(err) then return cls .. ": " .. tostring(err) end
      end
      return "other: " .. tostring(err)
    end
    local have = {}
    for _, n in ipairs {0, signal.NSIG, -1} do
      have[#have + 1] = show(signal.signal, n, signal.SIG_IGN)
      have[#have + 1] = show(signal.getsignal, n)
      have[#have + 1] = show(signal.strsignal, n)
    end
    for _, n in ipairs {signal.SIGKILL, signal.SIGSTOP} do
      have[#have + 1] = show(signal.signal, n, signal.SIG_IGN)
      have[#have + 1] = show(signal.signal, n, function() end)
    end
    have[#have + 1] = show(signal.setitimer, 99, 1.0)
    have[#have + 1] = show(signal.setitimer, signal.ITIMER_REAL, -1.0)
    have[#have + 1] = show(signal.getitimer, 99)
    have[#have + 1] = show(signal.pthread_sigmask, 99, {})
    have[#have + 1] = show(signal.pthread_sigmask, signal.SIG_BLOCK, {0})
    have[#have + 1] = show(signal.raise_signal, signal.NSIG + 1)
    assert.are.same(want, have)
    -- ItimerError is an OSError, as Python's.
    assert.is_true(errors.OSError:matches(select(2, pcall(signal.getitimer, 99))))
    -- A handler that is neither SIG_DFL, SIG_IGN nor callable: Python's TypeError text.
    local ok, err = pcall(signal.signal, signal.SIGUSR1, 7)
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'signal' %(signal handler must be signal.SIG_IGN, signal.SIG_DFL, "
      .. "or a callable object%)", err)
    ok, err = pcall(signal.signal, "10", signal.SIG_DFL)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'signal' %(integer expected, got string%)", err)
  end)

  it("alarm, setitimer and getitimer return what Python's do", function()
    local code = [[
REAL, VIRTUAL, PROF = 0, 1, 2
print(alarm(0)); print(alarm(100)); print(alarm(0))
for which in (REAL, VIRTUAL, PROF):
    print(fmt(setitimer(which, 50.0, 2.5)))
    print(fmt(getitimer(which)))
    print(fmt(setitimer(which, 0)))
    print(fmt(getitimer(which)))
]]
    -- Timers run down: the values are compared to the second.
    local want = python("from signal import alarm, setitimer, getitimer\n"
      .. "fmt = lambda t: '%.0f %.1f' % t\n" .. code)
    local out = child([[
local signal = require "signal"
local alarm, setitimer, getitimer = signal.alarm, signal.setitimer, signal.getitimer
local function fmt(a, b) return string.format("%.0f %.1f", a, b) end
print(alarm(0)) print(alarm(100)) print(alarm(0))
for _, which in ipairs {signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF} do
  print(fmt(setitimer(which, 50.0, 2.5)))
  print(fmt(getitimer(which)))
  print(fmt(setitimer(which, 0)))
  print(fmt(getitimer(which)))
end]])
    assert.are.equal(want, out)
  end)
end)

describe("signal handlers", function()
  it("run when the process signals itself and when another process signals it", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
local posix = require "moonsock.posix"
local got = {}
signal.signal(signal.SIGUSR1, function(s, frame) got[#got + 1] = {s, frame} end)
signal.raise_signal(signal.SIGUSR1)
for _ = 1, 200 do if #got == 1 then break end task.sleep(0.01) end
print("self", #got, got[1] and got[1][1], got[1] and got[1][2])
os.execute("kill -USR1 " .. posix.getpid())
for _ = 1, 200 do if #got == 2 then break end task.sleep(0.01) end
print("other", #got, got[2] and got[2][1])
-- No handler keeps the process alive: the script ends here.]])
    assert.are.equal("self\t1\t10\tnil\nother\t2\t10\n", out, err)
  end)

  it("that raise interrupt a sleep and a recv of the main task, with their error", function()
    local out, err = child([[
local signal, task, socket = require "signal", require "task", require "socket"
local posix = require "moonsock.posix"
signal.signal(signal.SIGUSR1, function() error("from the handler", 0) end)
local pid = posix.getpid()
local function later() os.execute("(sleep 0.2; kill -USR1 " .. pid .. ") &") end
later()
local t0 = task.now()
local ok, e = pcall(task.sleep, 5)
print("sleep", ok, e, task.now() - t0 < 3)
local a, b = socket.socketpair()
later()
t0 = task.now()
ok, e = pcall(a.recv, a, 10)
print("recv", ok, e, task.now() - t0 < 3)
-- SIGINT's default_int_handler raises KeyboardInterrupt the same way.
signal.signal(signal.SIGUSR1, signal.default_int_handler)
later()
ok, e = pcall(task.sleep, 5)
print("int", ok, require("moonsock.errors").KeyboardInterrupt:matches(e))]])
    assert.are.equal("sleep\tfalse\tfrom the handler\ttrue\nrecv\tfalse\tfrom the handler\ttrue\n"
      .. "int\tfalse\ttrue\n", out, err)
  end)

  it("that does not raise leaves the main task's wait going on", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
local n = 0
signal.signal(signal.SIGUSR1, function() n = n + 1 end)
local pid = require("moonsock.posix").getpid()
os.execute("(sleep 0.1; kill -USR1 " .. pid .. ") &")
local t0 = task.now()
task.sleep(0.5)
print(n, task.now() - t0 >= 0.5)]])
    assert.are.equal("1\ttrue\n", out, err)
  end)

  it("cannot block: a handler that parks raises in the main task", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
signal.signal(signal.SIGUSR1, function() task.sleep(0.01) end)
signal.raise_signal(signal.SIGUSR1)
print(pcall(task.sleep, 2))]])
    assert.matches("^false\t.*cannot block here", out, nil, err)
  end)

  it("SIG_IGN ignores the signal, and a child process inherits it", function()
    local out, err, status = child([[
local signal = require "signal"
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.raise_signal(signal.SIGUSR1)
os.execute("kill -USR1 " .. require("moonsock.posix").getpid())
require("task").sleep(0.05)
local p = io.popen("grep SigIgn /proc/self/status")
print(p:read("a"))
p:close()]])
    assert.are.equal(0, status, err)
    local mask = tonumber(out:match("SigIgn:%s*(%x+)"), 16)
    assert.is_number(mask)
    assert.are.equal(1 << (signal.SIGUSR1 - 1), mask & (1 << (signal.SIGUSR1 - 1)))
  end)

  it("SIG_DFL restored after a handler ends the process with the signal", function()
    local out, _, status = child([[
local signal = require "signal"
signal.signal(signal.SIGUSR1, function() end)
signal.signal(signal.SIGUSR1, signal.SIG_DFL)
signal.raise_signal(signal.SIGUSR1)
require("task").sleep(1)
print("survived")]])
    assert.are.equal("", out)
    assert.are.equal(128 + signal.SIGUSR1, status)
  end)

  it("on SIGINT replace KeyboardInterrupt; default_int_handler brings it back, exit status 130", function()
    local dir = h.tempdir()
    local script = h.write_temp(string.format([[
local signal, task = require "signal", require "task"
local seen = 0
signal.signal(signal.SIGINT, function() seen = seen + 1 end)
local f = io.open(%q, "w") f:write("1 ", require("moonsock.posix").getpid()) f:close()
for _ = 1, 500 do if seen > 0 then break end task.sleep(0.01) end
print("handled", seen)
io.stdout:flush()
signal.signal(signal.SIGINT, signal.default_int_handler)
f = io.open(%q, "w") f:write("2") f:close()
-- Busy in Lua code: only the native handler can stop it.
local t0 = os.time()
while os.time() - t0 < 8 do end
print("not interrupted")
]], dir .. "/step", dir .. "/step"), ".lua")
    finally(function() os.execute("pkill -KILL -f " .. q(script) .. " 2>/dev/null") os.remove(script) end)
    -- Not under timeout(1), which would pass the SIGINT on: the script ends
    -- by itself within 13 s.
    os.execute(string.format("(env --default-signal %s %s >%s/out 2>%s/err; echo $? > %s/status) &",
      q(h.moonsock), q(script), q(dir), q(dir), q(dir)))
    local task = require "task"
    local function wait_file(name, want)
      for _ = 1, 500 do
        local f = io.open(dir .. "/" .. name)
        local text = f and f:read("a") or ""
        if f then f:close() end
        if text ~= "" and (not want or text:find(want)) then return text end
        task.sleep(0.02)
      end
    end
    local pid = (wait_file("step", "^1") or ""):match("^1 (%d+)")
    assert.is_not_nil(pid)
    os.execute("kill -INT " .. pid)
    assert.is_not_nil(wait_file("step", "2"))
    task.sleep(0.2)
    os.execute("kill -INT " .. pid)
    local status = wait_file("status")
    assert.are.equal("130\n", status)
    assert.are.equal("handled\t1\n", wait_file("out"))
    assert.matches("KeyboardInterrupt", wait_file("err"))
    os.execute("rm -rf " .. q(dir))
  end)
end)

describe("signal.wait (moonsock's own)", function()
  it("parks only its task until one of the signals comes", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
local ticks = 0
local ticker = task.spawn(function() while true do ticks = ticks + 1 task.sleep(0.01) end end)
local pid = require("moonsock.posix").getpid()
os.execute("(sleep 0.3; kill -USR2 " .. pid .. ") &")
local t0 = task.now()
local got = signal.wait({signal.SIGUSR1, signal.SIGUSR2}, 5)
print(got, ticks >= 10, task.now() - t0 < 3)
-- The disposition is back: SIGUSR2's default would end the process.
print(signal.getsignal(signal.SIGUSR2))
ticker:cancel()]])
    assert.are.equal("12\ttrue\ttrue\n0\n", out, err)
  end)

  it("returns nil once the timeout passed, in a task and outside any task", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
local t0 = task.now()
print(signal.wait({signal.SIGUSR1}, 0.1), task.now() - t0 >= 0.1)
print(signal.wait({signal.SIGUSR1}, 0))]])
    assert.are.equal("nil\ttrue\nnil\n", out, err)
    local eout, eerr = h.run("env --default-signal timeout 10 " .. q(h.moonsock)
      .. " -e " .. q("local s = require 'signal' print(s.wait({s.SIGUSR1}, 0), s.wait({s.SIGUSR1}, 0.05))"))
    assert.are.equal("nil\tnil\n", eout, eerr)
  end)

  it("takes the signal from the handler while it waits; the handler has it again after", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
local n = 0
signal.signal(signal.SIGUSR1, function() n = n + 1 end)
local w = task.spawn(function() return signal.wait({signal.SIGUSR1}, 5) end)
task.sleep(0.05)
signal.raise_signal(signal.SIGUSR1)
print(w:join(5), n)
signal.raise_signal(signal.SIGUSR1)
for _ = 1, 100 do if n > 0 then break end task.sleep(0.01) end
print(n)]])
    assert.are.equal("10\t0\n1\n", out, err)
  end)

  it("checks its arguments", function()
    assert.has_error(function() signal.wait(10) end, nil)
    local ok, err = pcall(signal.wait, {})
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'wait'", err)
    ok, err = pcall(signal.wait, {0})
    assert.is_false(ok)
    assert.are.equal("signal number out of range", tostring(err))
    ok, err = pcall(signal.wait, {10}, -1)
    assert.is_false(ok)
    assert.matches("timeout must be non%-negative", err)
  end)
end)

describe("signal.pause and pthread_sigmask", function()
  it("pause returns once a handler has run", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
local n = 0
signal.signal(signal.SIGUSR1, function() n = n + 1 end)
local pid = require("moonsock.posix").getpid()
os.execute("(sleep 0.1; kill -USR1 " .. pid .. ") &")
print(signal.pause(), n)]])
    assert.are.equal("nil\t1\n", out, err)
  end)

  it("pthread_sigmask holds a signal back until it is unblocked", function()
    local out, err = child([[
local signal, task = require "signal", require "task"
local n = 0
signal.signal(signal.SIGUSR1, function() n = n + 1 end)
print(#signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1}))
signal.raise_signal(signal.SIGUSR1)
task.sleep(0.05)
print(n, table.concat(signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1}), ","))
for _ = 1, 100 do if n > 0 then break end task.sleep(0.01) end
print(n)]])
    assert.are.equal("0\n0\t10\n1\n", out, err)
  end)
end)
