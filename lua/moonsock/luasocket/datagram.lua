-- LuaSocket's datagram objects, udp{unconnected|connected} and
-- unixdgram{unconnected|connected}, over moonsock's Python sockets.
local psocket = require("moonsock.luasocket.python").get()
local core = require "moonsock.luasocket.core"

local check, argerror, typename = core.check, core.argerror, core.typename
local results = core.results
local AF_INET6, AF_UNIX = psocket.AF_INET6, psocket.AF_UNIX
local SOCK_DGRAM = psocket.SOCK_DGRAM

-- LuaSocket's UDP_DATAGRAMSIZE: the default size receive asks for.
local DATAGRAMSIZE = 8192
local M = {DATAGRAMSIZE = DATAGRAMSIZE}
local methods = {}
local classes = {}

local function newpy(family) return core.newpy(family, SOCK_DGRAM) end

local function new(kind, state, family, py)
  return core.newobject(kind, family, py, classes[kind][state])
end

function M.udp(family) return core.open("udp", family, SOCK_DGRAM, classes.udp.unconnected) end

function M.unix() return core.open("unix", AF_UNIX, SOCK_DGRAM, classes.unix.unconnected) end

function M.adopt(py)
  local kind = py.family == AF_UNIX and "unix" or "udp"
  local state = pcall(py.getpeername, py) and "connected" or "unconnected"
  return new(kind, state, py.family, py)
end

local function group(o, what)
  local kind = type(o) == "table" and rawget(o, "_kind")
  return check(o, (kind == "unix" and "unixdgram" or "udp") .. "{" .. what .. "}", 1)
end

local check_string = core.checkstring

-- The socket address for host and port, making the fd for its family if
-- the object has none yet; or nil and the error text.
local function address(o, host, port, flags)
  if o._kind == "unix" then return host end
  if host == "*" then host = nil end
  local ok, infos = pcall(psocket.getaddrinfo, host, port, o._family or 0, SOCK_DGRAM, 0, flags or 0)
  if not ok then return nil, core.strerror(infos) end
  local info = infos[1]
  if not info then return nil, "no info on address" end
  -- only udp() makes its fd here: a closed object stays closed
  if o._family == nil then
    local py, err = newpy(info[1])
    o._py, o._pytimeout = py, false
    if not py then return nil, err end
    o._family = info[1]
  end
  return info[5]
end

-- LuaSocket's udp_strerror: a datagram object that is closed (or got an
-- ICMP refusal as EOF) says "refused".
local function refused(err)
  if err == "closed" then return "refused" end
  return err
end

function methods:send(data)
  group(self, "connected")
  data = check_string(data, 2)
  core.markstart(self)
  local n, err = core.io(self, "send", data)
  if not n then return nil, refused(err) end
  self._sent = self._sent + n
  return n + 0.0
end

function methods:sendto(data, ip, port)
  group(self, "unconnected")
  data = check_string(data, 2)
  ip = check_string(ip, 3)
  if self._kind ~= "unix" then port = check_string(port, 4) end
  local sa, err = address(self, ip, port, psocket.AI_NUMERICHOST)
  if not sa then return nil, err end
  core.markstart(self)
  local n, e = core.io(self, "sendto", data, sa)
  if not n then return nil, refused(e) end
  self._sent = self._sent + n
  return n + 0.0
end

local function checksize(size)
  if size == nil then return DATAGRAMSIZE end
  if type(size) ~= "number" then size = tonumber(size) or argerror(2, "number expected, got " .. typename(size)) end
  size = math.floor(size)
  if size < 0 then argerror(2, "invalid receive size") end
  return size
end

-- The checks and the start of receive and receivefrom (of the object
-- group grp): the size to read, or nil for a closed object, which reads an
-- empty datagram, as LuaSocket's does.
local function start_receive(self, grp, size)
  group(self, grp)
  size = checksize(size)
  core.markstart(self)
  if not self._py then return nil end
  return size
end

function methods:receive(size)
  size = start_receive(self, "any", size)
  if not size then return "" end
  local data, err = core.io(self, "recv", size)
  if not data then return nil, refused(err) end
  self._received = self._received + #data
  return data
end

function methods:receivefrom(size)
  size = start_receive(self, "unconnected", size)
  if not size then return "" end
  local data, err, addr = core.io(self, "recvfrom", size)
  if not data then return nil, refused(err) end
  self._received = self._received + #data
  if self._kind == "unix" then return data, addr end
  return data, addr[1], addr[2]
end

-- setpeername("*") forgets the peer: Python has no connect(AF_UNSPEC), so
-- the object takes a fresh fd bound where the old one was.
local function disconnect(o)
  local py = o._py
  if not py then return true end
  local ok, local_addr = pcall(py.getsockname, py)
  local fresh, err = newpy(o._family)
  if not fresh then return nil, err end
  if ok and o._kind ~= "unix" then pcall(fresh.bind, fresh, local_addr) end
  py:close()
  o._py, o._pytimeout = fresh, false
  return true
