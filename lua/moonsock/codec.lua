-- Python's text codecs for Lua strings: UTF-8, Latin-1 and ASCII under
-- Python's names for them, with Python's error handlers.
--
-- A Lua string stands for the Python str that Python gets by decoding its
-- bytes as UTF-8 with errors='surrogateescape': valid UTF-8 is that text,
-- and a byte that is not part of valid UTF-8 is the lone surrogate U+DC80+b.
-- So encoding text as UTF-8 gives its bytes back unchanged, a stray byte
-- included, as Python's str.encode('utf-8', 'surrogateescape') does.
--
--   local codec = require "moonsock.codec"
--   local c = codec.lookup("latin-1")              -- LookupError if unknown
--   codec.decode("caf\xe9", c, "strict")           --> "café"
--   codec.encode("café", c, "strict")              --> "caf\xe9"
--   for cp, first, last in codec.chars(s) do ... end
--
-- Errors: UnicodeEncodeError and UnicodeDecodeError (UnicodeError, a
-- ValueError), LookupError and ValueError from moonsock.errors, with
-- Python's messages. Handlers: strict, replace, ignore, backslashreplace,
-- xmlcharrefreplace (encoding) and surrogateescape; namereplace and
-- surrogatepass are refused through the caller's fail(msg).
local errors = require "moonsock.errors"

local byte, char, sub, find, format = string.byte, string.char, string.sub, string.find, string.format
local concat = table.concat

local M = {}

local function class(name, base) return errors[name] or errors.define(name, base) end
local ValueError = errors.ValueError
local UnicodeError = class("UnicodeError", ValueError)
local UnicodeEncodeError = class("UnicodeEncodeError", UnicodeError)
local UnicodeDecodeError = class("UnicodeDecodeError", UnicodeError)
local LookupError = class("LookupError", errors.Exception)
M.UnicodeError, M.UnicodeEncodeError, M.UnicodeDecodeError = UnicodeError, UnicodeEncodeError, UnicodeDecodeError

local function raise(cls, msg) error(cls(msg), 0) end

