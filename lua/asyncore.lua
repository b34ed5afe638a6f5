-- Python 3.11's asyncore: a select()/poll() loop over a map of channels
-- (fd -> dispatcher) that calls each channel's handle_* methods.
--
-- Classes are moonsock.class's, as socketserver's (see the top of
-- lua/socketserver.lua): Python's
-- `class EchoHandler(asyncore.dispatcher_with_send)` becomes
-- `parent:extend{fields}`; calling a class makes an instance and runs its
-- `__init__`; a subclass calls its parent's explicitly, as Python does:
--
--   local EchoHandler = asyncore.dispatcher_with_send:extend{
--     __name = "EchoHandler",            -- optional: what tostring shows
--     handle_read = function(self)
--       local data = self:recv(8192)
--       if data ~= "" then self:send(data) end
--     end,
--   }
--   local EchoServer = asyncore.dispatcher:extend{__name = "EchoServer"}
--   function EchoServer:__init__(host, port)
--     asyncore.dispatcher.__init__(self)
--     self:create_socket(socket.AF_INET, socket.SOCK_STREAM)
--     self:set_reuse_addr()
--     self:bind({host, port})
--     self:listen(5)
--   end
--   function EchoServer:handle_accepted(sock, addr) EchoHandler(sock) end
--   EchoServer("localhost", 8080)
--   asyncore.loop()
--
-- Everything runs in the calling task: loop() parks only its own task in
-- select/poll, so other tasks run while it waits.
--
-- One file of about 900 lines, as Python's asyncore.py is one module: the
-- loop functions, the dispatcher classes and file_dispatcher share the map,
-- the errno sets and the error being handled (compact_traceback), and each
-- section below is small. The shared helpers live elsewhere: classes in
-- moonsock.class, timeouts in moonsock.timeout, argument errors in
-- moonsock.errors.
--
-- Python -> Lua: None is nil (a timeout of None is `false`, as nil means the
-- default); bytes are strings; accept() returns conn, addr or nil; Python's
-- dict iteration order becomes ascending fd order; exceptions are Lua errors
-- (ExitNow, KeyboardInterrupt and task.Cancelled leave the loop, anything
-- else goes to handle_error, whose compact_traceback() reads it).
-- readable() and writable() answer with Lua truth: 0 and "" count as true.
-- loop(timeout, use_poll, map, count) also takes an options table:
-- asyncore.loop{timeout = 1, count = 5}.
local socket = require "socket"
local select = require "select"
local task = require "task"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"

local asyncore = {}

-- ---- errno ----

-- Python's asyncore takes errorcode and os.strerror from the errno and os
-- modules: here errno and moonsock.posix.strerror.
local errno = require "errno"
local posix = require "moonsock.posix"
local errorcode = errno.errorcode
asyncore.errorcode = errorcode

-- The names Python's asyncore imports from errno; the socket module's own
-- constants win where it has them.
for _, name in ipairs {"EALREADY", "EINPROGRESS", "EWOULDBLOCK", "ECONNRESET", "EINVAL", "ENOTCONN",
                       "ESHUTDOWN", "EISCONN", "EBADF", "ECONNABORTED", "EPIPE", "EAGAIN"} do
  asyncore[name] = socket[name] or errno[name]
end
local EALREADY, EINPROGRESS, EWOULDBLOCK = asyncore.EALREADY, asyncore.EINPROGRESS, asyncore.EWOULDBLOCK
local ECONNRESET, EINVAL, ENOTCONN = asyncore.ECONNRESET, asyncore.EINVAL, asyncore.ENOTCONN
local ESHUTDOWN, EISCONN, EBADF = asyncore.ESHUTDOWN, asyncore.EISCONN, asyncore.EBADF
local ECONNABORTED, EPIPE, EAGAIN = asyncore.ECONNABORTED, asyncore.EPIPE, asyncore.EAGAIN

-- Errors that mean the peer is gone: the channel closes instead of
-- reporting an error.
local DISCONNECTED = {[ECONNRESET] = true, [ENOTCONN] = true, [ESHUTDOWN] = true,
                      [ECONNABORTED] = true, [EPIPE] = true, [EBADF] = true}
asyncore._DISCONNECTED = DISCONNECTED

function asyncore._strerror(err)
  local ok, text = pcall(posix.strerror, err)
  if ok then return text end
  return errorcode[err] or ("Unknown error " .. tostring(err))