end

function methods:setpeername(host, port)
  group(self, "any")
  host = check_string(host, 2)
  if host == "*" and self._kind ~= "unix" then
    local ok, err = disconnect(self)
    if not ok then return nil, err end
    setmetatable(self, classes[self._kind].unconnected)
    return 1.0
  end
  if self._kind ~= "unix" then port = check_string(port, 3) end
  local sa, err = address(self, host, port)
  if not sa then return nil, err end
  core.markstart(self)
  local _, e = core.io(self, "connect", sa)
  if e then return nil, e end
  setmetatable(self, classes[self._kind].connected)
  return 1.0
end

function methods:setsockname(host, port)
  group(self, "unconnected")
  host = check_string(host, 2)
  if self._kind ~= "unix" then port = check_string(port or "0", 3) end
  local sa, err = address(self, host, port, psocket.AI_PASSIVE)
  if not sa then return nil, err end
  local ok, e = pcall(self._py.bind, self._py, sa)
  if not ok then return nil, core.strerror(e) end
  return 1.0
end

function methods:getsockname()
  group(self, "any")
  return results(core.name(self, "getsockname", true))
end

function methods:getpeername()
  group(self, "connected")
  return results(core.name(self, "getpeername", false))
end

function methods:close()
  group(self, "any")
  return core.close(self)
end

function methods:settimeout(t, mode)
  group(self, "any")
  return results(core.settimeout(self, t, mode))
end

function methods:gettimeout()
  group(self, "any")
  return results(core.gettimeout(self))
end

function methods:getfd()
  group(self, "any")
  return core.getfd(self)
end

function methods:setfd(fd)
  group(self, "any")
  core.setfd(self, fd)
end

function methods:dirty()
  group(self, "any")
  return false
end

function methods:getfamily()
  group(self, "any")
  return self._family == AF_INET6 and "inet6" or "inet4"
end

local UDP_SET = {dontroute = true, broadcast = true, reuseaddr = true, reuseport = true,
  ["ip-multicast-if"] = true, ["ip-multicast-ttl"] = true, ["ip-multicast-loop"] = true,
  ["ip-add-membership"] = true, ["ip-drop-membership"] = true, ["ipv6-unicast-hops"] = true,
  ["ipv6-multicast-hops"] = true, ["ipv6-multicast-loop"] = true, ["ipv6-add-membership"] = true,
  ["ipv6-drop-membership"] = true, ["ipv6-v6only"] = true, ["recv-buffer-size"] = true,
  ["send-buffer-size"] = true}
local UDP_GET = {dontroute = true, broadcast = true, reuseaddr = true, reuseport = true,
  ["ip-multicast-if"] = true, ["ip-multicast-loop"] = true, error = true,
  ["ipv6-unicast-hops"] = true, ["ipv6-multicast-hops"] = true, ["ipv6-multicast-loop"] = true,
  ["ipv6-v6only"] = true, ["recv-buffer-size"] = true, ["send-buffer-size"] = true}
local UNIX_OPTS = {reuseaddr = true, ["recv-buffer-size"] = true, ["send-buffer-size"] = true}

function methods:setoption(name, value)
  group(self, "any")
  return results(core.setoption(self, self._kind == "unix" and UNIX_OPTS or UDP_SET, name, value))
end

function methods:getoption(name)
  group(self, "any")
  return results(core.getoption(self, self._kind == "unix" and UNIX_OPTS or UDP_GET, name))
end

local UDP_METHODS = {"close", "dirty", "getfamily", "getfd", "getoption", "getpeername", "getsockname",
  "gettimeout", "receive", "receivefrom", "send", "sendto", "setfd", "setoption", "setpeername",
  "setsockname", "settimeout"}
local UNIX_METHODS = {"close", "dirty", "getfd", "getsockname", "gettimeout", "receive",
  "receivefrom", "send", "sendto", "setfd", "setoption", "setpeername", "setsockname", "settimeout"}
methods.bind = methods.setsockname
methods.connect = methods.setpeername

for kind, spec in pairs {udp = {prefix = "udp", names = UDP_METHODS},
                         unix = {prefix = "unixdgram", names = UNIX_METHODS}} do
  local ms = {}
  for _, n in ipairs(spec.names) do ms[n] = methods[n] end
  if kind == "unix" then ms.bind, ms.connect = methods.bind, methods.connect end
  classes[kind] = {}
  for _, state in ipairs {"unconnected", "connected"} do
    local mt = core.newclass(spec.prefix .. "{" .. state .. "}", ms,
      {spec.prefix .. "{any}", spec.prefix .. "{" .. state .. "}", "select{able}"})
    mt.__gc = core.close
    classes[kind][state] = mt
  end
end

return M