-- decode_char(s, i, n): one UTF-8 sequence at i of s (n = #s): the code
-- point and the index after it; or nil, the index of the last byte of the
-- invalid part and CPython's reason, cut where CPython's decoder cuts
-- (Unicode's "maximal subpart").
local function decode_char(s, i, n)
  local c = byte(s, i)
  if c < 0x80 then return c, i + 1 end
  local need, lo, hi
  if c >= 0xC2 and c <= 0xDF then need, lo, hi = 1, 0x80, 0xBF
  elseif c == 0xE0 then need, lo, hi = 2, 0xA0, 0xBF
  elseif c == 0xED then need, lo, hi = 2, 0x80, 0x9F
  elseif c >= 0xE1 and c <= 0xEF then need, lo, hi = 2, 0x80, 0xBF
  elseif c == 0xF0 then need, lo, hi = 3, 0x90, 0xBF
  elseif c >= 0xF1 and c <= 0xF3 then need, lo, hi = 3, 0x80, 0xBF
  elseif c == 0xF4 then need, lo, hi = 3, 0x80, 0x8F
  else return nil, i, "invalid start byte" end
  local cp = c & (0x3F >> need)
  for k = 1, need do
    local j = i + k
    if j > n then return nil, n, "unexpected end of data" end
    local b = byte(s, j)
    if b < lo or b > hi then return nil, j - 1, "invalid continuation byte" end
    cp = (cp << 6) | (b & 0x3F)
    lo, hi = 0x80, 0xBF
  end
  return cp, i + need + 1
end
M.decode_char = decode_char

-- chars(s): the characters of s as Python sees them (module header): an
-- iterator of (code point, first byte, last byte); a stray byte b is U+DC00+b.
local function chars(s)
  local i, n = 1, #s
  return function()
    if i > n then return nil end
    local start = i
    local cp, nxt = decode_char(s, i, n)
    if not cp then cp, nxt = 0xDC00 + byte(s, i), i + 1 end
    i = nxt
    return cp, start, nxt - 1
  end
end
M.chars = chars

-- backslash(cp): Python's backslash escape of a code point (\x, \u, \U).
local function backslash(cp)
  if cp < 0x100 then return format("\\x%02x", cp) end
  if cp < 0x10000 then return format("\\u%04x", cp) end
  return format("\\U%08x", cp)
end
M.backslash = backslash

local CODECS = {}
for _, name in ipairs {"utf_8", "utf8", "u8", "utf", "utf8_ucs2", "utf8_ucs4", "cp65001"} do
  CODECS[name] = "utf-8"
end
for _, name in ipairs {"latin_1", "latin1", "iso_8859_1", "iso8859_1", "8859", "cp819", "l1", "latin",
                       "iso_ir_100", "csisolatin1", "ibm819", "iso_8859_1_1987"} do
  CODECS[name] = "latin-1"
end
for _, name in ipairs {"ascii", "us_ascii", "646", "ansi_x3.4_1968", "ansi_x3_4_1968", "ansi_x3.4_1986",
                       "cp367", "csascii", "ibm367", "iso646_us", "iso_646.irv_1991", "iso_ir_6", "us"} do
  CODECS[name] = "ascii"
end

-- The names str.encode and bytes.decode know without a codec lookup: an
-- error handler's LookupError is not wrapped for them.
local FAST = {utf8 = true, utf_8 = true, ascii = true, us_ascii = true, latin1 = true, latin_1 = true,
              iso_8859_1 = true, iso8859_1 = true}

-- lookup(name): the codec Python's name stands for: {name = "utf-8",
-- "latin-1" or "ascii", given = name, fast = boolean}, as
-- encodings.normalize_encoding and the alias table find it.
function M.lookup(name)
  -- str.encode and bytes.decode read the name as a C string first
  if name:find("\0", 1, true) then raise(ValueError, "embedded null character") end
  local norm = name:lower():gsub("[^%w%.]+", "_"):gsub("^_+", ""):gsub("_+$", "")
  local c = CODECS[norm]
  if not c then raise(LookupError, "unknown encoding: " .. name) end
  return {name = c, given = name, fast = FAST[norm] or false}
end

local function unknown_handler(c, errs, verb)
  local msg = "unknown error handler name '" .. errs .. "'"
  if not c.fast then msg = format("%s with '%s' codec failed (LookupError: %s)", verb, c.given, msg) end
  raise(LookupError, msg)
end

-- encode(s, c, errs, fail): text (a Lua string) encoded with codec c under
-- the handler errs; UTF-8 keeps the bytes as they are. fail(msg) raises the
-- caller's argument error for a handler moonsock does not support.
function M.encode(s, c, errs, fail)
  -- str.encode reads the handler's name as a C string, used or not
  if errs:find("\0", 1, true) then raise(ValueError, "embedded null character") end
  local enc = c.name
  if enc == "utf-8" then return s end
  local limit = enc == "latin-1" and 0x100 or 0x80
  local out, pending, pos = {}, {}, 0
  local function flush()
    if #pending == 0 then return end
    local first = pos - #pending
    if errs == "strict" or errs == "surrogateescape" or errs == "surrogatepass" then
      if errs == "surrogateescape" and pending[1] >= 0xDC80 and pending[1] <= 0xDCFF then
        -- the stray byte itself, as Python's surrogateescape gives it back
        out[#out + 1] = char(pending[1] - 0xDC00)
        table.remove(pending, 1)
        return flush()
      end
      -- the rest of the run fails as a whole, as Python's handlers re-raise
      local msg
      if #pending == 1 then
        msg = format("'%s' codec can't encode character '%s' in position %d: ordinal not in range(%d)",
          enc, backslash(pending[1]), first, limit)
      else
        msg = format("'%s' codec can't encode characters in position %d-%d: ordinal not in range(%d)",
          enc, first, pos - 1, limit)
      end
      raise(UnicodeEncodeError, msg)
    end
    for _, cp in ipairs(pending) do
      if errs == "replace" then out[#out + 1] = "?"
      elseif errs == "ignore" then out[#out + 1] = nil
      elseif errs == "backslashreplace" then out[#out + 1] = backslash(cp)
      elseif errs == "xmlcharrefreplace" then out[#out + 1] = format("&#%d;", cp)
      elseif errs == "namereplace" then fail("error handler 'namereplace' is not supported")
      else unknown_handler(c, errs, "encoding") end
    end
    pending = {}
  end
  for cp in chars(s) do
    if cp < limit then
      flush()
      out[#out + 1] = char(cp)
    else
      pending[#pending + 1] = cp
    end
    pos = pos + 1
  end
  flush()
  return concat(out)
end

-- decode(b, c, errs, fail): bytes decoded with codec c into text (a Lua
-- string, module header); fail as for encode.
function M.decode(b, c, errs, fail)
  -- bytes.decode reads the handler's name as a C string, used or not
  if errs:find("\0", 1, true) then raise(ValueError, "embedded null character") end
  local enc = c.name
  local out, n, i = {}, #b, 1
  while i <= n do
    local s, e = find(b, "^[\0-\127]+", i)
    if s then
      out[#out + 1] = sub(b, s, e)
      i = e + 1
    elseif enc == "latin-1" then
      out[#out + 1] = utf8.char(byte(b, i))
      i = i + 1
    else
      local cp, nxt, reason
      if enc == "utf-8" then
        cp, nxt, reason = decode_char(b, i, n)
      else
        nxt, reason = i, "ordinal not in range(128)"
      end
      if cp then
        out[#out + 1] = sub(b, i, nxt - 1)
        i = nxt
      else
        local last = nxt
        if errs == "strict" then
          local msg
          if last == i then
            msg = format("'%s' codec can't decode byte 0x%02x in position %d: %s", enc, byte(b, i), i - 1, reason)
          else
            msg = format("'%s' codec can't decode bytes in position %d-%d: %s", enc, i - 1, last - 1, reason)
          end
          raise(UnicodeDecodeError, msg)
        elseif errs == "replace" then out[#out + 1] = "\u{FFFD}"
        elseif errs == "ignore" then out[#out + 1] = nil
        elseif errs == "backslashreplace" then
          out[#out + 1] = (sub(b, i, last):gsub(".", function(x) return format("\\x%02x", byte(x)) end))
        elseif errs == "surrogateescape" then out[#out + 1] = sub(b, i, last)
        elseif errs == "xmlcharrefreplace" or errs == "namereplace" then
          fail("don't know how to handle UnicodeDecodeError in error callback")
        elseif errs == "surrogatepass" then fail("error handler 'surrogatepass' is not supported")
        else unknown_handler(c, errs, "decoding") end
        i = last + 1
      end
    end
  end
  return concat(out)
end

return M
