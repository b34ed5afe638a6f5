-- The REPL (src/cli/repl.c, src/cli/attach.c, src/cli/lineedit.c,
-- lua/repl.lua), used as a person would: on a pseudo-terminal whose screen
-- is read back (spec/support/pty_driver.py), with piped stdin, and attached
-- to a running program over a UNIX socket. Values shown are checked against
-- Python 3 or the kernel.
local h = require "spec.support.helpers"
local pty = require "spec.support.pty"
local errors = require "moonsock.errors"
local repl = require "repl"
local socket = require "socket"
local task = require "task"

local q = h.shell_quote

-- A Python regex matching s literally.
local function lit(s) return (s:gsub("[^%w\n\128-\255]", "\\%0")) end

local function py(code) return (h.python(code):gsub("\n$", "")) end

-- The REPL on a terminal, with no history file unless env says so.
local function start(args, env)
  return pty.start(string.format("env MOONSOCK_HISTORY= %s %s %s", env or "", q(h.moonsock),
    args or ""))
end

local function prompt(t)
  local ok, screen = t:wait("\n>$")
  assert(ok, "no prompt:\n" .. screen)
end

-- Types a statement (short enough for one screen line) and waits for its
-- echo and the next prompt, so keys typed next are not typed ahead.
local function run(t, line)
  t:line(line)
  local ok, screen = t:wait(lit(line) .. "\n(.*\n)?>>? ?$")
  assert(ok, "no prompt after " .. line .. ", screen:\n" .. screen)
  return screen
end

-- Types a line and waits for what must follow it on screen, then a prompt.
local function expect(t, line, shown)
  t:line(line)
  local ok, screen = t:wait(lit(line) .. "\n" .. shown .. "\n>$")
  assert(ok, "expected " .. shown .. " after " .. line .. ", screen:\n" .. screen)
  return screen
end

local slurp = h.read_file

local function file_mode(path)
  local p = io.popen("stat -c %a " .. q(path) .. " 2>/dev/null")
  local mode = p:read("l")
  p:close()
  return mode
end

-- Runs a shell command in the background (this process may be the server
-- it talks to, so it must not block): stdout, stderr, exit status.
local function run_async(cmd, seconds)
  local dir = h.tempdir()
  os.execute(string.format("(%s >%s/out 2>%s/err; echo $? >%s/rc) &", cmd, dir, dir, dir))
  local deadline = task.now() + (seconds or 10)
  local rc
  while task.now() < deadline do
    rc = slurp(dir .. "/rc")
    if rc and rc:find("\n") then break end
    task.sleep(0.02)
  end
  local out, err = slurp(dir .. "/out"), slurp(dir .. "/err")
  os.execute("rm -rf " .. q(dir))
  return out, err, tonumber(rc)
end

local ECONNREFUSED = tonumber(py("import errno; print(errno.ECONNREFUSED)"))

