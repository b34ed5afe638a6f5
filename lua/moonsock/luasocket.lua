-- LuaSocket's API on moonsock: install(socket) puts LuaSocket's module-level
-- names into the table of require "socket" beside Python's (none collide);
-- the objects they make are LuaSocket's own classes
-- (lua/moonsock/luasocket/stream.lua and datagram.lua), never Python
-- sockets, since the methods do collide.
--
-- from_python(sock) and to_python(obj) turn one kind of object into the
-- other, handing the fd over.
--
-- socket.lua calls install(socket) while it loads: the modules below are
-- loaded by install, once socket.lua's table is handed to them
-- (moonsock.luasocket.python), never by requiring "socket".
local python = require "moonsock.luasocket.python"
local task = require "task"

local core, stream, datagram, except
local argerror, typename
local M = {}

-- The modules, loaded the first time they are needed: by install, or
-- (socket.unix, from_python, to_python) by the first call, their own
-- python.get() then requiring "socket" if nothing installed yet.
-- All or none: a require that fails (out of memory) leaves them unset, so
-- the next call loads them again rather than finding some of them nil.
local function load()
  if core then return end
  local c = require "moonsock.luasocket.core"
  local s = require "moonsock.luasocket.stream"
  local d = require "moonsock.luasocket.datagram"
  local e = require "moonsock.luasocket.except"
  core, stream, datagram, except = c, s, d, e
  argerror, typename = core.argerror, core.typename
  M.DATAGRAMSIZE = datagram.DATAGRAMSIZE
end

-- LuaSocket's figures: its version text (the one Debian's 3.1 reports),
-- the chunk size of its sources, the size receive asks for on a datagram.
M.VERSION = "LuaSocket 3.0.0"
M.BLOCKSIZE = 2048

local function optstring(v, n, default)
  if v == nil then return default end
  if type(v) == "number" then return tostring(v) end
  if type(v) ~= "string" then argerror(n, "string expected, got " .. typename(v)) end
  return v
end

