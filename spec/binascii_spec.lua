-- lua/binascii.lua against CPython's binascii: a Python generator makes
-- random byte strings and hex strings (good and bad), calls hexlify,
-- b2a_hex, unhexlify and a2b_hex with them, and writes every input with its
-- result or its error's class and message as a Lua chunk; the spec makes the
-- same calls here and compares. Random bytes also make the round trip
-- unhexlify(hexlify(data)) == data on both sides.
local h = require "spec.support.helpers"
local binascii = require "binascii"
local errors = require "moonsock.errors"

local GENERATOR = [==[
import binascii
import random
import sys

def lua(v):
    if v is None: return 'nil'
    if isinstance(v, bool): return 'true' if v else 'false'
    if isinstance(v, int): return str(v)
    if isinstance(v, str): v = v.encode('utf-8')
    if isinstance(v, bytes):
        return '"' + ''.join(chr(b) if 32 <= b < 127 and b not in (34, 92) else '\\%03d' % b
                             for b in v) + '"'
    if isinstance(v, list):
        return '{' + ''.join(lua(x) + ',' for x in v) + 'n=%d}' % len(v)
    if isinstance(v, dict):
        return '{' + ''.join('[%s]=%s,' % (lua(k), lua(x)) for k, x in v.items()) + '}'
    raise TypeError(type(v))

def outcome(f, args):
    try:
        return {'ok': getattr(binascii, f)(*args)}
    except ValueError as e:
        name = type(e).__name__
        if type(e).__module__ != 'builtins': name = type(e).__module__ + '.' + name
        return {'err': name, 'msg': str(e)}

rnd = random.Random(4242)
cases = []
def case(f, *args):
    cases.append({'f': f, 'args': list(args), 'want': outcome(f, args)})

for n in list(range(0, 20)) + [rnd.randint(20, 300) for _ in range(30)]:
    data = bytes(rnd.getrandbits(8) for _ in range(n))
    case('hexlify', data)
    case('b2a_hex', data)
    for sep in ['-', ':', b' ', b'\xff', '\x00', '\xe9']:
        for bps in [None, 1, 2, 3, -1, -2, -3, 0, n, -n, n + 1, -(n + 1), 2147483647, -2147483648]:
            if bps is None:
                case('hexlify', data, sep)
            else:
                case('hexlify', data, sep, bps)
    hx = binascii.hexlify(data)
    case('unhexlify', hx)
    case('a2b_hex', hx.upper())
    case('unhexlify', hx.decode())
    if n:
        case('unhexlify', hx[:-1])
        i = rnd.randrange(len(hx))
        case('unhexlify', hx[:i] + bytes([rnd.choice(b'gGzZ -x\x00\xff')]) + hx[i + 1:])
for sep in ['', '--', 'ab', '\u20ac', '\u0100']:
    case('hexlify', b'ab', sep)
    case('hexlify', b'', sep)
for s in [b'', b'0', b'00', b'0g', b'g0', b'abc', b'ABCD', b'aBcD', b' 00', b'00 ', b'0x00', b'\xff\xff', b'\xe90',
          b'+1', b'-1', b'1\n', b'zz', b'0\x00']:
    case('unhexlify', s)
    case('a2b_hex', s)
sys.stdout.buffer.write(('return ' + lua(cases)).encode())
]==]

local function outcome(f, args)
  local ok, r = pcall(binascii[f], table.unpack(args, 1, args.n))
  if ok then return {ok = r} end
  local mt = getmetatable(r)
  if type(r) == "table" and type(mt) == "table" then return {err = mt.__name, msg = tostring(r)} end
  return {err = "lua error", msg = tostring(r)}
end

local function show(v)
  if type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. show(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return type(v) == "string" and string.format("%q", v) or tostring(v)
end

describe("binascii against python3's binascii", function()
  local cases = assert(load(h.python(GENERATOR), "=python cases"))()

  it("gives Python's result or error for " .. #cases .. " calls", function()
    local bad = {}
    for _, c in ipairs(cases) do
      local got = outcome(c.f, c.args)
      if got.ok ~= c.want.ok or got.err ~= c.want.err or got.msg ~= c.want.msg then
        bad[#bad + 1] = string.format("%s%s\n   python: %s\n   lua:    %s", c.f, show(c.args), show(c.want), show(got))
      end
    end
    assert(#bad == 0, #bad .. " differ:\n" .. table.concat(bad, "\n", 1, math.min(#bad, 20)))
    assert.is_true(#cases > 3000)
  end)

  it("round-trips random bytes through hexlify and unhexlify", function()
    local n = 0
    for _, c in ipairs(cases) do
      if c.f == "hexlify" and c.args.n == 1 then
        assert.are.equal(c.args[1], binascii.unhexlify(binascii.hexlify(c.args[1])))
        assert.are.equal(c.args[1], binascii.a2b_hex(binascii.b2a_hex(c.args[1]):upper()))
        n = n + 1
      end
    end
    assert.is_true(n >= 50)
  end)
end)

describe("binascii errors", function()
  it("binascii.Error is a ValueError printed as Python prints it", function()
    local ok, err = pcall(binascii.unhexlify, "abc")
    assert.is_false(ok)
    assert.is_true(binascii.Error:matches(err))
    assert.is_true(errors.ValueError:matches(err))
    assert.are.equal("binascii.Error: Odd-length string", errors.describe(err))
    local out = h.python("import binascii\nprint(binascii.Error, issubclass(binascii.Error, ValueError))")
    assert.are.equal(out, tostring(binascii.Error) .. " True\n")
  end)

  it("wrong argument types are Lua argument errors at the caller's line", function()
    local calls = {
      {binascii.hexlify, {n = 0}, "bad argument #1 to 'hexlify' (string expected, got no value)"},
      {binascii.b2a_hex, {5, n = 1}, "bad argument #1 to 'b2a_hex' (string expected, got number)"},
      {binascii.hexlify, {"a", 1, n = 2}, "bad argument #2 to 'hexlify' (string expected, got number)"},
      {binascii.hexlify, {"a", "-", 1.5, n = 3}, "bad argument #3 to 'hexlify' (integer expected, got float)"},
      {binascii.hexlify, {"a", "-", 2147483648, n = 3},
       "bad argument #3 to 'hexlify' (Python int too large to convert to C int)"},
      {binascii.hexlify, {"a", {sap = "-"}, n = 2}, "bad argument #2 to 'hexlify' (unexpected option 'sap')"},
      {binascii.unhexlify, {n = 0}, "bad argument #1 to 'unhexlify' (string expected, got no value)"},
      {binascii.a2b_hex, {{}, n = 1}, "bad argument #1 to 'a2b_hex' (string expected, got table)"},
    }
    for _, c in ipairs(calls) do
      local ok, err = pcall(function()
        local r = c[1](table.unpack(c[2], 1, c[2].n))
        return r
      end)
      assert.is_false(ok)
      assert.are.equal("string", type(err))
      assert.matches(c[3], err, 1, true)
      assert.matches("binascii_spec.lua:%d+:", err)
    end
  end)

  it("takes sep and bytes_per_sep in an options table too", function()
    local data = "\1\2\3\4\5"
    assert.are.equal(binascii.hexlify(data, ":", -2), binascii.hexlify(data, {sep = ":", bytes_per_sep = -2}))
    assert.are.equal(binascii.hexlify(data, " "), binascii.hexlify(data, {sep = " "}))
  end)
end)
