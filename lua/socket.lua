-- Python's socket module. The C core (moonsock.core.socket) does the
-- syscalls and parking; this file adds what CPython's socket.py adds, plus
-- the name resolution CPython does inside its address parser.
local core = require "moonsock.core.socket"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local makefile = require "moonsock.makefile"

local methods, meta = core.methods, core.metatable

-- What the C core gave, kept in it by the first run of this file: a run
-- that failed halfway (out of memory) has already moved the functions out
-- of the core and wrapped some methods, and the next require must start
-- from the originals, not from what that run left.
local original = rawget(core, "_original")
if not original then
  local functions = {}
  for k, v in pairs(core) do
    if k ~= "methods" and k ~= "metatable" then functions[k] = v end
  end
  original = {functions = functions, bind = methods.bind, connect = methods.connect,
              connect_ex = methods.connect_ex, sendto = methods.sendto, sendmsg = methods.sendmsg,
              close = methods.close}
  core._original = original
end

local socket = {}
for k, v in pairs(original.functions) do socket[k] = v end
-- Lua names a function in an argument error by where package.loaded holds
-- it: leave the functions only here, so users read 'socket.socket'.
for k in pairs(original.functions) do core[k] = nil end
socket.SocketType = meta

-- Exceptions, under Python's names.
socket.error = errors.OSError
socket.timeout = errors.TimeoutError
for _, name in ipairs {"OSError", "TimeoutError", "gaierror", "herror", "BlockingIOError", "ConnectionError",
                       "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError",
                       "BrokenPipeError", "InterruptedError"} do
  socket[name] = errors[name]
end

local AF_INET, AF_INET6 = socket.AF_INET, socket.AF_INET6
local EBADF = socket.EBADF
local getaddrinfo = socket.getaddrinfo
-- C's int, which file descriptors and SCM_RIGHTS entries are.
local INT = string.packsize("i")
local INT_MAX = (1 << (INT * 8 - 1)) - 1

-- The numeric hosts the C parser takes as they are; CPython resolves any
-- other host with getaddrinfo for the socket's family (setipaddr).
local function numeric_text(family, host)
  if host == "" then return true end
  if family == AF_INET then
    if host == "<broadcast>" then return true end
    local a, b, c, d = host:match("^(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)%.(%d%d?%d?)$")
    return a ~= nil and tonumber(a) < 256 and tonumber(b) < 256 and tonumber(c) < 256
      and tonumber(d) < 256
  end
  return host:find(":", 1, true) ~= nil and not host:find("%", 1, true)
end

-- A datagram server answers every sendto with the address recvfrom gave:
-- the pattern match per datagram cost more than the syscalls. The answers
-- are kept per family for the hosts seen last; the table starts afresh
-- when it grows past a few hundred names, so it stays small.
local NUMERIC_SEEN_MAX = 256
local numeric_seen = {}
local numeric_count = 0
local function is_numeric(family, host)
  local seen = numeric_seen[family]
  local known = seen and seen[host]
  if known ~= nil then return known end
  if numeric_count >= NUMERIC_SEEN_MAX then
    numeric_seen, numeric_count = {}, 0
  end
  seen = numeric_seen[family]
  if not seen then
    seen = {}
    numeric_seen[family] = seen
  end
  known = numeric_text(family, host)
  seen[host] = known
  numeric_count = numeric_count + 1
  return known
end

-- A host with a NUL is left to the C parser, which refuses it as CPython
-- does (TypeError): getaddrinfo would look up the part before the NUL.
local function resolve(sock, addr)
  local family = sock.family
  if (family ~= AF_INET and family ~= AF_INET6) or type(addr) ~= "table" then return addr end
  local host = addr[1]
  if type(host) ~= "string" or is_numeric(family, host) or host:find("\0", 1, true) then return addr end
  local sa = getaddrinfo(host, nil, family)[1][5]
  if family == AF_INET then return repr.tuple(sa[1], addr[2]) end
  return repr.tuple(sa[1], addr[2], addr[3] or 0, addr[4] or sa[4])
end
socket._resolve = resolve

local typename = errors.typename

-- The wrappers below are Lua functions: without this check a wrong self
-- fails inside resolve() ("attempt to index a nil value (local 'sock')").
local function check_self(s, fname)
  if not socket.issocket(s) then
    error(string.format("calling '%s' on bad self (moonsock.socket expected, got %s)", fname, typename(s)), 3)
  end
end

