-- systemd.daemon against python-systemd (Debian's python3-systemd, run by
-- /usr/bin/python3): the same fds and environment given to both by
-- spec/support/sd_passfds.py; notify datagrams received on the spec's own
-- socket; a moonsock server started by systemd-socket-activate.
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"

local REF_PYTHON = "/usr/bin/python3"

local function passfds(pidfmt, nfds, names, ...)
  local dir = h.tempdir()
  local args = {}
  for i, a in ipairs {dir, pidfmt, nfds, names, ...} do args[i] = h.shell_quote(a) end
  local out, err, rc = h.run("python3 spec/support/sd_passfds.py " .. table.concat(args, " ") .. " </dev/null")
  os.execute("rm -rf " .. h.shell_quote(dir))
  return out, err, rc
end

describe("systemd.daemon", function()
  local daemon = require "systemd.daemon"

  it("has python-systemd's LISTEN_FDS_START", function()
    local out = h.run(REF_PYTHON .. " -c 'from systemd import daemon; print(daemon.LISTEN_FDS_START)'")
    assert.are.equal(out, daemon.LISTEN_FDS_START .. "\n")
  end)

  -- pid format, LISTEN_FDS, LISTEN_FDNAMES, as sd_passfds.py takes them
  local cases = {
    {"%d", "auto", "a:b:c:d:e:f:g:h:i:j"}, {"%d", "auto", "-"}, {"%d", "auto", "a:b"},
    {"%d", "auto", ""}, {"%d", "auto", "a::c:d:e:f:g:h:i:"}, {"-", "auto", "-"}, {"1", "auto", "-"},
    {"%d", "-", "-"}, {"%d", "0", "-"}, {"%d", "-1", "-"}, {"%d", "abc", "-"}, {"%d", " 2", "x:y"},
    {"%d", "2 ", "-"}, {"%d", "0x2", "-"}, {"%d", "010", "-"}, {"0x%x", "2", "-"}, {"abc", "2", "-"},
    {"0", "2", "-"}, {"-5", "2", "-"}, {"%d", "30", "-"}, {"%d", "99999999999", "-"},
    {"%d", "2147483645", "-"},
  }
  for _, c in ipairs(cases) do
    local what = ("LISTEN_PID=%s LISTEN_FDS=%s LISTEN_FDNAMES=%s"):format(c[1], c[2], c[3])
    it("answers as python-systemd for the fds passed with " .. what, function()
      local ref, rerr, rrc = passfds(c[1], c[2], c[3], REF_PYTHON, "spec/fixtures/sd_query.py")
      assert.are.equal(0, rrc, rerr)
      local out, err, rc = passfds(c[1], c[2], c[3], h.moonsock, "spec/fixtures/sd_query.lua")
      assert.are.equal(0, rc, err)
      assert.are.equal(ref, out)
      assert.matches("\nis_mq 12 False\n", out)
    end)
  end

  it("gives socketserver a passed socket, as Python programs do with bind_and_activate false", function()
    local ref, rerr, rrc = passfds("%d", "auto", "-", REF_PYTHON, "spec/fixtures/sd_tcpserver.py")
    assert.are.equal(0, rrc, rerr)
    local out, err, rc = passfds("%d", "auto", "-", h.moonsock, "spec/fixtures/sd_tcpserver.lua")
    assert.are.equal(0, rc, err)
    assert.are.equal(ref, out)
    assert.are.equal("True True True\nb'HELLO\\n'\n", out)
  end)

  it("takes an object with fileno() for an fd, as python-systemd does", function()
    local srv = socket.create_server({"127.0.0.1", 0})
    assert.is_true(daemon.is_socket_inet(srv, socket.AF_INET, socket.SOCK_STREAM, 1, srv:getsockname()[2]))
    assert.is_false(daemon.is_socket_unix(srv))
    srv:close()
  end)

  it("tells an abstract unix socket by its name", function()
    local name = "\0moonsock-sd-spec-" .. h.getpid()
    local s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s:bind(name)
    assert.is_true(daemon.is_socket_unix(s, socket.SOCK_STREAM, 0, name))
    assert.is_false(daemon.is_socket_unix(s, 0, -1, name .. "x"))
    assert.is_false(daemon.is_socket_unix(s, 0, -1, "/tmp/x"))
    s:close()
  end)

  describe("notify", function()
    local ref_code = [[
from systemd import daemon
def show(*a):
    try: print(daemon.notify(*a))
    except OSError as e: print("OSError", e.errno)
show("READY=1")
show("STATUS=up\nWATCHDOG=1", True)
show("STOPPING=1")]]
    local code = [[
local daemon = require "systemd.daemon"
local function show(...)
  local ok, r = pcall(daemon.notify, ...)
  print(ok and (r and "True" or "False") or "OSError " .. r.errno)
end
show("READY=1")
show("STATUS=up\nWATCHDOG=1", true)
show("STOPPING=1")]]

    -- Runs code under NOTIFY_SOCKET=value (unset when nil); returns what
    -- it printed and the datagrams the receiver got, in order.
    local function under(value, cmd, receiver)
      local env = value and ("NOTIFY_SOCKET=" .. h.shell_quote(value)) or "-u NOTIFY_SOCKET"
      local out, err, rc = h.run("env " .. env .. " " .. cmd .. " </dev/null")
      assert.are.equal(0, rc, err)
      local got = {}
      receiver:settimeout(0)
      for _ = 1, 10 do
        local ok, d = pcall(receiver.recv, receiver, 4096)
        if not ok then break end
        got[#got + 1] = d
      end
      return out, got
    end

    local dir, receiver, abstract
    before_each(function()
      dir = h.tempdir()
      receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
      receiver:bind(dir .. "/notify")
      abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
      abstract:bind("\0moonsock-notify-" .. h.getpid())
    end)
    after_each(function()
      receiver:close(); abstract:close()
      os.execute("rm -rf " .. h.shell_quote(dir))
    end)

    local function compare(value, receiver_of)
      local ref_path = h.write_temp(ref_code, ".py")
      local path = h.write_temp(code, ".lua")
      local want, want_got = under(value, REF_PYTHON .. " " .. ref_path, receiver_of())
      local out, got = under(value, h.shell_quote(h.moonsock) .. " " .. path, receiver_of())
      os.remove(ref_path); os.remove(path)
      assert.are.equal(want, out)
      assert.are.same(want_got, got)
      return out, got
    end

    it("sends each state as one datagram to a path, as python-systemd does", function()
      local out, got = compare(dir .. "/notify", function() return receiver end)
      assert.are.equal("True\nTrue\nFalse\n", out)
      assert.are.same({"READY=1", "STATUS=up\nWATCHDOG=1"}, got)
    end)

    it("sends to an abstract name given as @name", function()
      local out, got = compare("@moonsock-notify-" .. h.getpid(), function() return abstract end)
      assert.are.equal("True\nTrue\nFalse\n", out)
      assert.are.same({"READY=1", "STATUS=up\nWATCHDOG=1"}, got)
    end)

    for _, value in ipairs {false, "", "relative/sock", "/nonexistent/sock", "@" .. ("x"):rep(108)} do
      it("answers as python-systemd with NOTIFY_SOCKET " .. (value and ("%q"):format(value) or "unset"), function()
        compare(value or nil, function() return receiver end)
      end)
    end
  end)

  it("refuses python-systemd's ValueError and OverflowError values with its texts, as argument errors", function()
    local calls = {{"is_socket_inet", 5, {0, 0, 0, -1, 70000}}, {"is_socket", 1, {2 ^ 31 | 0}},
                   {"is_socket", 2, {0, 2 ^ 31 | 0}}, {"is_socket_unix", 3, {0, 0, -(2 ^ 31 | 0) - 1}}}
    local code = {"from systemd import daemon"}
    for _, c in ipairs(calls) do
      local args = {}
      for i, a in ipairs(c[3]) do args[i] = tostring(a) end
      code[#code + 1] = ("try: daemon.%s(%s)\nexcept (ValueError, OverflowError) as e: print(e)"):format(
        c[1], table.concat(args, ", "))
    end
    local path = h.write_temp(table.concat(code, "\n") .. "\n", ".py")
    local want = h.run(REF_PYTHON .. " " .. path)
    os.remove(path)
    local lines = {}
    for i, c in ipairs(calls) do
      local ok, err = pcall(daemon[c[1]], table.unpack(c[3]))
      assert.is_false(ok)
      local n, msg = tostring(err):match("bad argument #(%d+) to '" .. c[1] .. "' %((.*)%)$")
      assert.are.equal(tostring(c[2]), n, tostring(err))
      lines[i] = msg
    end
    assert.are.equal(want, table.concat(lines, "\n") .. "\n")
  end)

  it("rejects wrong arguments with argument errors", function()
    assert.has_error(function() daemon.is_socket("3") end,
      "bad argument #1 to 'is_socket' (integer or object with fileno() expected, got string)")
    assert.has_error(function() daemon.is_fifo(3, 4) end,
      "bad argument #2 to 'is_fifo' (string or nil expected, got number)")
    assert.has_error(function() daemon.listen_fds(1) end,
      "bad argument #1 to 'listen_fds' (boolean expected, got number)")
    assert.has_error(function() daemon.notify(nil) end,
      "bad argument #1 to 'notify' (string expected, got nil)")
  end)
end)

describe("socket activation as docs/deploying.md shows it", function()
  local ex = require "spec.support.examples"

  local function recv_line(conn)
    local buf = ""
    for _ = 1, 100 do
      local d = conn:recv(100)
      buf = buf .. d
      if d == "" or buf:find("\n") then break end
    end
    return buf
  end

  it("serves a loopback client on the socket systemd-socket-activate passes, saying READY=1, WATCHDOG=1, STOPPING=1",
    function()
      local doc = assert(h.read_file("docs/deploying.md"))
      local code = assert(doc:match("```lua\n(%-%- echo%.lua.-)```"))
      local unit = assert(doc:match("```ini\n(%[Unit%][^`]-%[Socket%].-)```"))
      assert.are.equal("127.0.0.1:8000", unit:match("\nListenStream=(%S+)"))
      local fdname = assert(unit:match("\nFileDescriptorName=(%S+)"))
      local dir = h.tempdir()
      local f = assert(io.open(dir .. "/echo.lua", "w"))
      f:write(code)
      f:close()
      local receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
      receiver:bind(dir .. "/notify")
      receiver:settimeout(10)
      -- Not 8000: a server that bound its own port instead would never answer.
      local port = ex.free_port()
      local proc = ex.start(("systemd-socket-activate -l 127.0.0.1:%d --fdname=%s -E NOTIFY_SOCKET=%s "
        .. "-E WATCHDOG_USEC=200000 %s %s"):format(port, fdname, dir .. "/notify", h.shell_quote(h.moonsock),
        dir .. "/echo.lua"))
      local ok, err = pcall(function()
        assert.is_true(ex.wait_until(function() return ex.tcp_listening(port) end, 10))
        local c = socket.create_connection({"127.0.0.1", port}, 10)
        c:sendall("hello\n")
        assert.are.equal("hello\n", recv_line(c))
        c:sendall("again\n")
        assert.are.equal("again\n", recv_line(c))
        c:close()
        assert.are.equal("READY=1", receiver:recv(100))
        -- WATCHDOG_USEC=200000: a ping every 0.1 s
        local t0 = task.now()
        assert.are.equal("WATCHDOG=1", receiver:recv(100))
        assert.are.equal("WATCHDOG=1", receiver:recv(100))
        assert.are.equal("WATCHDOG=1", receiver:recv(100))
        assert.is_true(task.now() - t0 < 2)
        -- timeout(1) passes the SIGTERM on to the server, as systemd's stop would send it
        os.execute("kill " .. assert(tonumber(h.read_file(proc.dir .. "/pid"))))
        local last
        for _ = 1, 100 do
          last = receiver:recv(100)
          if last ~= "WATCHDOG=1" then break end
        end
        assert.are.equal("STOPPING=1", last)
        local res = ex.finish(proc, 10)
        assert.are.equal(0, res.code, res.err)
      end)
      ex.stop(proc)
      receiver:close()
      os.execute("rm -rf " .. h.shell_quote(dir))
      assert(ok, err)
    end)
end)

describe("a prefork server's notify messages", function()
  local ex = require "spec.support.examples"
  local server = [[
local socketserver = require "socketserver"
local Quiet = socketserver.BaseRequestHandler:extend{handle = function() end}
local server = socketserver.PreforkTCPServer({"127.0.0.1", 0}, Quiet)
server.workers = 1
server:serve_forever(0.05)
server:server_close()
]]

  -- Runs the server with NOTIFY_SOCKET on the spec's own socket and the
  -- watchdog variables `pid_text` sets (shell, $$ is the server's pid);
  -- -> the datagrams before SIGTERM (within `seconds`), and the one after.
  local function messages(pid_text, seconds)
    local dir = h.tempdir()
    local script = dir .. "/server.lua"
    local f = assert(io.open(script, "w"))
    f:write(server)
    f:close()
    local receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver:bind(dir .. "/notify")
    local proc = ex.start(("sh -c 'NOTIFY_SOCKET=%s WATCHDOG_USEC=100000 %s exec %s %s'"):format(
      dir .. "/notify", pid_text, h.moonsock, script))
    local before, after = {}, nil
    local ok, err = pcall(function()
      receiver:settimeout(10)
      before[1] = receiver:recv(100)
      local deadline = task.now() + seconds
      while task.now() < deadline do
        receiver:settimeout(math.max(deadline - task.now(), 0))
        local got, d = pcall(receiver.recv, receiver, 100)
        if not got then break end
        before[#before + 1] = d
      end
      os.execute("kill " .. assert(tonumber(h.read_file(proc.dir .. "/pid"))))
      receiver:settimeout(10)
      for _ = 1, 100 do
        after = receiver:recv(100)
        if after ~= "WATCHDOG=1" then break end
      end
      local res = ex.finish(proc, 10)
      assert.are.equal(0, res.code, res.err)
    end)
    ex.stop(proc)
    receiver:close()
    os.execute("rm -rf " .. h.shell_quote(dir))
    assert(ok, err)
    return before, after
  end

  it("pings the watchdog every WATCHDOG_USEC/2 when WATCHDOG_PID is its own pid", function()
    local before, after = messages("WATCHDOG_PID=$$", 0.5)
    assert.are.equal("READY=1", before[1])
    -- 0.5 s at one ping per 0.05 s: about 10, and no other message
    assert.is_true(#before - 1 >= 3 and #before - 1 <= 12, #before - 1 .. " pings")
    for i = 2, #before do assert.are.equal("WATCHDOG=1", before[i]) end
    assert.are.equal("STOPPING=1", after)
  end)

  it("does not ping a watchdog that watches another pid", function()
    local before, after = messages("WATCHDOG_PID=1", 0.5)
    assert.are.same({"READY=1"}, before)
    assert.are.equal("STOPPING=1", after)
  end)
end)
