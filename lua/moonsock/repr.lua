-- Python-style repr for the values moonsock hands back: address tuples,
-- lists of addresses, strings quoted the way Python quotes them, bytes
-- literals. A table whose metatable has __repr(v) (an ipaddress object)
-- gives its own repr, as a Python object's __repr__ does; tuples compare
-- with < and <= as Python's do.
local M = {}

local tuple_mt = {__name = "tuple"}
local list_mt = {__name = "list"}
M.tuple_mt, M.list_mt = tuple_mt, list_mt

local escapes = {["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}

-- Python picks single quotes unless the text has a ' and no ".
local function quote(s)
  local q = "'"
  if s:find("'", 1, true) and not s:find('"', 1, true) then q = '"' end
  local body = s:gsub("[%c\\" .. q .. "\127]", function(c)
    if escapes[c] then return escapes[c] end
    if c == q then return "\\" .. c end
    return string.format("\\x%02x", c:byte())
  end)
  return q .. body .. q
end

-- The functions for users take a string only (s:find on a number or nil
-- fails deep inside). moonsock.errors requires this module: its argerror
-- cannot serve here.
local function check_string(s, fname)
  if type(s) ~= "string" then
    local got = s == nil and "no value" or type(s)
    error("bad argument #1 to '" .. fname .. "' (string expected, got " .. got .. ")", 3)
  end
end

function M.quote(s)
  check_string(s, "quote")
  return quote(s)
end

-- bytes_literal(s): Python's repr of the bytes s, b'...'.
local byte_escapes = {["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t"}
function M.bytes_literal(s)
  check_string(s, "bytes_literal")
  local q = "'"
  if s:find("'", 1, true) and not s:find('"', 1, true) then q = '"' end
  local body = s:gsub("[\0-\31\\\127-\255" .. q .. "]", function(c)
    if c == q then return "\\" .. q end
    return byte_escapes[c] or string.format("\\x%02x", c:byte())
  end)
  return "b" .. q .. body .. q
end

local repr

local function seq(t, open, close, seen)
  if seen[t] then return open .. "..." .. close end
  seen[t] = true
  local parts = {}
  -- a tuple made by tuple(...) knows its length, trailing None included
  local n = open == "(" and math.type(rawget(t, "n")) == "integer" and t.n or #t
  for i = 1, n do parts[i] = repr(t[i], seen) end
  seen[t] = nil
  local body = table.concat(parts, ", ")
  if open == "(" and n == 1 then body = body .. "," end
  return open .. body .. close
end

function repr(v, seen)
  seen = seen or {}
  local tv = type(v)
  if tv == "string" then return quote(v) end
  if tv == "nil" then return "None" end
  if tv == "boolean" then return v and "True" or "False" end
  if tv == "number" then
    if math.type(v) == "float" then
      if v ~= v then return "nan" end
      if v == math.huge then return "inf" end
      if v == -math.huge then return "-inf" end
      if v == math.floor(v) and math.abs(v) < 1e16 then return string.format("%.1f", v) end
      return string.format("%.17g", v):gsub("^(.-)$", function(s)
        -- shortest text that reads back the same, as Python prints floats
        for p = 1, 17 do
          local t = string.format("%." .. p .. "g", v)
          if tonumber(t) == v then return t end
        end
        return s
      end)
    end
    return tostring(v)
  end
  local mt = getmetatable(v)
  if tv == "table" and type(mt) == "table" and mt.__repr ~= nil then return mt.__repr(v) end
  if tv == "table" and mt == tuple_mt then return seq(v, "(", ")", seen) end
  if tv == "table" and mt == list_mt then return seq(v, "[", "]", seen) end
  return tostring(v)
end
M.repr = repr

local function eq(a, b)
  if getmetatable(a) ~= getmetatable(b) or #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

tuple_mt.__tostring = function(t) return seq(t, "(", ")", {}) end
tuple_mt.__eq = eq
-- Python's tuple ordering: the first unequal items decide, else the length.
local function tuple_less(a, b, orequal)
  for i = 1, math.min(#a, #b) do
    if a[i] ~= b[i] then
      if orequal then return a[i] <= b[i] end
      return a[i] < b[i]
    end
  end
  if orequal then return #a <= #b end
  return #a < #b
end
tuple_mt.__lt = function(a, b) return tuple_less(a, b, false) end
tuple_mt.__le = function(a, b) return tuple_less(a, b, true) end
list_mt.__tostring = function(t) return seq(t, "[", "]", {}) end
list_mt.__eq = eq

function M.tuple(...) return setmetatable(table.pack(...), tuple_mt) end
function M.list(t)
  if t ~= nil and type(t) ~= "table" then
    error("bad argument #1 to 'list' (table expected, got " .. type(t) .. ")", 2)
  end
  return setmetatable(t or {}, list_mt)
end

-- The C side finds the metatables by these registry names.
local reg = debug.getregistry()
reg["moonsock.tuple"] = tuple_mt
reg["moonsock.list"] = list_mt

return M
