-- moonsock installed its SIGINT handler even when it started with SIGINT
-- ignored (a background `&` job of a non-interactive shell), so a Ctrl-C
-- meant for the foreground killed it. Python keeps ignoring SIGINT then.
local h = require "spec.support.helpers"

describe("a moonsock started with SIGINT ignored", function()
  it("keeps ignoring it", function()
    local script = h.write_temp([[
local task, posix = require "task", require "moonsock.posix"
posix.kill(posix.getpid(), posix.SIGINT)
task.sleep(0.1)
print("alive")
]], ".lua")
    local out, _, code = h.run("sh -c " .. h.shell_quote("trap '' INT; exec " .. h.shell_quote(h.moonsock)
      .. " " .. h.shell_quote(script)))
    os.remove(script)
    assert.are.equal(0, code)
    assert.are.equal("alive\n", out)
  end)
end)