end
local strerror = asyncore._strerror

-- The errno of an OSError, nil for anything else.
local function oserrno(err)
  if errors.OSError:matches(err) then return err.errno end
  return nil
end

-- ---- exceptions ----

-- Another module may have defined the class already: one class per name,
-- or matches() would stop recognising the first one's instances.
asyncore.ExitNow = errors.ExitNow or errors.define("ExitNow", errors.Exception)
asyncore.NotImplementedError = errors.NotImplementedError
  or errors.define("NotImplementedError", errors.RuntimeError)

-- Python re-raises ExitNow, KeyboardInterrupt and SystemExit out of the
-- handlers; moonsock has no SystemExit, and a cancelled task must stop.
local reraised = {asyncore.ExitNow, errors.KeyboardInterrupt, errors.Cancelled}
asyncore._reraised_exceptions = reraised
local function is_reraised(err)
  for _, cls in ipairs(reraised) do
    if cls:matches(err) then return true end
  end
  return false
end

-- ---- arguments ----

-- Raised as Lua's own argument errors read: "bad argument #1 to 'listen'
-- (integer expected, got string)", blamed on the caller's line.
local argerror = errors.argerror

local typename = errors.typename

local function check_type(v, want, n, fname, optional)
  if v == nil and optional then return end
  local ok
  if want == "integer" then ok = math.type(v) == "integer"
  else ok = type(v) == want end
  if not ok then
    argerror(n, fname, string.format("%s expected, got %s", want, v == nil and "no value" or typename(v)))
  end
end

-- The socket methods these methods call name themselves in their argument
-- errors ("bad argument #1 to 'connect_ex'", or "#2 to '?'" through pcall):
-- re-raised as the error of this method's argument, shift positions back,
-- blamed on the user's line (argerror), however deep the call ran.
local function reraise(err, inner, outer, shift)
  if type(err) == "string" then
    local n, name, msg = err:match("bad argument #(%d+) to '([^']*)' %((.*)%)$")
    if n and (name == inner or name == "?" or name:match("%.([%w_]+)$") == inner) then
      argerror(tonumber(n) + shift, outer, msg)
    end
  end
  error(err, 0)
end

-- A constructor's name in its argument errors: its class's (the class of
-- self), so that async_chat's errors do not say 'dispatcher'.
local function short_name(obj)
  local mt = getmetatable(obj)
  local name = type(mt) == "table" and rawget(mt, "__name")
  return type(name) == "string" and name:match("[^.]*$") or "dispatcher"
end

local function has_fileno(v)
  local t = type(v)
  return (t == "table" or t == "userdata") and type(v.fileno) == "function"
end

-- ---- compact tracebacks ----

-- Python's handle_error reads sys.exc_info(): the error being handled and
-- its traceback. Lua has no such state, so the places that catch an error
-- for handle_error keep it here, per task, for the length of the call.
local exc_info = setmetatable({}, {__mode = "k"})

-- Functions that only forward a call; a traceback skips their frames.
local hidden = {}

-- The xpcall message handler: the Lua frames from the function that called
-- xpcall down to where the error was raised, as Python's traceback holds
-- them (outermost first).
local function capture(err)
  local frames = {}
  local level = 2
  while true do
    local ar = debug.getinfo(level, "Slnf")
    if not ar then break end
    if ar.func == xpcall or ar.func == pcall then
      -- The frame that catches, as Python's traceback starts at the try
      -- block's frame; a hidden helper catches for its caller.
      local catcher
      repeat
        level = level + 1
        catcher = debug.getinfo(level, "Slnf")
      until not catcher or not hidden[catcher.func]
      if catcher and catcher.what ~= "C" then table.insert(frames, 1, catcher) end
      break
    end
    if ar.what ~= "C" and not hidden[ar.func] then table.insert(frames, 1, ar) end
    level = level + 1
  end
  local info = {}
  for i, ar in ipairs(frames) do
    local file = ar.source:sub(1, 1) == "@" and ar.source:sub(2) or ar.short_src
    info[i] = {file, ar.name or "?", tostring(ar.currentline)}
  end
  return {err = err, tb = info}
end

-- Calls obj:handle_error() while `caught` is the error being handled.
local function handle_caught(obj, caught)
  local key = task.current()
  local prev = exc_info[key]
  exc_info[key] = caught
  local _ <close> = setmetatable({}, {__close = function() exc_info[key] = prev end})
  obj:handle_error()
