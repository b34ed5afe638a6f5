-- Integers of any size for the modules that need more than Lua's 64 bits
-- (ipaddress: IPv6 values are 128 bits, ::/0 holds 2^128 addresses).
--
-- A value is either a plain Lua integer, when its magnitude is below 2^62,
-- or a table of 32-bit limbs, least significant first, with a field neg and
-- the metatable M.mt. Every result is normalised, so two equal values
-- always have the same form and the small ones stay fast Lua arithmetic.
-- Operands are Lua integers or such values (from_int makes any Lua integer
-- one, math.mininteger included).
--
--   local bigint = require "moonsock.bigint"
--   local x = bigint.shl(1, 100)                     -- 2^100
--   bigint.tostring(bigint.sub(x, 1))                --> "1267650600228229401496703205375"
--   bigint.cmp(bigint.from_decimal("-5"), 3)         --> -1
--
-- The bitwise operations (band, bor, bxor, shl, shr, ctz) are defined on
-- non-negative values only: they work on magnitudes.
local BIG = {__name = "int"}
local M = {}
M.mt = BIG
local SMALL = 1 << 62
local LIMB = 0xffffffff

local function isint(x) return math.type(x) == "integer" end

local function norm(neg, limbs)
  local n = #limbs
  while n > 0 and limbs[n] == 0 do limbs[n] = nil; n = n - 1 end
  if n == 0 then return 0 end
  if n == 1 or (n == 2 and limbs[2] < (1 << 30)) then
    local v = limbs[1] | ((limbs[2] or 0) << 32)
    return neg and -v or v
  end
  limbs.neg = neg
  return setmetatable(limbs, BIG)
end

-- mag(x) -> neg, limbs (read only).
local function mag(x)
  if isint(x) then
    local neg = x < 0
    local m = neg and -x or x -- math.mininteger stays 2^63 read as unsigned
    return neg, {m & LIMB, (m >> 32) & LIMB}
  end
  return x.neg, x
end

-- from_int(i): the Lua integer i in normal form.
local function from_int(i)
  if i > -SMALL and i < SMALL then return i end
  return norm(mag(i))
end
M.from_int = from_int

-- isbig(x): whether x is a value of this module too large for a Lua integer.
function M.isbig(x) return getmetatable(x) == BIG end

local function mlen(a)
  local n = #a
  while n > 0 and a[n] == 0 do n = n - 1 end
  return n
end

local function mcmp(a, b)
  local na, nb = mlen(a), mlen(b)
  if na ~= nb then return na < nb and -1 or 1 end
  for i = na, 1, -1 do
    if a[i] ~= b[i] then return a[i] < b[i] and -1 or 1 end
  end
  return 0
end

