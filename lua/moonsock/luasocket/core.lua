-- What LuaSocket's objects share (tcp.lua, udp.lua, unix): classes that an
-- object changes in place, LuaSocket's error texts for moonsock's error
-- objects, its timeouts ("b"lock and "t"otal) mapped onto the per-call
-- timeout of the Python socket underneath, and its option names.
local psocket = require("moonsock.luasocket.python").get()
local errors = require "moonsock.errors"
local helpers = require "moonsock.core.luasocket"
local E = require "errno"

local M = {}

M.gettime = helpers.gettime
local typename = errors.typename

-- (The methods call the helpers of this file without a tail call, so that
-- their frame, and the name the user called them by, stays on the stack:
-- `return core.results(core.f(self))` returns all that f returned, f
-- having run under the method.)
function M.results(...) return ... end

-- luaL_argerror's text for the LuaSocket function or method the user
-- called: the outermost frame of these modules is the one the user's code
-- called, named as that call names it (with ':' its self is "bad self");
-- moonsock.errors.argerror blames the user's line.
local function ours(source)
  return source:find("moonsock/luasocket", 1, true) ~= nil
end

-- A function called without a name (through pcall) is named, as
-- luaL_argerror names it, by where a loaded module holds it: "socket.select".
local function loaded_name(f)
  local best
  for modname, mod in pairs(package.loaded) do
    if type(mod) == "table" and not ours(modname:gsub("%.", "/")) and (not best or #modname < #best[1]) then
      for k, v in pairs(mod) do
        if v == f and type(k) == "string" then
          best = {modname, k}
          break
        end
      end
    end
  end
  if not best then return nil end
  if best[1] == "_G" then return best[2] end
  return best[1] .. "." .. best[2]
end

local function argerror(n, msg)
  local level, entry = 2, 2
  while true do
    local info = debug.getinfo(level + 1, "S")
    if not info or not ours(info.source) then break end
    level = level + 1
    entry = level
  end
  local info = debug.getinfo(entry, "nf")
  local name = info and info.name
  if info and info.namewhat == "method" then
    n = n - 1
    if n == 0 then error(string.format("calling '%s' on bad self (%s)", name, msg), entry + 1) end
  end
  name = name or (info and loaded_name(info.func)) or "?"
  errors.argerror(n, name, msg)
end
M.argerror = argerror

-- Classes: one metatable per class name ("tcp{client}"), whose __index
-- holds every method of the kind and the class's name; an object changes
-- class by changing metatable, as LuaSocket's auxiliar_setclass does.
local class_of = setmetatable({}, {__mode = "k"}) -- metatable -> {name=, groups=}

function M.newclass(name, methods, groups)
  local index = {class = name}
  for k, v in pairs(methods) do index[k] = v end
  local mt = {__index = index, __name = name}
  mt.__tostring = function(o)
    return string.format("%s: %s", name, o._id)
  end
  for _, g in ipairs(groups) do mt[g] = true end
  class_of[mt] = {name = name}
  return mt
end

function M.isobject(v)
  local mt = getmetatable(v)
  return type(v) == "table" and class_of[mt] ~= nil
end

-- check(o, group, n): the object, or the argument error LuaSocket gives
-- ("tcp{client} expected, got tcp{master}").
function M.check(o, group, n)
  local mt = getmetatable(o)
  if type(o) ~= "table" or not class_of[mt] or not mt[group] then
    argerror(n or 1, group .. " expected")
  end
  return o
end

-- What tostring shows after the class, as LuaSocket shows its userdata's
-- address: "tcp{client}: 0x55d0c1a2b3c8".
function M.setid(o)
  o._id = string.format("%p", o)
  return o
end

-- LuaSocket's socket_strerror and io_strerror for moonsock's errors.
local by_errno = {
  [E.EADDRINUSE] = "address already in use", [E.EISCONN] = "already connected",
  [E.EACCES] = "permission denied", [E.ECONNREFUSED] = "connection refused",
  [E.ECONNABORTED] = "closed", [E.ECONNRESET] = "closed",
  [E.ETIMEDOUT] = "timeout",
}
-- What an I/O call (receive, send, accept, connect) says besides: a socket
-- that another task closed under it, a pipe the peer closed, a wait that
-- found nothing ready at timeout 0.
local by_errno_io = {
  [E.EBADF] = "closed", [E.EPIPE] = "closed", [E.EAGAIN] = "timeout",
  [E.EINPROGRESS] = "timeout",
}
-- getaddrinfo's errors, by LuaSocket's socket_gaistrerror.
local by_gai = {
  [psocket.EAI_AGAIN or -3] = "temporary failure in name resolution",
  [psocket.EAI_BADFLAGS or -1] = "invalid value for ai_flags",
  [psocket.EAI_FAIL or -4] = "non-recoverable failure in name resolution",
  [psocket.EAI_FAMILY or -6] = "ai_family not supported",
  [psocket.EAI_MEMORY or -10] = "memory allocation failure",
  [psocket.EAI_NONAME or -2] = "host or service not provided, or not known",
  [psocket.EAI_SERVICE or -8] = "service not supported for socket type",
  [psocket.EAI_SOCKTYPE or -7] = "ai_socktype not supported",
}

-- The text of an error raised by the Python socket underneath; anything
-- that is not an OSError (a bug, an argument error) goes on being raised.
-- An SSLError (an OSError from lua/ssl.lua) reads as LuaSec's: "wantread"
-- or "wantwrite" for a TLS wait, "closed" for the end, else OpenSSL's reason.
local SSL_TEXT = {[2] = "wantread", [3] = "wantwrite", [5] = "closed", [6] = "closed", [8] = "closed"}
local function ssl_text(err)
  local reason = err.reason
  if type(reason) == "string" then return (reason:lower():gsub("_", " ")) end
  return SSL_TEXT[err.errno] or tostring(err.strerror or err)
end

function M.strerror(err, io)
  if errors.TimeoutError:matches(err) then return "timeout" end
  if errors.SSLError and errors.SSLError:matches(err) then return ssl_text(err) end
  if io and errors.OSError:matches(err) and by_errno_io[err.errno] then return by_errno_io[err.errno] end
  if errors.gaierror:matches(err) then
    return by_gai[err.errno] or tostring(err.strerror)
  end
  if errors.OSError:matches(err) then
    return by_errno[err.errno] or tostring(err.strerror or err)
  end
  error(err, 0)
end

-- Timeouts: settimeout(t[, mode]) keeps block and total; each call marks
-- its start, and each wait inside it may last what timeout_get allows.
function M.settimeout(o, t, mode)
  if t ~= nil and type(t) ~= "number" then
    t = tonumber(t) or argerror(2, "number expected, got " .. typename(t))
  end
  t = t or -1
  if mode ~= nil and type(mode) ~= "string" and type(mode) ~= "number" then
    argerror(3, "string expected, got " .. typename(mode))
  end
  mode = mode and tostring(mode) or "b"
  local c = mode:sub(1, 1)
  if c == "b" then
    o._block = t
  elseif c == "r" or c == "t" then
    o._total = t
  else
    argerror(3, "invalid timeout mode")
  end
  return 1.0
end

function M.gettimeout(o)
  return o._block + 0.0, o._total + 0.0
end

function M.markstart(o)
  if o._total >= 0 then o._start = helpers.monotime() end
end

-- The Python socket's timeout for the next wait: nil (none), 0 (never wait)
-- or a number of seconds.
function M.wait_for(o)
  local block, total = o._block, o._total
  if block < 0 and total < 0 then return nil end
  if total < 0 then return block end
  local left = total - (helpers.monotime() - o._start)
  if left < 0 then left = 0 end
  if block < 0 or left < block then return left end
  return block
end

-- Runs py[method](py, ...) under the timeout the call allows: the result,
-- or nil and LuaSocket's error text.
function M.io(o, method, ...)
  local py = o._py
  if not py then return nil, "closed" end
  local t = M.wait_for(o)
  if t ~= o._pytimeout then
    py:settimeout(t)
    o._pytimeout = t
  end
  local ok, a, b = pcall(py[method], py, ...)
  if ok then return a, nil, b end
  return nil, M.strerror(a, true)
end

-- Options: LuaSocket's names over setsockopt levels and names.
local S = psocket
local function bool_opt(level, name) return {level = level, name = name, kind = "boolean"} end
local function int_opt(level, name) return {level = level, name = name, kind = "integer"} end
M.OPTIONS = {
  keepalive = bool_opt(S.SOL_SOCKET, S.SO_KEEPALIVE),
  reuseaddr = bool_opt(S.SOL_SOCKET, S.SO_REUSEADDR),
  reuseport = bool_opt(S.SOL_SOCKET, S.SO_REUSEPORT),
  broadcast = bool_opt(S.SOL_SOCKET, S.SO_BROADCAST),
  dontroute = bool_opt(S.SOL_SOCKET, S.SO_DONTROUTE),
  ["tcp-nodelay"] = bool_opt(S.IPPROTO_TCP, S.TCP_NODELAY),
  ["tcp-keepidle"] = int_opt(S.IPPROTO_TCP, S.TCP_KEEPIDLE),
  ["tcp-keepcnt"] = int_opt(S.IPPROTO_TCP, S.TCP_KEEPCNT),
  ["tcp-keepintvl"] = int_opt(S.IPPROTO_TCP, S.TCP_KEEPINTVL),
  ["tcp-defer-accept"] = int_opt(S.IPPROTO_TCP, S.TCP_DEFER_ACCEPT),
  ["tcp-fastopen"] = int_opt(S.IPPROTO_TCP, S.TCP_FASTOPEN),
  ["tcp-fastopen-connect"] = int_opt(S.IPPROTO_TCP, S.TCP_FASTOPEN_CONNECT or 30),
  ["ipv6-v6only"] = bool_opt(S.IPPROTO_IPV6, S.IPV6_V6ONLY),
  ["recv-buffer-size"] = int_opt(S.SOL_SOCKET, S.SO_RCVBUF),
  ["send-buffer-size"] = int_opt(S.SOL_SOCKET, S.SO_SNDBUF),
  ["error"] = {level = S.SOL_SOCKET, name = S.SO_ERROR, kind = "error"},
  linger = {level = S.SOL_SOCKET, name = S.SO_LINGER, kind = "linger"},
  ["ip-multicast-ttl"] = int_opt(S.IPPROTO_IP, S.IP_MULTICAST_TTL),
  ["ip-multicast-loop"] = bool_opt(S.IPPROTO_IP, S.IP_MULTICAST_LOOP),
  ["ip-multicast-if"] = {level = S.IPPROTO_IP, name = S.IP_MULTICAST_IF, kind = "inaddr"},
  ["ip-add-membership"] = {level = S.IPPROTO_IP, name = S.IP_ADD_MEMBERSHIP, kind = "mreq"},
  ["ip-drop-membership"] = {level = S.IPPROTO_IP, name = S.IP_DROP_MEMBERSHIP, kind = "mreq"},
  ["ipv6-unicast-hops"] = int_opt(S.IPPROTO_IPV6, S.IPV6_UNICAST_HOPS),
  ["ipv6-multicast-hops"] = int_opt(S.IPPROTO_IPV6, S.IPV6_MULTICAST_HOPS),
  ["ipv6-multicast-loop"] = bool_opt(S.IPPROTO_IPV6, S.IPV6_MULTICAST_LOOP),
  ["ipv6-add-membership"] = {level = S.IPPROTO_IPV6, name = S.IPV6_JOIN_GROUP, kind = "mreq6"},
  ["ipv6-drop-membership"] = {level = S.IPPROTO_IPV6, name = S.IPV6_LEAVE_GROUP, kind = "mreq6"},
}

local function set_value(opt, v)
  local kind = opt.kind
  if kind == "boolean" then
    if type(v) ~= "boolean" then argerror(3, "boolean expected, got " .. typename(v)) end
    return v and 1 or 0
  elseif kind == "integer" then
    if type(v) ~= "number" then argerror(3, "number expected, got " .. typename(v)) end
    return math.tointeger(v) or math.floor(v)
  elseif kind == "linger" then
    if type(v) ~= "table" then argerror(3, "table expected, got " .. typename(v)) end
    if type(v.on) ~= "boolean" then argerror(3, "boolean 'on' field expected") end
    if type(v.timeout) ~= "number" then argerror(3, "number 'timeout' field expected") end
    return string.pack("=i4i4", v.on and 1 or 0, math.floor(v.timeout))
  elseif kind == "inaddr" then
    if type(v) ~= "string" then argerror(3, "string expected, got " .. typename(v)) end
    if v == "*" then v = "0.0.0.0" end
    local ok, packed = pcall(psocket.inet_aton, v)
    if not ok then argerror(3, "ip expected") end
    return packed
  elseif kind == "mreq" then
    if type(v) ~= "table" then argerror(3, "table expected, got " .. typename(v)) end
    local iface = v.interface == "*" and "0.0.0.0" or v.interface
    local ok1, group = pcall(psocket.inet_aton, tostring(v.multiaddr))
    local ok2, local_ = pcall(psocket.inet_aton, tostring(iface))
    if not ok1 then argerror(3, "invalid 'multiaddr' ip address") end
    if not ok2 then argerror(3, "invalid 'interface' ip address") end
    return group .. local_
  elseif kind == "mreq6" then
    if type(v) ~= "table" then argerror(3, "table expected, got " .. typename(v)) end
    local ok, group = pcall(psocket.inet_pton, psocket.AF_INET6, tostring(v.multiaddr))
    if not ok then argerror(3, "invalid 'multiaddr' ip address") end
    return group .. string.pack("=I4", math.tointeger(tonumber(v.interface) or 0) or 0)
  end
  argerror(2, "unsupported option")
end

-- setoption(o, names, name, value): names lists what the kind accepts.
function M.setoption(o, names, name, value)
  if type(name) ~= "string" then argerror(2, "string expected, got " .. typename(name)) end
  local opt = names[name] and M.OPTIONS[name]
  if not opt or not opt.name or opt.kind == "error" then
    argerror(2, "unsupported option `" .. name .. "'")
  end
  local packed = set_value(opt, value)
  local py = o._py
  if not py then return nil, "setsockopt failed" end
  local ok, err = pcall(py.setsockopt, py, opt.level, opt.name, packed)
  if not ok then
    if not errors.OSError:matches(err) then error(err, 0) end
    return nil, M.strerror(err)
  end
  return 1.0
end

function M.getoption(o, names, name)
  if type(name) ~= "string" then argerror(2, "string expected, got " .. typename(name)) end
  local opt = names[name] and M.OPTIONS[name]
  if not opt or not opt.name then argerror(2, "unsupported option `" .. name .. "'") end
  local py = o._py
  if not py then return nil, "getsockopt failed" end
  local kind = opt.kind
  local ok, v
  if kind == "linger" then
    ok, v = pcall(py.getsockopt, py, opt.level, opt.name, 8)
    if ok then
      local on, t = string.unpack("=i4i4", v)
      return {on = on ~= 0, timeout = t}
    end
  elseif kind == "inaddr" then
    ok, v = pcall(py.getsockopt, py, opt.level, opt.name, 4)
    if ok then return psocket.inet_ntoa(v) end
  else
    ok, v = pcall(py.getsockopt, py, opt.level, opt.name)
    if ok then
      if kind == "boolean" then return v ~= 0 end
      if kind == "error" then
        if v == 0 then return nil end
        return M.strerror(errors.OSError(v, require("moonsock.posix").strerror(v)))
      end
      return v + 0.0
    end
  end
  if not errors.OSError:matches(v) then error(v, 0) end
  return nil, "getsockopt failed"
end

-- The family names LuaSocket prints and the Python families they stand for.
M.FAMILY_NAME = {[psocket.AF_INET] = "inet", [psocket.AF_INET6] = "inet6"}

-- The stats every stream and datagram object keeps.
function M.getstats(o)
  return o._received + 0.0, o._sent + 0.0, helpers.monotime() - o._birthday
end

-- received and sent as LuaSocket's luaL_optnumber takes them (a number or
-- a numeric string); age is only used if it is a number, as there.
function M.setstats(o, received, sent, age)
  if received ~= nil and tonumber(received) == nil then argerror(2, "number expected, got " .. typename(received)) end
  if sent ~= nil and tonumber(sent) == nil then argerror(3, "number expected, got " .. typename(sent)) end
  o._received = tonumber(received) or o._received
  o._sent = tonumber(sent) or o._sent
  if tonumber(age) then o._birthday = helpers.monotime() - tonumber(age) end
  return 1.0