-- An argument error of a function a wrapper calls names that function and
-- its arguments: re-raised as the wrapper's, argument n of inner being
-- argument map[n] of outer, blamed on the user's line (errors.argerror).
-- Anything else goes through unchanged.
local function reraise(err, inner, outer, map)
  if type(err) == "string" then
    -- the inner function is named by its field ('socket') or, called
    -- through pcall, by where package.loaded holds it ('socket.socket')
    local n, name, msg = err:match("^[^\n]-bad argument #(%d+) to '([^']*)' %((.*)%)$")
    if name ~= inner and name ~= "socket." .. inner and name ~= "?" then n = nil end
    if n and map[tonumber(n)] then errors.argerror(map[tonumber(n)], outer, msg) end
  end
  error(err, 0)
end

local c_bind, c_connect, c_connect_ex = original.bind, original.connect, original.connect_ex
local c_sendto, c_sendmsg = original.sendto, original.sendmsg

function methods:bind(addr)
  check_self(self, "bind")
  return c_bind(self, resolve(self, addr))
end
function methods:connect(addr)
  check_self(self, "connect")
  return c_connect(self, resolve(self, addr))
end
-- Python's connect_ex on a closed socket returns EBADF, as connect(2) on fd
-- -1 fails, instead of raising it.
function methods:connect_ex(addr)
  check_self(self, "connect_ex")
  local ok, r = pcall(c_connect_ex, self, resolve(self, addr))
  if ok then return r end
  if self:fileno() < 0 and errors.OSError:matches(r) and r.errno == EBADF then return EBADF end
  error(r, 0)
end
function methods:sendto(data, a, b)
  check_self(self, "sendto")
  if b == nil then return c_sendto(self, data, resolve(self, a)) end
  return c_sendto(self, data, a, resolve(self, b))
end
function methods:sendmsg(buffers, ancdata, flags, addr)
  check_self(self, "sendmsg")
  if addr ~= nil then addr = resolve(self, addr) end
  return c_sendmsg(self, buffers, ancdata, flags, addr)
end

-- Python's _io_refs: while makefile objects are open, close() only marks
-- the socket; closing the last of them closes the fd (moonsock.makefile
-- keeps the counts).
local c_close = original.close
function methods:close()
  check_self(self, "close")
  if makefile.defer_close(self) then return end
  return c_close(self)
end
meta.__close = function(s) return methods.close(s) end

-- Not a tail call: makefile.new blames the caller of this frame.
function methods:makefile(mode, buffering)
  if not socket.issocket(self) then
    error("calling 'makefile' on bad self (socket expected, got " .. typename(self) .. ")", 2)
  end
  local f = makefile.new(self, mode, buffering)
  return f
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
  if fd < 0 or makefile.close_pending(s) then return " [closed]" end
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

-- fromfd(fd[, family[, type[, proto]]]): Python dups with os.dup, whose
-- answer to an fd out of range is EBADF.
function socket.fromfd(fd, family, type_, proto)
  if math.type(fd) ~= "integer" then
    local why = type(fd) == "number" and "number has no integer representation" or
      ("integer expected, got " .. typename(fd))
    error("bad argument #1 to 'fromfd' (" .. why .. ")", 2)
  end
  for i, v in ipairs {family, type_, proto} do
    if v ~= nil and math.type(v) ~= "integer" then
      local why = type(v) == "number" and "number has no integer representation" or
        ("integer expected, got " .. typename(v))
      error("bad argument #" .. (i + 1) .. " to 'fromfd' (" .. why .. ")", 2)
    end
  end
  if fd < 0 or fd > INT_MAX then error(errors.raise_new("OSError", EBADF, "Bad file descriptor"), 2) end
  -- Python's fromfd(fd, family, type, proto=0): with family and type given,
  -- a missing proto is 0, not the kernel's answer.
  if proto == nil and family ~= nil and type_ ~= nil then proto = 0 end
  local dup = socket._dupfd(fd)
  local ok, s = pcall(socket.socket, family, type_, proto, dup)
  if ok then return s end
  socket.close(dup)
  reraise(s, "socket", "fromfd", {2, 3, 4})
end