local function madd(a, b)
  local r, carry = {}, 0
  for i = 1, math.max(#a, #b) do
    local s = (a[i] or 0) + (b[i] or 0) + carry
    r[i] = s & LIMB
    carry = s >> 32
  end
  if carry > 0 then r[#r + 1] = carry end
  return r
end

local function msub(a, b) -- a >= b
  local r, borrow = {}, 0
  for i = 1, #a do
    local s = a[i] - (b[i] or 0) - borrow
    if s < 0 then s = s + (1 << 32); borrow = 1 else borrow = 0 end
    r[i] = s
  end
  return r
end

function M.add(a, b)
  if isint(a) and isint(b) and a > -SMALL and a < SMALL and b > -SMALL and b < SMALL then
    local s = a + b
    if s > -SMALL and s < SMALL then return s end
  end
  local an, am = mag(a)
  local bn, bm = mag(b)
  if an == bn then return norm(an, madd(am, bm)) end
  local c = mcmp(am, bm)
  if c == 0 then return 0 end
  if c > 0 then return norm(an, msub(am, bm)) end
  return norm(bn, msub(bm, am))
end

function M.neg(a)
  if isint(a) and a > -SMALL and a < SMALL then return -a end
  local an, am = mag(a)
  local r = {}
  for i = 1, #am do r[i] = am[i] end
  return norm(not an, r)
end

function M.sub(a, b) return M.add(a, M.neg(b)) end

function M.cmp(a, b)
  if isint(a) and isint(b) then return a < b and -1 or (a > b and 1 or 0) end
  local an, am = mag(a)
  local bn, bm = mag(b)
  if an ~= bn then return an and -1 or 1 end
  local c = mcmp(am, bm)
  return an and -c or c
end

-- A normalised big value never equals a Lua integer below 2^62: the common
-- case answers without building limbs.
function M.eq(a, b)
  local ia, ib = isint(a), isint(b)
  if ia and ib then return a == b end
  if (ia and a > -SMALL and a < SMALL) or (ib and b > -SMALL and b < SMALL) then return false end
  return M.cmp(a, b) == 0
end

function M.lt(a, b) return M.cmp(a, b) < 0 end

-- Bitwise operations work on magnitudes (module header).
local function bitop(a, b, f)
  if isint(a) and isint(b) then return f(a, b) end
  local _, am = mag(a)
  local _, bm = mag(b)
  local r = {}
  for i = 1, math.max(#am, #bm) do r[i] = f(am[i] or 0, bm[i] or 0) end
  return norm(false, r)
end
local function f_and(x, y) return x & y end
local function f_or(x, y) return x | y end
local function f_xor(x, y) return x ~ y end
function M.band(a, b) return bitop(a, b, f_and) end
function M.bor(a, b) return bitop(a, b, f_or) end
function M.bxor(a, b) return bitop(a, b, f_xor) end

function M.shl(a, k)
  if a == 0 then return 0 end
  if isint(a) and k < 62 and a < (1 << (62 - k)) then return a << k end
  local _, am = mag(a)
  local q, r = k // 32, k % 32
  local out = {}
  for i = 1, q do out[i] = 0 end
  local carry = 0
  for i = 1, #am do
    local v = (am[i] << r) | carry
    out[q + i] = v & LIMB
    carry = v >> 32
  end
  out[q + #am + 1] = carry
  return norm(false, out)
end

function M.shr(a, k)
  if isint(a) then return k >= 63 and 0 or a >> k end
  local q, r = k // 32, k % 32
  local out = {}
  for i = q + 1, #a do
    local v = a[i] >> r
    if r > 0 then v = v | (((a[i + 1] or 0) << (32 - r)) & LIMB) end
    out[i - q] = v
  end
  return norm(false, out)
end

function M.bit_length(a)
  local _, am = mag(a)
  local n = mlen(am)
  if n == 0 then return 0 end
  local top, bits = am[n], 0
  while top > 0 do bits = bits + 1; top = top >> 1 end
  return (n - 1) * 32 + bits
end

-- ctz(a, bits): the trailing zero bits of a, at most bits (bits for 0):
-- ipaddress's _count_righthand_zero_bits(number, bits).
function M.ctz(a, bits)
  if M.eq(a, 0) then return bits end
  local _, am = mag(a)
  local z = 0
  for i = 1, #am do
    local w = am[i]
    if w ~= 0 then
      while w & 1 == 0 do z = z + 1; w = w >> 1 end
      break
    end
    z = z + 32
  end
  return math.min(bits, z)
end

-- tostring(a): decimal text, as Python's str(int).
function M.tostring(a)
  if isint(a) then return string.format("%d", a) end
  local limbs = {}
  for i = 1, #a do limbs[i] = a[i] end
  local n, chunks = mlen(limbs), {}
  while n > 0 do
    local rem = 0
    for i = n, 1, -1 do
      local cur = (rem << 32) | limbs[i]
      limbs[i] = cur // 1000000000
      rem = cur % 1000000000
    end
    chunks[#chunks + 1] = rem
    while n > 0 and limbs[n] == 0 do n = n - 1 end
  end
  local parts = {a.neg and "-" or "", string.format("%d", chunks[#chunks])}
  for i = #chunks - 1, 1, -1 do parts[#parts + 1] = string.format("%09d", chunks[i]) end
  return table.concat(parts)
end

-- from_decimal(s): the integer written in s, decimal digits after an
-- optional minus; nil for any other text.
function M.from_decimal(s)
  local sign, digits = s:match("^(%-?)(%d+)$")
  if not digits then return nil end
  local limbs = {0}
  for i = 1, #digits, 9 do
    local chunk = digits:sub(i, i + 8)
    local mul, carry = math.tointeger(10 ^ #chunk), math.tointeger(tonumber(chunk))
    for j = 1, #limbs do
      local v = limbs[j] * mul + carry
      limbs[j] = v & LIMB
      carry = v >> 32
    end
    while carry > 0 do limbs[#limbs + 1] = carry & LIMB; carry = carry >> 32 end
  end
  return norm(sign == "-", limbs)
end

-- from_bytes(s), to_bytes(a, len): the non-negative integer s holds
-- big-endian, as Python's int.from_bytes(s, "big"); the low len bytes of
-- |a| big-endian, as Python's a.to_bytes(len, "big") when a fits.
function M.from_bytes(s)
  local limbs, i = {}, #s
  while i >= 1 do
    local j, w = math.max(1, i - 3), 0
    for k = j, i do w = (w << 8) | s:byte(k) end
    limbs[#limbs + 1] = w
    i = j - 1
  end
  return norm(false, limbs)
end

function M.to_bytes(a, len)
  local _, l = mag(a)
  local out = {}
  for k = 0, len - 1 do
    local limb = l[k // 4 + 1] or 0
    out[len - k] = string.char((limb >> (8 * (k % 4))) & 0xff)
  end
  return table.concat(out)
end

-- from_words(words): the non-negative integer of the 32-bit words of the
-- list (least significant first; the list becomes the value).
-- word(a, i): the i-th 32-bit word of |a|, least significant first, 0
-- above the top. Fixed-width values (an IPv6 address's hextets) are built
-- and read a word at a time without going through bytes or text.
function M.from_words(words) return norm(false, words) end

function M.word(a, i)
  if isint(a) then
    local m = a < 0 and -a or a
    if i == 1 then return m & LIMB end
    if i == 2 then return (m >> 32) & LIMB end
    return 0
  end
  return a[i] or 0
end

BIG.__tostring = M.tostring

return M
