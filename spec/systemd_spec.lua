-- systemd.daemon against python-systemd (Debian's python3-systemd, run by
-- /usr/bin/python3): the same fds and environment given to both by
-- spec/support/sd_passfds.py; notify datagrams received on the spec's own
-- socket; a moonsock server started by systemd-socket-activate.
local socket = require "socket"
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