end
asyncore._handle_caught = handle_caught
asyncore._capture = capture
asyncore._hidden = hidden

-- compact_traceback() -> {file, function, line}, class, error, info: the
-- innermost frame of the error being handled, its class (Python's type),
-- the error and "[file|function|line] ..." for every frame.
function asyncore.compact_traceback()
  local caught = exc_info[task.current()]
  if not caught or #caught.tb == 0 then error("traceback does not exist", 2) end
  local err = caught.err
  local mt = getmetatable(err)
  local t
  if errors.BaseException:matches(err) then
    t = tostring(mt)
  else
    t = "<class '" .. type(err) .. "'>"
  end
  local parts = {}
  for i, f in ipairs(caught.tb) do parts[i] = "[" .. table.concat(f, "|") .. "]" end
  local last = caught.tb[#caught.tb]
  return repr.tuple(last[1], last[2], last[3]), t, err, table.concat(parts, " ")
end

-- ---- classes ----

-- moonsock.class (Python's classes: __init__, MRO, super), as socketserver
-- uses it, so that both modules subclass the same way and mix.
local classes = require "moonsock.class"
local class, object = classes.class, classes.object

-- A method that reads only optional fields would do nothing on a wrong
-- self (del_channel({})), where Python raises AttributeError: those check.
-- The others fail on the first field they need, as Python's do.
local function check_self(self, cls, fname)
  if not classes.isinstance(self, cls) then
    error(string.format("calling '%s' on bad self (%s expected, got %s)", fname, rawget(cls, "__name"),
      typename(self)), 3)
  end
end
asyncore._check_self = check_self
asyncore.class, asyncore.object = class, object
asyncore.isinstance, asyncore.super = classes.isinstance, classes.super

-- ---- the map and the loop ----

asyncore.socket_map = {}

-- Another task may close a channel while this one waits in select/poll:
-- moonsock then wakes the waiter with EBADF, where a Python thread's
-- select(2) would go on waiting. The round ends quietly if a channel it
-- watched has left the map (the next round rebuilds the lists); a bad fd
-- still in the map is a real error.
local function wait_ready(map, watched, fn, ...)
  local ok, a, b, c = pcall(fn, ...)
  if ok then return a, b, c end
  if oserrno(a) == EBADF then
    for fd, obj in pairs(watched) do
      if map[fd] ~= obj then return nil end
    end
  end
  error(a, 0)
end

local function sorted_fds(map)
  local fds = {}
  for fd in pairs(map) do fds[#fds + 1] = fd end
  table.sort(fds)
  return fds
end

-- The calls that read() and friends guard: forwarding frames hidden from
-- tracebacks so they show read -> handle_read_event -> handle_read. Not
-- tail calls, which would lose the callee's name.
local function call_read(obj) obj:handle_read_event() end
local function call_write(obj) obj:handle_write_event() end
local function call_expt(obj) obj:handle_expt_event() end
hidden[call_read], hidden[call_write], hidden[call_expt] = true, true, true

function asyncore.read(obj)
  local ok, caught = xpcall(call_read, capture, obj)
  if ok then return end
  if is_reraised(caught.err) then error(caught.err, 0) end
  handle_caught(obj, caught)
end

function asyncore.write(obj)
  local ok, caught = xpcall(call_write, capture, obj)
  if ok then return end
  if is_reraised(caught.err) then error(caught.err, 0) end
  handle_caught(obj, caught)
end

function asyncore._exception(obj)
  local ok, caught = xpcall(call_expt, capture, obj)
  if ok then return end
  if is_reraised(caught.err) then error(caught.err, 0) end
  handle_caught(obj, caught)
end

local POLLIN, POLLOUT, POLLPRI = select.POLLIN, select.POLLOUT, select.POLLPRI
local POLLHUP, POLLERR, POLLNVAL = select.POLLHUP, select.POLLERR, select.POLLNVAL

local function call_readwrite(obj, flags)
  if flags & POLLIN ~= 0 then obj:handle_read_event() end
  if flags & POLLOUT ~= 0 then obj:handle_write_event() end
  if flags & POLLPRI ~= 0 then obj:handle_expt_event() end
  if flags & (POLLHUP | POLLERR | POLLNVAL) ~= 0 then obj:handle_close() end
end
hidden[call_readwrite] = true

-- readwrite(obj, flags): the poll() flavour: a disconnection error closes
-- the channel, any other error goes to handle_error.
function asyncore.readwrite(obj, flags)
  check_type(flags, "integer", 2, "readwrite")
  local ok, caught = xpcall(call_readwrite, capture, obj, flags)
  if ok then return end
  local err = caught.err
  local en = oserrno(err)
  if errors.OSError:matches(err) then
    if DISCONNECTED[en] then obj:handle_close() else handle_caught(obj, caught) end
  elseif is_reraised(err) then
    error(err, 0)
  else
    handle_caught(obj, caught)
  end
end

local function check_timeout(timeout, fname)
  if timeout ~= false and type(timeout) ~= "number" then
    argerror(1, fname, "number or false expected, got " .. typename(timeout))
  end
end

-- NaN, and a timeout past the range of Python's clock (math.huge), fail
-- where Python's select, time.sleep or int(timeout*1000) would take them:
-- poll checks when it is about to wait, poll2 and loop's first round at once.
local check_value = require("moonsock.timeout").check
local function check_timeout_value(timeout, fname) check_value(timeout, 1, fname) end

local function check_map(map, n, fname)
  if map ~= nil and type(map) ~= "table" then
    argerror(n, fname, "map must be a table, got " .. typename(map))
  end
end

-- poll([timeout[, map]]): one select() round; timeout false waits for ever.
function asyncore.poll(timeout, map)
  if timeout == nil then timeout = 0.0 end
  check_timeout(timeout, "poll")
  check_map(map, 2, "poll")
  map = map or asyncore.socket_map
  if next(map) == nil then return end
  local r, w, e, watched = {}, {}, {}, {}
  for _, fd in ipairs(sorted_fds(map)) do
    local obj = map[fd]
    watched[fd] = obj
    local is_r, is_w = obj:readable(), obj:writable()
    if is_r then r[#r + 1] = fd end
    -- accepting sockets should not be writable
    if is_w and not obj.accepting then w[#w + 1] = fd end
    if is_r or is_w then e[#e + 1] = fd end
  end
  check_timeout_value(timeout, "poll")
  if #r == 0 and #w == 0 and #e == 0 then
    if timeout == false then
      argerror(1, "poll", "no channel is readable or writable: cannot sleep for ever")
    end
    task.sleep(timeout)
    return
  end
  r, w, e = wait_ready(map, watched, select.select, r, w, e, timeout or nil)
  if not r then return end
  for _, fd in ipairs(r) do
    local obj = map[fd]
    if obj ~= nil then asyncore.read(obj) end
  end
  for _, fd in ipairs(w) do
    local obj = map[fd]
    if obj ~= nil then asyncore.write(obj) end
  end
  for _, fd in ipairs(e) do
    local obj = map[fd]
    if obj ~= nil then asyncore._exception(obj) end
  end
end

-- poll2([timeout[, map]]): the same with select.poll().
function asyncore.poll2(timeout, map)
  if timeout == nil then timeout = 0.0 end
  check_timeout(timeout, "poll2")
  check_map(map, 2, "poll2")
  map = map or asyncore.socket_map
  -- int(timeout * 1000) comes first in Python: NaN and math.huge fail there
  if timeout and (timeout ~= timeout or timeout == math.huge) then check_timeout_value(timeout, "poll2") end
  if next(map) ~= nil then check_timeout_value(timeout, "poll2") end
  local ms
  if timeout then
    -- Python's int(timeout * 1000) truncates towards zero.
    ms = timeout * 1000
    ms = ms >= 0 and math.floor(ms) or math.ceil(ms)
  end
  local pollster = select.poll()
  if next(map) == nil then return end
  local watched = {}
  for _, fd in ipairs(sorted_fds(map)) do
    local obj = map[fd]
    watched[fd] = obj
    local flags = 0
    if obj:readable() then flags = flags | POLLIN | POLLPRI end
    -- accepting sockets should not be writable
    if obj:writable() and not obj.accepting then flags = flags | POLLOUT end
    if flags ~= 0 then pollster:register(fd, flags) end
  end
  local ready = wait_ready(map, watched, pollster.poll, pollster, ms)
  if not ready then return end
  -- poll objects report in no fixed order: take them in fd order.
  table.sort(ready, function(a, b) return a[1] < b[1] end)
  for _, pair in ipairs(ready) do
    local obj = map[pair[1]]
    if obj ~= nil then asyncore.readwrite(obj, pair[2]) end
  end
end
asyncore.poll3 = asyncore.poll2

-- loop([timeout[, use_poll[, map[, count]]]]) or loop{timeout=, use_poll=,
-- map=, count=}: polls until the map is empty, or count times.
function asyncore.loop(timeout, use_poll, map, count)
  if type(timeout) == "table" then
    local opts = timeout
    timeout, use_poll, map, count = opts.timeout, opts.use_poll, opts.map, opts.count
  end
  if timeout == nil then timeout = 30.0 end
  check_timeout(timeout, "loop")
  check_map(map, 3, "loop")
  if count ~= nil and math.type(count) ~= "integer" then
    argerror(4, "loop", "count must be an integer, got " .. typename(count))
  end
  map = map or asyncore.socket_map
  if next(map) ~= nil then check_timeout_value(timeout, "loop") end
  local poll_fun = use_poll and asyncore.poll2 or asyncore.poll
  if count == nil then
    while next(map) ~= nil do poll_fun(timeout, map) end
  else
    while next(map) ~= nil and count > 0 do
      poll_fun(timeout, map)
      count = count - 1
    end
  end
end

-- ---- dispatcher ----

local dispatcher = class(object, {
  __name = "asyncore.dispatcher",
  debug = false,
  connected = false,
  accepting = false,
  connecting = false,
  closing = false,
  addr = nil,
  ignore_log_types = {warning = true},
})
asyncore.dispatcher = dispatcher

-- dispatcher([sock[, map]]): wraps a socket (made non-blocking) or, without
-- one, waits for create_socket or set_socket.
function dispatcher:__init__(sock, map)
  check_map(map, 2, short_name(self))
  self._map = map or asyncore.socket_map
  self._fileno = nil
  if sock then
    if not has_fileno(sock) then argerror(1, short_name(self), "socket expected, got " .. typename(sock)) end
    -- Set to nonblocking just to make sure for cases where we get a
    -- socket from a blocking source.
    sock:setblocking(false)
    self:set_socket(sock, map)
    self.connected = true
    -- The socket passed need not be connected.
    local ok, addr = pcall(sock.getpeername, sock)
    if ok then
      self.addr = addr
    else
      local en = oserrno(addr)
      if en == ENOTCONN or en == EINVAL then
        self.connected = false
      else
        -- Broken in some unknown way: do not poll it.
        self:del_channel(map)
        error(addr, 0)
      end
    end
  else
    self.socket = nil
  end
end

local function addr_text(addr)
  if type(addr) == "table" and #addr == 2 and type(addr[2]) == "number" then
    local host = addr[1]
    return string.format("%s:%d", type(host) == "string" and host or repr.repr(host),
      math.tointeger(addr[2]) or math.floor(addr[2]))
  end
  if type(addr) == "table" and getmetatable(addr) == nil then
    return repr.repr(repr.tuple(table.unpack(addr)))
  end
  return repr.repr(addr)
end

-- <asyncore.dispatcher listening 127.0.0.1:8080 at 0x...>
function dispatcher:__tostring()
  local status = {self.__name}
  if self.accepting and self.addr ~= nil and self.addr ~= "" then
    status[#status + 1] = "listening"
  elseif self.connected then
    status[#status + 1] = "connected"
  end
  if self.addr ~= nil then status[#status + 1] = addr_text(self.addr) end
  return string.format("<%s at %p>", table.concat(status, " "), self)
end

function dispatcher:add_channel(map)
  check_map(map, 1, "add_channel")
  map = map or self._map
  map[self._fileno] = self
end

function dispatcher:del_channel(map)
  check_self(self, dispatcher, "del_channel")
  check_map(map, 1, "del_channel")
  local fd = self._fileno
  map = map or self._map
  if fd ~= nil and map[fd] ~= nil then map[fd] = nil end
  self._fileno = nil
end

function dispatcher:create_socket(family, type_)
  check_type(family, "integer", 1, "create_socket", true)
  check_type(type_, "integer", 2, "create_socket", true)
  family, type_ = family or socket.AF_INET, type_ or socket.SOCK_STREAM
  self.family_and_type = repr.tuple(family, type_)
  local ok, sock = pcall(socket.socket, family, type_)
  if not ok then reraise(sock, "socket", "create_socket", 0) end
  sock:setblocking(false)
  self:set_socket(sock)
end

function dispatcher:set_socket(sock, map)
  if not has_fileno(sock) then argerror(1, "set_socket", "socket expected, got " .. typename(sock)) end
  check_map(map, 2, "set_socket")
  self.socket = sock
  self._fileno = sock:fileno()
  self:add_channel(map)
end

-- Try to re-use a server port if possible. Python ignores the OSError of
-- setsockopt, not every error (a missing socket is still one).
function dispatcher:set_reuse_addr()
  local sock = self.socket
  local ok, err = pcall(function()
    sock:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,
      sock:getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR) | 1)
  end)
  if not ok and not errors.OSError:matches(err) then error(err, 0) end
end

-- Predicates for select(): which channels to watch for reading/writing.
function dispatcher.readable() return true end
function dispatcher.writable() return true end

function dispatcher:listen(num)
  check_type(num, "integer", 1, "listen")
  self.accepting = true
  local ok, err = pcall(self.socket.listen, self.socket, num)
  if not ok then reraise(err, "listen", "listen", -1) end
end

local function check_addr(addr, fname)
  if type(addr) ~= "table" and type(addr) ~= "string" then
    argerror(1, fname, "address must be a table {host, port} or a string, got " .. typename(addr))
  end
end

function dispatcher:bind(addr)
  check_addr(addr, "bind")
  self.addr = addr
  local ok, err = pcall(self.socket.bind, self.socket, addr)
  if not ok then reraise(err, "bind", "bind", 0) end
end

-- connect(address): starts a non-blocking connect; handle_connect runs when
-- the socket becomes writable (or at once if the connect completed).
function dispatcher:connect(address)
  check_addr(address, "connect")
  self.connected = false
  self.connecting = true
  local okc, err = pcall(self.socket.connect_ex, self.socket, address)
  if not okc then reraise(err, "connect_ex", "connect", 0) end
  if err == EINPROGRESS or err == EALREADY or err == EWOULDBLOCK then
    self.addr = address
    return
  end
  if err == 0 or err == EISCONN then
    self.addr = address
    self:handle_connect_event()
  else
    error(errors.raise_new("OSError", err, errorcode[err] or strerror(err)), 2)
  end
end

-- accept() -> conn, addr, or nil when no connection is waiting.
function dispatcher:accept()
  local ok, conn, addr = pcall(self.socket.accept, self.socket)
  if ok then return conn, addr end
  local en = oserrno(conn)
  if en == EWOULDBLOCK or en == ECONNABORTED or en == EAGAIN then return nil end
  error(conn, 0)
end

-- send(data) -> bytes sent: 0 when the socket would block, or when the
-- peer is gone (the channel is then closed through handle_close).
function dispatcher:send(data)
  check_type(data, "string", 1, "send")
  local ok, result = pcall(self.socket.send, self.socket, data)
  if ok then return result end
  local en = oserrno(result)
  if en == EWOULDBLOCK then return 0 end
  if DISCONNECTED[en] then
    self:handle_close()
    return 0
  end
  error(result, 0)
end

-- recv(buffer_size) -> data; "" when the peer has closed (the channel is
-- then closed through handle_close).
function dispatcher:recv(buffer_size)
  check_type(buffer_size, "integer", 1, "recv")
  local ok, data = pcall(self.socket.recv, self.socket, buffer_size)
  if not ok and type(data) == "string" then reraise(data, "recv", "recv", -1) end
  if ok then
    if data == "" then
      -- a closed connection shows as readable with an empty recv()
      self:handle_close()
      return ""
    end
    return data
  end
  if DISCONNECTED[oserrno(data)] then
    self:handle_close()
    return ""
  end
  error(data, 0)
end

function dispatcher:close()
  self.connected = false
  self.accepting = false
  self.connecting = false
  self:del_channel()
  if self.socket ~= nil then
    local ok, err = pcall(self.socket.close, self.socket)
    if not ok then
      local en = oserrno(err)
      if en ~= ENOTCONN and en ~= EBADF then error(err, 0) end
    end
  end
end

-- log is for 'hit' logging, log_info for informational, warning and error
-- logging; both may be overridden.
function dispatcher.log(_, message)
  io.stderr:write("log: ", tostring(message), "\n")
end

function dispatcher:log_info(message, type_)
  check_type(type_, "string", 2, "log_info", true)
  type_ = type_ or "info"
  if not self.ignore_log_types[type_] then
    print(type_ .. ": " .. tostring(message))
  end
end

function dispatcher:handle_read_event()
  if self.accepting then
    -- accepting sockets are never connected, they "spawn" new sockets
    -- that are connected
    self:handle_accept()
  elseif not self.connected then
    if self.connecting then self:handle_connect_event() end
    self:handle_read()
  else
    self:handle_read()
  end
end

function dispatcher:handle_connect_event()
  local err = self.socket:getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
  if err ~= 0 then error(errors.raise_new("OSError", err, strerror(err)), 0) end
  self:handle_connect()
  self.connected = true
  self.connecting = false
end

function dispatcher:handle_write_event()
  -- Accepting sockets shouldn't get a write event: pretend it didn't happen.
  if self.accepting then return end
  if not self.connected and self.connecting then self:handle_connect_event() end
  self:handle_write()
end

-- Called when select() reports an exceptional condition: an error on the
-- socket (closes the channel) or out-of-band data (handle_expt).
function dispatcher:handle_expt_event()
  local err = self.socket:getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
  if err ~= 0 then self:handle_close() else self:handle_expt() end
end

function dispatcher:handle_error()
  local _, t, v, tbinfo = asyncore.compact_traceback()
  -- a user's tostring may fail
  local ok, self_repr = pcall(tostring, self)
  if not ok then
    self_repr = string.format("<__repr__(self) failed for object at %s>",
      (string.format("%p", self):gsub("^0x", "")))
  end
  self:log_info(string.format("uncaptured python exception, closing channel %s (%s:%s %s)",
    self_repr, t, tostring(v), tbinfo), "error")
  self:handle_close()
end

function dispatcher:handle_expt() self:log_info("unhandled incoming priority event", "warning") end
function dispatcher:handle_read() self:log_info("unhandled read event", "warning") end
function dispatcher:handle_write() self:log_info("unhandled write event", "warning") end
function dispatcher:handle_connect() self:log_info("unhandled connect event", "warning") end

function dispatcher:handle_accept()
  local conn, addr = self:accept()
  if conn ~= nil then self:handle_accepted(conn, addr) end
end

function dispatcher:handle_accepted(sock)
  sock:close()
  self:log_info("unhandled accepted event", "warning")
end

function dispatcher:handle_close()
  self:log_info("unhandled close event", "warning")
  self:close()
end

-- ---- dispatcher_with_send: buffered output for simple clients ----

local dispatcher_with_send = dispatcher:extend {__name = "asyncore.dispatcher_with_send"}
asyncore.dispatcher_with_send = dispatcher_with_send

function dispatcher_with_send:__init__(sock, map)
  dispatcher.__init__(self, sock, map)
  self.out_buffer = ""
end

function dispatcher_with_send:initiate_send()
  local num_sent = dispatcher.send(self, self.out_buffer:sub(1, 65536))
  self.out_buffer = self.out_buffer:sub(num_sent + 1)
end

function dispatcher_with_send:handle_write() self:initiate_send() end

function dispatcher_with_send:writable()
  return not self.connected or #self.out_buffer > 0
end

-- Python's repr of bytes, for the debug log.
local function bytes_repr(s)
  local q = (s:find("'", 1, true) and not s:find('"', 1, true)) and '"' or "'"
  local esc = {["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", [q] = "\\" .. q}
  return "b" .. q .. s:gsub("[%c\\'\"\127-\255]", function(c)
    if esc[c] then return esc[c] end
    if c == "'" or c == '"' then return c end
    return string.format("\\x%02x", c:byte())
  end) .. q
end
asyncore._bytes_repr = bytes_repr

-- send(data): queues data and sends what the socket takes now; returns nothing.
function dispatcher_with_send:send(data)
  check_type(data, "string", 1, "send")
  if self.debug then self:log_info("sending " .. bytes_repr(data)) end
  self.out_buffer = self.out_buffer .. data
  self:initiate_send()
end

-- ---- close_all ----

function asyncore.close_all(map, ignore_all)
  check_map(map, 1, "close_all")
  map = map or asyncore.socket_map
  local objs = {}
  for _, fd in ipairs(sorted_fds(map)) do objs[#objs + 1] = map[fd] end
  for _, x in ipairs(objs) do
    local ok, err = pcall(x.close, x)
    if not ok then
      -- EBADF: already closed
      if oserrno(err) ~= EBADF and (is_reraised(err) or not ignore_all) then error(err, 0) end
    end
  end
  for fd in pairs(map) do map[fd] = nil end
end

-- ---- file_wrapper and file_dispatcher ----

-- file_wrapper(fd): just enough of a socket for asyncore over a dup of fd.
-- moonsock reads and writes fds through its socket objects, so fd must be a
-- socket (a socketpair end, stdin when it is a socket...); any other fd
-- raises OSError ENOTSOCK.
local file_wrapper = object:extend {__name = "asyncore.file_wrapper"}
asyncore.file_wrapper = file_wrapper

function file_wrapper:__init__(fd)
  check_type(fd, "integer", 1, "file_wrapper")
  -- os.dup's answers: OverflowError beyond a C int, EBADF for a negative fd
  if fd > 0x7fffffff or fd < -0x80000000 then
    argerror(1, "file_wrapper", "Python int too large to convert to C int")
  end
  if fd < 0 then error(errors.raise_new("OSError", EBADF, strerror(EBADF)), 4) end
  local dup = socket._dupfd(fd)
  local ok, sock = pcall(socket.socket, nil, nil, nil, dup)
  if not ok then
    socket.close(dup)
    error(sock, 2)
  end
  sock:settimeout(0)
  self._sock = sock
  self.fd = dup
end

function file_wrapper:__tostring()
  return string.format("<asyncore.file_wrapper fd=%d at %p>", self.fd, self)
end

-- os.read/os.write on a closed file_wrapper (fd -1) fail with EBADF.
local function wrapper_sock(self)
  if self.fd < 0 then error(errors.raise_new("OSError", EBADF, strerror(EBADF)), 3) end
  return self._sock
end

-- read and write are recv and send under their own names, in their errors too.
local function wrapper_recv(self, n, fname)
  check_type(n, "integer", 1, fname)
  local ok, data = pcall(wrapper_sock(self).recv, self._sock, n)
  if not ok then reraise(data, "recv", fname, -1) end
  return data
end

local function wrapper_send(self, data, fname)
  check_type(data, "string", 1, fname)
  return wrapper_sock(self):send(data)
end

function file_wrapper:recv(n) return wrapper_recv(self, n, "recv") end
function file_wrapper:read(n) return wrapper_recv(self, n, "read") end
function file_wrapper:send(data) return wrapper_send(self, data, "send") end
function file_wrapper:write(data) return wrapper_send(self, data, "write") end

function file_wrapper.getsockopt(_, level, optname, buflen)
  if level == socket.SOL_SOCKET and optname == socket.SO_ERROR and not buflen then return 0 end
  error(asyncore.NotImplementedError("Only asyncore specific behaviour implemented."), 2)
end

function file_wrapper:close()
  if self.fd < 0 then return end
  self.fd = -1
  self._sock:close()
end

function file_wrapper:fileno()
  check_self(self, file_wrapper, "fileno")
  return self.fd
end

-- file_dispatcher(fd[, map]): a dispatcher over a file descriptor (or an
-- object with fileno()), through a file_wrapper.
local file_dispatcher = dispatcher:extend {__name = "asyncore.file_dispatcher"}
asyncore.file_dispatcher = file_dispatcher

function file_dispatcher:__init__(fd, map)
  if math.type(fd) ~= "integer" and not has_fileno(fd) then
    argerror(1, "file_dispatcher", "integer or object with fileno() expected, got " .. typename(fd))
  end
  dispatcher.__init__(self, nil, map)
  self.connected = true
  if has_fileno(fd) then
    fd = fd:fileno()
    if math.type(fd) ~= "integer" then argerror(1, "file_dispatcher", "fileno() returned a non-integer") end
  end
  local ok, err = pcall(self.set_file, self, fd)
  if not ok then reraise(err, "set_file", "file_dispatcher", -1) end
end

function file_dispatcher:set_file(fd)
  check_type(fd, "integer", 1, "set_file")
  local ok, w = pcall(file_wrapper, fd)
  if not ok then reraise(w, "file_wrapper", "set_file", 0) end
  self.socket = w
  self._fileno = self.socket:fileno()
  self:add_channel()
end

return asyncore
