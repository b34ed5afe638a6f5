-- systemd.daemon: python-systemd's module of that name (Debian's
-- python3-systemd), on the documented protocol instead of libsystemd:
-- sockets passed from fd 3 up with LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES
-- (sd_listen_fds(3)), state sent as one datagram to $NOTIFY_SOCKET
-- (sd_notify(3)). The fd checks (sd_is_socket(3)...) are in the C core
-- moonsock.core.daemon. Results and errors are python-systemd's: booleans,
-- fd lists, and OSError carrying libsystemd's errno.
local core = require "moonsock.core.daemon"
local errors = require "moonsock.errors"
local posix = require "moonsock.posix"
local socket = require "socket"

local M = {}

M.LISTEN_FDS_START = 3

local EINVAL, ERANGE = 22, 34
local INT_MAX = math.maxinteger >> 32
local argerror, typename = errors.argerror, errors.typename

-- A C int, as python-systemd's argument parsing takes it (its OverflowError
-- is an argument error here).
local function check_range(v, n, fname)
  if v > INT_MAX then argerror(n, fname, "signed integer is greater than maximum") end
  if v < -INT_MAX - 1 then argerror(n, fname, "signed integer is less than minimum") end
  return v
end

local function oserror(errno) return errors.raise_new("OSError", errno, posix.strerror(errno)) end

-- python-systemd takes an fd or an object with fileno() (a socket, a file).
local function check_fd(v, n, fname)
  if math.type(v) ~= "integer" then
    local ok, fileno = pcall(function() return v.fileno end)
    if ok and type(fileno) == "function" then v = fileno(v) end
  end
  if math.type(v) ~= "integer" then
    argerror(n, fname, "integer or object with fileno() expected, got " .. typename(v))
  end
  return check_range(v, n, fname)
end

local function check_int(v, n, fname, default)
  if v == nil then return default end
  if math.type(v) ~= "integer" then argerror(n, fname, "integer expected, got " .. typename(v)) end
  return check_range(v, n, fname)
end

local function check_path(v, n, fname)
  if v ~= nil and type(v) ~= "string" then argerror(n, fname, "string or nil expected, got " .. typename(v)) end
  return v
end

local function check_unset(v, n, fname, default)
  if v == nil then return default end
  if type(v) ~= "boolean" then argerror(n, fname, "boolean expected, got " .. typename(v)) end
  return v
end

-- sd_listen_fds: how many fds were passed to this process (0 if none, or
-- if they were meant for another pid), or -errno; fds get close-on-exec.
local function listen_count(unset)
  local function finish(r)
    if unset then
      core._unsetenv("LISTEN_PID"); core._unsetenv("LISTEN_FDS"); core._unsetenv("LISTEN_FDNAMES")
    end
    return r
  end
  local e = os.getenv("LISTEN_PID")
  if not e then return finish(0) end
  local pid, err = core._parse(e)
  if not pid then return finish(-err) end
  if pid <= 0 or pid > INT_MAX then return finish(-ERANGE) end
  if pid ~= posix.getpid() then return finish(0) end
  e = os.getenv("LISTEN_FDS")
  if not e then return finish(0) end
  local n
  n, err = core._parse(e)
  if not n then return finish(-err) end
  if n < -INT_MAX - 1 or n > INT_MAX then return finish(-ERANGE) end
  if n <= 0 or n > INT_MAX - M.LISTEN_FDS_START then return finish(-EINVAL) end
  for fd = M.LISTEN_FDS_START, M.LISTEN_FDS_START + n - 1 do
    local ferr = core._cloexec(fd)
    if ferr ~= 0 then return finish(-ferr) end
  end
  return finish(n)
end

-- listen_fds([unset_environment=true]) -> {3, 4, ...}
function M.listen_fds(unset_environment)
  local unset = check_unset(unset_environment, 1, "listen_fds", true)
  local n = listen_count(unset)
  if n < 0 then error(oserror(-n), 2) end
  local fds = {}
  for i = 1, n do fds[i] = M.LISTEN_FDS_START + i - 1 end
  return fds
end

