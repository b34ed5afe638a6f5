-- LuaSocket's stream objects, tcp{master|client|server} and
-- unixstream{master|client|server}, over moonsock's Python sockets: every
-- wait parks only the task, and every result is LuaSocket's (errors
-- returned as its texts, numbers as floats where its C pushes numbers).
local psocket = require("moonsock.luasocket.python").get()
local core = require "moonsock.luasocket.core"

local check, argerror, typename = core.check, core.argerror, core.typename
local results = core.results
local find, sub, gsub, concat = string.find, string.sub, string.gsub, table.concat
local AF_INET, AF_INET6, AF_UNIX = psocket.AF_INET, psocket.AF_INET6, psocket.AF_UNIX
local SOCK_STREAM = psocket.SOCK_STREAM

-- What one recv asks the kernel for: LuaSocket's buffer size.
local CHUNK = 8192

local M = {}
local methods = {}
-- (LuaSec's connections, lua/moonsock/luasec.lua, borrow them.)
M.methods = methods

-- ---- creation ----

local function newpy(family) return core.newpy(family, SOCK_STREAM) end

local classes = {} -- kind -> {master=, client=, server=}

local function new(kind, state, family, py)
  return core.newobject(kind, family, py, classes[kind][state])
end

local function setclass(o, state)
  setmetatable(o, classes[o._kind][state])
end

-- socket.tcp(), tcp4(), tcp6(): a master object; tcp() makes its fd when
-- bind or connect knows the family.
function M.tcp(family) return core.open("tcp", family, SOCK_STREAM, classes.tcp.master) end

function M.unix() return core.open("unix", AF_UNIX, SOCK_STREAM, classes.unix.master) end

-- A Python socket taken over by a LuaSocket object of the class its state
-- calls for (listening: server; connected: client; else master).
function M.adopt(py)
  local kind = py.family == AF_UNIX and "unix" or "tcp"
  local state = "master"
  local listening = py:getsockopt(psocket.SOL_SOCKET, psocket.SO_ACCEPTCONN) ~= 0
  if listening then
    state = "server"
  elseif pcall(py.getpeername, py) then
    state = "client"
  end
  return new(kind, state, py.family, py)
end

-- ---- addresses ----

local check_string = core.checkstring

-- getaddrinfo as LuaSocket calls it: the list, or nil and its text.
local function resolve(host, port, family, flags)
  if host == "*" then host = nil end
  local ok, infos = pcall(psocket.getaddrinfo, host, port, family or 0, SOCK_STREAM, 0, flags or 0)
  if not ok then return nil, core.strerror(infos) end
  return infos
end
M.resolve = resolve

local function sockaddr_of(kind, info)
  if kind == "unix" then return info end
  return info[5]
end

-- inet_trybind: every address until one binds, making the fd for the
-- family it needs.
local function trybind(o, address, port)
  if o._kind == "unix" then
    local ok, err = pcall(o._py.bind, o._py, address)
    if ok then return true end
    return nil, core.strerror(err)
  end
  local infos, err = resolve(address, port, o._family, psocket.AI_PASSIVE)
  if not infos then return nil, err end
  err = "no info on address"
  for _, info in ipairs(infos) do
    if o._family ~= info[1] or not o._py then
      if o._py then o._py:close() end
      o._py, o._pytimeout = newpy(info[1]), false
      if o._py then o._family = info[1] end
    end
    if o._py then
      local ok, e = pcall(o._py.bind, o._py, sockaddr_of(o._kind, info))
      if ok then return true end
      err = core.strerror(e)
    end
  end
  return nil, err
end

-- inet_tryconnect: every address in turn; a timeout of 0 stops at the
-- first ("timeout": the connection goes on in the background).
local function tryconnect(o, address, port)
  if o._kind == "unix" then
    core.markstart(o)
    local _, err = core.io(o, "connect", address)
    return err == nil or nil, err
  end
  local infos, err = resolve(address, port, o._family)
  if not infos then return nil, err end
  for _, info in ipairs(infos) do
    core.markstart(o)
    if o._family ~= info[1] or not o._py then
      if o._py then o._py:close() end
      local py, cerr = newpy(info[1])
      o._py, o._pytimeout = py, false
      if py then o._family = info[1] end
      err = cerr
    end
    if o._py then
      local _, e = core.io(o, "connect", info[5])
      err = e
      if not e or o._block == 0 then return err == nil or nil, err end
    end
  end
  return nil, err
end
M.tryconnect = tryconnect

-- ---- methods ----

local function group(o, what)
  local kind = type(o) == "table" and rawget(o, "_kind")
  return check(o, (kind == "unix" and "unixstream" or "tcp") .. "{" .. what .. "}", 1)
end
local function any(o) return group(o, "any") end

function methods:bind(address, port)
  group(self, "master")
  if self._kind == "unix" then
    address = check_string(address, 2)
    if #address > 107 then argerror(2, "path too long") end
  else
    address = check_string(address, 2)
    if port == nil then port = "0" else port = check_string(port, 3) end
  end
  local ok, err = trybind(self, address, port)
  if not ok then return nil, err end
  return 1.0
end

function methods:connect(address, port)
  group(self, "any")
  address = check_string(address, 2)
  if self._kind == "unix" then
    if #address > 107 then argerror(2, "path too long") end
  else
    port = check_string(port, 3)
  end
  local ok, err = tryconnect(self, address, port)
  -- LuaSocket sets the class even when a non-blocking connect is pending
  setclass(self, "client")
  if not ok then return nil, err end
  return 1.0
end

function methods:listen(backlog)
  group(self, "master")
  if backlog ~= nil and type(backlog) ~= "number" then
    backlog = tonumber(backlog) or argerror(2, "number expected, got " .. typename(backlog))
  end
  local py = self._py
  if not py then
    py = newpy(self._family or AF_INET)
    self._py, self._family = py, self._family or AF_INET
  end
  local ok, err = pcall(py.listen, py, math.floor(backlog or 32))
  if not ok then return nil, core.strerror(err) end
  setclass(self, "server")
  return 1.0
end

function methods:accept()
  group(self, "server")
  core.markstart(self)
  local conn, err = core.io(self, "accept")
  if not conn then return nil, err end
  return new(self._kind, "client", self._family, conn)
end

-- Reads into the buffer: the new bytes, or nil and the error.
local function fill(o)
  local data, err = core.io(o, "recv", CHUNK)
  if not data then return nil, err end
  if data == "" then return nil, "closed" end
  o._received = o._received + #data
  return data
end

local function recv_line(o, parts)
  local got = {}
  while true do
    local buf = o._buf
    if buf == "" then
      local data, err = fill(o)
      if not data then return err, gsub(concat(got), "\r", "") end
      buf = data
    end
    local nl = find(buf, "\n", 1, true)
    if nl then
      got[#got + 1] = sub(buf, 1, nl - 1)
      o._buf = sub(buf, nl + 1)
      parts[#parts + 1] = gsub(concat(got), "\r", "")
      return nil
    end
    got[#got + 1] = buf
    o._buf = ""
  end
end

local function recv_all(o, parts)
  local total = 0
  while true do
    local buf = o._buf
    if buf ~= "" then
      parts[#parts + 1] = buf
      total = total + #buf
      o._buf = ""
    end
    local data, err = fill(o)
    if not data then
      if err == "closed" and total > 0 then return nil end
      return err
    end
    o._buf = data
  end
end

local function recv_count(o, parts, wanted)
  while wanted > 0 do
    local buf = o._buf
    if buf == "" then
      local data, err = fill(o)
      if not data then return err end
      buf = data
    end
    if #buf >= wanted then
      parts[#parts + 1] = sub(buf, 1, wanted)
      o._buf = sub(buf, wanted + 1)
      return nil
    end
    parts[#parts + 1] = buf
    wanted = wanted - #buf
    o._buf = ""
  end
  return nil
end

-- receive([pattern[, prefix]]): the data, nil, nil; or nil, err, partial.
function methods:receive(pattern, prefix)
  group(self, "client")
  if prefix ~= nil then prefix = check_string(prefix, 3) end
  local parts = {prefix}
  local err, partial
  core.markstart(self)
  local count = type(pattern) == "number" and pattern or
    (type(pattern) == "string" and tonumber(pattern))
  if count then
    if count < 0 then argerror(2, "invalid receive pattern") end
    local size = prefix and #prefix or 0
    count = math.floor(count)
    if size == 0 or count > size then err = recv_count(self, parts, count - size) end
  else
    if pattern == nil then pattern = "*l" end
    if type(pattern) ~= "string" then argerror(2, "string expected, got " .. typename(pattern)) end
    local p = sub(pattern, 1, 1) == "*" and sub(pattern, 2, 2)
    if p == "l" then
      err, partial = recv_line(self, parts)
      if partial then parts[#parts + 1] = partial end
    elseif p == "a" then
      err = recv_all(self, parts)
    else
      argerror(2, "invalid receive pattern")
    end
  end
  if err then return nil, err, concat(parts) end
  return concat(parts), nil, nil
end

-- send(data[, i[, j]]): the index of the last byte sent, nil, nil; or nil,
-- err, that index.
function methods:send(data, i, j)
  group(self, "client")
  data = check_string(data, 2)
  local size = #data
  if i ~= nil and type(i) ~= "number" then i = tonumber(i) or argerror(3, "number expected, got " .. typename(i)) end
  if j ~= nil and type(j) ~= "number" then j = tonumber(j) or argerror(4, "number expected, got " .. typename(j)) end
  local start, stop = math.floor(i or 1), math.floor(j or -1)
  if start < 0 then start = size + start + 1 end
  if stop < 0 then stop = size + stop + 1 end
  if start < 1 then start = 1 end
  if stop > size then stop = size end
  core.markstart(self)
  local sent, err = 0, nil
  if start <= stop then
    local chunk = (start == 1 and stop == size) and data or sub(data, start, stop)
    local total = #chunk
    while sent < total do
      local piece = sent == 0 and chunk or sub(chunk, sent + 1)
      local n, e = core.io(self, "send", piece)
      if not n then
        err = e
        break
      end
      sent = sent + n
      self._sent = self._sent + n
    end
  end
  if err then return nil, err, (sent + start - 1) + 0.0 end
  return (sent + start - 1) + 0.0, nil, nil
end

function methods:close()
  any(self)
  return core.close(self)
end

local SHUTDOWN = {receive = psocket.SHUT_RD, send = psocket.SHUT_WR, both = psocket.SHUT_RDWR}
function methods:shutdown(how)
  group(self, "client")
  if how == nil then how = "both" end
  local v = type(how) == "string" and SHUTDOWN[how]
  if not v then argerror(2, "invalid option '" .. tostring(how) .. "'") end
  if self._py then pcall(self._py.shutdown, self._py, v) end
  return 1.0
end

function methods:getsockname()
  any(self)
  return results(core.name(self, "getsockname", true))
end

function methods:getpeername()
  group(self, "client")
  return results(core.name(self, "getpeername", false))
end

function methods:settimeout(t, mode)
  any(self)
  return results(core.settimeout(self, t, mode))
end

function methods:gettimeout()
  any(self)
  return results(core.gettimeout(self))
end

function methods:getfd()
  any(self)
  return core.getfd(self)
end

function methods:setfd(fd)
  any(self)
  core.setfd(self, fd)
end

function methods:dirty()
  any(self)
  return self._buf ~= ""
end

function methods:getfamily()
  any(self)
  return self._family == AF_INET6 and "inet6" or "inet4"
end

function methods:getstats()
  group(self, "client")
  return results(core.getstats(self))
end

function methods:setstats(received, sent, age)
  group(self, "client")
  return results(core.setstats(self, received, sent, age))
end

local TCP_SET = {keepalive = true, reuseaddr = true, reuseport = true, ["tcp-nodelay"] = true,
  ["tcp-keepidle"] = true, ["tcp-keepcnt"] = true, ["tcp-keepintvl"] = true, ["ipv6-v6only"] = true,
  linger = true, ["recv-buffer-size"] = true, ["send-buffer-size"] = true,
  ["tcp-defer-accept"] = true, ["tcp-fastopen"] = true, ["tcp-fastopen-connect"] = true}
local TCP_GET = {keepalive = true, reuseaddr = true, reuseport = true, ["tcp-nodelay"] = true,
  ["tcp-keepidle"] = true, ["tcp-keepcnt"] = true, ["tcp-keepintvl"] = true, linger = true,
  error = true, ["recv-buffer-size"] = true, ["send-buffer-size"] = true}
local UNIX_OPTS = {keepalive = true, reuseaddr = true, linger = true,
  ["recv-buffer-size"] = true, ["send-buffer-size"] = true}

function methods:setoption(name, value)
  any(self)
  return results(core.setoption(self, self._kind == "unix" and UNIX_OPTS or TCP_SET, name, value))
end

function methods:getoption(name)
  any(self)
  return results(core.getoption(self, self._kind == "unix" and UNIX_OPTS or TCP_GET, name))
end

-- ---- classes ----

local TCP_METHODS = {"accept", "bind", "close", "connect", "dirty", "getfamily", "getfd", "getoption",
  "getpeername", "getsockname", "getstats", "gettimeout", "listen", "receive", "send", "setfd",
  "setoption", "setpeername", "setsockname", "setstats", "settimeout", "shutdown"}
local UNIX_METHODS = {"accept", "bind", "close", "connect", "dirty", "getfd", "getsockname",
  "getstats", "listen", "receive", "send", "setfd", "setoption", "setpeername", "setsockname",
  "setstats", "settimeout", "shutdown"}
methods.setpeername = methods.connect
methods.setsockname = methods.bind

local function pick(names)
  local t = {}
  for _, n in ipairs(names) do t[n] = methods[n] end
  return t
end

for kind, spec in pairs {tcp = {prefix = "tcp", names = TCP_METHODS},
                         unix = {prefix = "unixstream", names = UNIX_METHODS}} do
  local ms = pick(spec.names)
  local any_group = spec.prefix .. "{any}"
  classes[kind] = {}
  for _, state in ipairs {"master", "client", "server"} do
    local groups = {any_group, spec.prefix .. "{" .. state .. "}"}
    if state ~= "master" then groups[#groups + 1] = "select{able}" end
    local mt = core.newclass(spec.prefix .. "{" .. state .. "}", ms, groups)
    mt.__gc = core.close
    classes[kind][state] = mt
  end
end

return M
