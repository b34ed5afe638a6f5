-- lua/moonsock/bigint.lua against python3's int. python3 computes every
-- operation on the same operands (the edges of Lua's integers and of the
-- 32-bit limbs, and seeded-random values up to 2^140) and prints the
-- answers in decimal; the Lua side reads the operands from the same text,
-- computes, and must print the same.
local bigint = require "moonsock.bigint"
local h = require "spec.support.helpers"

local PY = [==[
import random

R = random.Random(20261205)
edges = [0, 1, 2, 3, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**61, 2**62 - 1, 2**62,
         2**62 + 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 1, 2**64, 2**95, 2**96 - 1, 2**96,
         2**127, 2**128 - 1, 2**128, 2**128 + 1, 10**9, 10**18, 10**19, 10**38]
signed = sorted(set(edges + [-e for e in edges]))
rand = [R.getrandbits(R.choice([8, 31, 32, 33, 62, 63, 64, 65, 96, 128, 129, 140])) for _ in range(40)]
signed += rand + [-r for r in rand[:20]]
nonneg = [v for v in signed if v >= 0]
shifts = [0, 1, 7, 31, 32, 33, 61, 62, 63, 64, 65, 95, 96, 127, 128, 130]

def out(*xs):
    print("|".join(str(x) for x in xs))

for a in signed:
    out("neg", a, "", -a)
    out("bit_length", a, "", a.bit_length())
    for b in signed:
        out("add", a, b, a + b)
        out("sub", a, b, a - b)
        out("cmp", a, b, (a > b) - (a < b))
        out("eq", a, b, str(a == b).lower())
        out("lt", a, b, str(a < b).lower())
for a in nonneg:
    for b in nonneg:
        out("band", a, b, a & b)
        out("bor", a, b, a | b)
        out("bxor", a, b, a ^ b)
    for k in shifts:
        out("shl", a, k, a << k)
        out("shr", a, k, a >> k)
    out("ctz", a, 128, min(128, (a & -a).bit_length() - 1) if a else 128)
    out("ctz", a, 32, min(32, (a & -a).bit_length() - 1) if a else 32)
    for i in range(1, 6):
        out("word", a, i, (a >> (32 * (i - 1))) & 0xFFFFFFFF)
    if a < 2**128:
        out("to_bytes", a, 16, a.to_bytes(16, "big").hex())
    out("to_bytes", a, 4, (a & 0xFFFFFFFF).to_bytes(4, "big").hex())
for n in range(0, 20):
    b = R.randbytes(n)
    out("from_bytes", b.hex(), "", int.from_bytes(b, "big"))
for i in [-2**63, -2**63 + 1, -2**62, -2**62 + 1, 2**62 - 1, 2**62, 2**63 - 1]:
    out("from_int", i, "", i)
]==]

local function unhex(s) return (s:gsub("..", function(x) return string.char(tonumber(x, 16)) end)) end
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end

local function num(s) return assert(bigint.from_decimal(s), s) end

local ops = {
  neg = function(a) return bigint.neg(num(a)) end,
  bit_length = function(a) return bigint.bit_length(num(a)) end,
  add = function(a, b) return bigint.add(num(a), num(b)) end,
  sub = function(a, b) return bigint.sub(num(a), num(b)) end,
  cmp = function(a, b) return bigint.cmp(num(a), num(b)) end,
  eq = function(a, b) return bigint.eq(num(a), num(b)) end,
  lt = function(a, b) return bigint.lt(num(a), num(b)) end,
  band = function(a, b) return bigint.band(num(a), num(b)) end,
  bor = function(a, b) return bigint.bor(num(a), num(b)) end,
  bxor = function(a, b) return bigint.bxor(num(a), num(b)) end,
  shl = function(a, k) return bigint.shl(num(a), tonumber(k)) end,
  shr = function(a, k) return bigint.shr(num(a), tonumber(k)) end,
  ctz = function(a, bits) return bigint.ctz(num(a), tonumber(bits)) end,
  word = function(a, i) return bigint.word(num(a), tonumber(i)) end,
  to_bytes = function(a, len) return hex(bigint.to_bytes(num(a), tonumber(len))) end,
  from_bytes = function(s) return bigint.from_bytes(unhex(s)) end,
  from_int = function(a) return bigint.from_int(math.tointeger(a)) end,
}

-- The normal form (module header): a Lua integer exactly below 2^62.
local SMALL = 1 << 62
local function normal(v)
  if math.type(v) == "integer" then return v > -SMALL and v < SMALL end
  return bigint.isbig(v) and bigint.bit_length(v) > 62
end

describe("moonsock.bigint", function()
  local cases = {}
  setup(function()
    for line in h.python(PY):gmatch("[^\n]+") do
      local op, a, b, want = line:match("^([%w_]+)|(.-)|(.-)|(.*)$")
      cases[#cases + 1] = {op = op, a = a, b = b, want = want}
    end
  end)

  it("computes what python3's int computes", function()
    local bad, count = {}, {}
    for _, c in ipairs(cases) do
      local r = ops[c.op](c.a, c.b)
      local got = type(r) == "string" and r or (type(r) == "boolean" and tostring(r)) or bigint.tostring(r)
      if got ~= c.want then bad[#bad + 1] = ("%s(%s, %s) = %s, python3: %s"):format(c.op, c.a, c.b, got, c.want) end
      count[c.op] = (count[c.op] or 0) + 1
    end
    assert.are.same({}, bad)
    for op in pairs(ops) do assert.is_true((count[op] or 0) > 0, op) end
    assert.is_true(#cases > 20000)
  end)

  it("gives every result in normal form, small values as Lua integers", function()
    local bad = {}
    for _, c in ipairs(cases) do
      if c.op ~= "cmp" and c.op ~= "eq" and c.op ~= "lt" and c.op ~= "to_bytes" and c.op ~= "word"
        and c.op ~= "bit_length" and c.op ~= "ctz" then
        local r = ops[c.op](c.a, c.b)
        if not normal(r) then bad[#bad + 1] = c.op .. "(" .. c.a .. ", " .. c.b .. ")" end
      end
    end
    assert.are.same({}, bad)
  end)

  it("reads back its own text, and refuses text that is no decimal integer", function()
    for _, c in ipairs(cases) do
      if c.op == "add" then assert.are.equal(c.a, bigint.tostring(num(c.a))) end
    end
    assert.is_nil(bigint.from_decimal("12a"))
    assert.is_nil(bigint.from_decimal(""))
    assert.is_nil(bigint.from_decimal("+5"))
    assert.are.equal("int", getmetatable(bigint.shl(1, 70)).__name)
    local big = bigint.shl(1, 70)
    assert.are.equal(bigint.tostring(big), tostring(big))
  end)
end)
