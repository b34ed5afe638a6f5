-- The methods of ipaddress objects used whatever self they were given:
-- net.contains({}, a) answered false, net.subnets({}) made an iterator,
-- x.format(nil) failed with "attempt to index a nil value (local 'x')",
-- it.list(nil) with "attempt to call a nil value". Python raises
-- AttributeError (or TypeError) there; moonsock says "bad self".
local ipaddress = require "ipaddress"

describe("ipaddress methods", function()
  it("refuse a self that is no ipaddress object", function()
    local net = ipaddress.IPv4Network("192.0.2.0/24")
    local a = ipaddress.IPv4Address("192.0.2.1")
    local calls = {{net, "contains", a}, {net, "subnets"}, {net, "hosts"}, {a, "format", ""}, {a, "repr"},
                   {a, "int"}, {net, "getitem", 0}, {net:iter(), "list"}}
    for _, c in ipairs(calls) do
      for _, bad in ipairs {{}, "x", false} do
        local ok, err = pcall(c[1][c[2]], bad, c[3])
        assert.is_false(ok, c[2])
        assert.matches("calling '" .. c[2] .. "' on bad self", err, 1, true)
      end
    end
  end)
end)
