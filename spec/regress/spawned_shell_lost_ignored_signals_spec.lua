-- io.popen, os.execute and subprocess with shell = true moved to libuv's
-- uv_spawn, whose child sets every signal to SIG_DFL before its exec: a
-- signal the script ignored (nohup's way) was no longer ignored in the
-- command, as it is under Lua's popen(3) and Python's subprocess. The shell
-- now ignores those signals again; SIGPIPE stays the child's default, as
-- Python's restore_signals leaves it.
local h = require "spec.support.helpers"

local function ignored_bits(status_text)
  return tonumber(assert(status_text:match("SigIgn:%s*(%x+)")), 16)
end

describe("a command run through the shell", function()
  it("keeps the signals the script ignores ignored, as python3's subprocess does", function()
    local py = h.python([[
import signal, subprocess
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
print(subprocess.run("grep SigIgn /proc/self/status", shell=True, capture_output=True, text=True).stdout, end="")
]])
    local out, err, code = h.moonsock_script([[
local signal = require "signal"
local subprocess = require "subprocess"
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
local p = io.popen("grep SigIgn /proc/self/status")
io.write(p:read("a"))
p:close()
io.write(subprocess.run("grep SigIgn /proc/self/status", {shell = true, capture_output = true}).stdout)
os.execute("grep SigIgn /proc/self/status")
]])
    assert.are.equal(0, code, err)
    local want = ignored_bits(py)
    local signal = require "signal"
    local usr1, hup, pipe = 1 << (signal.SIGUSR1 - 1), 1 << (signal.SIGHUP - 1), 1 << (signal.SIGPIPE - 1)
    assert.are.equal(usr1 | hup, want & (usr1 | hup | pipe))
    local n = 0
    for line in out:gmatch("[^\n]+") do
      n = n + 1
      assert.are.equal(want & (usr1 | hup | pipe), ignored_bits(line) & (usr1 | hup | pipe), line)
    end
    assert.are.equal(3, n)
  end)
end)
