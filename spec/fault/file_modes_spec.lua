-- The files moonsock creates, and who may use them.
--
-- - A UNIX socket file made by sock:bind (stream and datagram) and by
--   socketserver.UnixStreamServer has the mode python3's socket.bind gives
--   under the same umask (022, 077, 002): the kernel's 0777 & ~umask, which
--   moonsock leaves alone.
-- - repl.serve's socket file is 0600 whatever the process's umask (000,
--   022, 077), and the umask is the same after the call.
-- - An attach from another uid (uid 65534, "nobody", through setpriv) to a
--   repl.serve of this process (root): with the file's 0600, connect fails
--   with EACCES; with the file loosened to 0666, the server itself refuses
--   the peer by its SO_PEERCRED credentials (a raw client reads the refusal,
--   and the line it sends is never run), and `moonsock --attach` run as
--   nobody refuses the server first, since it runs as another uid.
-- Covered elsewhere, not repeated here: the socket file is 0600 under the
-- default umask, a server of uid 65534 refuses a root client
-- (spec/repl_spec.lua), the history file is 0600 (spec/repl_spec.lua), a
-- server of another uid is refused by `moonsock --attach`
-- (spec/regress/attach_trusted_any_server_spec.lua).
-- Measured: about 1.5 s (release build), 2 s (sanitizer build).
-- Bounded: every child runs under timeout(1); sockets have timeouts.
local h = require "spec.support.helpers"
local repl = require "repl"
local posix = require "moonsock.posix"
local task = require "task"

local q = h.shell_quote

local slurp = h.read_file

local function mode_of(path)
  local out = h.run("stat -c %a " .. q(path))
  return out:match("%d+")
end

local function as_root() return h.run("id -u") == "0\n" end

local function have_setpriv() return h.run("command -v setpriv"):find("setpriv", 1, true) ~= nil end

-- What python3 makes of `sock.bind(path)` under umask, as an octal string.
local function python_mode(umask, kind, path)
  local out, err, code = h.run(string.format("sh -c %s", q(string.format(
    "umask %s; exec python3 -c %s", umask, q(string.format([[
import os, socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_%s)
s.bind(%q)
print("%%o" %% (os.stat(%q).st_mode & 0o7777))
s.close()
os.remove(%q)]], kind, path, path, path))))))
  assert.equal(0, code, err)
  return out:match("%d+")
end

-- The same under moonsock: sock:bind, or socketserver.UnixStreamServer.
local function moonsock_mode(umask, kind, path)
  local code = kind == "server" and string.format([[
local socketserver = require "socketserver"
local s = socketserver.UnixStreamServer(%q, socketserver.BaseRequestHandler)
os.execute("stat -c %%a " .. %q)
s:server_close()
os.remove(%q)]], path, path, path) or string.format([[
local socket = require "socket"
local s = socket.socket(socket.AF_UNIX, socket.SOCK_%s)
s:bind(%q)
os.execute("stat -c %%a " .. %q)
s:close()
os.remove(%q)]], kind, path, path, path)
  local script = h.write_temp(code, ".lua")
  local out, err, rc = h.run(string.format("sh -c %s", q(string.format("umask %s; exec timeout 30 %s %s",
    umask, q(h.moonsock), q(script)))))
  os.remove(script)
  assert.equal(0, rc, err)
  return out:match("%d+")
end

