-- Python's socket module. The C core (moonsock.core.socket) does the
-- syscalls and parking; this file adds what CPython's socket.py adds, plus
-- the name resolution CPython does inside its address parser.
local core = require "moonsock.core.socket"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"

local socket = {}
for k, v in pairs(core) do
  if k ~= "methods" and k ~= "metatable" then socket[k] = v end
end
-- Lua names a function in an argument error by where package.loaded holds
-- it: leave the functions only here, so users read 'socket.socket'.
for k in pairs(socket) do core[k] = nil end
local methods, meta = core.methods, core.metatable
socket.SocketType = meta

-- Exceptions, under Python's names.
socket.error = errors.OSError
socket.OSError = errors.OSError
socket.timeout = errors.TimeoutError
socket.TimeoutError = errors.TimeoutError
socket.gaierror = errors.gaierror
socket.herror = errors.herror
socket.BlockingIOError = errors.BlockingIOError
socket.ConnectionError = errors.ConnectionError
socket.ConnectionRefusedError = errors.ConnectionRefusedError
socket.ConnectionResetError = errors.ConnectionResetError
socket.ConnectionAbortedError = errors.ConnectionAbortedError
socket.BrokenPipeError = errors.BrokenPipeError
socket.InterruptedError = errors.InterruptedError

local AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6
local getaddrinfo = socket.getaddrinfo

-- The numeric hosts the C parser takes as they are; CPython resolves any
-- other host with getaddrinfo for the socket's family (setipaddr).
local function is_numeric(family, host)
  if host == "" then return true end
  if family == AF_INET then
    if host == "<broadcast>" then return true end
    local a, b, c, d = host:match("^(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)$")
    return a ~= nil and tonumber(a) < 256 and tonumber(b) < 256 and tonumber(c) < 256
      and tonumber(d) < 256
  end
  return host:find(":", 1, true) ~= nil and not host:find("%", 1, true)
end

local function resolve(sock, addr)
  local family = sock.family
  if (family ~= AF_INET and family ~= AF_INET6) or type(addr) ~= "table" then return addr end
  local host = addr[1]
  if type(host) ~= "string" or is_numeric(family, host) then return addr end
  local sa = getaddrinfo(host, nil, family)[1][5]
  if family == AF_INET then return repr.tuple(sa[1], addr[2]) end
  return repr.tuple(sa[1], addr[2], addr[3] or 0, addr[4] or sa[4])
end
socket._resolve = resolve

local c_bind, c_connect, c_connect_ex = methods.bind, methods.connect, methods.connect_ex
local c_sendto, c_sendmsg = methods.sendto, methods.sendmsg

function methods:bind(addr) return c_bind(self, resolve(self, addr)) end
function methods:connect(addr) return c_connect(self, resolve(self, addr)) end
function methods:connect_ex(addr) return c_connect_ex(self, resolve(self, addr)) end
function methods:sendto(data, a, b)
  if b == nil then return c_sendto(self, data, resolve(self, a)) end
  return c_sendto(self, data, a, resolve(self, b))
end
function methods:sendmsg(buffers, ancdata, flags, addr)
  if addr ~= nil then addr = resolve(self, addr) end
  return c_sendmsg(self, buffers, ancdata, flags, addr)
end

-- Python's _io_refs: while makefile objects are open, close() only marks
-- the socket; closing the last of them closes the fd (moonsock.makefile
-- keeps the counts).
local c_close = methods.close
function methods:close()
  local mf = package.loaded["moonsock.makefile"]
  if mf and mf.defer_close(self) then return end
  return c_close(self)
end
meta.__close = function(s) return methods.close(s) end

function methods:makefile(mode, buffering)
  return require("moonsock.makefile").new(self, mode, buffering)
end

-- Names for repr, as Python's AddressFamily and SocketKind enums give them.
local family_names, type_names = {}, {}
for _, n in ipairs {"AF_UNSPEC", "AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET",
                    "AF_BLUETOOTH", "AF_CAN", "AF_ALG", "AF_VSOCK", "AF_TIPC", "AF_RDS"} do
  if socket[n] and not family_names[socket[n]] then family_names[socket[n]] = n end
end
for _, n in ipairs {"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"} do
  if socket[n] then type_names[socket[n]] = n end
end

local function addr_text(a)
  if type(a) == "string" then return a end
  return tostring(a)
end

-- Python prints [closed] also while makefile objects keep the fd open.
local function closed_mark(s, fd)
  local mf = package.loaded["moonsock.makefile"]
  if fd < 0 or (mf and mf.close_pending(s)) then return " [closed]" end
  return ""
end

