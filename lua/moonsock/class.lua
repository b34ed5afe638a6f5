-- Python's classes for Lua: single and multiple inheritance with Python's
-- method resolution order (C3), super(), isinstance/issubclass, and the
-- constructor protocol (calling a class runs its __init__). Used by the
-- modules that Python builds by subclassing: socketserver, asyncore, asynchat.
--
--   local class = require "moonsock.class"
--   local Base = class.object:extend{__name = "Base", greet = function(self) return "hi" end}
--   local Sub = Base:extend{__name = "Sub"}
--   function Sub:greet() return class.super(Sub, self):greet() .. "!" end
--
-- See the top of lua/socketserver.lua for the idiom in use.
local M = {}

local format = string.format

local errors = require "moonsock.errors"
local typename = errors.typename

local argerror = errors.argerror

---------------------------------------------------------------------------
-- The class system: classes are tables with __name, __bases and __mro.

local classes = setmetatable({}, {__mode = "k"}) -- every class made here

local function is_class(v) return type(v) == "table" and classes[v] == true end
M.isclass = is_class

-- Metamethods act only if present in the metatable itself, which is the
-- instance's class: a class gets the ones its bases define.
local METAMETHODS = {"__close", "__tostring", "__eq", "__lt", "__le", "__len", "__concat",
                     "__call", "__unm", "__add", "__sub", "__mul", "__div", "__mod"}

