-- Python's socketserver module (CPython 3.11's Lib/socketserver.py), with
-- tasks for threads and moonsock.posix.fork for os.fork.
--
-- Classes. Python builds servers and handlers by subclassing; here a class
-- is a table, calling it makes an instance, and instance fields are
-- Python's attributes (a field set on the instance hides the class's, as
-- `self.timeout = 5` does in Python):
--
--   local socketserver = require "socketserver"
--
--   -- class MyHandler(socketserver.StreamRequestHandler): def handle(self): ...
--   local MyHandler = socketserver.StreamRequestHandler:extend{
--     __name = "MyHandler",                 -- optional, for tostring
--     handle = function(self)
--       self.wfile:write(self.rfile:readline():upper())
--     end,
--   }
--
--   -- class Server(socketserver.TCPServer): allow_reuse_address = True
--   local Server = socketserver.TCPServer:extend{allow_reuse_address = true}
--
--   -- class ThreadedServer(socketserver.ThreadingMixIn, socketserver.TCPServer)
--   local ThreadedServer = socketserver.ThreadingMixIn:mixin(socketserver.TCPServer)
--   -- the same, any number of bases, Python's MRO (C3):
--   local Same = socketserver.class(socketserver.ThreadingMixIn, socketserver.TCPServer, {})
--
--   -- Server(server_address, RequestHandlerClass[, bind_and_activate])
--   local server <close> = Server({"127.0.0.1", 0}, MyHandler)  -- `with`: closes it
--
--   -- Calling the parent's method: name the class (Python's Base.method(self))
--   function Server:server_bind()
--     socketserver.TCPServer.server_bind(self)
--   end
--   -- or, where the parent is not known (a mixin), Python's super():
--   --   socketserver.super(ThisClass, self):server_close()
--
-- The constructor is the `__init__` field; one that extends the parent's
-- calls it by name, as Python's do:
--
--   local LoggingServer = socketserver.TCPServer:extend{__name = "LoggingServer"}
--   function LoggingServer:__init__(server_address, Handler, log)
--     self.log = log  -- before: the parent's binds, and may call our hooks
--     socketserver.TCPServer.__init__(self, server_address, Handler)
--   end
--
-- A class's fields and methods are looked up along its MRO (cls.__mro, as
-- Python's __mro__; cls.__name, cls.__bases) when used, so changing a base
-- class later changes its subclasses, as in Python; only metamethods
-- (__close, __tostring...) are copied into a class when it is made.
-- socketserver.object is the root; isinstance(obj, cls) and
-- issubclass(a, b) follow the MRO.
--
-- Where Lua differs from Python:
-- - Python's keyword argument: collect_children{blocking = true}.
-- - active_children is a set as a table pid -> true (nil until a fork).
-- - rfile/wfile are makefile objects (Lua io methods plus Python's
--   readline); write returns the file, as io's does. DatagramRequestHandler's
--   are socketserver.BytesIO objects, the same methods over a string.
-- - handle_error prints Lua's traceback (the error first, then the stack)
--   between Python's two lines of dashes. Methods that Python calls with
--   sys.exc_info() set (handle_error) find the error with
--   socketserver.exc_info() -> err, traceback text.
-- - ForkingUnixStreamServer and ForkingUnixDatagramServer are Python 3.12's.
-- - block_on_close_timeout is moonsock's: server_close's wait for the
--   request tasks or children (block_on_close) ends then, and what is left
--   is stopped (cancel and SHUT_RDWR; SIGKILL).
-- The selector is selectors.PollSelector, as Python's.
--
-- About 920 lines, one per piece of Python's socketserver.py, whose servers,
-- mixins and handlers subclass each other. What is not Python's module
-- lives beside it: moonsock.prefork (PreforkMixIn), moonsock.exc (except,
-- exc_info, finally), moonsock.fileio (the io formats of BytesIO and
-- _SocketWriter), moonsock.class (the classes).
--
-- Hooks that do nothing still take self, as Python's do.
-- luacheck: no self
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"
local selectors = require "selectors"
local posix = require "moonsock.posix"
local check_timeout = require("moonsock.timeout").check

