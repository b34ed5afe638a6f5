-- `moonsock --attach path` checked nothing about the server: whoever could
-- write the socket's directory (a world-writable one, or /tmp once the real
-- program had ended and its file was gone) could listen at the path, show
-- a prompt, and read every line typed. repl.serve checked its peer's uid,
-- the client did not. Now the client asks the kernel (SO_PEERCRED) who
-- called listen and refuses a server of another uid before it reads or
-- sends anything. Found writing docs/security.md (issue 7).
local h = require "spec.support.helpers"

local q = h.shell_quote

-- Listens at the path, shows a banner and a prompt, and logs how many
-- bytes the client sends within 2 s.
local FAKE = [[
local socket = require "socket"
local path, log = ...
local s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s:bind(path)
s:listen(1)
local f = assert(io.open(log .. ".ready", "w"))
f:close()
s:settimeout(10)
local c = s:accept()
c:settimeout(2)
-- EPIPE if the client has gone already.
pcall(c.sendall, c, string.pack(">c1s4", "B", "moonsock REPL\n") .. string.pack(">c1s4", "P", "> "))
local got = ""
while true do
  local ok, data = pcall(c.recv, c, 4096)
  if not ok or data == "" then break end
  got = got .. data
end
f = assert(io.open(log, "w"))
f:write(#got, "\n")
f:close()
]]

describe("moonsock --attach to a server of another uid", function()
  it("refuses it before sending a line", function()
    if h.run("id -u") ~= "0\n" then return pending("needs root to run a server under uid 65534") end
    if not h.run("command -v setpriv"):find("setpriv", 1, true) then
      return pending("needs setpriv (util-linux) to run a server under uid 65534")
    end
    local dir = h.tempdir()
    os.execute("chmod 777 " .. q(dir))
    local script, path, log = dir .. "/fake.lua", dir .. "/app.sock", dir .. "/fake.log"
    local f = assert(io.open(script, "w"))
    f:write(FAKE)
    f:close()
    os.execute("chmod 644 " .. q(script))
    os.execute(string.format("timeout -k 2 20 setpriv --reuid=65534 --regid=65534 --clear-groups %s %s %s %s " ..
      "</dev/null >/dev/null 2>&1 &", q(h.moonsock), q(script), q(path), q(log)))
    local task = require "task"
    for _ = 1, 500 do
      local r = io.open(log .. ".ready")
      if r then r:close() break end
      task.sleep(0.02)
    end
    local out, err, code = h.run(string.format("printf 'secret = 42\\n' | timeout 10 bash -c %s",
      q("exec -a moonsock " .. q(h.moonsock) .. " --attach " .. q(path))))
    -- The fake server logs once the client has gone (or 2 s of silence).
    local logged
    for _ = 1, 250 do
      local l = io.open(log)
      logged = l and l:read("a")
      if l then l:close() end
      if logged and logged:find("\n") then break end
      task.sleep(0.02)
    end
    os.execute("rm -rf " .. q(dir))
    -- Not a byte reached the fake server.
    assert.equal("0\n", logged)
    assert.equal(1, code)
    assert.equal("", out)
    assert.equal("moonsock: attach refused: the server at " .. path .. " runs as uid 65534, not this user's uid 0\n",
      err)
  end)
end)
