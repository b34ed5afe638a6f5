-- binascii: Python 3.11's binascii.hexlify/unhexlify (and their aliases
-- b2a_hex/a2b_hex) in pure Lua. Data are Lua strings of bytes, as Python's
-- bytes; results are Lua strings (Python returns bytes).
--
-- Errors, as Python raises them: binascii.Error (a ValueError, printed
-- "binascii.Error: Odd-length string" when uncaught) for "Odd-length string"
-- and "Non-hexadecimal digit found"; ValueError for a bad separator ("sep
-- must be length 1.", "sep must be ASCII."); Lua argument errors for wrong
-- types and for a bytes_per_sep outside C's int ("Python int too large to
-- convert to C int", Python's OverflowError).
--
-- Lua strings are bytes, so unhexlify reads its argument as Python reads
-- bytes: a non-ASCII byte is a "Non-hexadecimal digit found" (Python's str
-- argument would raise ValueError "string argument should contain only ASCII
-- characters" instead). A separator is one byte, or one UTF-8 character as
-- Python's str is: U+0080..U+00FF stand for that byte (as Python 3.11 takes
-- them), higher ones raise "sep must be ASCII.".
local errors = require "moonsock.errors"

local M = {}


-- Lua's own wording for a wrong argument, at the caller's line.
local argerror = errors.argerror

local function typename(v) return v == nil and "no value" or type(v) end

-- Python prints the class as binascii.Error, and so does errors.describe.
M.Error = errors["binascii.Error"] or errors.define("binascii.Error", errors.ValueError)

local hex_of = {}
for b = 0, 255 do hex_of[string.char(b)] = string.format("%02x", b) end

-- The separator byte of sep (a one-byte string or one UTF-8 character).
local function sep_byte(sep)
  if #sep == 1 then return sep end
  local ok, len = pcall(utf8.len, sep)
  if ok and len == 1 then
    local cp = utf8.codepoint(sep)
    if cp < 0x100 then return string.char(cp) end
    error(errors.ValueError("sep must be ASCII."), 0)
  end
  error(errors.ValueError("sep must be length 1."), 0)
end

local INT_MIN, INT_MAX = -2147483648, 2147483647

local function hexlify(fname, data, sep, bytes_per_sep)
  if type(data) ~= "string" then argerror(1, fname, "string expected, got " .. typename(data)) end
  if type(sep) == "table" and bytes_per_sep == nil then
    -- the options table {sep = ..., bytes_per_sep = ...}
    local o = sep
    for k in pairs(o) do
      if k ~= "sep" and k ~= "bytes_per_sep" then argerror(2, fname, "unexpected option '" .. tostring(k) .. "'") end
    end
    sep, bytes_per_sep = o.sep, o.bytes_per_sep
  end
  local hex = (data:gsub(".", hex_of))
  if sep == nil then
    if bytes_per_sep ~= nil and math.type(bytes_per_sep) ~= "integer" then
      argerror(3, fname, "integer expected, got " .. typename(bytes_per_sep))
    end
    return hex
  end
  if type(sep) ~= "string" then argerror(2, fname, "string expected, got " .. typename(sep)) end
  if bytes_per_sep == nil then bytes_per_sep = 1 end
  if math.type(bytes_per_sep) ~= "integer" then
    argerror(3, fname, "integer expected, got " .. (math.type(bytes_per_sep) or typename(bytes_per_sep)))
  end
  if bytes_per_sep < INT_MIN or bytes_per_sep > INT_MAX then
    argerror(3, fname, "Python int too large to convert to C int")
  end
  local s = sep_byte(sep)
  local n = #data
  local group = bytes_per_sep < 0 and -bytes_per_sep or bytes_per_sep
  if n == 0 or group == 0 or group >= n then return hex end
  local parts = {}
  if bytes_per_sep > 0 then
    -- groups counted from the right: the first one may be short
    local first = n % group
    if first > 0 then parts[1] = hex:sub(1, 2 * first) end
    for i = first, n - 1, group do parts[#parts + 1] = hex:sub(2 * i + 1, 2 * (i + group)) end
  else
    for i = 0, n - 1, group do parts[#parts + 1] = hex:sub(2 * i + 1, 2 * (i + group)) end
  end
  return table.concat(parts, s)
end

-- hexlify(data[, sep[, bytes_per_sep]]) or hexlify(data, {sep=, bytes_per_sep=}).
function M.hexlify(...) return hexlify("hexlify", ...) end
function M.b2a_hex(...) return hexlify("b2a_hex", ...) end

local function unhexlify(fname, hexstr)
  if type(hexstr) ~= "string" then argerror(1, fname, "string expected, got " .. typename(hexstr)) end
  if #hexstr % 2 == 1 then error(M.Error("Odd-length string"), 0) end
  if hexstr:find("[^0-9A-Fa-f]") then error(M.Error("Non-hexadecimal digit found"), 0) end
  return (hexstr:gsub("..", function(h) return string.char(tonumber(h, 16)) end))
end

function M.unhexlify(hexstr) return unhexlify("unhexlify", hexstr) end
function M.a2b_hex(hexstr) return unhexlify("a2b_hex", hexstr) end

return M