-- Python's C3 linearization of cls with the given bases.
local function c3(cls, bases)
  local seqs = {}
  for _, b in ipairs(bases) do seqs[#seqs + 1] = table.move(b.__mro, 1, #b.__mro, 1, {}) end
  seqs[#seqs + 1] = table.move(bases, 1, #bases, 1, {})
  local mro = {cls}
  while true do
    local left = {}
    for _, s in ipairs(seqs) do
      if #s > 0 then left[#left + 1] = s end
    end
    if #left == 0 then return mro end
    local pick
    -- The first head that is in no other sequence's tail.
    for _, s in ipairs(left) do
      pick = s[1]
      for _, other in ipairs(left) do
        for i = 2, #other do
          if other[i] == pick then pick = nil break end
        end
        if not pick then break end
      end
      if pick then break end
    end
    if not pick then return nil end
    mro[#mro + 1] = pick
    for _, s in ipairs(left) do
      if s[1] == pick then table.remove(s, 1) end
    end
    seqs = left
  end
end

local class_meta = {}

-- A class's own fields are raw; the rest come from the classes after it in
-- its MRO.
class_meta.__index = function(cls, key)
  local mro = rawget(cls, "__mro")
  for i = 2, #mro do
    local v = rawget(mro[i], key)
    if v ~= nil then return v end
  end
  return nil
end

-- Calling a class makes an instance and runs __init__ on it.
class_meta.__call = function(cls, ...)
  local self = setmetatable({}, cls)
  self:__init__(...)
  return self
end

-- Python's qualified name: "socketserver.TCPServer"; a class made by a
-- user has no module.
local function qualname(cls)
  local module = rawget(cls, "__module")
  if module then return module .. "." .. rawget(cls, "__name") end
  return rawget(cls, "__name")
end

class_meta.__tostring = function(cls) return "<class '" .. qualname(cls) .. "'>" end

local function make_class(name, bases, fields, module)
  local cls = fields
  local mro = c3(cls, bases)
  if not mro then
    local names = {}
    for i, b in ipairs(bases) do names[i] = b.__name end
    -- Python's TypeError text, line break included.
    error("Cannot create a consistent method resolution\norder (MRO) for bases "
      .. table.concat(names, ", "), 3)
  end
  cls.__name = name
  cls.__module = module
  cls.__bases = bases
  cls.__mro = mro
  cls.__index = cls
  for _, mm in ipairs(METAMETHODS) do
    if rawget(cls, mm) == nil then
      for i = 2, #mro do
        local v = rawget(mro[i], mm)
        if v ~= nil then cls[mm] = v break end
      end
    end
  end
  classes[cls] = true
  return setmetatable(cls, class_meta)
end

-- class(base1[, base2, ...][, fields]) -> a new class; fields (a plain
-- table, not a class) become its own fields, fields.__name its name.
function M.class(...)
  local n = select("#", ...)
  local bases, fields = {}, nil
  for i = 1, n do
    local v = select(i, ...)
    if is_class(v) then
      if fields then argerror(i, "class", "class expected after the fields table") end
      bases[#bases + 1] = v
    elseif i == n and type(v) == "table" then
      fields = v
    elseif not (i == n and v == nil) then
      argerror(i, "class", "class expected, got " .. typename(v))
    end
  end
  if #bases == 0 then argerror(1, "class", "at least one base class expected") end
  fields = fields or {}
  local name = rawget(fields, "__name")
  if name ~= nil and type(name) ~= "string" then
    argerror(n, "class", "__name must be a string, got " .. typename(name))
  end
  local copy = {}
  for k, v in pairs(fields) do copy[k] = v end
  return make_class(name or (bases[1].__name .. " subclass"), bases, copy)
end

-- super(cls, obj): the attributes obj's class has after cls in its MRO;
-- methods come bound to obj, so super(C, self):m() and super(C, self).m()
-- both call m with self = obj.
function M.super(cls, obj)
  if not is_class(cls) then argerror(1, "super", "class expected, got " .. typename(cls)) end
  local ocls = getmetatable(obj)
  if not is_class(ocls) then argerror(2, "super", "instance expected, got " .. typename(obj)) end
  local mro, start = ocls.__mro, nil
  for i, c in ipairs(mro) do
    if c == cls then start = i + 1 break end
  end
  if not start then
    argerror(2, "super", "obj must be an instance or subtype of type " .. cls.__name)
  end
  return setmetatable({}, {__index = function(_, key)
    for i = start, #mro do
      local v = rawget(mro[i], key)
      if v ~= nil then
        if type(v) == "function" then return function(_, ...) return v(obj, ...) end end
        return v
      end
    end
    return nil
  end})
end

-- isinstance(obj, cls), issubclass(sub, cls): along the MRO, as Python.
function M.issubclass(sub, cls)
  if not is_class(sub) then argerror(1, "issubclass", "class expected, got " .. typename(sub)) end
  if not is_class(cls) then argerror(2, "issubclass", "class expected, got " .. typename(cls)) end
  for _, c in ipairs(sub.__mro) do
    if c == cls then return true end
  end
  return false
end

function M.isinstance(obj, cls)
  if not is_class(cls) then argerror(2, "isinstance", "class expected, got " .. typename(cls)) end
  local ocls = getmetatable(obj)
  return is_class(ocls) and M.issubclass(ocls, cls)
end

-- The root, Python's object.
local object = {
  __init__ = function() end,
  __tostring = function(self)
    return format("<%s object at %p>", qualname(getmetatable(self)), self)
  end,
}
object.__name, object.__bases, object.__mro, object.__index = "object", {}, {object}, object
classes[object] = true
setmetatable(object, class_meta)
M.object = object

-- Cls:extend(fields): class Sub(Cls). Mixin:mixin(Base[, fields]):
-- class Sub(Mixin, Base).
-- A wrong self is no argument #0: Lua's words for it.
local function check_self(self, fname)
  if not is_class(self) then
    error(format("calling '%s' on bad self (class expected, got %s)", fname, typename(self)), 3)
  end
end

function object:extend(fields)
  check_self(self, "extend")
  if fields ~= nil and (type(fields) ~= "table" or is_class(fields)) then
    argerror(1, "extend", "table expected, got " .. typename(fields))
  end
  return M.class(self, fields)
end

function object:mixin(base, fields)
  check_self(self, "mixin")
  if not is_class(base) then argerror(1, "mixin", "class expected, got " .. typename(base)) end
  if fields ~= nil and (type(fields) ~= "table" or is_class(fields)) then
    argerror(2, "mixin", "table expected, got " .. typename(fields))
  end
  return M.class(self, base, fields)
end


-- make(name, bases, fields, module): a class as a module defines it
-- (module gives its qualified name, "socketserver.TCPServer"). fields
-- itself becomes the class.
function M.make(name, bases, fields, module)
  if type(name) ~= "string" then argerror(1, "make", "string expected, got " .. typename(name)) end
  if type(bases) ~= "table" or is_class(bases) then
    argerror(2, "make", "table of classes expected, got " .. typename(bases))
  end
  for i, b in ipairs(bases) do
    if not is_class(b) then argerror(2, "make", format("bases[%d]: class expected, got %s", i, typename(b))) end
  end
  if type(fields) ~= "table" or is_class(fields) then
    argerror(3, "make", "table expected, got " .. typename(fields))
  end
  if module ~= nil and type(module) ~= "string" then
    argerror(4, "make", "string expected, got " .. typename(module))
  end
  return make_class(name, bases, fields, module)
end

function M.qualname(cls)
  if not is_class(cls) then argerror(1, "qualname", "class expected, got " .. typename(cls)) end
  return qualname(cls)
end

-- property_index(methods, getters[, fallback]) -> an __index for a plain
-- Lua class with Python's properties: methods[k] if there is one, else
-- getters[k](obj), computed on each read (a getter may raise, as a Python
-- property does), else fallback(obj, k) or nil. ssl's objects and
-- ipaddress's classes are built on it.
function M.property_index(methods, getters, fallback)
  if type(methods) ~= "table" then argerror(1, "property_index", "table expected, got " .. typename(methods)) end
  if type(getters) ~= "table" then argerror(2, "property_index", "table expected, got " .. typename(getters)) end
  if fallback ~= nil and type(fallback) ~= "function" then
    argerror(3, "property_index", "function expected, got " .. typename(fallback))
  end
  return function(obj, k)
    local m = methods[k]
    if m ~= nil then return m end
    local g = getters[k]
    if g then return g(obj) end
    if fallback then return fallback(obj, k) end
    return nil
  end
end

-- instance_of(obj, mt): whether obj's metatable is mt or inherits from it
-- through __index tables: the plain Lua classes of moonsock.sync and
-- selectors, whose methods refuse a wrong self as Python's do.
function M.instance_of(obj, mt)
  local c = getmetatable(obj)
  while type(c) == "table" do
    if c == mt then return true end
    local up = getmetatable(c)
    c = up and rawget(up, "__index")
  end
  return false
end

return M
