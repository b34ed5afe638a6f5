-- socketserver.PreforkMixIn, moonsock's own: one port served by several worker processes, forked when
-- serve_forever starts and restarted when they die (not Python's: its
-- socketserver has no prefork; the idea is Apache's and gunicorn's).
--
-- The parent binds in the constructor, as any server, so that
-- server_address holds the port before serve_forever forks. Then either
-- every worker accepts on that listening socket, inherited through fork
-- (reuse_port false), or the parent's socket only holds the port, bound with
-- SO_REUSEPORT but not listening, and each worker binds and listens on a
-- socket of its own, among which the kernel spreads the connections
-- (reuse_port true, the default: bench/workers.py measured it even where
-- a shared socket gave every connection of a burst to one worker).
-- AF_UNIX sockets have no SO_REUSEPORT: there the workers always share.
-- So do they a socket that is already listening when serving starts: one
-- inherited from systemd's socket activation (bind_and_activate false, then
-- server.socket = socket.fromfd(3, ...)), whose address cannot be bound twice.
--
-- Under systemd (NOTIFY_SOCKET set, Type=notify) the parent says READY=1
-- once the workers are forked, STOPPING=1 when it stops, and WATCHDOG=1
-- every WATCHDOG_USEC/2 while it supervises (sd_watchdog_enabled(3)).

--
-- socketserver exports the mixin and composes its ready-made servers
-- (PreforkTCPServer, PreforkThreadingTCPServer); the class is named
-- socketserver.PreforkMixIn, where users find it.
-- Hooks that do nothing still take self, as Python's do.
-- luacheck: no self
local socket, task, selectors = require "socket", require "task", require "selectors"
local posix, signal = require "moonsock.posix", require "signal"
-- socketserver's own helpers, which this module must not require back
local class, exc = require "moonsock.class", require "moonsock.exc"
local errors = require "moonsock.errors"
local daemon = require "systemd.daemon"
local super, format = class.super, string.format

local M = {}

local PreforkMixIn = class.make("PreforkMixIn", {class.object}, {
  workers = nil,        -- nil: posix.process_cpu_count()
  reuse_port = true,
  max_restarts = 10,    -- restarts allowed within restart_window seconds
  restart_window = 10,
  stop_timeout = 5,     -- seconds between SIGTERM and SIGKILL when stopping
  active_workers = nil, -- in the parent while serving: pid -> worker number
  worker_number = nil,  -- in a worker: its number, 1 to workers
}, "socketserver")
M.PreforkMixIn = PreforkMixIn

-- A worker's first restart is immediate, the next ones within the window
-- wait longer and longer (to 1 s), so that a crash loop cannot fork
-- faster than the supervisor can count it.
local FIRST_RESTART_DELAY, MAX_RESTART_DELAY = 0.05, 1 -- seconds
local function restart_delay(recent)
  if recent == 0 then return 0 end
  return math.min(FIRST_RESTART_DELAY * 2 ^ (recent - 1), MAX_RESTART_DELAY)
end

local function describe_status(status)
  if status == nil then return "reaped elsewhere" end
  if posix.WIFSIGNALED(status) then return format("killed by signal %d", posix.WTERMSIG(status)) end
  if posix.WIFEXITED(status) then return format("exit status %d", posix.WEXITSTATUS(status)) end
  return format("wait status %d", status)
end

-- Whether each worker binds a socket of its own.
local function own_sockets(self)
  return self.reuse_port and self.address_family ~= socket.AF_UNIX and not rawget(self, "_inherited")
end

-- sd_watchdog_enabled(3): the seconds between WATCHDOG=1 pings (half of
-- WATCHDOG_USEC), or nil when systemd watches another pid or nothing.
local function watchdog_interval()
  local usec = math.tointeger(tonumber(os.getenv("WATCHDOG_USEC") or ""))
  if not usec or usec <= 0 then return nil end
  local pid = os.getenv("WATCHDOG_PID")
  if pid and math.tointeger(tonumber(pid)) ~= posix.getpid() then return nil end
  return usec / 2e6
end

-- The parent's socket only holds the port when each worker binds its own.
function PreforkMixIn:server_bind()
  if own_sockets(self) then
    if not socket.SO_REUSEPORT then error("SO_REUSEPORT not supported on this platform", 2) end
    self.socket:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
  end
  super(PreforkMixIn, self):server_bind()
