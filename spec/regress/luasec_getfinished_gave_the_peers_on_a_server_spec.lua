-- LuaSec's conn:getfinished() answered with the tls-unique channel binding,
-- which on a server (in a full handshake) is the client's Finished message,
-- not the server's own as LuaSec's SSL_get_finished gives; getpeerfinished
-- was missing. The same script, a client and a server connection in one
-- process, runs under stock lua5.4 with Debian's lua-sec (the reference)
-- and under moonsock: the outputs must be the same.
local pki = require("spec.support.pki")()
local luasec_pair = require "spec.support.luasec_pair"

local SCRIPT = [[
local cert, key, ca, proto = arg[1], arg[2], arg[3], arg[4]
local C, S = assert(wrap_pair({mode = "server", protocol = proto, certificate = cert, key = key},
  {mode = "client", protocol = proto, cafile = ca, verify = "peer"}))
print("before", select("#", C:getfinished()), select("#", S:getpeerfinished()), C:getfinished())
local cd, _, sd = handshake(C, S)
print(sd, cd, C:info("protocol"))
local cf, cp, sf, sp = C:getfinished(), C:getpeerfinished(), S:getfinished(), S:getpeerfinished()
print(#cf, #cp, #sf, #sp, "client's own is the server's peer's", cf == sp,
      "server's own is the client's peer's", sf == cp, "own differs from peer's", cf ~= cp)
]]

describe("LuaSec's getfinished and getpeerfinished", function()
  it("give this side's and the peer's Finished message, on a client and a server, as LuaSec", function()
    for _, proto in ipairs {"tlsv1_2", "tlsv1_3"} do
      local want, got = luasec_pair.run_both(SCRIPT, pki.server.cert, pki.server.key, pki.ca, proto)
      assert.equal(want, got)
      assert.matches("own is the server's peer's\ttrue\tserver's own is the client's peer's\ttrue", got)
    end
  end)
end)
