-- LuaSec's conn:getfinished() answered with the tls-unique channel binding,
-- which on a server (in a full handshake) is the client's Finished message,
-- not the server's own as LuaSec's SSL_get_finished gives; getpeerfinished
-- was missing. The same script, a client and a server connection in one
-- process driven with settimeout(0), runs under stock lua5.4 with Debian's
-- lua-sec (the reference) and under moonsock: the outputs must be the same.
local h = require "spec.support.helpers"
local pki = require("spec.support.pki")()

local REFERENCE = "env -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 timeout 60 lua5.4 "

local SCRIPT = [[
local socket = require "socket"
local ssl = require "ssl"
local cert, key, ca, proto = arg[1], arg[2], arg[3], arg[4]
local srv = assert(socket.bind("127.0.0.1", 0))
local _, port = srv:getsockname()
local c = assert(socket.connect("127.0.0.1", port))
local a = assert(srv:accept())
local S = assert(ssl.wrap(a, {mode = "server", protocol = proto, certificate = cert, key = key}))
local C = assert(ssl.wrap(c, {mode = "client", protocol = proto, cafile = ca, verify = "peer"}))
print("before", select("#", C:getfinished()), select("#", S:getpeerfinished()), C:getfinished())
S:settimeout(0)
C:settimeout(0)
local sd, cd
for _ = 1, 500 do
  cd = cd or C:dohandshake()
  sd = sd or S:dohandshake()
  if sd and cd then break end
  socket.sleep(0.01)
end
print(sd, cd, C:info("protocol"))
local cf, cp, sf, sp = C:getfinished(), C:getpeerfinished(), S:getfinished(), S:getpeerfinished()
print(#cf, #cp, #sf, #sp, "client's own is the server's peer's", cf == sp,
      "server's own is the client's peer's", sf == cp, "own differs from peer's", cf ~= cp)
]]

describe("LuaSec's getfinished and getpeerfinished", function()
  it("give this side's and the peer's Finished message, on a client and a server, as LuaSec", function()
    local path = h.write_temp(SCRIPT, ".lua")
    for _, proto in ipairs {"tlsv1_2", "tlsv1_3"} do
      local args = table.concat({h.shell_quote(path), h.shell_quote(pki.server.cert),
        h.shell_quote(pki.server.key), h.shell_quote(pki.ca), proto}, " ")
      local want, werr, wcode = h.run(REFERENCE .. args)
      assert.equal(0, wcode, werr)
      local got, gerr, gcode = h.run(h.shell_quote(h.moonsock) .. " " .. args)
      assert.equal(0, gcode, gerr)
      assert.equal(want, got)
      assert.matches("own is the server's peer's\ttrue\tserver's own is the client's peer's\ttrue", got)
    end
    os.remove(path)
  end)
end)