end

-- A listening socket in the parent would queue connections nobody accepts.
function PreforkMixIn:server_activate()
  if own_sockets(self) and self.worker_number == nil then return end
  super(PreforkMixIn, self):server_activate()
end

-- Hooks: worker_init runs in each worker before it serves (an error there
-- ends the worker, which counts as a crash); handle_worker_exit runs in the
-- parent when a worker has ended, before it is replaced.
function PreforkMixIn:worker_init() end

function PreforkMixIn:handle_worker_exit(number, pid, status)
  exc.report(format("Worker %d (pid %d) ended: %s", number, pid, describe_status(status)))
end

-- In a worker, the serving socket: its own (reuse_port), or the parent's.
-- Non-blocking, as the workers sharing one socket race for each
-- connection: a loser's accept raises BlockingIOError, which
-- _handle_request_noblock ignores, instead of parking until the next one.
function PreforkMixIn:_worker_socket()
  if own_sockets(self) then
    self.socket:close()
    self.socket = socket.socket(self.address_family, self.socket_type)
    self:server_bind()
    self:server_activate()
  end
  self.socket:settimeout(0)
end

-- The child's side of a fork: serve until the process is killed, or until
-- shutdown() in the worker; never returns.
function PreforkMixIn:_worker_main(number, poll_interval)
  -- The parent's SIGTERM and its death (by any signal) stop the worker
  -- gracefully (_drain, below); a ^C reaches the whole process group, but
  -- the parent stops the workers itself.
  signal.signal(signal.SIGTERM, function() self._shutdown_request = true end)
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  signal.signal(signal.SIGHUP, signal.SIG_IGN) -- the parent's: a reload
  -- A SIGTERM that came between the fork and the lines above was held
  -- (blocked in _start_worker) from the parent's handler: it was meant for
  -- this worker, which it stops here.
  signal.pthread_sigmask(signal.SIG_SETMASK, self._sigmask)
  posix.set_pdeathsig(posix.SIGTERM)
  -- The parent may have died before set_pdeathsig: no signal would come.
  if posix.getppid() ~= self._parent_pid then posix.kill(posix.getpid(), posix.SIGTERM) end
  self.worker_number = number
  self.active_workers = nil
  local status = 1
  local ok, err = xpcall(function()
    self:_worker_socket()
    self:worker_init()
    -- a reload waits for this before it stops the worker this one replaces
    local ready = rawget(self, "_ready")
    if ready then
      self._ready = nil
      pcall(ready.sendall, ready, "r")
      ready:close()
    end
    super(PreforkMixIn, self):serve_forever(poll_interval)
    self:_drain()
  end, exc.capture)
  if ok then
    status = 0
  else
    local _, tb = exc.exc_info()
    pcall(exc.report, format("Exception in worker %d (pid %d)\n", number, posix.getpid()),
      tb or errors.describe(err))
  end
  pcall(self.server_close, self)
  pcall(io.stdout.flush, io.stdout)
  posix._exit(status)
end

-- After a stop (SIGTERM): the connections the listening socket had
-- queued were made before it, so they are answered too, for stop_timeout
-- seconds at most; server_close then waits as long for the requests in
-- progress (block_on_close_timeout, unless the class sets its own).
function PreforkMixIn:_drain()
  local deadline = task.now() + self.stop_timeout
  if self.block_on_close_timeout == nil then self.block_on_close_timeout = self.stop_timeout end
  local sel <close> = selectors.DefaultSelector()
  sel:register(self.socket, selectors.EVENT_READ)
  while task.now() < deadline and #sel:select(0) > 0 do
    self:_handle_request_noblock()
    task.yield()
  end
end

