-- ipaddress's format(x, spec) parsed the spec with two Lua patterns: a fill
-- character had to be one byte, so format(a, "é>12s") raised "Invalid format
-- specifier" where Python pads with é; a width of Unicode digits, the z
-- option, a space sign, both ',' and '_', over-long widths and the text of
-- the invalid-spec error all differed from CPython's spec parser. Found by
-- spec/fuzz/fuzz_ipaddress.c's inputs run through Python and moonsock.
local ipaddress = require "ipaddress"
local errors = require "moonsock.errors"
local h = require "spec.support.helpers"

local specs = {
  "é>12s", "😀^11s", "é^é9s", "z<s", "zs", " s", "+s", "#s", "=s", ",s", "_s", ",_s", "_,s",
  ".s", "abcs", "%ss", "99999999999999999999s", ".99999999999999999999s", "٣s", ".٢s",
  "x<٣٠s", "<<s", "020s", ".3s", "^15s", "s", "",
}

local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

describe("ipaddress x:format(spec)", function()
  it("parses string specs as CPython does", function()
    local lines = {}
    for i, spec in ipairs(specs) do lines[i] = hex(spec) end
    local py = h.python([[
import ipaddress
objs = [ipaddress.IPv4Address("1.2.3.4"), ipaddress.IPv6Address("fe80::1%eth0")]
for line in """]] .. table.concat(lines, " ") .. [[""".split(" "):
    spec = bytes.fromhex(line).decode()
    for o in objs:
        try: r = "OK " + format(o, spec)
        except ValueError as e: r = "ValueError " + str(e)
        print(r.encode().hex())
]])
    local got = {}
    for _, spec in ipairs(specs) do
      for _, o in ipairs {ipaddress.IPv4Address("1.2.3.4"), ipaddress.IPv6Address("fe80::1%eth0")} do
        local ok, r = pcall(o.format, o, spec)
        if ok then
          got[#got + 1] = hex("OK " .. r)
        else
          assert.is_true(errors.ValueError:matches(r), tostring(r))
          got[#got + 1] = hex("ValueError " .. tostring(r))
        end
      end
    end
    assert.are.equal(py, table.concat(got, "\n") .. "\n")
  end)
end)