end

-- Gives the fd up: closes nothing, watches nothing (setfd(-1), unwrap).
function M.release(o)
  local py = o._py
  o._py, o._pytimeout = nil, nil
  if py then return py:detach() end
  return -1
end

-- ---- what stream and datagram objects share ----

-- A Python socket of the family and type, IPv6 ones only IPv6 as
-- LuaSocket makes them; or nil and the error text.
function M.newpy(family, socktype)
  local ok, py = pcall(psocket.socket, family, socktype)
  if not ok then return nil, M.strerror(py) end
  if family == psocket.AF_INET6 then pcall(py.setsockopt, py, psocket.IPPROTO_IPV6, psocket.IPV6_V6ONLY, 1) end
  return py
end

-- A new object of class mt over py (nil: no fd yet).
function M.newobject(kind, family, py, mt)
  return M.setid(setmetatable({
    _kind = kind, _py = py, _family = family, _buf = "",
    _block = -1, _total = -1, _start = 0, _pytimeout = false,
    _received = 0, _sent = 0, _birthday = helpers.monotime(),
  }, mt))
end

-- The constructors (tcp, udp, unix): a new object of class mt with its fd
-- for family, or with none yet if family is nil (bind or connect makes it
-- when the address tells the family); nil and the error text if the fd
-- cannot be made.
function M.open(kind, family, socktype, mt)
  if family == nil then return M.newobject(kind, nil, nil, mt) end
  local py, err = M.newpy(family, socktype)
  if not py then return nil, err end
  return M.newobject(kind, family, py, mt)
