-- Python's subprocess module (lua/subprocess.lua): the same results and
-- error texts as python3's for the same commands, which the spec runs as
-- the reference; children that park only their task, leave no zombie and
-- inherit no fd of ours.
local subprocess = require "subprocess"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local task = require "task"
local helpers = require "spec.support.helpers"

local TIMEOUT = 10
local PIPE, STDOUT, DEVNULL = subprocess.PIPE, subprocess.STDOUT, subprocess.DEVNULL

-- python3's lines, one per case.
local function python_lines(code)
  local lines = {}
  for line in helpers.python("import subprocess, os\n" .. code):gmatch("[^\n]*\n") do
    lines[#lines + 1] = line:sub(1, -2)
  end
  return lines
end

-- "Class: text" of an error raised by fn, as Python's
-- print(type(e).__name__ + ': ' + str(e)).
local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "no error raised")
  local mt = getmetatable(err)
  assert(type(mt) == "table" and mt.__name, "not an exception: " .. tostring(err))
  return mt.__name .. ": " .. tostring(err), err
end

local PY_RAISED = [[
def raised(f):
    try:
        f()
    except Exception as e:
        return type(e).__name__ + ': ' + str(e)
    return 'no error'
]]

-- print(a, (b, c), d, e) of a Popen case below, as Python prints it.
local function format_line(poll0, o, e, rc, poll1)
  return string.format("%s (%s, %s) %s %s", repr.repr(poll0), repr.bytes_literal(o), repr.repr(e),
    repr.repr(rc), repr.repr(poll1))
end