-- With wait_ready, returns once the worker serves (or READY_TIMEOUT
-- seconds passed): it says so on a socket pair.
local READY_TIMEOUT = 10
function PreforkMixIn:_start_worker(number, poll_interval, wait_ready)
  local here, there
  if wait_ready then here, there = socket.socketpair() end
  -- SIGTERM and SIGHUP wait, blocked, until the child has its own
  -- dispositions: the parent's handlers must not take them in the child.
  local mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGHUP})
  local ok, pid = pcall(posix.fork)
  if ok and pid == 0 then
    self._sigmask = mask
    if here then
      here:close()
      self._ready = there
    end
    self:_worker_main(number, poll_interval)
  end
  signal.pthread_sigmask(signal.SIG_SETMASK, mask)
  if there then there:close() end
  if not ok then
    if here then here:close() end
    error(pid, 0)
  end
  self.active_workers[pid] = number
  if here then
    here:settimeout(READY_TIMEOUT)
    pcall(here.recv, here, 1)
    here:close()
  end
end

-- SIGHUP in the parent: replaces the workers one by one, each new one
-- serving before the one of its number is stopped gracefully (SIGTERM:
-- _drain), so the port keeps serving; the old ones are reaped as retiring,
-- never restarted. systemd hears RELOADING=1, then READY=1.
function PreforkMixIn:_reload_workers(poll_interval)
  pcall(daemon.notify, "RELOADING=1")
  local by_number, numbers = {}, {}
  for pid, number in pairs(self.active_workers) do by_number[number] = pid end
  for number in pairs(by_number) do numbers[#numbers + 1] = number end
  table.sort(numbers)
  for _, number in ipairs(numbers) do
    if self._terminated or self._shutdown_request then break end
    self:_start_worker(number, poll_interval, true)
    local old = by_number[number]
    self.active_workers[old] = nil
    self._retiring[old] = number
    pcall(posix.kill, old, posix.SIGTERM)
  end
  pcall(daemon.notify, "READY=1")
end

-- Reaps the retiring workers that have ended.
function PreforkMixIn:_reap_retiring()
  for pid in pairs(self._retiring) do
    local ok, r = pcall(posix.waitpid, pid, posix.WNOHANG)
    if not ok and not errors.ChildProcessError:matches(r) then error(r, 0) end
    if not ok or r ~= 0 then self._retiring[pid] = nil end
  end
end

-- Stops the workers: SIGTERM, then, after stop_timeout seconds (and
-- STOP_GRACE more, for a worker that used all of stop_timeout on its
-- requests to close what is left), SIGKILL; reaps them all, looking every
-- REAP_INTERVAL seconds.
local REAP_INTERVAL, STOP_GRACE = 0.01, 1
function PreforkMixIn:_stop_workers()
  local workers = self.active_workers
  for pid, number in pairs(rawget(self, "_retiring") or {}) do
    if workers then workers[pid] = number end
  end
  self._retiring = {}
  if workers == nil or next(workers) == nil then return end
  -- Serving (in another task) must not restart them.
  self._shutdown_request = true
  for pid in pairs(workers) do pcall(posix.kill, pid, posix.SIGTERM) end
  local deadline = task.now() + self.stop_timeout + STOP_GRACE
  local killed = false
  while true do
    for pid in pairs(workers) do
      local ok, r = pcall(posix.waitpid, pid, posix.WNOHANG)
      if not ok and not errors.ChildProcessError:matches(r) then error(r, 0) end
      if not ok or r ~= 0 then workers[pid] = nil end
    end
    if next(workers) == nil then return end
    if not killed and task.now() >= deadline then
      for pid in pairs(workers) do pcall(posix.kill, pid, posix.SIGKILL) end
      killed = true
    end
    task.sleep(REAP_INTERVAL)
  end
end

-- The parent's loop: starts the workers, then every poll_interval (or at
-- once on shutdown) looks for workers that ended and replaces them, for a
-- SIGTERM, and for a shutdown.
function PreforkMixIn:_supervise(n, poll_interval)
  local restarts = {} -- task.now() of each recent restart
  local workers = self.active_workers
  for i = 1, n do self:_start_worker(i, poll_interval) end
  daemon.notify("READY=1")
  local watchdog = watchdog_interval()
  local next_ping = watchdog and task.now()
  while not self._shutdown_request do
    if next_ping and task.now() >= next_ping then
      daemon.notify("WATCHDOG=1")
      next_ping = task.now() + watchdog
    end
    if self._terminated then return end
    if self._reload then
      self._reload = false
      self:_reload_workers(poll_interval)
    end
    self:_reap_retiring()
    local ended = {}
    for pid, number in pairs(workers) do
      local ok, r, status = pcall(posix.waitpid, pid, posix.WNOHANG)
      if not ok then
        if not errors.ChildProcessError:matches(r) then error(r, 0) end
        ended[#ended + 1] = {pid = pid, number = number}
      elseif r ~= 0 then
        ended[#ended + 1] = {pid = pid, number = number, status = status}
      end
    end
    table.sort(ended, function(a, b) return a.number < b.number end)
    for _, w in ipairs(ended) do
      workers[w.pid] = nil
      self:handle_worker_exit(w.number, w.pid, w.status)
      -- server_close, in another task, is stopping them.
      if self._shutdown_request then return end
      local now = task.now()
      local j = 0
      for _, t in ipairs(restarts) do
        if now - t < self.restart_window then
          j = j + 1
          restarts[j] = t
        end
      end
      for k = #restarts, j + 1, -1 do restarts[k] = nil end
      if #restarts >= self.max_restarts then
        error(errors.RuntimeError(format("workers keep dying: %d restarts within %g seconds",
          #restarts, self.restart_window)), 0)
      end
      local delay = restart_delay(#restarts)
      if delay > 0 then
        self._wakeup:wait(delay)
        self._wakeup:clear()
        if self._shutdown_request then return end
      end
      restarts[#restarts + 1] = task.now()
      self:_start_worker(w.number, poll_interval)
    end
    self:service_actions()
    self._wakeup:wait(next_ping and math.min(poll_interval, math.max(next_ping - task.now(), 0)) or poll_interval)
    self._wakeup:clear()
  end
end

-- serve_forever([poll_interval]): in the parent, forks the workers, each of
-- which runs the ordinary serve_forever, and supervises them until
-- shutdown(), server_close(), SIGTERM (then it returns) or an error
-- (KeyboardInterrupt, too many restarts: raised again); the workers are
-- stopped and reaped in every case.
function PreforkMixIn:serve_forever(poll_interval)
  if poll_interval == nil then poll_interval = 0.5 end
  if type(poll_interval) ~= "number" then
    errors.argerror(1, "serve_forever", "number expected, got " .. errors.typename(poll_interval))
  end
  if self.worker_number ~= nil then
    return super(PreforkMixIn, self):serve_forever(poll_interval)
  end
  if self.socket_type ~= socket.SOCK_STREAM then
    error(errors.ValueError("PreforkMixIn serves stream sockets only"), 2)
  end
  local n = self.workers
  if n == nil then n = posix.process_cpu_count() end
  if math.type(n) ~= "integer" or n < 1 then
    error(errors.ValueError("workers must be a positive integer, got " .. tostring(n)), 2)
  end
  self._is_shut_down:clear()
  local _ <close> = exc.finally(function()
    self._shutdown_request = false
    self._is_shut_down:set()
  end)
  self._wakeup = task.Event()
  self._parent_pid = posix.getpid()
  self._terminated = false
  self.active_workers = {}
  self._retiring = {} -- pid -> number: replaced by a reload, stopping
  self._reload = false
  self._inherited = self.socket:getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) ~= 0
  -- The handler only notes it: the supervisor looks every poll_interval.
  local previous = signal.signal(signal.SIGTERM, function() self._terminated = true end)
  local previous_hup = signal.signal(signal.SIGHUP, function()
    self._reload = true
    self._wakeup:set()
  end)
  local ok, err = pcall(self._supervise, self, n, poll_interval)
  signal.signal(signal.SIGTERM, previous or signal.SIG_DFL)
  signal.signal(signal.SIGHUP, previous_hup or signal.SIG_DFL)
  pcall(daemon.notify, "STOPPING=1")
  self:_stop_workers()
  if not ok then error(err, 0) end
end

-- shutdown(): as BaseServer's, and wakes the supervisor at once.
function PreforkMixIn:shutdown()
  self._shutdown_request = true
  local wakeup = rawget(self, "_wakeup")
  if wakeup then wakeup:set() end
  self._is_shut_down:wait()
end

-- In the parent, also stops and reaps the workers.
function PreforkMixIn:server_close()
  if self.worker_number == nil then
    local wakeup = rawget(self, "_wakeup")
    if wakeup then wakeup:set() end
    self:_stop_workers()
  end
  super(PreforkMixIn, self):server_close()
end

return M