describe("repl.repr and repl.pprint", function()
  it("prints tables as Lua constructors, on one line when they fit", function()
    assert.equal("{1, 'two', {x = 3}, [10] = 'ten', ['a key'] = true, z = {}}",
      repl.repr({1, "two", {x = 3}, [10] = "ten", z = {}, ["a key"] = true}))
  end)

  it("indents nested tables that do not fit the width", function()
    local saved = repl.width
    repl.width = 24
    local text = repl.repr({name = "server", addr = {host = "127.0.0.1", port = 8080}})
    repl.width = saved
    assert.equal("{\n  addr = {\n    host = '127.0.0.1',\n    port = 8080\n  },\n  name = 'server'\n}",
      text)
  end)

  it("marks cycles", function()
    local t = {name = "loop"}
    t.self = t
    t.list = {t}
    assert.equal("{list = {<cycle>}, name = 'loop', self = <cycle>}", repl.repr(t))
  end)

  it("quotes strings as Python's repr does", function()
    for _, s in ipairs {"plain", "it's", 'say "hi"', "both ' and \"", "tab\tnew\nline", "\1\127"} do
      local want = py("import sys\nsys.stdout.write(repr(bytes.fromhex('" .. pty.hex(s) ..
        "').decode('latin-1')))")
      assert.equal(want, repl.repr(s))
    end
  end)

  it("prints addresses as Python tuples and resolver results as Python lists", function()
    local srv = socket.create_server({"127.0.0.1", 0})
    local addr = srv:getsockname()
    local want = py(string.format("print(repr(('127.0.0.1', %d)))", addr[2]))
    assert.equal(want, repl.repr(addr))
    assert.equal("{addr = " .. want .. "}", repl.repr({addr = addr}))
    srv:close()
    local infos = socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET, socket.SOCK_STREAM)
    assert.equal(py([[
import socket
print(repr(socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET, socket.SOCK_STREAM)).replace(
  "<AddressFamily.AF_INET: 2>", "2").replace("<SocketKind.SOCK_STREAM: 1>", "1"))]]),
      repl.repr(infos))
  end)

  it("prints sockets as their repr and error objects as their message", function()
    local s = socket.socket()
    assert.equal(tostring(s), repl.repr(s))
    s:close()
    local e = errors.ConnectionRefusedError(111, "Connection refused")
    assert.equal(py("e = ConnectionRefusedError(111, 'Connection refused')\n" ..
      "print(type(e).__name__ + ': ' + str(e))"), repl.repr(e))
    assert.equal("{err = TimeoutError: timed out}", repl.repr({err = socket.timeout("timed out")}))
  end)

  it("cuts long tables with a count of the rest", function()
    local t = {}
    for i = 1, repl.max_items + 50 do t[i] = i end
    local text = repl.repr(t)
    assert.truthy(text:find("[ \n]" .. tostring(repl.max_items) .. ",%s+%.%.%. %(50 more%)\n}$"))
    assert.falsy(text:find(tostring(repl.max_items + 1), 1, true))
  end)

  it("pprint writes the reprs to stdout", function()
    local out = h.run(q(h.moonsock) .. " -e " ..
      q('require("repl").pprint({1, {a = "x"}}, "s", nil)'))
    assert.equal("{1, {a = 'x'}}\t's'\tnil\n", out)
  end)
end)