describe("subprocess results", function()
  it("match python3's for run, check_output, call, check_call and Popen", function()
    local expected = python_lines([[
print(repr(subprocess.run(['echo', 'hi'], capture_output=True)))
print(repr(subprocess.run(['echo', 'hi'], capture_output=True, text=True)))
print(repr(subprocess.run(['sh', '-c', 'exit 3'])))
print(subprocess.run('exit 3', shell=True).returncode)
print(repr(subprocess.check_output(['sh', '-c', 'echo out; echo err >&2'], stderr=subprocess.STDOUT)))
print(repr(subprocess.check_output('printf "a\\r\\nb\\rc"', shell=True, text=True)))
print(subprocess.call('exit 4', shell=True))
print(subprocess.check_call(['true']))
print(repr(subprocess.run(['cat'], input=b'abc', capture_output=True).stdout))
print(repr(subprocess.run(['cat'], stdin=subprocess.DEVNULL, capture_output=True).stdout))
print(repr(subprocess.run(['sh', '-c', 'echo x; echo y >&2'], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
print(repr(subprocess.run(['sh', '-c', 'echo $FOO'], env={'FOO': 'bar'}, capture_output=True).stdout))
print(repr(subprocess.run(['pwd'], cwd='/tmp', capture_output=True).stdout))
print(repr(subprocess.run(['sh', '-c', 'kill -9 $$'])))
p = subprocess.Popen(['cat'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
print(p.poll(), repr(p.communicate(b'zz')), p.returncode, p.poll())
p = subprocess.Popen(['sleep', '5'])
p.terminate()
print(p.wait())
p = subprocess.Popen(['sleep', '5'])
p.kill()
print(p.wait(), p.wait())
p = subprocess.Popen(['sh', '-c', 'echo o; echo e >&2'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
print(repr(p.stdout.read()), repr(p.stderr.read()), p.wait())
]])
    local function show(v) return type(v) == "string" and repr.bytes_literal(v) or repr.repr(v) end
    local got = {}
    local function out(s) got[#got + 1] = s end
    out(tostring(subprocess.run({"echo", "hi"}, {capture_output = true})))
    out(tostring(subprocess.run({"echo", "hi"}, {capture_output = true, text = true})))
    out(tostring(subprocess.run({"sh", "-c", "exit 3"})))
    out(tostring(subprocess.run("exit 3", {shell = true}).returncode))
    out(show(subprocess.check_output({"sh", "-c", "echo out; echo err >&2"}, {stderr = STDOUT})))
    out(repr.repr(subprocess.check_output('printf "a\\r\\nb\\rc"', {shell = true, text = true})))
    out(tostring(subprocess.call("exit 4", {shell = true})))
    out(tostring(subprocess.check_call({"true"})))
    out(show(subprocess.run({"cat"}, {input = "abc", capture_output = true}).stdout))
    out(show(subprocess.run({"cat"}, {stdin = DEVNULL, capture_output = true}).stdout))
    out(tostring(subprocess.run({"sh", "-c", "echo x; echo y >&2"}, {stdout = DEVNULL, stderr = PIPE})))
    out(show(subprocess.run({"sh", "-c", "echo $FOO"}, {env = {FOO = "bar"}, capture_output = true}).stdout))
    out(show(subprocess.run({"pwd"}, {cwd = "/tmp", capture_output = true}).stdout))
    out(tostring(subprocess.run({"sh", "-c", "kill -9 $$"})))
    local p = subprocess.Popen({"cat"}, {stdin = PIPE, stdout = PIPE})
    local poll0 = p:poll()
    local o, e = p:communicate("zz")
    out(format_line(poll0, o, e, p.returncode, p:poll()))
    p = subprocess.Popen({"sleep", "5"})
    p:terminate()
    out(tostring(p:wait()))
    p = subprocess.Popen({"sleep", "5"})
    p:kill()
    out(p:wait() .. " " .. p:wait())
    p = subprocess.Popen({"sh", "-c", "echo o; echo e >&2"}, {stdout = PIPE, stderr = PIPE})
    out(show(p.stdout:read("a")) .. " " .. show(p.stderr:read("a")) .. " " .. p:wait())
    assert.are.same(expected, got)
  end)
end)

describe("subprocess errors", function()
  it("raise python3's exceptions with its texts and fields", function()
    local expected = python_lines(PY_RAISED .. [[
print(raised(lambda: subprocess.check_call(['false'])))
print(raised(lambda: subprocess.check_call(['sh', '-c', 'kill -9 $$'])))
print(raised(lambda: subprocess.check_call(['sh', '-c', 'kill -64 $$'])))
print(raised(lambda: subprocess.check_output('echo partial; exit 2', shell=True)))
try:
    subprocess.run('echo partial; exit 2', shell=True, capture_output=True, check=True)
except subprocess.CalledProcessError as e:
    print(e.returncode, repr(e.cmd), repr(e.output), repr(e.stdout), repr(e.stderr))
print(raised(lambda: subprocess.run('sleep 5', shell=True, timeout=0.5, capture_output=True)))
print(raised(lambda: subprocess.Popen(['sleep', '5']).wait(0.5)))
print(raised(lambda: subprocess.run(['nonexistent-command-x'])))
print(raised(lambda: subprocess.run(['true'], cwd='/nonexistent-dir-x')))
print(raised(lambda: subprocess.run(['ls', 3])))
print(raised(lambda: subprocess.run(3)))
print(raised(lambda: subprocess.run(['true'], capture_output=True, stdout=1)))
print(raised(lambda: subprocess.run(['cat'], input=b'x', stdin=subprocess.PIPE)))
print(raised(lambda: subprocess.check_output(['true'], stdout=1)))
print(raised(lambda: subprocess.run(['true'], foo=1)))
print(issubclass(subprocess.CalledProcessError, subprocess.SubprocessError),
      issubclass(subprocess.TimeoutExpired, subprocess.SubprocessError),
      issubclass(subprocess.SubprocessError, Exception))
]])
    local got = {}
    local function out(s) got[#got + 1] = s end
    out(raised(subprocess.check_call, {"false"}))
    out(raised(subprocess.check_call, {"sh", "-c", "kill -9 $$"}))
    out(raised(subprocess.check_call, {"sh", "-c", "kill -64 $$"}))
    out(raised(subprocess.check_output, "echo partial; exit 2", {shell = true}))
    local _, e = raised(subprocess.run, "echo partial; exit 2", {shell = true, capture_output = true, check = true})
    out(string.format("%d %s %s %s %s", e.returncode, repr.repr(e.cmd), repr.bytes_literal(e.output),
      repr.bytes_literal(e.stdout), repr.bytes_literal(e.stderr)))
    out(raised(subprocess.run, "sleep 5", {shell = true, timeout = 0.5, capture_output = true}))
    out(raised(function() subprocess.Popen({"sleep", "5"}):wait(0.5) end))
    out(raised(subprocess.run, {"nonexistent-command-x"}))
    out(raised(subprocess.run, {"true"}, {cwd = "/nonexistent-dir-x"}))
    out(raised(subprocess.run, {"ls", 3}))
    out(raised(subprocess.run, 3))
    out(raised(subprocess.run, {"true"}, {capture_output = true, stdout = 1}))
    out(raised(subprocess.run, {"cat"}, {input = "x", stdin = PIPE}))
    out(raised(subprocess.check_output, {"true"}, {stdout = 1}))
    out(raised(subprocess.run, {"true"}, {foo = 1}))
    local S = subprocess.SubprocessError
    out(string.format("%s %s %s", S:matches(subprocess.CalledProcessError(1, "x")) and "True" or "False",
      S:matches(subprocess.TimeoutExpired("x", 1)) and "True" or "False",
      errors.Exception:matches(S("x")) and "True" or "False"))
    assert.are.same(expected, got)
  end)

  it("gives the file name of a missing command in the error's filename, as Python", function()
    local _, e = raised(subprocess.run, {"nonexistent-command-x"})
    assert.is_true(errors.FileNotFoundError:matches(e))
    assert.are.equal(2, e.errno)
    assert.are.equal("nonexistent-command-x", e.filename)
  end)

  it("keeps the output read before a timeout for the next communicate", function()
    local p = subprocess.Popen({"sh", "-c", "echo early; sleep 0.3; echo late"}, {stdout = PIPE})
    local _, e = raised(p.communicate, p, nil, 0.1)
    assert.are.equal("TimeoutExpired: Command '['sh', '-c', 'echo early; sleep 0.3; echo late']' "
      .. "timed out after 0.1 seconds", _)
    assert.are.equal("early\n", e.stdout)
    local o = p:communicate(nil, TIMEOUT)
    assert.are.equal("early\nlate\n", o)
    assert.are.equal(0, p.returncode)
  end)
end)

-- The children of this process that are zombies, from /proc.
local function zombie_children()
  local me = helpers.getpid()
  local found = {}
  local p = io.popen("ls /proc")
  local names = p:read("a")
  p:close()
  for pid in names:gmatch("%d+") do
    local f = io.open("/proc/" .. pid .. "/stat")
    if f then
      local stat = f:read("a") or ""
      f:close()
      local state, ppid = stat:match("%) (%S) (%d+)")
      if state == "Z" and tonumber(ppid) == me then found[#found + 1] = pid end
    end
  end
  return found
end

describe("subprocess children", function()
  it("pipe 1 MiB each through 10 cats at once while another task keeps running", function()
    local N, SIZE = 10, 1 << 20
    -- distinct bytes per child: a mix-up between pipes would show
    local inputs = {}
    for i = 1, N do
      local parts = {}
      for k = 1, SIZE // 8 do parts[k] = string.pack("<I4I4", i, k) end
      inputs[i] = table.concat(parts)
    end
    -- the million small strings just made are garbage: collected now, not
    -- in steps during the measure
    collectgarbage()
    -- The ten children start first: libuv's uv_spawn forks and waits for
    -- the exec on the loop, some ms per spawn (more the more memory this
    -- process holds), a stall of its own, measured apart.
    local PIPE_ALL = {stdin = PIPE, stdout = PIPE, stderr = PIPE}
    local s0 = task.now()
    local procs = {}
    for i = 1, N do procs[i] = subprocess.Popen({"cat"}, PIPE_ALL) end
    local spawning = task.now() - s0
    local ticker = helpers.ticker()
    local t0 = task.now()
    local workers = {}
    for i = 1, N do
      workers[i] = task.spawn(function()
        local out, err = procs[i]:communicate(inputs[i], 60)
        return procs[i].returncode, #out, out == inputs[i], err
      end)
    end
    for i = 1, N do
      local rc, len, same, err = workers[i]:join(60)
      assert.are.equal(0, rc)
      assert.are.equal(SIZE, len)
      assert.is_true(same)
      assert.are.equal("", err)
    end
    local elapsed = task.now() - t0
    local ticks, longest = ticker.stop().ticks, ticker.longest
    -- The ticker ran all along: no gap between its ticks long enough to be
    -- a blocked loop. Each tick also waits for a round of the 30 tasks
    -- moving data, so it ticks slower than every 10 ms; the bounds leave
    -- room for a machine shared with other work.
    local report = string.format("10 spawns in %.3f s; 10 MiB through cat in %.3f s, %d ticks, longest gap %.3f s",
      spawning, elapsed, ticks, longest)
    print("# " .. report)
    assert.is_true(ticks >= 3, report)
    -- (0.05-0.13 s alone on this machine, 0.25 s once in a whole-suite
    -- run on 2 busy cores; a loop blocked by a pipe would stall for the
    -- rest of the transfer and tick less than 3 times)
    assert.is_true(longest < 0.5, report)
    assert.are.same({}, zombie_children())
  end)

  it("leave no zombie, even when the Popen is dropped while the child runs", function()
    for _ = 1, 3 do subprocess.Popen({"sleep", "0.1"}) end
    collectgarbage()
    collectgarbage()
    task.sleep(0.4)
    assert.are.same({}, zombie_children())
    subprocess.run({"true"})
    subprocess.call("exit 3", {shell = true})
    pcall(subprocess.run, "sleep 5", {shell = true, timeout = 0.1})
    assert.are.same({}, zombie_children())
  end)

  it("inherit none of moonsock's fds, only their stdio", function()
    -- A fresh process: a child lists its fds (/proc/self/fd) before and
    -- after the script opened sockets, pipes and other children. An fd
    -- inherited from outside without close-on-exec passes to children, as
    -- in Lua's popen (libuv has no close_fds): the lists must be the same.
    local out, err, rc = helpers.moonsock_script([[
local subprocess = require "subprocess"
local socket = require "socket"
local function child_fds()
  return subprocess.run({"ls", "/proc/self/fd"}, {capture_output = true}).stdout
end
local before = child_fds()
local a, b = socket.socketpair()
local srv = socket.create_server({"127.0.0.1", 0})
local p = subprocess.Popen({"sleep", "1"}, {stdin = subprocess.PIPE, stdout = subprocess.PIPE,
                                           stderr = subprocess.PIPE})
local f = io.popen("sleep 0.1")
local after = child_fds()
local mine = {a:fileno(), b:fileno(), srv:fileno(), p.stdin:fileno(), p.stdout:fileno()}
p:kill()
p:wait()
f:close()
print(before == after, before:find("\n3\n") ~= nil)
for _, fd in ipairs(mine) do print(fd > 3, (("\n" .. after):find("\n" .. fd .. "\n"))) end
]])
    assert.are.equal("", err)
    assert.are.equal(0, rc)
    assert.are.equal("true\ttrue\n" .. string.rep("true\tnil\n", 5), out)
  end)

  it("park only their task in wait and communicate", function()
    local ticker = helpers.ticker()
    local p = subprocess.Popen({"sleep", "0.3"})
    assert.are.equal(0, p:wait(TIMEOUT))
    local r = subprocess.run({"sh", "-c", "sleep 0.3; echo x"}, {capture_output = true})
    local ticks = ticker.stop().ticks
    assert.are.equal("x\n", r.stdout)
    assert.is_true(ticks >= 20, "ticks: " .. ticks)
  end)
end)

describe("subprocess at exit", function()
  -- A child still running when the state closes: its process object is
  -- collected then, and the handle libuv still holds for it must be freed
  -- by the runtime's teardown, not lost (valgrind's definite leaks). The
  -- plain build, as spec/valgrind_spec.lua: valgrind cannot run the
  -- sanitizer build, whose own leak check covers the run under it.
  it("frees the handles of children still running", function()
    local path = helpers.write_temp([[
local subprocess = require "subprocess"
local kept = subprocess.Popen({"sleep", "5"})
subprocess.Popen({"sleep", "5"})
collectgarbage()
print(kept.pid > 0)
]], ".lua")
    local out, err, rc = helpers.run("valgrind -q --leak-check=full --errors-for-leak-kinds=definite "
      .. "--error-exitcode=99 bin/moonsock " .. helpers.shell_quote(path))
    os.remove(path)
    assert.are.equal("true\n", out)
    assert.are.equal(0, rc, err)
    assert.is_nil(err:find("definitely lost", 1, true), err)
  end)
end)

describe("moonsock.core.process", function()
  local core = require "moonsock.core.process"

  it("wakes every task waiting for one child, and answers poll and wait after its end", function()
    local p = core.spawn("/bin/sh", {"sh", "-c", "sleep 0.2; exit 7"})
    assert.is_true(p:pid() > 0)
    assert.is_nil(p:poll())
    assert.is_nil(p:wait(0))
    local waiters = {}
    for i = 1, 3 do waiters[i] = task.spawn(function() return p:wait(TIMEOUT) end) end
    for i = 1, 3 do assert.are.same({7, 0}, {waiters[i]:join(TIMEOUT)}) end
    assert.are.same({7, 0}, {p:poll()})
    assert.are.same({7, 0}, {p:wait(0)})
    p:kill(9) -- ended: nothing happens
  end)

  it("reports the signal that ended a child", function()
    local p = core.spawn("/bin/sleep", {"sleep", "5"})
    p:kill(15)
    assert.are.same({0, 15}, {p:wait(TIMEOUT)})
  end)

  it("rejects any use of a closed process object, and closes twice quietly", function()
    local p = core.spawn("/bin/true", {"true"})
    p:wait(TIMEOUT)
    p:close()
    p:close()
    for _, m in ipairs {"wait", "poll", "pid"} do
      local ok, err = pcall(p[m], p)
      assert.is_false(ok)
      assert.truthy(tostring(err):find("attempt to use a closed process", 1, true), err)
    end
    local ok, err = pcall(p.kill, p, 9)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("attempt to use a closed process", 1, true), err)
  end)

  it("ends a wait for a child that a waitpid elsewhere reaped, with Python's 0", function()
    local posix = require "moonsock.posix"
    local p = core.spawn("/bin/sh", {"sh", "-c", "exit 5"})
    -- Not yielding, this loop keeps libuv from reaping the child first.
    local deadline, r = os.time() + TIMEOUT, 0
    while r == 0 and os.time() <= deadline do r = posix.waitpid(p:pid(), posix.WNOHANG) end
    assert.are.equal(p:pid(), r)
    local t0 = task.now()
    assert.are.same({0, 0}, {p:wait(TIMEOUT)})
    assert.is_true(task.now() - t0 < 1.5)
  end)

  it("wakes a task waiting on a process object closed meanwhile", function()
    local p = core.spawn("/bin/sleep", {"sleep", "0.3"})
    local waiter = task.spawn(function() return pcall(p.wait, p, TIMEOUT) end)
    task.sleep(0.05)
    p:close()
    local ok, err = waiter:join(TIMEOUT)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("closed process", 1, true), err)
  end)
end)
