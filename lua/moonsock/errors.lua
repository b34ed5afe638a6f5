-- Python's exception classes for what moonsock raises. An error object has
-- the fields errno, strerror and args, and tostring() gives Python's str(exc):
-- "[Errno 111] Connection refused", "timed out", "service/proto not found".
local M = {}

local function class_tostring(cls) return "<class '" .. cls.__name .. "'>" end

local classes = {}

local errno_class -- filled below: errno -> OSError subclass

-- Like Python's OSError constructor, OSError(errno, strerror) picks the
-- subclass that errno stands for.
local function new_instance(cls, ...)
  local n = select("#", ...)
  local a1, a2 = ...
  if cls == M.OSError and (n == 2 or n == 3) and math.type(a1) == "integer" and errno_class[a1] then
    cls = errno_class[a1]
  end
  local e = {args = table.pack(...)}
  -- Only OSErrors read (errno, strerror) from their arguments, and only
  -- from two to five of them, as Python's OSError.__init__.
  if n >= 2 and n <= 5 and math.type(a1) == "integer" then
    local c = cls
    while c and c ~= M.OSError do c = rawget(c, "__base") end
    if c then e.errno, e.strerror = a1, a2 end
  end
  return setmetatable(e, cls)
end

-- cls:matches(err): is err an instance of cls or of one of its subclasses?
local function matches(cls, err)
  local c = getmetatable(err)
  while type(c) == "table" and classes[c.__name] == c do
    if c == cls then return true end
    c = c.__base
  end
  return false
end

local repr = require("moonsock.repr").repr

-- Python's BaseException.__str__: one argument as str(), several as the
-- repr of the tuple.
local function instance_tostring(e)
  if e.errno ~= nil then
    -- Python's OSError.filename, shown as its repr.
    if e.filename ~= nil then
      return string.format("[Errno %d] %s: %s", e.errno, tostring(e.strerror), repr(e.filename))
    end
    return string.format("[Errno %d] %s", e.errno, tostring(e.strerror))
  end
  local args = e.args
  if args.n == 0 then return "" end
  if args.n == 1 then return tostring(args[1]) end
  local parts = {}
  for i = 1, args.n do parts[i] = repr(args[i]) end
  return "(" .. table.concat(parts, ", ") .. ")"
end

