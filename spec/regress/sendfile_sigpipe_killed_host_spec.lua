-- sendfile(2) has no MSG_NOSIGNAL: a sock:sendfile to a closed peer raised
-- SIGPIPE, which killed stock lua5.4 (and any embedding host) with status
-- 141 instead of raising [Errno 32] Broken pipe. Found by the embedding work.
local h = require "spec.support.helpers"

describe("sendfile to a closed peer from stock lua5.4", function()
  it("raises EPIPE instead of killing the process", function()
    local script = h.write_temp([[
require "moonsock"
local socket = require "socket"
local a, b = socket.socketpair()
b:close()
local f = io.open("/etc/services", "rb")
local ok, err = pcall(a.sendfile, a, f)
print(ok, err.errno)
]], ".lua")
    local out, err, code = h.run("LUA_CPATH='lib/lua/5.4/?.so;;' lua5.4 " .. h.shell_quote(script))
    os.remove(script)
    assert.are.equal("", err)
    assert.are.equal(0, code)
    assert.are.equal("false\t32\n", out)
  end)
end)
