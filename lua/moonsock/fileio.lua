-- The Lua io file interface that moonsock's file-like objects share
-- (liolib.c's g_read, read_number, g_write, lines), over any byte source:
-- the socket files of moonsock.makefile, socketserver's BytesIO and
-- _SocketWriter. What the bytes are read from stays with each of them: a
-- source hands its own reader functions in, called as reader(f, op, ...)
-- with the two values the caller passes through (a file and its read
-- cursor), so a buffer kept in C can serve the same formats.
local errors = require "moonsock.errors"

local argerror, typename = errors.argerror, errors.typename
local format, sub, unpack = string.format, string.sub, table.unpack
local tointeger, mtype = math.tointeger, math.type

local M = {}

M.L_MAXLENNUM = 200 -- liolib.c: the longest numeral "n" reads

local L_MAXLENNUM = M.L_MAXLENNUM

local function isspace(c) return c == 32 or (c ~= nil and c >= 9 and c <= 13) end
local function isdigit(c) return c ~= nil and c >= 48 and c <= 57 end
local function isxdigit(c)
  return c ~= nil and ((c >= 48 and c <= 57) or (c >= 97 and c <= 102) or (c >= 65 and c <= 70))
end

-- scan_number(peek, f, op) -> skip, len, valid: liolib.c's read_number step
-- by step, over peek(f, op, k), the byte k places after the cursor (nil at
-- EOF). The numeral is the len bytes after skip bytes of white space; the
-- caller consumes skip + len and converts them with tonumber (which is
-- lua_stringtonumber), or fails if not valid (one char past L_MAXLENNUM).
-- The look-ahead char stays unread.
function M.scan_number(peek, f, op)
  local k = 0
  local c = peek(f, op, 0)
  while isspace(c) do
    k = k + 1
    c = peek(f, op, k)
  end
  local start, n, overflow = k, 0, false
  local function nextc()
    if n >= L_MAXLENNUM then
      overflow = true
      return false
    end
    n = n + 1
    k = k + 1
    c = peek(f, op, k)
    return true
  end
  local function test2(a, b)
    if c == a or c == b then return nextc() end
    return false
  end
  local function readdigits(hex)
    local count = 0
    while (hex and isxdigit(c) or (not hex and isdigit(c))) and nextc() do count = count + 1 end
    return count
  end
  local count, hex = 0, false
  test2(45, 43)                 -- "-", "+"
  if test2(48, 48) then         -- "0"
    if test2(120, 88) then      -- "x", "X"
      hex = true
    else
      count = 1
    end
  end
  count = count + readdigits(hex)
  if test2(46, 46) then count = count + readdigits(hex) end -- "." (the C locale's point)
  if count > 0 and test2(hex and 112 or 101, hex and 80 or 69) then -- "pP" / "eE"
    test2(45, 43)
    readdigits(false)
  end
  return start, n, not overflow
end

-- number_reader(peek) -> reader: the "n" format of a source whose bytes
-- are f._rbuf and whose read call's cursor is op.p, with peek as
-- scan_number's: the numeral scanned, consumed and converted. The cursor is
-- read after the scan, as peek may move it (a socket file drops what it had
-- consumed when it receives).
function M.number_reader(peek)
  local scan_number = M.scan_number
  return function(f, op)
    local skip, len, valid = scan_number(peek, f, op)
    local p = op.p + skip
    op.p = p + len
    return tonumber(valid and sub(f._rbuf, p, p + len - 1) or "")
  end
end

-- parse_formats_from(readers, fname, first, ...) -> fmts: each format becomes
-- its reader (readers.n, .l, .L, .a) or an integer count before any byte is
-- read, so a bad format consumes nothing; no format is "l". An argument
-- error counts the first format as argument number first (liolib's lines
-- iterator says #2).
function M.parse_formats_from(readers, fname, first, ...)
  local n = select("#", ...)
  local fmts = {n = n}
  for i = 1, n do
    local fmt = select(i, ...)
    local argn = i + first - 1
    if type(fmt) == "number" then
      local c = tointeger(fmt)
      if not c then argerror(argn, fname, "number has no integer representation") end
      if c < 0 then argerror(argn, fname, "count must be non-negative") end
      fmts[i] = c
    elseif type(fmt) == "string" then
      local ch = sub(fmt, 1, 1) == "*" and sub(fmt, 2, 2) or sub(fmt, 1, 1)
      local r = readers[ch]
      if not r then argerror(argn, fname, "invalid format") end
      fmts[i] = r
    else
      argerror(argn, fname, "string expected, got " .. (fmt == nil and "nil" or typename(fmt)))
    end
  end
  if n == 0 then
    fmts[1], fmts.n = readers.l, 1
  end
  return fmts
end

-- parse_formats(readers, fname, ...): the same, counting from #1.
function M.parse_formats(readers, fname, ...)
  return M.parse_formats_from(readers, fname, 1, ...)
end

-- read_formats(f, op, fmts, chars, zero) -> values: g_read, one value per
-- format, stopping at the first that fails (nil). An integer count n reads
-- with chars(f, op, n), a count 0 with zero(f, op) ("" unless at EOF).
function M.read_formats(f, op, fmts, chars, zero)
  local out, n = {}, 0
  for i = 1, fmts.n do
    local fmt = fmts[i]
    local v
    if mtype(fmt) == "integer" then
      if fmt == 0 then v = zero(f, op) else v = chars(f, op, fmt) end
    else
      v = fmt(f, op)
    end
    n = i
    out[i] = v
    if v == nil then break end
  end
  return unpack(out, 1, n)
end

-- io's lines iterator ends (returns nothing) when the first value is nil.
function M.lines_result(first, ...)
  if first == nil then return end
  return first, ...
end

-- tobytes(i, v, fname) -> string: g_write's argument i, integers with "%d",
-- floats with LUA_NUMBER_FMT, anything else an argument error.
function M.tobytes(i, v, fname)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if mtype(v) == "integer" then return format("%d", v) end
    return format("%.14g", v)
  end
  argerror(i, fname, "string expected, got " .. (v == nil and "nil" or typename(v)))
end

return M
