-- urllib.parse: Python 3.11's urllib.parse in pure Lua (CPython's
-- Lib/urllib/parse.py, same names, same results, same error messages).
-- One coherent module as Python's own (1,200 lines); besides URL parsing
-- and quoting it holds only what those need of Python's str and nothing
-- else uses: repr() and lower() of text (Unicode tables included). The
-- text codecs are moonsock.codec's.
--
-- Text. A Lua string stands for the Python str that Python gets by decoding
-- its bytes as UTF-8 with errors='surrogateescape': valid UTF-8 is that text,
-- and a byte that is not part of valid UTF-8 is the lone surrogate U+DC80+b.
-- Results are encoded back the same way, so such a byte comes back as itself
-- (moonsock.codec holds that codec, and Latin-1's and ASCII's).
-- So: quote() percent-encodes the UTF-8 bytes of the text (a stray byte is
-- encoded as itself, %XX, where Python's strict UTF-8 encoder would raise);
-- unquote() decodes the %XX escapes of each ASCII run as UTF-8 (or the given
-- encoding) with Python's error handlers, so invalid UTF-8 becomes U+FFFD by
-- default exactly where Python puts one; unquote_to_bytes() gives the raw
-- bytes; hostname lower-cases like Python's str.lower().
--
-- Encodings (quote, unquote, urlencode, parse_qs/parse_qsl): UTF-8, Latin-1
-- and ASCII under any of Python's names for them; any other name raises
-- LookupError. Error handlers: strict, replace, ignore, backslashreplace,
-- xmlcharrefreplace (encoding), and surrogateescape (a stray byte stays that
-- byte both ways); namereplace and surrogatepass are not supported (argument
-- errors).
--
-- Arguments. Python's keyword arguments are positional arguments in Python's
-- order; nil means "not given" (Python's default). Every function with
-- optional arguments also takes an options table in place of the first
-- optional argument it does not give positionally, keyed by Python's
-- parameter names: urlparse(url, {allow_fragments = false}),
-- quote(s, {safe = "", encoding = "latin-1"}), urlencode(q, {doseq = true}),
-- parse_qs(qs, {keep_blank_values = true, separator = ";"}). Flags take
-- booleans, or numbers with Python's truth (0 is false).
--
-- Results. urlparse/urlsplit/urldefrag return ParseResult/SplitResult/
-- DefragResult objects: fields by name (r.netloc) and by index (r[2]), #r,
-- table.unpack(r), tostring(r) like Python's repr, ==, r:geturl(),
-- r:_replace{...}; and r.username, r.password, r.hostname, r.port computed
-- on access (r.port raises ValueError as Python does). urlunparse/urlunsplit
-- take a result or a list of strings (nil counts as "").
--
-- Errors: ValueError, UnicodeEncodeError, UnicodeDecodeError (subclasses of
-- UnicodeError, a ValueError) and LookupError from moonsock.errors, whose
-- tostring is Python's str(exc); wrong argument types are Lua argument errors.
--
-- Deliberate differences from Python:
-- * urlencode's map form (a Lua table that is not a list) is encoded in
--   sorted key order (numbers, then strings, then booleans), since Lua
--   tables have no order; a list of {key, value} pairs keeps its order.
-- * The Final_Sigma rule of str.lower() (hostname) uses simplified Cased and
--   Case_Ignorable sets (see below); repr (in error messages and tostring)
--   escapes only the non-printable characters listed in NONPRINT.
-- * Components that Python requires to be str may be nil (counted as "")
--   in urlunparse/urlunsplit.
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local codec = require "moonsock.codec"

local chars, backslash = codec.chars, codec.backslash

local byte, char, sub, find, format = string.byte, string.char, string.sub, string.find, string.format
local concat = table.concat

local M = {}

-- ---- arguments ----

-- Lua's own wording for a wrong argument, at the caller's line.
local argerror = errors.argerror

local typename = errors.argtypename

local callable = errors._callable

-- The kinds of optional arguments: a test and the name of what is expected.
local kinds = {
  string = function(v) return type(v) == "string", "string" end,
  flag = function(v) return type(v) == "boolean" or type(v) == "number", "boolean" end,
  number = function(v) return type(v) == "number", "number" end,
  func = function(v) return callable(v), "function" end,
}

-- Collects the optional arguments of fname: names lists Python's parameter
-- names for the positions first, first+1, ... of args (a table.pack). The
-- first of those positions holding a table is the options table. Returns
-- an object whose get(name, kind, default) checks and returns one value and
-- whose fail(name, msg) raises an argument error where that value came from.
local function options(fname, args, first, names)
  local vals, pos, inopt = {}, {}, {}
  for i, name in ipairs(names) do
    local p = first + i - 1
    local v = args[p]
    if type(v) == "table" and not callable(v) then
      for j = p + 1, args.n do
        if args[j] ~= nil then argerror(j, fname, "no argument may follow the options table") end
      end
      local known = {}
      for j, nm in ipairs(names) do known[nm] = j end
      for k, ov in pairs(v) do
        local j = type(k) == "string" and known[k]
        if not j then argerror(p, fname, "unexpected option '" .. tostring(k) .. "'") end
        if vals[k] ~= nil then argerror(p, fname, "option '" .. k .. "' also given as argument #" .. pos[k]) end
        vals[k], pos[k], inopt[k] = ov, p, true
      end
      break
    end
    vals[name], pos[name] = v, p
  end
  local o = {}
  function o.get(name, kind, default)
    local v = vals[name]
    if v == nil then return default end
    local ok, want = kinds[kind](v)
    if not ok then
      local msg = want .. " expected, got " .. typename(v)
      if inopt[name] then msg = "option '" .. name .. "': " .. msg end
      argerror(pos[name], fname, msg)
    end
    if kind == "flag" then return v ~= false and v ~= 0 end
    return v
  end
  function o.fail(name, msg)
    if inopt[name] then msg = "option '" .. name .. "': " .. msg end
    argerror(pos[name], fname, msg)
  end
  return o
end

local function check_string(v, n, fname)
  if type(v) ~= "string" then argerror(n, fname, "string expected, got " .. typename(v)) end
  return v
end

-- ---- errors ----

local ValueError = errors.ValueError

local function raise(cls, msg) error(cls(msg), 0) end

-- ---- text ----

-- Python's str.isprintable() is false for Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
-- but the space. These ranges are the assigned ones of them that text is
-- likely to hold; unassigned code points (Cn) count as printable here.
local NONPRINT = {
  0x00, 0x1F, 0x7F, 0xA0, 0xAD, 0xAD, 0x600, 0x605, 0x61C, 0x61C, 0x6DD, 0x6DD, 0x70F, 0x70F,
  0x890, 0x891, 0x8E2, 0x8E2, 0x1680, 0x1680, 0x180E, 0x180E, 0x2000, 0x200F, 0x2028, 0x202F,
  0x205F, 0x2064, 0x2066, 0x206F, 0x3000, 0x3000, 0xD800, 0xF8FF, 0xFEFF, 0xFEFF, 0xFFF9, 0xFFFB,
  0xFFFE, 0xFFFF, 0x110BD, 0x110BD, 0x110CD, 0x110CD, 0x13430, 0x13438, 0x1BCA0, 0x1BCA3,
  0x1D173, 0x1D17A, 0xE0001, 0xE0001, 0xE0020, 0xE007F, 0xF0000, 0x10FFFF,
}

-- Whether cp lies in one of the ranges, sorted pairs first, last.
local function in_ranges(ranges, cp)
  for k = 1, #ranges, 2 do
    if cp < ranges[k] then return false end
    if cp <= ranges[k + 1] then return true end
  end
  return false
end

local function printable(cp) return not in_ranges(NONPRINT, cp) end

local repr_escapes = {[9] = "\\t", [10] = "\\n", [13] = "\\r", [92] = "\\\\"}

-- Python's repr() of the str s stands for.
local function pyrepr(s)
  local q = "'"
  if find(s, "'", 1, true) and not find(s, '"', 1, true) then q = '"' end
  local out = {}
  for cp, i, j in chars(s) do
    local e = repr_escapes[cp]
    if e then out[#out + 1] = e
    elseif cp == byte(q) then out[#out + 1] = "\\" .. q
    elseif printable(cp) then out[#out + 1] = sub(s, i, j)
    else out[#out + 1] = backslash(cp) end
  end
  return q .. concat(out) .. q
end

-- str.lower(): the code points whose lower case is one other code point, as
-- ranges {first, last, step, delta} (Unicode 14.0, Python 3.11's tables);
-- U+0130 lowers to two code points and U+03A3 depends on its context.
local LOWER = {
  0xC0, 0xD6, 1, 32, 0xD8, 0xDE, 1, 32, 0x100, 0x12E, 2, 1, 0x132, 0x136, 2, 1, 0x139, 0x147, 2, 1,
  0x14A, 0x176, 2, 1, 0x178, 0x178, 1, -121, 0x179, 0x17D, 2, 1, 0x181, 0x181, 1, 210, 0x182, 0x184, 2, 1,
  0x186, 0x186, 1, 206, 0x187, 0x187, 1, 1, 0x189, 0x18A, 1, 205, 0x18B, 0x18B, 1, 1, 0x18E, 0x18E, 1, 79,
  0x18F, 0x18F, 1, 202, 0x190, 0x190, 1, 203, 0x191, 0x191, 1, 1, 0x193, 0x193, 1, 205, 0x194, 0x194, 1, 207,
  0x196, 0x196, 1, 211, 0x197, 0x197, 1, 209, 0x198, 0x198, 1, 1, 0x19C, 0x19C, 1, 211, 0x19D, 0x19D, 1, 213,
  0x19F, 0x19F, 1, 214, 0x1A0, 0x1A4, 2, 1, 0x1A6, 0x1A6, 1, 218, 0x1A7, 0x1A7, 1, 1, 0x1A9, 0x1A9, 1, 218,
  0x1AC, 0x1AC, 1, 1, 0x1AE, 0x1AE, 1, 218, 0x1AF, 0x1AF, 1, 1, 0x1B1, 0x1B2, 1, 217, 0x1B3, 0x1B5, 2, 1,
  0x1B7, 0x1B7, 1, 219, 0x1B8, 0x1B8, 1, 1, 0x1BC, 0x1BC, 1, 1, 0x1C4, 0x1C4, 1, 2, 0x1C5, 0x1C5, 1, 1,
  0x1C7, 0x1C7, 1, 2, 0x1C8, 0x1C8, 1, 1, 0x1CA, 0x1CA, 1, 2, 0x1CB, 0x1DB, 2, 1, 0x1DE, 0x1EE, 2, 1,
  0x1F1, 0x1F1, 1, 2, 0x1F2, 0x1F4, 2, 1, 0x1F6, 0x1F6, 1, -97, 0x1F7, 0x1F7, 1, -56, 0x1F8, 0x21E, 2, 1,
  0x220, 0x220, 1, -130, 0x222, 0x232, 2, 1, 0x23A, 0x23A, 1, 10795, 0x23B, 0x23B, 1, 1, 0x23D, 0x23D, 1, -163,
  0x23E, 0x23E, 1, 10792, 0x241, 0x241, 1, 1, 0x243, 0x243, 1, -195, 0x244, 0x244, 1, 69, 0x245, 0x245, 1, 71,
  0x246, 0x24E, 2, 1, 0x370, 0x372, 2, 1, 0x376, 0x376, 1, 1, 0x37F, 0x37F, 1, 116, 0x386, 0x386, 1, 38,
  0x388, 0x38A, 1, 37, 0x38C, 0x38C, 1, 64, 0x38E, 0x38F, 1, 63, 0x391, 0x3A1, 1, 32, 0x3A3, 0x3AB, 1, 32,
  0x3CF, 0x3CF, 1, 8, 0x3D8, 0x3EE, 2, 1, 0x3F4, 0x3F4, 1, -60, 0x3F7, 0x3F7, 1, 1, 0x3F9, 0x3F9, 1, -7,
  0x3FA, 0x3FA, 1, 1, 0x3FD, 0x3FF, 1, -130, 0x400, 0x40F, 1, 80, 0x410, 0x42F, 1, 32, 0x460, 0x480, 2, 1,
  0x48A, 0x4BE, 2, 1, 0x4C0, 0x4C0, 1, 15, 0x4C1, 0x4CD, 2, 1, 0x4D0, 0x52E, 2, 1, 0x531, 0x556, 1, 48,
  0x10A0, 0x10C5, 1, 7264, 0x10C7, 0x10C7, 1, 7264, 0x10CD, 0x10CD, 1, 7264, 0x13A0, 0x13EF, 1, 38864,
  0x13F0, 0x13F5, 1, 8, 0x1C90, 0x1CBA, 1, -3008, 0x1CBD, 0x1CBF, 1, -3008, 0x1E00, 0x1E94, 2, 1,
  0x1E9E, 0x1E9E, 1, -7615, 0x1EA0, 0x1EFE, 2, 1, 0x1F08, 0x1F0F, 1, -8, 0x1F18, 0x1F1D, 1, -8, 0x1F28, 0x1F2F, 1, -8,
  0x1F38, 0x1F3F, 1, -8, 0x1F48, 0x1F4D, 1, -8, 0x1F59, 0x1F5F, 2, -8, 0x1F68, 0x1F6F, 1, -8, 0x1F88, 0x1F8F, 1, -8,
  0x1F98, 0x1F9F, 1, -8, 0x1FA8, 0x1FAF, 1, -8, 0x1FB8, 0x1FB9, 1, -8, 0x1FBA, 0x1FBB, 1, -74, 0x1FBC, 0x1FBC, 1, -9,
  0x1FC8, 0x1FCB, 1, -86, 0x1FCC, 0x1FCC, 1, -9, 0x1FD8, 0x1FD9, 1, -8, 0x1FDA, 0x1FDB, 1, -100,
  0x1FE8, 0x1FE9, 1, -8, 0x1FEA, 0x1FEB, 1, -112, 0x1FEC, 0x1FEC, 1, -7, 0x1FF8, 0x1FF9, 1, -128,
  0x1FFA, 0x1FFB, 1, -126, 0x1FFC, 0x1FFC, 1, -9, 0x2126, 0x2126, 1, -7517, 0x212A, 0x212A, 1, -8383,
  0x212B, 0x212B, 1, -8262, 0x2132, 0x2132, 1, 28, 0x2160, 0x216F, 1, 16, 0x2183, 0x2183, 1, 1, 0x24B6, 0x24CF, 1, 26,
  0x2C00, 0x2C2F, 1, 48, 0x2C60, 0x2C60, 1, 1, 0x2C62, 0x2C62, 1, -10743, 0x2C63, 0x2C63, 1, -3814,
  0x2C64, 0x2C64, 1, -10727, 0x2C67, 0x2C6B, 2, 1, 0x2C6D, 0x2C6D, 1, -10780, 0x2C6E, 0x2C6E, 1, -10749,
  0x2C6F, 0x2C6F, 1, -10783, 0x2C70, 0x2C70, 1, -10782, 0x2C72, 0x2C72, 1, 1, 0x2C75, 0x2C75, 1, 1,
  0x2C7E, 0x2C7F, 1, -10815, 0x2C80, 0x2CE2, 2, 1, 0x2CEB, 0x2CED, 2, 1, 0x2CF2, 0x2CF2, 1, 1, 0xA640, 0xA66C, 2, 1,
  0xA680, 0xA69A, 2, 1, 0xA722, 0xA72E, 2, 1, 0xA732, 0xA76E, 2, 1, 0xA779, 0xA77B, 2, 1, 0xA77D, 0xA77D, 1, -35332,
  0xA77E, 0xA786, 2, 1, 0xA78B, 0xA78B, 1, 1, 0xA78D, 0xA78D, 1, -42280, 0xA790, 0xA792, 2, 1, 0xA796, 0xA7A8, 2, 1,
  0xA7AA, 0xA7AA, 1, -42308, 0xA7AB, 0xA7AB, 1, -42319, 0xA7AC, 0xA7AC, 1, -42315, 0xA7AD, 0xA7AD, 1, -42305,
  0xA7AE, 0xA7AE, 1, -42308, 0xA7B0, 0xA7B0, 1, -42258, 0xA7B1, 0xA7B1, 1, -42282, 0xA7B2, 0xA7B2, 1, -42261,
  0xA7B3, 0xA7B3, 1, 928, 0xA7B4, 0xA7C2, 2, 1, 0xA7C4, 0xA7C4, 1, -48, 0xA7C5, 0xA7C5, 1, -42307,
  0xA7C6, 0xA7C6, 1, -35384, 0xA7C7, 0xA7C9, 2, 1, 0xA7D0, 0xA7D0, 1, 1, 0xA7D6, 0xA7D8, 2, 1, 0xA7F5, 0xA7F5, 1, 1,
  0xFF21, 0xFF3A, 1, 32, 0x10400, 0x10427, 1, 40, 0x104B0, 0x104D3, 1, 40, 0x10570, 0x1057A, 1, 39,
  0x1057C, 0x1058A, 1, 39, 0x1058C, 0x10592, 1, 39, 0x10594, 0x10595, 1, 39, 0x10C80, 0x10CB2, 1, 64,
  0x118A0, 0x118BF, 1, 32, 0x16E40, 0x16E5F, 1, 32, 0x1E900, 0x1E921, 1, 34,
}

-- The lower case of cp, or nil when it has none (binary search on LOWER).
local function lower_of(cp)
  local lo, hi = 1, #LOWER // 4
  while lo <= hi do
    local mid = (lo + hi) // 2
    local k = mid * 4 - 3
    if cp < LOWER[k] then hi = mid - 1
    elseif cp > LOWER[k + 1] then lo = mid + 1
    else
      if (cp - LOWER[k]) % LOWER[k + 2] == 0 then return cp + LOWER[k + 3] end
      return nil
    end
  end
  return nil
end

-- Simplified Final_Sigma context (deliberate difference, module header):
-- cased means an ASCII or Latin-1 letter or a code point with a lower case
-- or that is one; case-ignorable means these.
local IGNORABLE = {
  0x27, 0x27, 0x2E, 0x2E, 0x3A, 0x3A, 0x5E, 0x5E, 0x60, 0x60, 0xA8, 0xA8, 0xAD, 0xAD, 0xAF, 0xAF,
  0xB4, 0xB4, 0xB7, 0xB8, 0x2B0, 0x36F, 0x374, 0x375, 0x37A, 0x37A, 0x384, 0x385, 0x387, 0x387,
  0x483, 0x489, 0x200B, 0x200F, 0x2018, 0x2019, 0x2024, 0x2024, 0x2027, 0x2027, 0xFE00, 0xFE0F,
}
local lower_image = {}
for k = 1, #LOWER, 4 do
  for cp = LOWER[k], LOWER[k + 1], LOWER[k + 2] do lower_image[cp + LOWER[k + 3]] = true end
end

local function ignorable(cp) return in_ranges(IGNORABLE, cp) end

local function cased(cp)
  if (cp >= 0x41 and cp <= 0x5A) or (cp >= 0x61 and cp <= 0x7A) then return true end
  if cp == 0xAA or cp == 0xB5 or cp == 0xBA or (cp >= 0xC0 and cp <= 0x24F and cp ~= 0xD7 and cp ~= 0xF7) then
    return true
  end
  return lower_of(cp) ~= nil or lower_image[cp] == true
end

-- Python's str.lower() of the text s stands for.
local function pylower(s)
  if not find(s, "[\128-\255]") then return (s:gsub("[A-Z]", string.lower)) end
  local cps, spans = {}, {}
  for cp, i, j in chars(s) do
    cps[#cps + 1] = cp
    spans[#spans + 1] = sub(s, i, j)
  end
  local out = {}
  for k, cp in ipairs(cps) do
    if cp == 0x3A3 then
      local j = k - 1
      while j >= 1 and ignorable(cps[j]) do j = j - 1 end
      local final = j >= 1 and cased(cps[j])
      if final then
        j = k + 1
        while j <= #cps and ignorable(cps[j]) do j = j + 1 end
        final = j > #cps or not cased(cps[j])
      end
      out[k] = final and "\u{3C2}" or "\u{3C3}"
    elseif cp == 0x130 then
      out[k] = "i\u{307}"
    elseif cp >= 0xDC80 and cp <= 0xDCFF then
      out[k] = spans[k]
    elseif cp >= 0x41 and cp <= 0x5A then
      out[k] = char(cp + 32)
    else
      local l = cp >= 0x80 and lower_of(cp)
      out[k] = l and utf8.char(l) or spans[k]
    end
  end
  return concat(out)
end

-- ---- the scheme lists (lists, as in Python: code may append to them) ----

M.uses_relative = repr.list {"", "ftp", "http", "gopher", "nntp", "imap", "wais", "file", "https", "shttp", "mms",
                             "prospero", "rtsp", "rtsps", "rtspu", "sftp", "svn", "svn+ssh", "ws", "wss"}
M.uses_netloc = repr.list {"", "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https",
                           "shttp", "snews", "prospero", "rtsp", "rtsps", "rtspu", "rsync", "svn", "svn+ssh",
                           "sftp", "nfs", "git", "git+ssh", "ws", "wss"}
M.uses_params = repr.list {"", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtsps", "rtspu",
                           "sip", "sips", "mms", "sftp", "tel"}
M.non_hierarchical = repr.list {"gopher", "hdl", "mailto", "news", "telnet", "wais", "imap", "snews", "sip", "sips"}
M.uses_query = repr.list {"", "http", "wais", "imap", "https", "shttp", "mms", "gopher", "rtsp", "rtsps", "rtspu",
                          "sip", "sips"}
M.uses_fragment = repr.list {"", "ftp", "hdl", "http", "gopher", "news", "nntp", "wais", "https", "shttp", "snews",
                             "file", "prospero"}
M.scheme_chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."

local function member(list, s)
  for _, v in ipairs(list) do if v == s then return true end end
  return false
end

-- ---- result objects ----

local function partition(s, sep)
  local i = find(s, sep, 1, true)
  if not i then return s, false, "" end
  return sub(s, 1, i - 1), true, sub(s, i + #sep)
end

local function rpartition(s, sep)
  local i, last = 0, nil
  while true do
    i = find(s, sep, i + 1, true)
    if not i then break end
    last = i
  end
  if not last then return "", false, s end
  return sub(s, 1, last - 1), true, sub(s, last + #sep)
end

local function userinfo(netloc)
  local info, have = rpartition(netloc, "@")
  if not have then return nil, nil end
  local user, have_pw, pw = partition(info, ":")
  return user, have_pw and pw or nil
end

local function hostinfo(netloc)
  local _, _, hinfo = rpartition(netloc, "@")
  local _, have_br, bracketed = partition(hinfo, "[")
  local host, port
  if have_br then
    local rest
    host, _, rest = partition(bracketed, "]")
    _, _, port = partition(rest, ":")
  else
    host, _, port = partition(hinfo, ":")
  end
  if port == "" then port = nil end
  return host, port
end

local derived = {}
function derived.username(r) return (userinfo(r.netloc)) end
function derived.password(r) return select(2, userinfo(r.netloc)) end
function derived.hostname(r)
  local host = hostinfo(r.netloc)
  if host == "" then return nil end
  -- a scoped IPv6 address's zone keeps its case
  local h, have, zone = partition(host, "%")
  return pylower(h) .. (have and "%" or "") .. zone
end
function derived.port(r)
  local _, port = hostinfo(r.netloc)
  if port == nil then return nil end
  if not port:match("^%d+$") then
    raise(ValueError, "Port could not be cast to integer value as " .. pyrepr(port))
  end
  local digits = port:gsub("^0+", "")
  local n = #digits <= 5 and (tonumber(digits) or 0) or math.huge
  if n > 65535 then raise(ValueError, "Port out of range 0-65535") end
  return math.tointeger(n)
end

local function result_class(name, fields, netloc_attrs, geturl)
  local cls = {__name = name}
  local index_of, methods = {}, {}
  for i, f in ipairs(fields) do index_of[f] = i end
  -- r.geturl() with a dot, or another table as self, is no result
  local function check_self(self, fname)
    if getmetatable(self) ~= cls then
      error(format("calling '%s' on bad self (%s expected, got %s)", fname, name, typename(self)), 3)
    end
  end
  function methods.geturl(self)
    check_self(self, "geturl")
    return geturl(self)
  end
  -- namedtuple's _replace(**kwargs): a copy with some fields changed
  function methods._replace(self, changes)
    check_self(self, "_replace")
    if type(changes) ~= "table" then argerror(1, "_replace", "table expected, got " .. typename(changes)) end
    local vals = {}
    for i = 1, #fields do vals[i] = rawget(self, i) end
    for k, v in pairs(changes) do
      local i = index_of[k]
      if not i then argerror(1, "_replace", "unexpected field name " .. pyrepr(tostring(k))) end
      if type(v) ~= "string" then argerror(1, "_replace", "field '" .. k .. "': string expected, got " .. type(v)) end
      vals[i] = v
    end
    return setmetatable(vals, cls)
  end
  cls.__index = function(self, k)
    local i = index_of[k]
    if i then return rawget(self, i) end
    if methods[k] then return methods[k] end
    if netloc_attrs and derived[k] then return derived[k](self) end
    return nil
  end
  cls.__newindex = function(_, k) error("can't set attribute '" .. tostring(k) .. "'", 2) end
  cls.__len = function() return #fields end
  cls.__eq = function(a, b)
    if getmetatable(a) ~= getmetatable(b) then return false end
    for i = 1, #fields do if rawget(a, i) ~= rawget(b, i) then return false end end
    return true
  end
  cls.__tostring = function(self)
    local parts = {}
    for i, f in ipairs(fields) do parts[i] = f .. "=" .. pyrepr(rawget(self, i)) end
    return name .. "(" .. concat(parts, ", ") .. ")"
  end
  local function new(...)
    local vals = table.pack(...)
    for i = 1, #fields do check_string(vals[i], i, name) end
    vals.n = nil
    for i = #fields + 1, #vals do vals[i] = nil end
    return setmetatable(vals, cls)
  end
  return new, cls
end

local urlunsplit, urlunparse

local ParseResult, ParseResult_mt = result_class("ParseResult",
  {"scheme", "netloc", "path", "params", "query", "fragment"}, true,
  function(self) return urlunparse(self) end)
local SplitResult, SplitResult_mt = result_class("SplitResult",
  {"scheme", "netloc", "path", "query", "fragment"}, true,
  function(self) return urlunsplit(self) end)
local DefragResult = result_class("DefragResult", {"url", "fragment"}, false,
  function(self)
    if self.fragment ~= "" then return self.url .. "#" .. self.fragment end
    return self.url
  end)
M.ParseResult, M.SplitResult, M.DefragResult = ParseResult, SplitResult, DefragResult

-- ---- urlsplit / urlparse ----

-- Characters whose NFKC form holds one of / ? # @ : (Unicode 14.0): the
-- ones _checknetloc refuses in a netloc.
local NFKC_DELIMS = {0x2047, 0x2048, 0x2049, 0x2100, 0x2101, 0x2105, 0x2106, 0x2A74, 0xFE13, 0xFE16, 0xFE55,
                     0xFE56, 0xFE5F, 0xFE6B, 0xFF03, 0xFF0F, 0xFF1A, 0xFF1F, 0xFF20}
local nfkc_delim = {}
for _, cp in ipairs(NFKC_DELIMS) do nfkc_delim[cp] = true end

local function checknetloc(netloc)
  if not find(netloc, "[\128-\255]") then return end
  for cp in chars(netloc) do
    if nfkc_delim[cp] then
      raise(ValueError, "netloc '" .. netloc .. "' contains invalid characters under NFKC normalization")
    end
  end
end

local function split_plain(s, sep)
  local out, i = {}, 1
  while true do
    local j = find(s, sep, i, true)
    if not j then break end
    out[#out + 1] = sub(s, i, j - 1)
    i = j + #sep
  end
  out[#out + 1] = sub(s, i)
  return out
end

-- ipaddress.IPv4Address(s) accepts s.
local function is_ipv4(s)
  local octets = split_plain(s, ".")
  if #octets ~= 4 then return false end
  for _, o in ipairs(octets) do
    if not o:match("^%d%d?%d?$") then return false end
    if o ~= "0" and sub(o, 1, 1) == "0" then return false end
    if tonumber(o) > 255 then return false end
  end
  return true
end

-- ipaddress.IPv6Address(s) accepts s (a scope id after % included).
local function is_ipv6(s)
  local addr, have, scope = partition(s, "%")
  if have and (scope == "" or find(scope, "%", 1, true)) then return false end
  if addr == "" then return false end
  local parts = split_plain(addr, ":")
  if #parts < 3 then return false end
  if find(parts[#parts], ".", 1, true) then
    if not is_ipv4(table.remove(parts)) then return false end
    parts[#parts + 1] = "0"
    parts[#parts + 1] = "0"
  end
  if #parts > 9 then return false end
  local skip
  for i = 2, #parts - 1 do
    if parts[i] == "" then
      if skip then return false end
      skip = i
    end
  end
  local hi, lo
  if skip then
    hi, lo = skip - 1, #parts - skip
    if parts[1] == "" then
      hi = hi - 1
      if hi > 0 then return false end
    end
    if parts[#parts] == "" then
      lo = lo - 1
      if lo > 0 then return false end
    end
    if 8 - (hi + lo) < 1 then return false end
  else
    if #parts ~= 8 or parts[1] == "" or parts[#parts] == "" then return false end
    hi, lo = #parts, 0
  end
  for i = 1, hi do
    if not parts[i]:match("^%x%x?%x?%x?$") then return false end
  end
  for i = #parts - lo + 1, #parts do
    if not parts[i]:match("^%x%x?%x?%x?$") then return false end
  end
  return true
end

local function check_bracketed_host(host)
  if sub(host, 1, 1) == "v" then
    if not host:match("^v[0-9a-fA-F]+%..+$") then raise(ValueError, "IPvFuture address is invalid") end
  elseif is_ipv4(host) then
    raise(ValueError, "An IPv4 address cannot be in brackets")
  elseif not is_ipv6(host) then
    raise(ValueError, pyrepr(host) .. " does not appear to be an IPv4 or IPv6 address")
  end
end

local function split(url, scheme, allow_fragments)
  url = url:gsub("^[\0-\32]+", ""):gsub("[\t\r\n]", "")
  scheme = scheme:gsub("^[\0-\32]+", ""):gsub("[\0-\32]+$", ""):gsub("[\t\r\n]", "")
  local netloc, fragment, query, _ = "", ""
  local i = find(url, ":", 1, true)
  if i and i > 1 and url:match("^[A-Za-z][A-Za-z0-9+.%-]*:") then
    scheme, url = sub(url, 1, i - 1):lower(), sub(url, i + 1)
  end
  if sub(url, 1, 2) == "//" then
    local delim = find(url, "[/?#]", 3) or #url + 1
    netloc, url = sub(url, 3, delim - 1), sub(url, delim)
    local open, close = find(netloc, "[", 1, true), find(netloc, "]", 1, true)
    if (open and not close) or (close and not open) then raise(ValueError, "Invalid IPv6 URL") end
    if open and close then
      local _, _, after = partition(netloc, "[")
      check_bracketed_host((partition(after, "]")))
    end
  end
  if allow_fragments then url, _, fragment = partition(url, "#") end
  url, _, query = partition(url, "?")
  checknetloc(netloc)
  return scheme, netloc, url, query, fragment
end

local function split_args(fname, ...)
  local args = table.pack(...)
  local url = check_string(args[1], 1, fname)
  local o = options(fname, args, 2, {"scheme", "allow_fragments"})
  return url, o.get("scheme", "string", ""), o.get("allow_fragments", "flag", true)
end

function M.urlsplit(...)
  return SplitResult(split(split_args("urlsplit", ...)))
end

local function splitparams(url)
  local i
  local slash = url:match(".*()/")
  if slash then
    i = find(url, ";", slash, true)
    if not i then return url, "" end
  else
    i = find(url, ";", 1, true)
  end
  return sub(url, 1, i - 1), sub(url, i + 1)
end

local function parse(url, scheme, allow_fragments)
  local s, netloc, path, query, fragment = split(url, scheme, allow_fragments)
  local params = ""
  if member(M.uses_params, s) and find(path, ";", 1, true) then path, params = splitparams(path) end
  return s, netloc, path, params, query, fragment
end

function M.urlparse(...)
  return ParseResult(parse(split_args("urlparse", ...)))
end

-- The n components of a result or list (nil counts as "").
local function components(t, n, fname)
  if type(t) ~= "table" then argerror(1, fname, "table expected, got " .. typename(t)) end
  local mt = getmetatable(t)
  local count = (mt == ParseResult_mt or mt == SplitResult_mt) and #t or rawlen(t)
  if count > n then argerror(1, fname, format("too many values to unpack (expected %d)", n)) end
  local out = {}
  for i = 1, n do
    local v = t[i]
    if v == nil then v = "" end
    if type(v) ~= "string" then
      argerror(1, fname, format("component %d: string expected, got %s", i, type(v)))
    end
    out[i] = v
  end
  return out
end

local function unsplit(scheme, netloc, url, query, fragment)
  if netloc ~= "" or (scheme ~= "" and member(M.uses_netloc, scheme) and sub(url, 1, 2) ~= "//") then
    if url ~= "" and sub(url, 1, 1) ~= "/" then url = "/" .. url end
    url = "//" .. netloc .. url
  end
  if scheme ~= "" then url = scheme .. ":" .. url end
  if query ~= "" then url = url .. "?" .. query end
  if fragment ~= "" then url = url .. "#" .. fragment end
  return url
end

local function unparse(scheme, netloc, url, params, query, fragment)
  if params ~= "" then url = url .. ";" .. params end
  return unsplit(scheme, netloc, url, query, fragment)
end

function urlunsplit(t) return unsplit(table.unpack(components(t, 5, "urlunsplit"))) end
function urlunparse(t) return unparse(table.unpack(components(t, 6, "urlunparse"))) end
M.urlunsplit, M.urlunparse = urlunsplit, urlunparse

function M.urljoin(...)
  local args = table.pack(...)
  local base = check_string(args[1], 1, "urljoin")
  local url = check_string(args[2], 2, "urljoin")
  local allow = options("urljoin", args, 3, {"allow_fragments"}).get("allow_fragments", "flag", true)
  if base == "" then return url end
  if url == "" then return base end
  local bscheme, bnetloc, bpath, bparams, bquery = parse(base, "", allow)
  local scheme, netloc, path, params, query, fragment = parse(url, bscheme, allow)
  if scheme ~= bscheme or not member(M.uses_relative, scheme) then return url end
  if member(M.uses_netloc, scheme) then
    if netloc ~= "" then return unparse(scheme, netloc, path, params, query, fragment) end
    netloc = bnetloc
  end
  if path == "" and params == "" then
    path, params = bpath, bparams
    if query == "" then query = bquery end
    return unparse(scheme, netloc, path, params, query, fragment)
  end
  local base_parts = split_plain(bpath, "/")
  -- the last segment is a file, not a directory: it takes no part
  if base_parts[#base_parts] ~= "" then base_parts[#base_parts] = nil end
  local segments
  if sub(path, 1, 1) == "/" then
    segments = split_plain(path, "/")
  else
    local all = base_parts
    for _, seg in ipairs(split_plain(path, "/")) do all[#all + 1] = seg end
    -- empty middle segments would double slashes when joined again
    segments = {all[1]}
    for k = 2, #all - 1 do
      if all[k] ~= "" then segments[#segments + 1] = all[k] end
    end
    if #all > 1 then segments[#segments + 1] = all[#all] end
  end
  local resolved = {}
  for _, seg in ipairs(segments) do
    if seg == ".." then
      resolved[#resolved] = nil
    elseif seg ~= "." then
      resolved[#resolved + 1] = seg
    end
  end
  local last = segments[#segments]
  if last == "." or last == ".." then resolved[#resolved + 1] = "" end
  local joined = concat(resolved, "/")
  if joined == "" then joined = "/" end
  return unparse(scheme, netloc, joined, params, query, fragment)
end

function M.urldefrag(url)
  check_string(url, 1, "urldefrag")
  if find(url, "#", 1, true) then
    local s, n, p, a, q, frag = parse(url, "", true)
    return DefragResult(unparse(s, n, p, a, q, ""), frag)
  end
  return DefragResult(url, "")
end

-- ---- quoting ----

local ALWAYS_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
local unsafe_patterns, cached = {}, 0
-- Python's quoter cache (functools.lru_cache) holds 128 safe strings: a
-- program that quotes with ever new ones must not grow this table forever.
local MAX_CACHED = 128

-- The pattern of the bytes quote must escape, for a safe string: only its
-- ASCII characters count, as in Python.
local function unsafe_pattern(safe)
  local p = unsafe_patterns[safe]
  if not p then
    local set = (ALWAYS_SAFE .. safe):gsub("[\128-\255]", ""):gsub("[^%w]", "%%%0")
    p = "[^" .. set .. "]"
    if cached >= MAX_CACHED then unsafe_patterns, cached = {}, 0 end
    cached = cached + 1
    unsafe_patterns[safe] = p
  end
  return p
end

local function percent(c) return format("%%%02X", byte(c)) end

local function quote_bytes(bs, safe)
  return (bs:gsub(unsafe_pattern(safe), percent))
end

function M.quote_from_bytes(...)
  local args = table.pack(...)
  local bs = check_string(args[1], 1, "quote_from_bytes")
  local safe = options("quote_from_bytes", args, 2, {"safe"}).get("safe", "string", "/")
  return quote_bytes(bs, safe)
end

local function quote_args(fname, default_safe, ...)
  local args = table.pack(...)
  local s = check_string(args[1], 1, fname)
  local o = options(fname, args, 2, {"safe", "encoding", "errors"})
  local safe = o.get("safe", "string", default_safe)
  local enc = o.get("encoding", "string")
  local errs = o.get("errors", "string")
  return s, safe, enc, errs, o
end

local function quote(s, safe, enc, errs, o)
  if s == "" then return s end
  if enc ~= nil or errs ~= nil then
    s = codec.encode(s, codec.lookup(enc or "utf-8"), errs or "strict", function(msg) o.fail("errors", msg) end)
  end
  return quote_bytes(s, safe)
end

function M.quote(...)
  local s, safe, enc, errs, o = quote_args("quote", "/", ...)
  return quote(s, safe, enc, errs, o)
end

function M.quote_plus(...)
  local s, safe, enc, errs, o = quote_args("quote_plus", "", ...)
  if not find(s, " ", 1, true) then return quote(s, safe, enc, errs, o) end
  return (quote(s, safe .. " ", enc, errs, o):gsub(" ", "+"))
end

local function unquote_to_bytes(s)
  return (s:gsub("%%(%x%x)", function(h) return char(tonumber(h, 16)) end))
end

function M.unquote_to_bytes(s)
  return unquote_to_bytes(check_string(s, 1, "unquote_to_bytes"))
end

local function unquote(s, enc, errs, o)
  if not find(s, "%", 1, true) then return s end
  local c = codec.lookup(enc)
  local function fail(msg) o.fail("errors", msg) end
  -- Python decodes the escapes of each run of ASCII characters on its own,
  -- and keeps the other characters as they are
  return (s:gsub("[\0-\127]+", function(run)
    return codec.decode(unquote_to_bytes(run), c, errs, fail)
  end))
end

local function unquote_args(fname, ...)
  local args = table.pack(...)
  local s = check_string(args[1], 1, fname)
  local o = options(fname, args, 2, {"encoding", "errors"})
  return s, o.get("encoding", "string", "utf-8"), o.get("errors", "string", "replace"), o
end

function M.unquote(...)
  return unquote(unquote_args("unquote", ...))
end

function M.unquote_plus(...)
  local s, enc, errs, o = unquote_args("unquote_plus", ...)
  return unquote((s:gsub("%+", " ")), enc, errs, o)
end

-- ---- query strings ----

local function qsl(fname, ...)
  local args = table.pack(...)
  local qs = args[1]
  if qs == nil then qs = "" end
  check_string(qs, 1, fname)
  local o = options(fname, args, 2,
    {"keep_blank_values", "strict_parsing", "encoding", "errors", "max_num_fields", "separator"})
  local keep = o.get("keep_blank_values", "flag", false)
  local strict = o.get("strict_parsing", "flag", false)
  local enc = o.get("encoding", "string", "utf-8")
  local errs = o.get("errors", "string", "replace")
  local max = o.get("max_num_fields", "number")
  local sep = o.get("separator", "string", "&")
  if sep == "" then raise(ValueError, "Separator must be of type string or bytes.") end
  if max ~= nil then
    local fields = 0
    if qs ~= "" then fields = #split_plain(qs, sep) end
    if max < fields then raise(ValueError, "Max number of fields exceeded") end
  end
  local r = repr.list()
  if qs == "" then return r end
  for _, nv in ipairs(split_plain(qs, sep)) do
    if nv ~= "" or strict then
      local name, have, value = partition(nv, "=")
      local skip = false
      if not have then
        if strict then raise(ValueError, "bad query field: " .. pyrepr(nv)) end
        skip = not keep
      end
      if not skip and (value ~= "" or keep) then
        name = unquote((name:gsub("%+", " ")), enc, errs, o)
        value = unquote((value:gsub("%+", " ")), enc, errs, o)
        r[#r + 1] = repr.tuple(name, value)
      end
    end
  end
  return r
end

function M.parse_qsl(...) return qsl("parse_qsl", ...) end

-- parse_qs's dict prints like Python's, keys in the order they came.
local qs_order = setmetatable({}, {__mode = "k"})
local qs_mt = {__name = "dict"}
qs_mt.__tostring = function(d)
  local parts = {}
  for i, k in ipairs(qs_order[d] or {}) do
    local vals = {}
    for j, v in ipairs(d[k]) do vals[j] = pyrepr(v) end
    parts[i] = pyrepr(k) .. ": [" .. concat(vals, ", ") .. "]"
  end
  return "{" .. concat(parts, ", ") .. "}"
end

function M.parse_qs(...)
  local d, order = setmetatable({}, qs_mt), {}
  for _, kv in ipairs(qsl("parse_qs", ...)) do
    local k, v = kv[1], kv[2]
    local l = d[k]
    if not l then
      l = repr.list()
      d[k] = l
      order[#order + 1] = k
    end
    l[#l + 1] = v
  end
  qs_order[d] = order
  return d
end

-- Python's str() of a urlencode key or value.
local function pystr(v, fname)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "number" or tv == "boolean" then return repr.repr(v) end
  if tv == "table" then
    local mt = getmetatable(v)
    if mt == repr.tuple_mt or mt == repr.list_mt then return repr.repr(v) end
    if mt == nil then return repr.repr(repr.list(table.move(v, 1, #v, 1, {}))) end
    return tostring(v)
  end
  argerror(1, fname, "cannot encode a " .. tv)
end

local type_rank = {number = 1, string = 2, boolean = 3}

local function key_less(a, b)
  local ra, rb = type_rank[type(a)], type_rank[type(b)]
  if ra ~= rb then return ra < rb end
  if ra == 3 then return a == false and b == true end
  return a < b
end

function M.urlencode(...)
  local args = table.pack(...)
  local query = args[1]
  if type(query) ~= "table" then argerror(1, "urlencode", "table expected, got " .. typename(query)) end
  local o = options("urlencode", args, 2, {"doseq", "safe", "encoding", "errors", "quote_via"})
  local doseq = o.get("doseq", "flag", false)
  local safe = o.get("safe", "string", "")
  local enc = o.get("encoding", "string")
  local errs = o.get("errors", "string")
  local quote_via = o.get("quote_via", "func", M.quote_plus)
  local pairs_list = {}
  if query[1] ~= nil then
    -- a list of {key, value} pairs, like Python's sequence of tuples
    for k in pairs(query) do
      if math.type(k) ~= "integer" or k < 1 or k > #query then
        argerror(1, "urlencode", "a list of pairs cannot also have the key " .. pyrepr(tostring(k)))
      end
    end
    for i, p in ipairs(query) do
      if type(p) ~= "table" then
        argerror(1, "urlencode", format("item %d is a %s, not a {key, value} pair", i, type(p)))
      end
      if p[1] == nil or p[2] == nil then argerror(1, "urlencode", format("item %d is not a {key, value} pair", i)) end
      pairs_list[i] = {p[1], p[2]}
    end
  else
    local keys = {}
    for k in pairs(query) do
      if not type_rank[type(k)] then argerror(1, "urlencode", "a key is a " .. type(k)) end
      keys[#keys + 1] = k
    end
    table.sort(keys, key_less)
    for i, k in ipairs(keys) do pairs_list[i] = {k, query[k]} end
  end
  local function q(v) return quote_via(pystr(v, "urlencode"), safe, enc, errs) end
  local l = {}
  for _, kv in ipairs(pairs_list) do
    local k, v = q(kv[1]), kv[2]
    if doseq and type(v) == "table" then
      for i = 1, #v do l[#l + 1] = k .. "=" .. q(v[i]) end
    else
      l[#l + 1] = k .. "=" .. q(v)
    end
  end
  return concat(l, "&")
end

return M