local function names(socket)
  local AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6
  local n = {}

  function n.tcp() return stream.tcp() end
  function n.tcp4() return stream.tcp(AF_INET) end
  function n.tcp6() return stream.tcp(AF_INET6) end
  function n.udp() return datagram.udp() end
  function n.udp4() return datagram.udp(AF_INET) end
  function n.udp6() return datagram.udp(AF_INET6) end

  local FAMILIES = {unspec = false, inet = AF_INET, inet6 = AF_INET6}

  -- connect(address, port[, laddress[, lport[, family]]]): a client object.
  function n.connect(address, port, laddress, lport, family)
    address = optstring(address, 1)
    if address == nil then argerror(1, "string expected, got no value") end
    port = optstring(port, 2)
    if port == nil then argerror(2, "string expected, got no value") end
    laddress = optstring(laddress, 3)
    lport = optstring(lport, 4, "0")
    family = optstring(family, 5, "unspec")
    local af = FAMILIES[family]
    if af == nil then argerror(5, "invalid option '" .. family .. "'") end
    local sock, cerr = stream.tcp(af or nil)
    if not sock then return nil, cerr end
    if laddress then
      local ok, err = sock:bind(laddress, lport)
      if not ok then
        sock:close()
        return nil, err
      end
    end
    local ok, err = sock:connect(address, port)
    if not ok then
      sock:close()
      return nil, err
    end
    return sock
  end
  -- Not tail calls: an argument error names the function the user called.
  function n.connect4(address, port, laddress, lport)
    local sock, err = n.connect(address, port, laddress, lport, "inet")
    return sock, err
  end
  function n.connect6(address, port, laddress, lport)
    local sock, err = n.connect(address, port, laddress, lport, "inet6")
    return sock, err
  end

  -- bind(host, port[, backlog]): a server object, listening, with
  -- reuseaddr set, on the first address of host that binds.
  function n.bind(host, port, backlog)
    host = optstring(host, 1)
    if host == nil then argerror(1, "string expected, got no value") end
    port = optstring(port, 2, "0")
    if backlog ~= nil and type(backlog) ~= "number" then
      backlog = tonumber(backlog) or argerror(3, "number expected, got " .. typename(backlog))
    end
    if host == "*" then host = "0.0.0.0" end
    local infos, err = n.dns.getaddrinfo(host)
    if not infos then return nil, err end
    err = "no info on address"
    for _, info in ipairs(infos) do
      local sock, cerr = stream.tcp(info.family == "inet" and AF_INET or AF_INET6)
      if not sock then return nil, cerr end
      sock:setoption("reuseaddr", true)
      local ok, berr = sock:bind(info.addr, port)
      if ok then ok, berr = sock:listen(backlog) end
      if ok then return sock end
      sock:close()
      err = berr
    end
    return nil, err
  end

  n.select = require "moonsock.luasocket.select"
  n.dns = require "moonsock.luasocket.dns"
  n.try, n.newtry, n.protect = except.try, except.newtry, except.protect

  function n.sleep(t)
    if type(t) ~= "number" then t = tonumber(t) or argerror(1, "number expected, got " .. typename(t)) end
    if t > 0 then task.sleep(t) end
  end
  n.gettime = core.gettime

  -- skip(d, ...): the arguments after the first d.
  function n.skip(d, ...)
    if math.type(d) ~= "integer" then
      d = math.tointeger(d) or argerror(1, "number has no integer representation")
    end
    -- LuaSocket returns the last (number of arguments - d) values: none
    -- past the end, and d itself too for a negative d.
    local count = select("#", ...)
    if d >= count then return end
    if d < 0 then return d, ... end
    return select(d + 1, ...)
  end

  -- choose(table): a function that calls table[name](opt1, opt2), name
  -- "default" when the first argument is not a string.
  function n.choose(t)
    if type(t) ~= "table" then argerror(1, "table expected, got " .. typename(t)) end
    return function(name, opt1, opt2)
      if type(name) ~= "string" then name, opt1, opt2 = "default", name, opt1 end
      local f = t[name or "nil"]
      if not f then error("unknown key (" .. tostring(name) .. ")", 3) end
      return f(opt1, opt2)
    end
  end

  -- ltn12 sinks and sources over a socket object; each keeps the socket's
  -- getfd and dirty so socket.select can wait on it.
  local function selectable(sock, call)
    return setmetatable({
      getfd = function() return sock:getfd() end,
      dirty = function() return sock:dirty() end,
    }, {__call = call})
  end

  n.sinkt = {
    ["close-when-done"] = function(sock)
      return selectable(sock, function(_, chunk)
        if chunk then return sock:send(chunk) end
        sock:close()
        return 1
      end)
    end,
    ["keep-open"] = function(sock)
      return selectable(sock, function(_, chunk)
        if chunk then return sock:send(chunk) end
        return 1
      end)
    end,
  }
  n.sinkt.default = n.sinkt["keep-open"]
  n.sink = n.choose(n.sinkt)

  n.sourcet = {
    ["by-length"] = function(sock, length)
      return selectable(sock, function()
        if length <= 0 then return nil end
        local chunk, err = sock:receive(math.min(M.BLOCKSIZE, length))
        if err then return nil, err end
        length = length - #chunk
        return chunk
      end)
    end,
    ["until-closed"] = function(sock)
      local done = false
      return selectable(sock, function()
        if done then return nil end
        local chunk, err, partial = sock:receive(M.BLOCKSIZE)
        if not err then return chunk end
        if err ~= "closed" then return nil, err end
        sock:close()
        done = true
        return partial
      end)
    end,
  }
  n.sourcet.default = n.sourcet["until-closed"]
  n.source = n.choose(n.sourcet)

  n._VERSION = M.VERSION
  n._SETSIZE = require("moonsock.core.luasocket").fdlimit()
  n._SOCKETINVALID = -1
  n.BLOCKSIZE = M.BLOCKSIZE
  n._DATAGRAMSIZE = M.DATAGRAMSIZE
  -- LuaSocket's __unload tears its C library down; nothing to do here.
  function n.__unload() end
  return n
end

-- Puts LuaSocket's names into socket (the table of require "socket").
function M.install(socket)
  python.set(socket)
  load()
  for k, v in pairs(names(socket)) do socket[k] = v end
  return socket
end

-- socket.unix as LuaSocket's optional module: unix() and unix.stream() make
-- stream objects, unix.dgram() datagram ones (tcp and udp: aliases).
function M.unix()
  load()
  local unix = {stream = stream.unix, dgram = datagram.unix}
  unix.tcp, unix.udp = unix.stream, unix.dgram
  return setmetatable(unix, {__call = function(_, ...) return stream.unix(...) end})
end

-- from_python(sock): a LuaSocket object that takes over the Python
-- socket's fd (tcp{client} for a connected stream, tcp{server} for a
-- listening one, udp{...} for datagrams); sock is detached (closed).
function M.from_python(sock)
  load()
  local psocket = python.get()
  if not psocket.issocket(sock) then argerror(1, "socket expected, got " .. typename(sock)) end
  local fresh = psocket.socket(sock.family, sock.type, sock.proto, sock:detach())
  if fresh.type == psocket.SOCK_DGRAM then return datagram.adopt(fresh) end
  return stream.adopt(fresh)
end

-- to_python(obj): a Python socket on the LuaSocket object's fd, and the
-- bytes receive had read ahead (what made dirty() true, usually ""); obj
-- is left without an fd (getfd -1), as after setfd(-1). Nil and "closed"
-- if it has none.
function M.to_python(obj)
  load()
  if not core.isobject(obj) then argerror(1, "LuaSocket object expected, got " .. typename(obj)) end
  local py = obj._py
  if not py then return nil, "closed" end
  local ahead = obj._buf or ""
  obj._py, obj._pytimeout, obj._buf = nil, false, ""
  py:settimeout(nil)
  return py, ahead
end

return M