end

-- luaL_checkstring: a string, or a number as its text.
function M.checkstring(v, n)
  local t = type(v)
  if t == "number" then return tostring(v) end
  if t ~= "string" then argerror(n, "string expected, got " .. typename(v)) end
  return v
end

function M.close(o)
  local py = rawget(o, "_py")
  o._py, o._pytimeout = nil, false
  if py then py:close() end
  return 1.0
end

function M.getfd(o)
  local py = o._py
  if not py then return -1.0 end
  return py:fileno() + 0.0
end

-- setfd(fd): the object now uses fd; setfd(-1) hands the fd to the caller,
-- after which moonsock neither watches nor closes it.
function M.setfd(o, fd)
  if type(fd) ~= "number" then fd = tonumber(fd) or argerror(2, "number expected, got " .. typename(fd)) end
  fd = math.floor(fd)
  M.release(o)
  if fd >= 0 then
    local ok, py = pcall(psocket.socket, nil, nil, nil, fd)
    if ok then o._py, o._family = py, py.family end
  end
end

-- getsockname/getpeername's results: ip, port (a string from getsockname,
-- an integer from getpeername, as LuaSocket's), family; a path for unix.
function M.name(o, method, port_as_string)
  local py = o._py
  if not py then return nil, "Bad file descriptor" end
  local ok, a = pcall(py[method], py)
  if not ok then return nil, M.strerror(a) end
  if o._kind == "unix" then return a end
  local host, port = a[1], a[2]
  if port_as_string then port = tostring(port) end
  return host, port, host:find(":", 1, true) and "inet6" or "inet"
end

M.monotime = helpers.monotime
M.typename = typename
return M