local M = {}

local format = string.format

local typename = errors.typename

local argerror = errors.argerror

---------------------------------------------------------------------------
-- The class system is moonsock.class's; its names are part of this module's
-- API (socketserver.class, socketserver.super...), as the header shows.

local class = require "moonsock.class"
local object = class.object
M.isclass, M.class, M.super = class.isclass, class.class, class.super
M.issubclass, M.isinstance, M.object = class.issubclass, class.isinstance, class.object

local function define(name, bases, fields)
  return class.make(name, bases, fields, "socketserver")
end

---------------------------------------------------------------------------
-- Errors: Python's `except Exception` and sys.exc_info(), per task.

local exc = require "moonsock.exc"
local fileio = require "moonsock.fileio"
local is_exception, capture, finally = exc.is_exception, exc.capture, exc.finally
local clear_exc = exc.clear
M.exc_info = exc.exc_info

local function is_callable(v)
  if type(v) == "function" then return true end
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

local function short_name(obj) return getmetatable(obj).__name end

-- poll/select need no extra fd, unlike epoll (Python's reason too).
local ServerSelector = selectors.PollSelector or selectors.SelectSelector

---------------------------------------------------------------------------
-- BaseServer

local BaseServer = define("BaseServer", {object}, {timeout = nil})
M.BaseServer = BaseServer

local function check_server_args(self, server_address, RequestHandlerClass)
  if server_address == nil then
    argerror(1, short_name(self), "server_address expected, got no value")
  end
  if not is_callable(RequestHandlerClass) then
    argerror(2, short_name(self), "RequestHandlerClass must be a class or a function, got "
      .. typename(RequestHandlerClass))
  end
end

-- BaseServer(server_address, RequestHandlerClass)
function BaseServer:__init__(server_address, RequestHandlerClass)
  check_server_args(self, server_address, RequestHandlerClass)
  self.server_address = server_address
  self.RequestHandlerClass = RequestHandlerClass
  self._is_shut_down = task.Event()
  self._shutdown_request = false
end

function BaseServer:server_activate() end

-- serve_forever([poll_interval]): one request at a time until shutdown();
-- looks for a shutdown every poll_interval seconds (0.5).
function BaseServer:serve_forever(poll_interval)
  if poll_interval == nil then poll_interval = 0.5 end
  if type(poll_interval) ~= "number" then
    argerror(1, "serve_forever", "number expected, got " .. typename(poll_interval))
  end
  -- the selector's complaints, but about this argument
  check_timeout(poll_interval, 1, "serve_forever")
  self._is_shut_down:clear()
  local _ <close> = finally(function()
    self._shutdown_request = false
    self._is_shut_down:set()
  end)
  local selector <close> = ServerSelector()
  selector:register(self, selectors.EVENT_READ)
  while not self._shutdown_request do
    local ready = selector:select(poll_interval)
    -- bpo-35017: shutdown() called during select(), exit immediately.
    if self._shutdown_request then break end
    if #ready > 0 then self:_handle_request_noblock() end
    self:service_actions()
    -- A poll_interval <= 0 only looks: without a turn for the other tasks
    -- this loop would spin for ever, and shutdown() could never run.
    if poll_interval <= 0 and #ready == 0 then task.yield() end
  end
end

-- shutdown(): stops serve_forever, which runs in another task, and waits
-- until it has returned (called from serve_forever's own task, it waits
-- forever, as Python's deadlocks).
function BaseServer:shutdown()
  self._shutdown_request = true
  self._is_shut_down:wait()
end

function BaseServer:service_actions() end

-- handle_request(): one request, waiting at most self.timeout (or the
-- socket's timeout, whichever is shorter); then handle_timeout().
function BaseServer:handle_request()
  local timeout = self.socket:gettimeout()
  if timeout == nil then
    timeout = self.timeout
  elseif self.timeout ~= nil then
    timeout = math.min(timeout, self.timeout)
  end
  local deadline
  if timeout ~= nil then deadline = task.now() + timeout end
  local selector <close> = ServerSelector()
  selector:register(self, selectors.EVENT_READ)
  while true do
    if #selector:select(timeout) > 0 then return self:_handle_request_noblock() end
    if timeout ~= nil then
      timeout = deadline - task.now()
      if timeout < 0 then return self:handle_timeout() end
    end
  end
end

-- The selector said the socket is readable, so get_request should not wait.
function BaseServer:_handle_request_noblock()
  local ok, request, client_address = pcall(self.get_request, self)
  if not ok then
    if errors.OSError:matches(request) then return end
    error(request, 0)
  end
  if self:verify_request(request, client_address) then
    local okp, err = xpcall(self.process_request, capture, self, request, client_address)
    if not okp then
      if is_exception(err) then
        local _ <close> = finally(clear_exc)
        self:handle_error(request, client_address)
        self:shutdown_request(request)
      else
        clear_exc()
        self:shutdown_request(request)
        error(err, 0)
      end
    end
  else
    self:shutdown_request(request)
  end
end

function BaseServer:handle_timeout() end

function BaseServer:verify_request(request, client_address) -- luacheck: no unused args
  return true
end

function BaseServer:process_request(request, client_address)
  self:finish_request(request, client_address)
  self:shutdown_request(request)
end

function BaseServer:server_close() end

function BaseServer:finish_request(request, client_address)
  self.RequestHandlerClass(request, client_address, self)
end

function BaseServer:shutdown_request(request)
  self:close_request(request)
end

function BaseServer:close_request(request) end -- luacheck: no unused args

-- The traceback of the error being handled, framed as Python frames it.
function BaseServer:handle_error(request, client_address) -- luacheck: no unused args
  local _, tb = M.exc_info()
  exc.report("Exception occurred during processing of request from ", tostring(client_address), "\n",
    tb or "NoneType: None")
end

-- `local server <close> = ...`: Python's `with server:`.
function BaseServer:__close() self:server_close() end

---------------------------------------------------------------------------
-- TCPServer, UDPServer

local TCPServer = define("TCPServer", {BaseServer}, {
  address_family = socket.AF_INET,
  socket_type = socket.SOCK_STREAM,
  request_queue_size = 5,
  allow_reuse_address = false,
  allow_reuse_port = false,
})
M.TCPServer = TCPServer

-- TCPServer(server_address, RequestHandlerClass[, bind_and_activate])
function TCPServer:__init__(server_address, RequestHandlerClass, bind_and_activate)
  if bind_and_activate == nil then bind_and_activate = true end
  if type(bind_and_activate) ~= "boolean" then
    argerror(3, short_name(self), "boolean expected, got " .. typename(bind_and_activate))
  end
  local want = self.address_family == socket.AF_UNIX and "string" or "table"
  if type(server_address) ~= want then
    argerror(1, short_name(self), format("server_address must be a %s, got %s", want,
      server_address == nil and "no value" or typename(server_address)))
  end
  check_server_args(self, server_address, RequestHandlerClass)
  BaseServer.__init__(self, server_address, RequestHandlerClass)
  self.socket = socket.socket(self.address_family, self.socket_type)
  if bind_and_activate then
    local ok, err = pcall(function()
      self:server_bind()
      self:server_activate()
    end)
    if not ok then
      self:server_close()
      -- The address is this constructor's argument: bind's complaint
      -- about it ("bad argument #1 to 'bind'") is ours.
      local msg = type(err) == "string" and err:match("bad argument #1 to 'bind' %((.*)%)$")
      if msg then argerror(1, short_name(self), msg) end
      error(err, 0)
    end
  end
end

function TCPServer:server_bind()
  if self.allow_reuse_address and socket.SO_REUSEADDR then
    self.socket:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  end
  if self.allow_reuse_port and socket.SO_REUSEPORT then
    self.socket:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
  end
  self.socket:bind(self.server_address)
  self.server_address = self.socket:getsockname()
end

function TCPServer:server_activate()
  self.socket:listen(self.request_queue_size)
end

function TCPServer:server_close()
  self.socket:close()
end

function TCPServer:fileno()
  return self.socket:fileno()
end

function TCPServer:get_request()
  return self.socket:accept()
end

function TCPServer:shutdown_request(request)
  -- A close alone would let a duplicate of the fd (a forked child's)
  -- keep the connection open; some systems say ENOTCONN here.
  local ok, err = pcall(request.shutdown, request, socket.SHUT_WR)
  if not ok and not errors.OSError:matches(err) then error(err, 0) end
  self:close_request(request)
end

function TCPServer:close_request(request)
  request:close()
end

local UDPServer = define("UDPServer", {TCPServer}, {
  allow_reuse_address = false,
  allow_reuse_port = false,
  socket_type = socket.SOCK_DGRAM,
  max_packet_size = 8192,
})
M.UDPServer = UDPServer

-- The request is the pair (data, the server's socket).
function UDPServer:get_request()
  local data, client_addr = self.socket:recvfrom(self.max_packet_size)
  return repr.tuple(data, self.socket), client_addr
end

function UDPServer:server_activate() end

function UDPServer:shutdown_request(request)
  self:close_request(request)
end

function UDPServer:close_request(request) end -- luacheck: no unused args

---------------------------------------------------------------------------
-- block_on_close_timeout, the deadline of server_close (ForkingMixIn and
-- ThreadingMixIn). An attribute, not an argument: `with server:` (<close>)
-- calls server_close with none, and a class sets it once, as block_on_close.
local TIMEOUT_MAX = require("moonsock.timeout").TIMEOUT_MAX
local function close_timeout(self)
  local timeout = self.block_on_close_timeout
  if timeout ~= nil and not (type(timeout) == "number" and timeout >= 0 and timeout <= TIMEOUT_MAX) then
    error(errors.ValueError(format("block_on_close_timeout must be nil or a number from 0 to %d, got %s",
      TIMEOUT_MAX, type(timeout) == "number" and tostring(timeout) or typename(timeout))), 3)
  end
  return timeout
end

---------------------------------------------------------------------------
-- ForkingMixIn: a process per request.

-- active_children is Python's set: a table pid -> true.
local ForkingMixIn = define("ForkingMixIn", {object}, {
  timeout = 300,
  active_children = nil,
  max_children = 40,
  block_on_close = true,
  block_on_close_timeout = nil,
})
M.ForkingMixIn = ForkingMixIn

local function count(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n
end

-- collect_children([{blocking = bool}]): reaps the children that have
-- ended (all of them, waiting, with blocking), after waiting until fewer
-- than max_children are left. The waits park only this task.
function ForkingMixIn:collect_children(opts)
  -- reading no active_children off a wrong self, it would do nothing
  if not class.isinstance(self, ForkingMixIn) then
    error(format("calling 'collect_children' on bad self (ForkingMixIn expected, got %s)", typename(self)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    argerror(1, "collect_children", "table expected, got " .. typename(opts))
  end
  local blocking = opts ~= nil and opts.blocking
  local children = self.active_children
  if children == nil then return end
  -- waitpid(-1) reaps in as many calls as there are dead children, but may
  -- reap children this server did not make: only when over the limit.
  while count(children) >= self.max_children do
    local ok, pid = pcall(posix.waitpid, -1, 0)
    if ok then
      children[pid] = nil
    elseif errors.ChildProcessError:matches(pid) then
      for k in pairs(children) do children[k] = nil end
    elseif errors.OSError:matches(pid) then
      break
    else
      error(pid, 0)
    end
  end
  local pids = {}
  for pid in pairs(children) do pids[#pids + 1] = pid end
  for _, pid in ipairs(pids) do
    local ok, r = pcall(posix.waitpid, pid, blocking and 0 or posix.WNOHANG)
    if ok then
      -- r is 0 if the child still runs.
      if r ~= 0 then children[r] = nil end
    elseif errors.ChildProcessError:matches(r) then
      children[pid] = nil -- someone else reaped it
    elseif not errors.OSError:matches(r) then
      error(r, 0)
    end
  end
end

function ForkingMixIn:handle_timeout()
  self:collect_children()
end

function ForkingMixIn:service_actions()
  self:collect_children()
end

-- In the child only this task goes on; it must never return: it ends the
-- process with _exit, 0 if the request was handled, else 1.
function ForkingMixIn:process_request(request, client_address)
  local pid = posix.fork()
  if pid ~= 0 then
    if self.active_children == nil then self.active_children = {} end
    self.active_children[pid] = true
    self:close_request(request)
    return
  end
  local status = 1
  local ok, err = xpcall(self.finish_request, capture, self, request, client_address)
  if ok then
    status = 0
  elseif is_exception(err) then
    pcall(self.handle_error, self, request, client_address)
  end
  pcall(self.shutdown_request, self, request)
  posix._exit(status)
end

-- With a deadline, the blocking collect_children runs in a task of its own,
-- which a cancel stops at the deadline (waitpid parks); the children left
-- are then killed with SIGKILL, which no handler can catch or delay (one
-- that inherited the parent's SIGTERM handler would), and reaped.
function ForkingMixIn:server_close()
  local timeout = close_timeout(self)
  M.super(ForkingMixIn, self):server_close()
  if timeout == nil or not self.block_on_close then
    return self:collect_children{blocking = self.block_on_close}
  end
  local waiter = task.spawn(self.collect_children, self, {blocking = true})
  local ok, err = pcall(waiter.join, waiter, timeout)
  if ok then return end
  if waiter:done() then error(err, 0) end -- collect_children's own error
  waiter:cancel()
  pcall(waiter.join, waiter)
  -- an error of this task's own (a cancel) goes on
  if not errors.TimeoutError:matches(err) then error(err, 0) end
  for pid in pairs(self.active_children or {}) do
    local okk, errk = pcall(posix.kill, pid, posix.SIGKILL)
    if not okk and not errors.OSError:matches(errk) then error(errk, 0) end
  end
  self:collect_children{blocking = true}
end

---------------------------------------------------------------------------
-- ThreadingMixIn: a task per request.

-- The non-daemon tasks server_close joins (Python's _Threads), and the
-- request each one serves (requests[t]), which a deadline closes.
local Threads = {}
Threads.__index = Threads

local function new_threads()
  return setmetatable({requests = {}}, Threads)
end

function Threads:append(t, request)
  self:reap()
  if t:isdaemon() then return end
  self[#self + 1] = t
  self.requests[t] = request
end

function Threads:pop_all()
  local all = table.move(self, 1, #self, 1, {})
  for i = #self, 1, -1 do self[i] = nil end
  local requests = self.requests
  self.requests = {}
  return all, requests
end

-- Joins t, ignoring how it ended as Thread.join does (the task printed its
-- error); an error of the joining task itself (a cancel) goes on. With a
-- timeout, returns whether t has ended.
local function join_quietly(t, timeout)
  local ok, err = pcall(t.join, t, timeout)
  if ok or t:done() then return true end
  if timeout ~= nil and errors.TimeoutError:matches(err) then return false end
  error(err, 0)
end

-- The request of a handler stopped at the deadline: shut down both ways,
-- so that what the handler does on it next ends at once (EOF, EPIPE) even
-- if it catches the cancel (a close alone leaves the fd open while rfile or
-- wfile hold it, as Python's makefile objects do), then close_request.
local function abort_request(server, request)
  if type(request) == "userdata" then
    local ok, err = pcall(request.shutdown, request, socket.SHUT_RDWR)
    if not ok and not errors.OSError:matches(err) then error(err, 0) end
  end
  server:close_request(request)
end

-- join(server[, timeout]): waits for the tasks; those still running after
-- timeout seconds are cancelled (task.Cancelled where they wait) and their
-- requests aborted, then waited for: their cleanup (finish,
-- shutdown_request) still runs, and nothing it does on the request waits.
function Threads:join(server, timeout)
  local all, requests = self:pop_all()
  local deadline
  if timeout ~= nil then deadline = task.now() + timeout end
  local i = 1
  while i <= #all and join_quietly(all[i], deadline and math.max(0, deadline - task.now())) do
    i = i + 1
  end
  for j = i, #all do
    local t = all[j]
    if t:cancel() then abort_request(server, requests[t]) end
  end
  for j = i, #all do join_quietly(all[j]) end
end

function Threads:reap()
  local j = 0
  for i = 1, #self do
    local t = self[i]
    self[i] = nil
    if t:done() then
      self.requests[t] = nil
    else
      j = j + 1
      self[j] = t
    end
  end
end

local NoThreads = {append = function() end, join = function() end}

local ThreadingMixIn = define("ThreadingMixIn", {object}, {
  daemon_threads = false,
  block_on_close = true,
  block_on_close_timeout = nil,
  _threads = NoThreads,
})
M.ThreadingMixIn = ThreadingMixIn

function ThreadingMixIn:process_request_thread(request, client_address)
  local _ <close> = finally(function() self:shutdown_request(request) end)
  local ok, err = xpcall(self.finish_request, capture, self, request, client_address)
  if not ok then
    local _ <close> = finally(clear_exc)
    if not is_exception(err) then error(err, 0) end
    self:handle_error(request, client_address)
  end
end

function ThreadingMixIn:process_request(request, client_address)
  if self.block_on_close and rawget(self, "_threads") == nil then
    self._threads = new_threads()
  end
  local t = task.spawn(function() self:process_request_thread(request, client_address) end)
  t:setdaemon(self.daemon_threads and true or false)
  self._threads:append(t, request)
end

function ThreadingMixIn:server_close()
  local timeout = close_timeout(self)
  M.super(ThreadingMixIn, self):server_close()
  self._threads:join(self, timeout)
end

---------------------------------------------------------------------------
-- The ready-made servers.

M.ForkingUDPServer = define("ForkingUDPServer", {ForkingMixIn, UDPServer}, {})
M.ForkingTCPServer = define("ForkingTCPServer", {ForkingMixIn, TCPServer}, {})
M.ThreadingUDPServer = define("ThreadingUDPServer", {ThreadingMixIn, UDPServer}, {})
M.ThreadingTCPServer = define("ThreadingTCPServer", {ThreadingMixIn, TCPServer}, {})
-- moonsock's (moonsock.prefork): one request at a time in each worker, or a
-- task per request.
local PreforkMixIn = require("moonsock.prefork").PreforkMixIn
M.PreforkMixIn = PreforkMixIn
M.PreforkTCPServer = define("PreforkTCPServer", {PreforkMixIn, TCPServer}, {})
M.PreforkThreadingTCPServer = define("PreforkThreadingTCPServer", {PreforkMixIn, ThreadingMixIn, TCPServer}, {})

local UnixStreamServer = define("UnixStreamServer", {TCPServer}, {address_family = socket.AF_UNIX})
local UnixDatagramServer = define("UnixDatagramServer", {UDPServer}, {address_family = socket.AF_UNIX})
M.UnixStreamServer, M.UnixDatagramServer = UnixStreamServer, UnixDatagramServer
M.ThreadingUnixStreamServer = define("ThreadingUnixStreamServer", {ThreadingMixIn, UnixStreamServer}, {})
M.ThreadingUnixDatagramServer = define("ThreadingUnixDatagramServer",
  {ThreadingMixIn, UnixDatagramServer}, {})
-- Python 3.12's.
M.ForkingUnixStreamServer = define("ForkingUnixStreamServer", {ForkingMixIn, UnixStreamServer}, {})
M.ForkingUnixDatagramServer = define("ForkingUnixDatagramServer",
  {ForkingMixIn, UnixDatagramServer}, {})

---------------------------------------------------------------------------
-- Request handlers: an instance per request; making it handles it.

local BaseRequestHandler = define("BaseRequestHandler", {object}, {})
M.BaseRequestHandler = BaseRequestHandler

function BaseRequestHandler:__init__(request, client_address, server)
  self.request = request
  self.client_address = client_address
  self.server = server
  self:setup()
  local _ <close> = finally(function() self:finish() end)
  self:handle()
end

function BaseRequestHandler:setup() end
function BaseRequestHandler:handle() end
function BaseRequestHandler:finish() end

-- The io files of the handlers, _SocketWriter and BytesIO, stand for
-- Python's io types, whose methods refuse another self (TypeError:
-- descriptor 'flush' for '_io.BytesIO' objects doesn't apply to a 'dict'
-- object): f.closed alone took {} for a file.
-- check_file(f, cls, fname[, closed_ok]): f is a cls, and open unless closed_ok.
local function check_file(f, cls, fname, closed_ok)
  if not class.isinstance(f, cls) then
    error(format("calling '%s' on bad self (%s expected, got %s)", fname, cls.__name, typename(f)), 3)
  end
  if not closed_ok and f.closed then error("attempt to use a closed file", 3) end
end

-- The methods both have, each checking its self against its own class:
-- write(...) hands each string (numbers as io.write writes them) to
-- put(f, s) and returns the file, as io files do; there is nothing to
-- flush; readable and writable answer on a closed file where Python's do
-- (io.IOBase's, not io.BytesIO's).
local function io_methods(cls, put, readable, closed_answers)
  function cls.write(self, ...)
    check_file(self, cls, "write")
    for i = 1, select("#", ...) do
      put(self, fileio.tobytes(i, (select(i, ...)), "write"))
    end
    return self
  end
  function cls.flush(self)
    check_file(self, cls, "flush")
    return true
  end
  function cls.close(self)
    check_file(self, cls, "close", true)
    self.closed = true
    return true
  end
  function cls.readable(self)
    check_file(self, cls, "readable", closed_answers)
    return readable
  end
  function cls.writable(self)
    check_file(self, cls, "writable", closed_answers)
    return true
  end
end

-- Python's _SocketWriter: wfile when wbufsize is 0, no buffer to flush;
-- write sends each string with sendall.
local SocketWriter = define("_SocketWriter", {object}, {closed = false})

function SocketWriter:__init__(sock)
  self._sock = sock
end

io_methods(SocketWriter, function(f, s) f._sock:sendall(s) end, false, true)

function SocketWriter:fileno()
  check_file(self, SocketWriter, "fileno", true)
  return self._sock:fileno()
end

local StreamRequestHandler = define("StreamRequestHandler", {BaseRequestHandler}, {
  rbufsize = -1,
  wbufsize = 0,
  timeout = nil,
  disable_nagle_algorithm = false,
})
M.StreamRequestHandler = StreamRequestHandler

function StreamRequestHandler:setup()
  self.connection = self.request
  if self.timeout ~= nil then self.connection:settimeout(self.timeout) end
  if self.disable_nagle_algorithm then
    self.connection:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
  end
  self.rfile = self.connection:makefile("rb", self.rbufsize)
  if self.wbufsize == 0 then
    self.wfile = SocketWriter(self.connection)
  else
    self.wfile = self.connection:makefile("wb", self.wbufsize)
  end
end

function StreamRequestHandler:finish()
  if not self.wfile.closed then
    -- A last socket error (ECONNABORTED...) is no reason to fail.
    local ok, err = pcall(self.wfile.flush, self.wfile)
    if not ok and not errors.OSError:matches(err) then error(err, 0) end
  end
  self.wfile:close()
  self.rfile:close()
end

---------------------------------------------------------------------------
-- BytesIO: the in-memory files of DatagramRequestHandler, with the methods
-- of a makefile object (Lua io read formats, Python's readline).

local BytesIO = define("BytesIO", {object}, {closed = false})
M.BytesIO = BytesIO

-- The bytes are f._rbuf and the position f._cursor.p: the cursor is the op
-- that moonsock.fileio's readers move, kept from one call to the next.
function BytesIO:__init__(initial)
  if initial ~= nil and type(initial) ~= "string" then
    argerror(1, "BytesIO", "string expected, got " .. typename(initial))
  end
  self._rbuf = initial or ""
  self._cursor = {p = 1}
end

function BytesIO:getvalue()
  check_file(self, BytesIO, "getvalue")
  return self._rbuf
end

local function read_line(f, op, keep)
  local buf, p = f._rbuf, op.p
  if p > #buf then return nil end
  local nl = buf:find("\n", p, true)
  local stop = nl or #buf
  op.p = stop + 1
  return buf:sub(p, (nl and not keep) and stop - 1 or stop)
end

local function peek(f, op, k) return string.byte(f._rbuf, op.p + k) end

local readers = {
  n = fileio.number_reader(peek),
  l = function(f, op) return read_line(f, op, false) end,
  L = function(f, op) return read_line(f, op, true) end,
  a = function(f, op)
    local s = f._rbuf:sub(op.p)
    op.p = #f._rbuf + 1
    return s
  end,
}

-- An integer count: up to n bytes, nil at EOF; 0: "" unless at EOF.
local function read_chars(f, op, n)
  if op.p > #f._rbuf then return nil end
  local s = f._rbuf:sub(op.p, op.p + n - 1)
  op.p = op.p + #s
  return s
end

local function read_zero(f, op)
  if op.p > #f._rbuf then return nil end
  return ""
end

-- read(...): Lua's io formats ("l" with none); nil ends the results at EOF.
function BytesIO:read(...)
  check_file(self, BytesIO, "read")
  return fileio.read_formats(self, self._cursor, fileio.parse_formats(readers, "read", ...), read_chars, read_zero)
end

-- readline([limit]): Python's, the line with its "\n", "" at EOF.
function BytesIO:readline(limit)
  check_file(self, BytesIO, "readline")
  if limit ~= nil and math.type(limit) ~= "integer" then
    argerror(1, "readline", "integer expected, got " .. typename(limit))
  end
  local op = self._cursor
  local line = read_line(self, op, true) or ""
  if limit and limit >= 0 and #line > limit then
    op.p = op.p - (#line - limit)
    line = line:sub(1, limit)
  end
  return line
end

function BytesIO:lines(...)
  check_file(self, BytesIO, "lines")
  local fmts = fileio.parse_formats(readers, "lines", ...)
  return function()
    if self.closed then error("file is already closed", 2) end
    return fileio.lines_result(fileio.read_formats(self, self._cursor, fmts, read_chars, read_zero))
  end
end

-- write(...) writes at the position, over what is there (BytesIO.write).
-- A closed BytesIO cannot say whether it is readable (ValueError: I/O
-- operation on closed file).
io_methods(BytesIO, function(f, v)
  local buf, op = f._rbuf, f._cursor
  local p = op.p
  f._rbuf = buf:sub(1, p - 1) .. v .. buf:sub(p + #v)
  op.p = p + #v
end, true, false)

local DatagramRequestHandler = define("DatagramRequestHandler", {BaseRequestHandler}, {})
M.DatagramRequestHandler = DatagramRequestHandler

-- Python unpacks the request: self.packet, self.socket = self.request
function DatagramRequestHandler:setup()
  local request = self.request
  local n
  if type(request) == "string" then
    -- a str unpacks into its characters
    n = #request
    if n == 2 then request = {request:sub(1, 1), request:sub(2, 2)} end
  elseif type(request) == "table" then
    n = request[2] ~= nil and 2 or request[1] ~= nil and 1 or 0
  else
    local pytype = math.type(request) == "integer" and "int" or math.type(request) or
      ({boolean = "bool", ["nil"] = "NoneType"})[type(request)] or typename(request)
    error(errors.TypeError(format("cannot unpack non-iterable %s object", pytype)), 2)
  end
  if n < 2 then error(errors.ValueError(format("not enough values to unpack (expected 2, got %d)", n)), 2) end
  if n > 2 then error(errors.ValueError("too many values to unpack (expected 2)"), 2) end
  self.packet, self.socket = request[1], request[2]
  self.rfile = BytesIO(self.packet)
  self.wfile = BytesIO()
end

-- The client address is the constructor's argument #2 (the handler is
-- made, and finished, by one call): sendto's complaint about it is ours.
function DatagramRequestHandler:finish()
  local ok, err = pcall(self.socket.sendto, self.socket, self.wfile:getvalue(), self.client_address)
  if ok then return end
  local msg = type(err) == "string" and err:match("bad argument #2 to 'sendto' %((.*)%)$")
  if msg then argerror(2, short_name(self), msg) end
  error(err, 0)
end

return M