describe("repl.complete, dir and help", function()
  it("completes fields of modules with the names Python's module has", function()
    local want = {}
    for name in py("import socket\nprint('\\n'.join(n for n in dir(socket) if n.startswith('geth')))")
      :gmatch("[^\n]+") do
      want[#want + 1] = "socket." .. name .. "("
    end
    assert.same(want, repl.complete("socket.geth", repl.new_env()))
  end)

  it("completes methods of sockets, and globals and keywords", function()
    local env = repl.new_env()
    env.s = socket.socket()
    local got = repl.complete("s:sett", env)
    assert.same({"s:settimeout("}, got)
    assert.same({"print("}, repl.complete("pri", env))
    assert.same({"repeat", "repl", "require(", "return"}, repl.complete("re", env))
    assert.same({}, repl.complete("s.nothing.here", env))
    env.s:close()
  end)

  it("dir lists a socket's methods and fields, all names Python's socket has", function()
    local s = socket.socket()
    local names = repl.dir(s)
    s:close()
    local python = {}
    for n in py("import socket\nprint('\\n'.join(dir(socket.socket())))"):gmatch("[^\n]+") do
      python[n] = true
    end
    assert.is_true(#names >= 20)
    for _, n in ipairs(names) do assert.is_true(python[n], n .. " is not in Python's dir") end
    for _, n in ipairs {"accept", "recv", "family", "timeout"} do
      assert.truthy(tostring(names):find("'" .. n .. "'", 1, true))
    end
  end)

  it("help shows a function's parameters as Python names them", function()
    local out = h.run(q(h.moonsock) .. " -e " ..
      q('local s = require "socket" require("repl").help(s.create_connection)'))
    local params = out:match("^socket%.create_connection%(([^)]*)%)")
    assert.truthy(params, out)
    local python = py("import inspect, socket\n" ..
      "print(', '.join(inspect.signature(socket.create_connection).parameters))")
    assert.equal(params, python:sub(1, #params))
  end)

  it("help describes a module and a socket", function()
    local out = h.run(q(h.moonsock) .. " -e " ..
      q('local s = require "socket" local r = require "repl" r.help(s) r.help(s.socket())'))
    assert.truthy(out:find("module socket", 1, true))
    assert.truthy(out:find("create_connection", 1, true))
    assert.truthy(out:find("methods (call as obj:name(...)):", 1, true))
    assert.truthy(out:find("sendall", 1, true))
  end)
end)

describe("the REPL on a terminal", function()
  it("opens with a banner naming the version and how to get help", function()
    local version = h.run(q(h.moonsock) .. " -v"):gsub("\n$", "")
    local t = start()
    local ok, screen = t:wait(lit(version) .. "\nType help\\(\\) for help.*\n>$")
    assert(ok, screen)
    t:line("help()")
    assert(t:wait("help\\(x\\), dir\\(x\\).*Ctrl-D.*end\\)\n>$"))
    t:close()
  end)

  it("prints the values of an expression, =expr, and nothing for a statement", function()
    local t = start()
    prompt(t)
    expect(t, "6 * 7", py("print(6 * 7)"))
    expect(t, "=6 * 7", py("print(6 * 7)"))
    expect(t, "1, 'two', nil", "1\\s+'two'\\s+nil")
    run(t, "x = 42")
    expect(t, "x", "42")
    expect(t, "{1, {y = x}}", "{1, {y = 42}}")
    expect(t, "socket.timeout('timed out')",
      py("e = TimeoutError('timed out'); print(type(e).__name__ + ': ' + str(e))"))
    t:close()
  end)

  it("takes UTF-8 input, in any locale", function()
    for _, lang in ipairs {"C", "C.UTF-8"} do
      local t = start("", "LANG=" .. lang .. " LC_ALL=")
      prompt(t)
      run(t, 's = "h\u{e9}llo \u{2192}"')
      expect(t, "#s", py("print(len('h\\u00e9llo \\u2192'.encode()))"))
      expect(t, "s", "'h\u{e9}llo \u{2192}'")
      t:close()
    end
  end)

  it("continues an unfinished statement with a second prompt", function()
    local t = start()
    prompt(t)
    t:line("for i = 1, 3 do")
    assert(t:wait("\n>> ?$"))
    t:line("print(i * 10)")
    assert(t:wait("print\\(i \\* 10\\)\n>> ?$"))
    t:line("end")
    local want = py("for i in range(1, 4): print(i * 10)")
    assert(t:wait(">> end\n" .. want .. "\n>$"))
    run(t, "t = {")
    run(t, "  a = 1,")
    run(t, "}")
    expect(t, "t.a", "1")
    t:close()
  end)

  it("reports an error with its traceback and goes on", function()
    local t = start()
    prompt(t)
    t:line("error('boom')")
    assert(t:wait("stdin:1: boom\nstack traceback:\n.*in main chunk\n>$"))
    t:line("s = socket.socket(); s:close(); s:recv(1)")
    assert(t:wait("OSError: \\[Errno 9\\] Bad file descriptor\nstack traceback:.*\n>$"))
    expect(t, "1 + 1", "2")
    t:close()
  end)

  it("completes globals, module fields and socket methods with Tab", function()
    local t = start()
    prompt(t)
    t:keys("socket.geth\t")
    assert(t:wait("\n> socket\\.gethost$"))
    t:keys("\t")
    local names = py("import socket\nprint(' '.join(n for n in dir(socket) if n.startswith('geth')))")
    for name in names:gmatch("%S+") do
      assert(t:wait("socket\\." .. name .. "\\(\\s"), name)
    end
    t:keys("\21") -- Ctrl-U: kill the line
    run(t, "s = socket.socket()")
    t:keys("s:setso\t")
    assert(t:wait("\n> s:setsockopt\\($"))
    t:keys("\21s:set\t\t")
    local s = socket.socket()
    local pynames = py("import socket\nprint(' '.join(n for n in dir(socket.socket()) if n.startswith('set')))")
    local shown = 0
    for name in pynames:gmatch("%S+") do
      local ok, v = pcall(function() return s[name] end)
      if ok and type(v) == "function" then
        assert(t:wait("s:" .. name .. "\\("), name)
        shown = shown + 1
      end
    end
    s:close()
    assert.is_true(shown >= 3)
    t:keys("\21pri\t")
    assert(t:wait("\n> print\\($"))
    t:keys("1)\r")
    assert(t:wait("\n1\n>$"))
    t:close()
  end)

  it("keeps a spawned server answering while the prompt waits, output above the line typed",
    function()
    local t = start()
    prompt(t)
    run(t, 'srv = socket.create_server({"127.0.0.1", 0})')
    local screen = expect(t, "srv:getsockname()[2]", "(\\d+)")
    local port = tonumber(screen:match("\n(%d+)\n>$"))
    run(t, "served = 0")
    for _, line in ipairs {"task.spawn(function()", "  while true do", "    local c = srv:accept()",
                           "    served = served + 1", '    print("served " .. served)',
                           "    c:sendall(c:recv(100))", "    c:close()", "  end", "end)"} do
      run(t, line)
    end
    t:keys("answer = 4")
    assert(t:wait("\n> answer = 4$"))
    for i = 1, 2 do
      local c = socket.create_connection({"127.0.0.1", port}, 5)
      c:settimeout(5)
      c:sendall("ping " .. i)
      assert.equal("ping " .. i, c:recv(100))
      c:close()
    end
    local ok
    ok, screen = t:wait("\nserved 1\nserved 2\n> answer = 4$")
    assert(ok, screen)
    -- The address the REPL prints is the one Python would print.
    t:keys("2\r")
    prompt(t)
    t:line("srv:getsockname()")
    assert(t:wait(lit(py(string.format("print(repr(('127.0.0.1', %d)))", port))) .. "\n>$"))
    expect(t, "answer", "42")
    t:close()
  end)

  it("interrupts a blocked accept with Ctrl-C, leaving the REPL and the other tasks running",
    function()
    local t = start()
    prompt(t)
    run(t, 'srv = socket.create_server({"127.0.0.1", 0})')
    run(t, "port = srv:getsockname()[2]")
    run(t, "task.spawn(function()")
    run(t, '  while true do local c = srv:accept(); c:sendall("hi"); c:close() end')
    run(t, "end)")
    local port = tonumber(expect(t, "port", "(\\d+)"):match("\n(%d+)\n>$"))
    run(t, 'other = socket.create_server({"127.0.0.1", 0})')
    t:line("conn, addr = other:accept()")
    assert(t:wait("\n> conn, addr = other:accept\\(\\)$"))
    local ok, screen = t:wait("accept\\(\\)\n.*>$", 0.5)
    assert.is_false(ok, screen)
    t:keys("\3")
    ok, screen = t:wait("KeyboardInterrupt\nstack traceback:.*in method 'accept'.*\n>$")
    assert(ok, screen)
    local c = socket.create_connection({"127.0.0.1", port}, 5)
    c:settimeout(5)
    assert.equal("hi", c:recv(10))
    c:close()
    expect(t, "conn", "nil")
    -- Code busy in Lua gets it too.
    t:line("while true do end")
    assert(t:wait("> while true do end$"))
    ok, screen = t:wait("end\n.*>$", 0.3)
    assert.is_false(ok, screen)
    t:keys("\3")
    assert(t:wait("while true do end\n\\^?C?KeyboardInterrupt\nstack traceback:.*\n>$"))
    expect(t, "1 + 1", "2")
    t:close()
  end)

  it("clears the line on Ctrl-C at the prompt, and a pending statement too", function()
    local t = start()
    prompt(t)
    t:keys("\3")
    assert(t:wait("\n> \\^C\n>$"))
    t:keys("half typed")
    assert(t:wait("\n> half typed$"))
    t:keys("\3")
    assert(t:wait("\n> half typed\\^C\n>$"))
    t:line("for i = 1, 2 do")
    assert(t:wait("\n>> ?$"))
    t:keys("\3")
    assert(t:wait("\n>> \\^C\n>$"))
    expect(t, "1 + 1", "2")
    assert.equal("running", t:exit(0.1))
    t:close()
  end)

  it("exits on Ctrl-D with status 0, closing the loop and the sockets of its tasks", function()
    local t = start()
    prompt(t)
    run(t, 'srv = socket.create_server({"127.0.0.1", 0})')
    run(t, "task.spawn(function() while true do srv:accept():close() end end)")
    local port = tonumber(expect(t, "srv:getsockname()[2]", "(\\d+)"):match("\n(%d+)\n>$"))
    t:keys("\4")
    assert.equal(0, t:exit(10))
    local c = socket.socket()
    assert.equal(ECONNREFUSED, c:connect_ex({"127.0.0.1", port}))
    c:close()
    t:close()
  end)

  it("ends with the status a task passes to os.exit while the prompt waits", function()
    local t = start()
    prompt(t)
    run(t, "task.spawn(function() task.sleep(0.2) os.exit(3) end)")
    t:keys("typing")
    assert.equal(3, t:exit(10))
    t:close()
  end)

  it("runs a script with -i, then opens the REPL with the script's tasks still serving", function()
    local script = h.write_temp([[
local socket = require "socket"
local task = require "task"
srv = socket.create_server({"127.0.0.1", 0})
port = srv:getsockname()[2]
task.spawn(function()
  while true do
    local c = srv:accept()
    task.spawn(function() c:sendall(c:recv(100):upper()) c:close() end)
  end
end)
print("ready on", port)
]], ".lua")
    local t = start("-i " .. q(script))
    local ok, screen = t:wait("ready on\\s+(\\d+)\n.*\n>$")
    assert(ok, screen)
    local port = tonumber(screen:match("ready on%s+(%d+)"))
    local c = socket.create_connection({"127.0.0.1", port}, 5)
    c:settimeout(5)
    c:sendall("shout")
    assert.equal(py("print('shout'.upper())"), c:recv(100))
    c:close()
    expect(t, "port", tostring(port))
    t:keys("\4")
    assert.equal(0, t:exit(10))
    t:close()
    os.remove(script)
  end)

  it("keeps a bounded history in ~/.moonsock_history, mode 0600, across sessions", function()
    local home = h.tempdir()
    local env = "-u MOONSOCK_HISTORY HOME=" .. q(home)
    local old = {}
    for i = 1, 1500 do old[i] = "old_" .. i end
    local f = assert(io.open(home .. "/.moonsock_history", "w"))
    f:write(table.concat(old, "\n"), "\n")
    f:close()
    local t = pty.start(string.format("env %s %s", env, q(h.moonsock)))
    prompt(t)
    run(t, "hist_marker = 42")
    t:keys("\4")
    assert.equal(0, t:exit(10))
    t:close()
    local saved = slurp(home .. "/.moonsock_history")
    assert.truthy(saved:find("hist_marker", 1, true))
    local entries = 0
    for line in saved:gmatch("[^\n]+") do
      if line ~= "_HiStOrY_V2_" then entries = entries + 1 end
    end
    assert.is_true(entries <= 1000, entries .. " entries")
    assert.equal("600", file_mode(home .. "/.moonsock_history"))
    -- The next session finds it with the up arrow.
    t = pty.start(string.format("env %s %s", env, q(h.moonsock)))
    prompt(t)
    t:keys("\27[A")
    assert(t:wait("\n> hist_marker = 42$"))
    t:keys("\r")
    expect(t, "hist_marker", "42")
    t:keys("\4")
    assert.equal(0, t:exit(10))
    t:close()
    os.execute("rm -rf " .. q(home))
  end)

  it("moves the history with MOONSOCK_HISTORY, and keeps none when it is empty", function()
    local home = h.tempdir()
    local t = pty.start(string.format("env HOME=%s MOONSOCK_HISTORY=%s %s", q(home),
      q(home .. "/elsewhere"), q(h.moonsock)))
    prompt(t)
    run(t, "moved = 1")
    t:keys("\4")
    assert.equal(0, t:exit(10))
    t:close()
    assert.truthy((slurp(home .. "/elsewhere") or ""):find("moved", 1, true))
    assert.is_nil(slurp(home .. "/.moonsock_history"))
    t = pty.start(string.format("env HOME=%s MOONSOCK_HISTORY= %s", q(home), q(h.moonsock)))
    prompt(t)
    run(t, "nowhere = 1")
    t:keys("\4")
    assert.equal(0, t:exit(10))
    t:close()
    assert.is_nil(slurp(home .. "/.moonsock_history"))
    assert.falsy(slurp(home .. "/elsewhere"):find("nowhere", 1, true))
    os.execute("rm -rf " .. q(home))
  end)
end)

describe("the REPL with stdin not a terminal", function()
  it("reads statements without prompts, printing values, going on after errors", function()
    local input = "x = 6 * 7\nx\nfor i = 1, 2 do\nprint(i)\nend\nerror('boom')\n" ..
      "=x + 1\n{a = {1, 2}}\n"
    local out, err, code = h.run("printf %s " .. q(input) .. " | " .. q(h.moonsock) .. " -i")
    assert.equal(0, code)
    assert.equal(py("print(6 * 7)\nfor i in range(1, 3): print(i)\nprint(6 * 7 + 1)") ..
      "\n{a = {1, 2}}\n", out)
    assert.matches("^stdin:1: boom\nstack traceback:", err)
  end)

  it("runs the loop between statements and while one blocks", function()
    local input = "done = false\nt = task.spawn(function() task.sleep(0.05) done = true end)\n" ..
      "done\ntask.sleep(0.3)\ndone\n"
    local out, _, code = h.run("printf %s " .. q(input) .. " | " .. q(h.moonsock) .. " -i")
    assert.equal(0, code)
    assert.equal("false\ntrue\n", out)
  end)

  it("reads statements from a regular file as well", function()
    local path = h.write_temp("x = 2\nx * 21\n")
    local out, _, code = h.run(q(h.moonsock) .. " -i < " .. q(path))
    os.remove(path)
    assert.equal(0, code)
    assert.equal(py("print(2 * 21)") .. "\n", out)
  end)

  it("reports a statement cut by the end of input", function()
    local out, err, code = h.run("printf %s " .. q("print(1)\nfor i = 1, 2 do\n") .. " | " ..
      q(h.moonsock) .. " -i")
    assert.equal(0, code)
    assert.equal("1\n", out)
    assert.matches("<eof>", err)
  end)
end)

describe("repl.serve and moonsock --attach", function()
  local dir, path, server, ticker
  setup(function()
    dir = h.tempdir()
    path = dir .. "/repl.sock"
    server = repl.serve(path)
    rawset(_G, "attach_counter", 0)
    ticker = task.spawn_daemon(function()
      -- busted restores the globals after this block: stop then.
      while rawget(_G, "attach_counter") do
        rawset(_G, "attach_counter", rawget(_G, "attach_counter") + 1)
        task.sleep(0.02)
      end
    end)
  end)
  teardown(function()
    ticker:cancel()
    server:close()
    os.execute("rm -rf " .. q(dir))
  end)

  it("creates the socket file with mode 0600", function()
    assert.equal("600", file_mode(path))
  end)

  it("evaluates in the running program, with completion, output and Ctrl-C", function()
    local t = pty.start(string.format("env MOONSOCK_HISTORY= %s --attach %s", q(h.moonsock), q(path)))
    local ok, screen = t:wait("Ctrl-D to detach\\.\n>$")
    assert(ok, screen)
    expect(t, "attach_counter > 0", "true")
    t:keys("socket.gethostn\t")
    assert(t:wait("\n> socket\\.gethostname\\($"))
    t:keys(")\r")
    assert(t:wait(lit(py("import socket\nprint(repr(socket.gethostname()))")) .. "\n>$"))
    expect(t, 'print("from", "the server")', "from\\s+the server")
    run(t, "for i = 1, 2 do")
    run(t, "io.write(i, ' ')")
    t:line("end")
    assert(t:wait("\n1 2 >$"))
    t:line("task.sleep(30)")
    assert(t:wait("> task\\.sleep\\(30\\)$"))
    ok, screen = t:wait("sleep\\(30\\)\n.*>$", 0.3)
    assert.is_false(ok, screen)
    t:keys("\3")
    assert(t:wait("KeyboardInterrupt\nstack traceback:.*\n>$"))
    expect(t, "1 + 1", "2")
    t:keys("\4")
    assert.equal(0, t:exit(10))
    t:close()
    -- The program goes on, and takes the next client.
    local out, _, code = run_async(string.format("printf %s | %s --attach %s",
      q("x_from_pipe = attach_counter\nx_from_pipe > 0\n"), q(h.moonsock), q(path)))
    assert.equal(0, code)
    assert.equal("true\n", out)
    assert.is_true(rawget(_G, "x_from_pipe") > 0)
  end)

  it("detaches with a message when the program closes its server", function()
    local other = repl.serve(dir .. "/closing.sock")
    -- argv[0] "moonsock": a long path to the binary (a clone, bin-asan/) would
    -- wrap the message on the 80-column screen.
    local t = pty.start(string.format("env MOONSOCK_HISTORY= bash -c %s",
      q(string.format("exec -a moonsock %s --attach %s", q(h.moonsock), q(dir .. "/closing.sock")))))
    prompt(t)
    other:close()
    assert(t:wait("\n>\n[^\n]*: the program closed the connection$"))
    assert.equal(1, t:exit(10))
    assert.is_nil(io.open(dir .. "/closing.sock"))
    t:close()
  end)

  it("refuses a peer of another uid, by its credentials", function()
    if h.run("id -u") ~= "0\n" then
      pending("needs root to run a server under another uid")
      return
    end
    local d = h.tempdir()
    os.execute("chmod 777 " .. q(d))
    local sock = d .. "/other.sock"
    local script = d .. "/serve.lua"
    local f = assert(io.open(script, "w"))
    f:write(string.format([[
require("repl").serve(%q)
require("task").sleep(30)
]], sock))
    f:close()
    os.execute("chmod 644 " .. q(script))
    os.execute(string.format("setpriv --reuid=65534 --regid=65534 --clear-groups %s %s " ..
      ">/dev/null 2>&1 & echo $! > %s/pid", q(h.moonsock), q(script), q(d)))
    for _ = 1, 250 do
      if file_mode(sock) then break end
      task.sleep(0.02)
    end
    local pid = slurp(d .. "/pid"):match("%d+")
    local out, err, code = run_async(string.format("%s --attach %s </dev/null",
      q(h.moonsock), q(sock)))
    os.execute("kill " .. pid)
    assert.equal("", out)
    assert.equal(1, code)
    -- The client refuses first (spec/regress/attach_trusted_any_server_spec.lua);
    -- the server's own check is spec/fault/file_modes_spec.lua's.
    assert.equal(h.moonsock .. ": attach refused: the server at " .. sock ..
      " runs as uid 65534, not this user's uid 0\n", err)
    os.execute("rm -rf " .. q(d))
  end)

  it("fails with the OS error when nothing listens", function()
    local _, err, code = run_async(string.format("%s --attach %s", q(h.moonsock),
      q(dir .. "/nobody.sock")))
    assert.equal(1, code)
    local want = py("import os, errno; print(os.strerror(errno.ENOENT))")
    assert.truthy(err:find("cannot attach to " .. dir .. "/nobody.sock: " .. want, 1, true), err)
  end)

  it("replaces a stale socket file, and refuses a path someone listens on", function()
    local stale = dir .. "/stale.sock"
    local s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s:bind(stale)
    s:close()
    local again = repl.serve(stale)
    local ok, err = pcall(repl.serve, stale)
    assert.is_false(ok)
    assert.equal(tonumber(py("import errno; print(errno.EADDRINUSE)")), err.errno)
    again:close()
    assert.is_nil(io.open(stale))
  end)
end)