-- listen_fds_with_names([unset_environment=true]) -> {[3] = name, ...}:
-- names from LISTEN_FDNAMES, colon-separated, one per fd, else "unknown".
function M.listen_fds_with_names(unset_environment)
  local unset = check_unset(unset_environment, 1, "listen_fds_with_names", true)
  local e = os.getenv("LISTEN_FDNAMES")
  local names
  if e then
    names = {}
    if e ~= "" then
      for name in (e .. ":"):gmatch("([^:]*):") do names[#names + 1] = name end
    end
  end
  local n = listen_count(unset)
  if n < 0 then error(oserror(-n), 2) end
  if names and n > 0 and #names ~= n then error(oserror(EINVAL), 2) end
  local result = {}
  for i = 1, n do result[M.LISTEN_FDS_START + i - 1] = names and names[i] or "unknown" end
  return result
end

-- sockaddr_un_set_path: an absolute path, or '@' for an abstract name; a
-- path keeps room for its NUL in sun_path's 108 bytes.
local function notify_address(e)
  local first = e:sub(1, 1)
  if first ~= "/" and first ~= "@" then return nil end
  if #e > 108 - (first == "@" and 0 or 1) then return nil end
  if first == "@" then return "\0" .. e:sub(2) end
  return e
end

-- notify(status[, unset_environment=false]) -> true if sent, false when
-- NOTIFY_SOCKET is not set. status is newline-separated assignments:
-- "READY=1", "STATUS=...", "STOPPING=1", "RELOADING=1", "WATCHDOG=1".
function M.notify(status, unset_environment)
  if type(status) ~= "string" then argerror(1, "notify", "string expected, got " .. typename(status)) end
  local unset = check_unset(unset_environment, 2, "notify", false)
  local e = os.getenv("NOTIFY_SOCKET")
  if not e then return false end
  local addr = notify_address(e)
  local ok, err = false, oserror(EINVAL)
  if addr then
    local s
    ok, s = pcall(socket.socket, socket.AF_UNIX, socket.SOCK_DGRAM)
    if ok then
      ok, err = pcall(s.sendto, s, status, addr)
      s:close()
    else
      err = s
    end
  end
  if unset then core._unsetenv("NOTIFY_SOCKET") end
  if not ok then error(err, 2) end
  return true
end

-- booted() -> true when systemd is the init system.
function M.booted() return core.booted() end

-- is_socket(fd[, family=AF_UNSPEC[, type=0[, listening=-1]]]): 0 and -1
-- mean "any"; listening is 1 for a listening socket, 0 for any other.
function M.is_socket(fileobj, family, type_, listening)
  local fd = check_fd(fileobj, 1, "is_socket")
  return core.is_socket(fd, check_int(family, 2, "is_socket", 0), check_int(type_, 3, "is_socket", 0),
    check_int(listening, 4, "is_socket", -1))
end

-- is_socket_inet(fd[, family[, type[, listening[, port=0]]]]): an AF_INET
-- or AF_INET6 socket, on that port when port is not 0.
function M.is_socket_inet(fileobj, family, type_, listening, port)
  local fname = "is_socket_inet"
  local fd = check_fd(fileobj, 1, fname)
  family = check_int(family, 2, fname, 0)
  type_ = check_int(type_, 3, fname, 0)
  listening = check_int(listening, 4, fname, -1)
  port = check_int(port, 5, fname, 0)
  if port < 0 or port > 65535 then argerror(5, fname, "port must fit into uint16_t") end
  return core.is_socket_inet(fd, family, type_, listening, port)
end

-- is_socket_unix(fd[, type[, listening[, path]]]): an AF_UNIX socket,
-- bound to path when given ("" unnamed, "\0name" abstract).
function M.is_socket_unix(fileobj, type_, listening, path)
  local fname = "is_socket_unix"
  local fd = check_fd(fileobj, 1, fname)
  return core.is_socket_unix(fd, check_int(type_, 2, fname, 0), check_int(listening, 3, fname, -1),
    check_path(path, 4, fname))
end

-- is_fifo(fd[, path]): a FIFO, the one at path when given.
function M.is_fifo(fileobj, path)
  return core.is_fifo(check_fd(fileobj, 1, "is_fifo"), check_path(path, 2, "is_fifo"))
end

-- is_mq(fd[, path]): a POSIX message queue, the one named path ("/name").
function M.is_mq(fileobj, path)
  return core.is_mq(check_fd(fileobj, 1, "is_mq"), check_path(path, 2, "is_mq"))
end

return M