-- <socket fd=3, family=AF_INET, type=SOCK_STREAM, proto=0, laddr=('127.0.0.1', 9080)>
meta.__tostring = function(s)
  local fd = s:fileno()
  local parts = {string.format("<socket%s fd=%d, family=%s, type=%s, proto=%d",
    closed_mark(s, fd), fd, family_names[s.family] or tostring(s.family),
    type_names[s.type] or tostring(s.type), s.proto)}
  if fd >= 0 then
    local ok, laddr = pcall(s.getsockname, s)
    if ok and laddr and laddr ~= "" then parts[#parts + 1] = ", laddr=" .. addr_text(laddr) end
    local okp, raddr = pcall(s.getpeername, s)
    if okp and raddr and raddr ~= "" then parts[#parts + 1] = ", raddr=" .. addr_text(raddr) end
  end
  parts[#parts + 1] = ">"
  return table.concat(parts)
end

function socket.fromfd(fd, family, type, proto)
  return socket.socket(family, type, proto, socket._dupfd(fd))
end

-- create_connection(address[, timeout[, source_address]]): every address
-- getaddrinfo gives, in order, until one connects. timeout nil keeps the
-- default timeout; false means blocking (Python's None).
function socket.create_connection(address, timeout, source_address)
  if type(address) ~= "table" then
    error("bad argument #1 to 'create_connection' (address must be a table {host, port}, got "
      .. type(address) .. ")", 2)
  end
  local host, port = address[1], address[2]
  local errs = {}
  for _, res in ipairs(getaddrinfo(host, port, 0, socket.SOCK_STREAM)) do
    local sock
    local ok, err = pcall(function()
      sock = socket.socket(res[1], res[2], res[3])
      if timeout == false then
        sock:settimeout(nil)
      elseif timeout ~= nil then
        sock:settimeout(timeout)
      end
      if source_address then sock:bind(source_address) end
      sock:connect(res[5])
    end)
    if ok then return sock end
    errs[#errs + 1] = err
    if sock then sock:close() end
    if not errors.OSError:matches(err) then error(err, 0) end
  end
  -- Python 3.11 raises the last failure (all_errors=False).
  if #errs > 0 then error(errs[#errs], 0) end
  error(errors.OSError("getaddrinfo returns an empty list"), 0)
end

function socket.has_dualstack_ipv6()
  if not socket.has_ipv6 or not socket.IPV6_V6ONLY then return false end
  local ok, s = pcall(socket.socket, AF_INET6, socket.SOCK_STREAM)
  if not ok then return false end
  local ok2, v = pcall(s.getsockopt, s, socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
  s:close()
  return ok2 and v == 0
end

-- create_server(address, {family=, backlog=, reuse_port=, dualstack_ipv6=})
function socket.create_server(address, opts)
  opts = opts or {}
  local family = opts.family or AF_INET
  if opts.reuse_port and not socket.SO_REUSEPORT then
    error("SO_REUSEPORT not supported on this platform", 2)
  end
  if opts.dualstack_ipv6 then
    if not socket.has_dualstack_ipv6() then error("dualstack_ipv6 not supported on this platform", 2) end
    if family ~= AF_INET6 then error("dualstack_ipv6 requires AF_INET6 family", 2) end
  end
  local sock = socket.socket(family, socket.SOCK_STREAM)
  local ok, err = pcall(function()
    sock:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if opts.reuse_port then sock:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1) end
    if family == AF_INET6 and socket.IPV6_V6ONLY then
      sock:setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, opts.dualstack_ipv6 and 0 or 1)
    end
    local okb, berr = pcall(sock.bind, sock, address)
    if not okb then
      if errors.OSError:matches(berr) and berr.errno then
        error(errors.OSError(berr.errno, string.format("%s (while attempting to bind on address %s)",
          berr.strerror, repr.repr(repr.tuple(table.unpack(address))))), 0)
      end
      error(berr, 0)
    end
    if opts.backlog == nil then sock:listen() else sock:listen(opts.backlog) end
  end)
  if not ok then
    sock:close()
    error(err, 0)
  end
  return sock
end

-- send_fds/recv_fds, as socket.py builds them on sendmsg/recvmsg.
local INT = string.packsize("i")
function socket.send_fds(sock, buffers, fds, flags, address)
  local packed = {}
  for i, fd in ipairs(fds) do packed[i] = string.pack("i", fd) end
  return sock:sendmsg(buffers, {{socket.SOL_SOCKET, socket.SCM_RIGHTS, table.concat(packed)}},
    flags, address)
end

function socket.recv_fds(sock, bufsize, maxfds, flags)
  local msg, ancdata, mflags, addr = sock:recvmsg(bufsize, socket.CMSG_LEN(maxfds * INT), flags)
  local fds = repr.list()
  for _, c in ipairs(ancdata) do
    if c[1] == socket.SOL_SOCKET and c[2] == socket.SCM_RIGHTS then
      local data = c[3]
      for i = 1, #data - #data % INT, INT do fds[#fds + 1] = string.unpack("i", data, i) end
    end
  end
  return msg, fds, mflags, addr
end

return socket