-- create_connection(address[, timeout[, source_address]]): every address
-- getaddrinfo gives, in order, until one connects. timeout nil keeps the
-- default timeout; false means blocking (Python's None).
function socket.create_connection(address, timeout, source_address)
  local function argerror(n, msg) errors.argerror(n, "create_connection", msg) end
  if type(address) ~= "table" then
    argerror(1, "address must be a table {host, port}, got " .. typename(address))
  end
  local host, port = address[1], address[2]
  -- Python unpacks the pair: host, port = address
  if port == nil then
    argerror(1, "not enough values to unpack (expected 2, got " .. (host == nil and 0 or 1) .. ")")
  end
  if host ~= nil and type(host) ~= "string" then
    argerror(1, "host must be a string or nil, got " .. typename(host))
  end
  if host and host:find("\0", 1, true) then argerror(1, "host name must not contain null character") end
  if math.type(port) ~= "integer" and type(port) ~= "string" then
    argerror(1, "port must be an integer or a string, got " .. (math.type(port) or typename(port)))
  end
  if timeout ~= nil and timeout ~= false and type(timeout) ~= "number" then
    argerror(2, "number, false or nil expected, got " .. typename(timeout))
  end
  if source_address ~= nil and type(source_address) ~= "table" then
    argerror(3, "source_address must be a table {host, port}, got " .. typename(source_address))
  end
  local ok_gai, infos = pcall(getaddrinfo, host, port, 0, socket.SOCK_STREAM)
  if not ok_gai then reraise(infos, "getaddrinfo", "create_connection", {1, 1}) end
  local errs = {}
  for _, res in ipairs(infos) do
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
    if not errors.OSError:matches(err) then
      if type(err) == "string" and err:find("to 'settimeout'", 1, true) then
        reraise(err, "settimeout", "create_connection", {2})
      end
      reraise(err, "bind", "create_connection", {3})
    end
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
local SERVER_OPTS = {family = "integer", backlog = "integer", reuse_port = "boolean", dualstack_ipv6 = "boolean"}

function socket.create_server(address, opts)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error("bad argument #2 to 'create_server' (table expected, got " .. typename(opts) .. ")", 2)
  end
  -- Python's keyword arguments: an unknown one is an error, not ignored.
  for k, v in pairs(opts) do
    local want = SERVER_OPTS[k]
    if not want then
      error("bad argument #2 to 'create_server' (unexpected option '" .. tostring(k) .. "')", 2)
    end
    local got = want == "integer" and math.type(v) or type(v)
    if got ~= want then
      error(string.format("bad argument #2 to 'create_server' (%s: %s expected, got %s)", k, want,
        got == "float" and "float" or typename(v)), 2)
    end
  end
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
      reraise(berr, "bind", "create_server", {1})
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

local function check_sock_arg(sock, fname)
  if not socket.issocket(sock) then
    error("bad argument #1 to '" .. fname .. "' (socket expected, got " .. typename(sock) .. ")", 3)
  end
end

function socket.send_fds(sock, buffers, fds, flags, address)
  check_sock_arg(sock, "send_fds")
  if type(fds) ~= "table" then
    error("bad argument #3 to 'send_fds' (table expected, got " .. typename(fds) .. ")", 2)
  end
  local packed = {}
  for i, fd in ipairs(fds) do
    if math.type(fd) ~= "integer" or fd < -INT_MAX - 1 or fd > INT_MAX then
      local why = math.type(fd) == "integer" and "out of range" or
        ("integer expected, got " .. (math.type(fd) or typename(fd)))
      error(string.format("bad argument #3 to 'send_fds' (fds[%d]: %s)", i, why), 2)
    end
    packed[i] = string.pack("i", fd)
  end
  local anc = {{socket.SOL_SOCKET, socket.SCM_RIGHTS, table.concat(packed)}}
  local r = table.pack(pcall(sock.sendmsg, sock, buffers, anc, flags, address))
  if not r[1] then reraise(r[2], "sendmsg", "send_fds", {2, nil, 4, 5}) end
  return table.unpack(r, 2, r.n)
end

function socket.recv_fds(sock, bufsize, maxfds, flags)
  check_sock_arg(sock, "recv_fds")
  if math.type(maxfds) ~= "integer" then
    local why = type(maxfds) == "number" and "number has no integer representation" or
      ("integer expected, got " .. typename(maxfds))
    error("bad argument #3 to 'recv_fds' (" .. why .. ")", 2)
  end
  if maxfds < 0 or maxfds > INT_MAX // INT then
    error("bad argument #3 to 'recv_fds' (CMSG_LEN() argument out of range)", 2)
  end
  local r = table.pack(pcall(sock.recvmsg, sock, bufsize, socket.CMSG_LEN(maxfds * INT), flags))
  -- recvmsg is C, called through pcall: its arguments count self
  if not r[1] then reraise(r[2], "recvmsg", "recv_fds", {nil, 2, nil, 4}) end
  local msg, ancdata, mflags, addr = r[2], r[3], r[4], r[5]
  local fds = repr.list()
  for _, c in ipairs(ancdata) do
    if c[1] == socket.SOL_SOCKET and c[2] == socket.SCM_RIGHTS then
      local data = c[3]
      for i = 1, #data - #data % INT, INT do fds[#fds + 1] = string.unpack("i", data, i) end
    end
  end
  return msg, fds, mflags, addr
end

-- LuaSocket's names beside Python's (lua/moonsock/luasocket.lua): the
-- installer is handed this table, so none of its modules requires "socket"
-- while this file loads.
require("moonsock.luasocket").install(socket)

return socket
