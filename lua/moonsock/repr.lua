-- Python-style repr for the values moonsock hands back: address tuples,
-- lists of addresses, strings quoted the way Python quotes them.
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

-- quote(s) for users: a string only (s:find on a number or nil fails deep inside).
function M.quote(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'quote' (string expected, got " .. (s == nil and "no value" or type(s)) .. ")", 2)
  end
  return quote(s)
end

local repr

local function seq(t, open, close, seen)
  if seen[t] then return open .. "..." .. close end
  seen[t] = true
  local parts = {}
  for i = 1, #t do parts[i] = repr(t[i], seen) end
  seen[t] = nil
  local body = table.concat(parts, ", ")
  if open == "(" and #t == 1 then body = body .. "," end
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