-- typename(v): the type name an argument error gives, as luaL_typeerror
-- finds it: the metatable's own __name if it is a string, else type(v).
-- Every Lua module of moonsock names wrong arguments with it.
local function typename(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and type(rawget(mt, "__name")) == "string" and mt.__name or type(v)
end
M.typename = typename

-- argtypename(v): typename(v), but "no value" for nil, as Lua names an
-- absent argument: for the functions that take their arguments as `...`
-- and cannot tell a missing one from nil (urlparse() says "string expected,
-- got no value", as string.rep() does).
function M.argtypename(v)
  if v == nil then return "no value" end
  return typename(v)
end

-- _callable(v): Python's callable(): a function, or a value whose metatable
-- has __call (the argument checks of signal, urllib.parse, LuaSocket's try).
function M._callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- The chunk names scripts/embed-lua gives moonsock's own modules:
-- "@lua/socket.lua" for module socket, "@lua/moonsock/errors.lua" for this one.
local own_prefix = debug.getinfo(1, "S").source:match("^(@.*/)moonsock/errors%.lua$")

-- Is source the chunk of one of moonsock's embedded modules? A user's file
-- that happens to sit at the same relative path is not in package.preload.
local function is_own(source)
  if not own_prefix or source:sub(1, #own_prefix) ~= own_prefix then return false end
  local name = source:sub(#own_prefix + 1):match("^(.*)%.lua$")
  return name ~= nil and package.preload[(name:gsub("/", "."))] ~= nil
end

-- argerror(n, fname, msg): raises "bad argument #n to 'fname' (msg)", blamed
-- on the line that called into moonsock: the first frame that is neither one
-- of moonsock's own modules nor a C function (pcall, a metamethod's caller),
-- however deep inside moonsock the check ran. The one argument error of every
-- Lua module of moonsock.
local argerror
function argerror(n, fname, msg)
  if math.type(n) ~= "integer" then argerror(1, "argerror", "integer expected, got " .. typename(n)) end
  if type(fname) ~= "string" then argerror(2, "argerror", "string expected, got " .. typename(fname)) end
  if type(msg) ~= "string" then argerror(3, "argerror", "string expected, got " .. typename(msg)) end
  local level = 2
  local info = debug.getinfo(level, "S")
  while info and (info.what == "C" or is_own(info.source)) do
    level = level + 1
    info = debug.getinfo(level, "S")
  end
  error(string.format("bad argument #%d to '%s' (%s)", n, fname, msg), info and level or 0)
end
M.argerror = argerror

-- reraise_argerror(err, inner, outer, shift): a wrapper that called
-- `inner` (through pcall, as pcall(f, obj, ...)) re-raises inner's argument
-- error as its own: "bad argument #n to 'inner'" (a Lua check, which already
-- counts as the user does) becomes argument n of `outer`; "#n to '?'" (a C
-- check reached through pcall, which counts self) argument n + shift.
-- Blamed on the user's line (argerror); any other error goes through as it is.
function M.reraise_argerror(err, inner, outer, shift)
  if type(err) == "string" then
    local n, name, msg = err:match("^[^\n]-bad argument #(%d+) to '([^']*)' %((.*)%)$")
    if n and name == "?" then
      argerror(tonumber(n) + shift, outer, msg)
    elseif n and name == inner then
      argerror(tonumber(n), outer, msg)
    end
  end
  error(err, 0)
end

local function is_class(v)
  return type(v) == "table" and type(rawget(v, "__name")) == "string" and classes[v.__name] == v
end

local methods = {}
-- err:isinstance(cls): Python's isinstance raises TypeError for anything
-- but a class; a wrong self is not an error object.
function methods:isinstance(cls)
  if not is_class(getmetatable(self)) then
    error("calling 'isinstance' on bad self (error object expected, got " .. typename(self) .. ")", 2)
  end
  if not is_class(cls) then argerror(1, "isinstance", "class expected, got " .. typename(cls)) end
  return matches(cls, self)
end

-- cls:matches(err) on something that is no class (OSError.matches(e) with a
-- dot) would answer false for any err.
local function checked_matches(cls, err)
  if not is_class(cls) then
    error("calling 'matches' on bad self (class expected, got " .. typename(cls) .. ")", 2)
  end
  return matches(cls, err)
end

-- Lua code treats an error as its message: "failed: " .. err, and
-- err:match("refused"). Concatenation and the string methods that read a
-- text act on tostring(err) (Python's str(exc)); the object itself stays
-- what error() raised, so matches() and the fields still work on it.
local function is_error(v)
  local mt = getmetatable(v)
  return type(v) == "table" and type(mt) == "table" and classes[rawget(mt, "__name")] == mt
end
local function as_text(v)
  local t = type(v)
  if t == "string" or t == "number" or is_error(v) then return tostring(v) end
  error("attempt to concatenate a " .. typename(v) .. " value", 3)
end
local function concat_as_text(a, b) return as_text(a) .. as_text(b) end
for _, name in ipairs {"byte", "find", "gmatch", "gsub", "len", "lower", "match", "sub", "upper"} do
  local f = string[name]
  methods[name] = function(self, ...) return f(tostring(self), ...) end
end

-- Defining a name twice returns the first class: replacing it would make its
-- existing instances stop matching.
local function define(name, base)
  if classes[name] then
    if classes[name].__base ~= base then
      error("errors.define: " .. name .. " is already defined with another base", 2)
    end
    return classes[name]
  end
  local cls = {__name = name, __base = base, __tostring = instance_tostring, __index = methods,
               __concat = concat_as_text}
  cls.matches = checked_matches
  classes[name] = cls
  M[name] = setmetatable(cls, {__call = new_instance, __tostring = class_tostring})
  return cls
end

define("BaseException")
define("KeyboardInterrupt", M.BaseException)
define("Cancelled", M.BaseException)
define("Exception", M.BaseException)
define("RuntimeError", M.Exception)
define("ValueError", M.Exception)
define("LookupError", M.Exception)
define("KeyError", M.LookupError)
-- KeyError's str() is the repr of its one argument: KeyError('x') -> 'x'.
M.KeyError.__tostring = function(e)
  if e.args.n == 1 then return repr(e.args[1]) end
  return instance_tostring(e)
end
define("IndexError", M.LookupError)
define("TypeError", M.Exception)
define("OSError", M.Exception)
for _, name in ipairs {"BlockingIOError", "ChildProcessError", "ConnectionError",
                       "FileExistsError", "FileNotFoundError", "InterruptedError",
                       "IsADirectoryError", "NotADirectoryError", "PermissionError",
                       "ProcessLookupError", "TimeoutError", "gaierror", "herror"} do
  define(name, M.OSError)
end
-- io.UnsupportedOperation (Python: OSError and ValueError; here OSError).
define("UnsupportedOperation", M.OSError)
for _, name in ipairs {"BrokenPipeError", "ConnectionAbortedError", "ConnectionRefusedError",
                       "ConnectionResetError"} do
  define(name, M.ConnectionError)
end
M.timeout = M.TimeoutError
-- For other modules' exception classes (queue.Empty...): define(name, base).
function M.define(name, base)
  if type(name) ~= "string" or name == "" then
    argerror(1, "define", "non-empty string expected, got " .. (name == "" and "''" or typename(name)))
  end
  if not is_class(base) then argerror(2, "define", "class expected, got " .. typename(base)) end
  return define(name, base)
end
M.error = M.OSError

-- The errno to subclass map of CPython's Objects/exceptions.c.
local by_errno = {
  EAGAIN = "BlockingIOError", EALREADY = "BlockingIOError", EINPROGRESS = "BlockingIOError",
  EWOULDBLOCK = "BlockingIOError", EPIPE = "BrokenPipeError", ESHUTDOWN = "BrokenPipeError",
  ECHILD = "ChildProcessError", ECONNABORTED = "ConnectionAbortedError",
  ECONNREFUSED = "ConnectionRefusedError", ECONNRESET = "ConnectionResetError",
  EEXIST = "FileExistsError", ENOENT = "FileNotFoundError", EISDIR = "IsADirectoryError",
  ENOTDIR = "NotADirectoryError", EINTR = "InterruptedError", EACCES = "PermissionError",
  EPERM = "PermissionError", ESRCH = "ProcessLookupError", ETIMEDOUT = "TimeoutError",
}
-- Linux's numbers; the errno module fills them from the C headers when present.
local linux = {EAGAIN = 11, EALREADY = 114, EINPROGRESS = 115, EWOULDBLOCK = 11, EPIPE = 32,
               ESHUTDOWN = 108, ECHILD = 10, ECONNABORTED = 103, ECONNREFUSED = 111,
               ECONNRESET = 104, EEXIST = 17, ENOENT = 2, EISDIR = 21, ENOTDIR = 20, EINTR = 4,
               EACCES = 13, EPERM = 1, ESRCH = 3, ETIMEDOUT = 110}
errno_class = {}
for name, cls in pairs(by_errno) do errno_class[linux[name]] = classes[cls] end

-- The C core's factory: raise_new(clsname, errno|nil, message).
function M.raise_new(clsname, errno, msg)
  if type(clsname) ~= "string" then argerror(1, "raise_new", "string expected, got " .. typename(clsname)) end
  if errno ~= nil and math.type(errno) ~= "integer" then
    argerror(2, "raise_new", "integer or nil expected, got " .. (math.type(errno) or typename(errno)))
  end
  if type(msg) ~= "string" then argerror(3, "raise_new", "string expected, got " .. typename(msg)) end
  local cls = classes[clsname] or M[clsname] or M.OSError
  if errno ~= nil and (cls == M.OSError) then cls = errno_class[errno] or cls end
  if errno ~= nil then return new_instance(cls, errno, msg) end
  if msg == "" then return new_instance(cls) end
  return new_instance(cls, msg)
end

-- How an uncaught error is shown: "ConnectionRefusedError: [Errno 111] ...".
-- The second result says whether a traceback follows the text: lua.c's
-- msghandler prints a string or number with one, an object whose __tostring
-- gives a string as that string alone, anything else as "(error object is
-- a table value)" with one. moonsock's error objects are traced, as Python's.
function M.describe(err)
  local mt = getmetatable(err)
  if type(err) == "table" and type(mt) == "table" and classes[mt.__name] == mt then
    local text = tostring(err)
    return text == "" and mt.__name or mt.__name .. ": " .. text, true
  end
  if type(err) == "string" or type(err) == "number" then return tostring(err), true end
  local realmt = debug.getmetatable(err)
  local ts = type(realmt) == "table" and rawget(realmt, "__tostring")
  if ts then
    local ok, s = pcall(ts, err)
    if ok and type(s) == "string" then return s, false end
  end
  return "(error object is a " .. type(err) .. " value)", true
end

return M