describe("UNIX socket files", function()
  local dir
  before_each(function() dir = h.tempdir() end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  for _, umask in ipairs {"022", "077", "002"} do
    it("get python3's mode under umask " .. umask, function()
      local want = python_mode(umask, "STREAM", dir .. "/py.sock")
      -- The kernel's rule, so the comparison means something.
      assert.equal(string.format("%o", tonumber("777", 8) & ~tonumber(umask, 8)), want)
      assert.equal(want, moonsock_mode(umask, "STREAM", dir .. "/stream.sock"))
      assert.equal(python_mode(umask, "DGRAM", dir .. "/py.sock"),
        moonsock_mode(umask, "DGRAM", dir .. "/dgram.sock"))
      assert.equal(want, moonsock_mode(umask, "server", dir .. "/server.sock"))
    end)
  end
end)

describe("repl.serve's socket file", function()
  local dir
  before_each(function() dir = h.tempdir() end)
  after_each(function() os.execute("rm -rf " .. q(dir)) end)

  it("is 0600 under any umask, and the umask is left as it was", function()
    for _, umask in ipairs {"000", "022", "077"} do
      local old = posix.umask(tonumber(umask, 8))
      local ok, server = pcall(repl.serve, dir .. "/repl" .. umask .. ".sock")
      local after = posix.umask(old)
      assert(ok, server)
      assert.equal(tonumber(umask, 8), after)
      assert.equal("600", mode_of(dir .. "/repl" .. umask .. ".sock"))
      server:close()
    end
  end)
end)

describe("an attach from another uid", function()
  local dir, path, server
  local skip

  setup(function()
    if not as_root() then
      skip = "needs root to run a client under uid 65534"
    elseif not have_setpriv() then
      skip = "needs setpriv (util-linux) to run a client under uid 65534"
    end
    if skip then
      io.stderr:write("file_modes_spec: pending: ", skip, "\n")
      return
    end
    dir = h.tempdir()
    -- The directory lets nobody in: only the socket file's mode keeps them out.
    os.execute("chmod 755 " .. q(dir))
    path = dir .. "/repl.sock"
    server = repl.serve(path)
  end)

  teardown(function()
    if server then server:close() end
    if dir then os.execute("rm -rf " .. q(dir)) end
    rawset(_G, "ran_for_nobody", nil)
  end)

  -- The server is a task of this process: the client runs in the
  -- background while this task sleeps, so that the loop goes on serving.
  local function as_nobody(cmd)
    local out = dir .. "/nobody"
    os.execute("rm -f " .. q(out) .. ".*")
    os.execute(string.format("(timeout -k 2 20 setpriv --reuid=65534 --regid=65534 --clear-groups %s " ..
      ">%s.out 2>%s.err; echo $? >%s.rc) &", cmd, q(out), q(out), q(out)))
    local rc
    for _ = 1, 1500 do
      rc = slurp(out .. ".rc")
      if rc and rc:find("\n") then break end
      task.sleep(0.02)
    end
    return slurp(out .. ".out"), slurp(out .. ".err"), tonumber(rc)
  end

  -- Runs a moonsock script as nobody; the script file must be readable.
  local function script_as_nobody(code)
    local script = dir .. "/client.lua"
    local f = assert(io.open(script, "w"))
    f:write(code)
    f:close()
    os.execute("chmod 644 " .. q(script))
    return as_nobody(q(h.moonsock) .. " " .. q(script) .. " " .. q(path))
  end

  it("fails with EACCES on the socket file's mode 0600", function()
    if skip then return pending(skip) end
    assert.equal("600", mode_of(path))
    local _, err, code = as_nobody(q(h.moonsock) .. " --attach " .. q(path) .. " </dev/null")
    assert.equal(1, code)
    local want = h.python("import os, errno; print(os.strerror(errno.EACCES))")
    assert.truthy(err:find("cannot attach to " .. path .. ": " .. want, 1, true), err)
  end)

  it("is refused by the server's credential check when the file is loosened to 0666", function()
    if skip then return pending(skip) end
    assert(os.execute("chmod 666 " .. q(path)))
    -- A raw client: it sends a statement at once, without waiting for a
    -- prompt, and prints every frame it gets until the server closes.
    local out, err, code = script_as_nobody([[
local socket = require "socket"
local c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c:settimeout(5)
c:connect((...))
local line = "ran_for_nobody = true"
-- The server may refuse and close before the line is out: EPIPE then.
pcall(c.sendall, c, string.pack(">c1s4", "L", line))
local got = ""
while true do
  -- ECONNRESET ends it too: the server closes with our line unread.
  local ok, data = pcall(c.recv, c, 4096)
  if not ok or data == "" then break end
  got = got .. data
end
while #got >= 5 do
  local kind, payload, next = string.unpack(">c1s4", got)
  io.write(kind, " ", payload)
  got = got:sub(next)
end
]])
    assert.equal(0, code, err)
    assert.equal("X moonsock: attach refused: peer uid 65534 is not the server's uid " ..
      h.run("id -u"), out)
    -- Give a statement that had been accepted time to run: it must not.
    task.sleep(0.2)
    assert.is_nil(rawget(_G, "ran_for_nobody"))
    assert(os.execute("chmod 600 " .. q(path)))
  end)

  it("is refused by `moonsock --attach` itself: the server runs as another uid", function()
    if skip then return pending(skip) end
    assert(os.execute("chmod 666 " .. q(path)))
    -- setpriv runs the binary itself: a shell as nobody could not, where the
    -- checkout sits below a directory only root may enter (mktemp -d). The
    -- typed line comes from a file this shell opens.
    local input = dir .. "/typed"
    local f = assert(io.open(input, "w"))
    f:write("ran_for_nobody = true\n")
    f:close()
    local out, err, code = as_nobody(q(h.moonsock) .. " --attach " .. q(path) .. " < " .. q(input))
    assert(os.execute("chmod 600 " .. q(path)))
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal(h.moonsock .. ": attach refused: the server at " .. path ..
      " runs as uid 0, not this user's uid 65534\n", err)
    assert.is_nil(rawget(_G, "ran_for_nobody"))
  end)
end)
