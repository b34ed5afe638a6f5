-- Python's signal module: `local signal = require "signal"`.
--
-- A handler is a Lua function, called as handler(signum, frame) with frame
-- nil (Python's None). It runs where Python runs one, in the main thread and
-- never inside a C signal handler: when the loop turns after the signal came
-- (the main task parks or yields), between tasks. It runs outside any task,
-- so it must not block: a call that would park raises "cannot block here";
-- a handler with waiting to do spawns a task. An error it raises is raised
-- in the main task, where that task waits or at its next instruction, so
-- default_int_handler's KeyboardInterrupt interrupts a sleep or a recv.
--
-- The core (src/signal.c) watches a signal with a libuv uv_signal_t while a
-- Lua handler or a waiter of signal.wait needs it, and otherwise sets the
-- real disposition (SIG_DFL, SIG_IGN, or SIGINT's KeyboardInterrupt handler,
-- which alone also stops a main task busy in Lua code that never yields).
local core = require "moonsock.core.signal"
local tcore = require "moonsock.core.task"
local errors = require "moonsock.errors"
local check_timeout = require("moonsock.timeout").check
local strerror = require("moonsock.posix").strerror

local argerror, typename = errors.argerror, errors.typename

local M = {}

for name, v in pairs(core.signals) do M[name] = v end
for _, name in ipairs {"NSIG", "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK", "ITIMER_REAL",
                       "ITIMER_VIRTUAL", "ITIMER_PROF"} do
  M[name] = core[name]
end
-- Python's Handlers.SIG_DFL and SIG_IGN.
M.SIG_DFL, M.SIG_IGN = 0, 1
local SIG_DFL, SIG_IGN, SIGINT, NSIG = M.SIG_DFL, M.SIG_IGN, M.SIGINT, M.NSIG

-- Python's signal.itimer_error (alias ItimerError), named as it prints.
M.ItimerError = errors["signal.itimer_error"] or errors.define("signal.itimer_error", errors.OSError)

local INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1

-- An integer argument that Python converts to a C int.
local function check_int(v, n, fname)
  if math.type(v) ~= "integer" then
    argerror(n, fname, "integer expected, got " .. (math.type(v) or typename(v)))
  end
  if v < INT_MIN or v > INT_MAX then argerror(n, fname, "Python int too large to convert to C int") end
  return v
end

-- default_int_handler(signum, frame): raises KeyboardInterrupt.
function M.default_int_handler(signum)
  check_int(signum, 1, "default_int_handler")
  error(errors.KeyboardInterrupt(), 0)
end
local default_int_handler = M.default_int_handler

local callable = errors._callable

-- Python's checks of a signal number: an integer, then its range.
local function check_signum(s, n, fname)
  check_int(s, n, fname)
  if s < 1 or s >= NSIG then error(errors.ValueError("signal number out of range"), 3) end
  return s
end

-- signum -> SIG_DFL, SIG_IGN, a function, or nil for a disposition set
-- otherwise (Python's None), as it was when the module loaded.
local handlers = {}
for _, s in ipairs(core.valid_signals()) do
  local kind = core.action(s)
  if kind == "default" then
    handlers[s] = SIG_DFL
  elseif kind == "ignore" then
    handlers[s] = SIG_IGN
  elseif kind == "int" then
    handlers[s] = default_int_handler
  end
end

local waiters = {}  -- signum -> {[rec] = true}: the tasks in wait()
local pausers = {}  -- {[rec] = true}: the tasks in pause()
local watching = {} -- signum -> the core's watch mode (1 handler, 2 waited)

-- SIGINT's KeyboardInterrupt is the core's own handler when it can be.
local function native_int(s, h) return s == SIGINT and h == default_int_handler and core.int_ready() end

-- Makes the process take signal s as handler h (and the waiters) say.
local function apply(s, h)
  local mode = 0
  if next(waiters[s] or {}) then
    mode = 2
  elseif callable(h) and not native_int(s, h) then
    mode = next(pausers) and 2 or 1
  end
  if mode > 0 then
    core.watch(s, mode)
    watching[s] = mode
    return
  end
  if watching[s] then
    core.watch(s, 0) -- libuv leaves SIG_DFL
    watching[s] = nil
  end
  if h == SIG_DFL then
    core.action(s, "default")
  elseif h == SIG_IGN then
    core.action(s, "ignore")
  elseif native_int(s, h) then
    core.action(s, "int")
  end
end

local function wake_all(set, s)
  for rec in pairs(set) do
    set[rec] = nil
    if not rec.got then
      rec.got = s
      tcore.wake(rec.task)
    end
  end
end

-- A signal the core saw: for its waiters if it has any (wait() takes it, as
-- sigwait does), else for its handler; pause() returns after any.
core.set_dispatch(function(s)
  local set = waiters[s]
  if set and next(set) then return wake_all(set, s) end
  local h = handlers[s]
  local ok, err = true, nil
  if callable(h) then ok, err = pcall(h, s, nil) end
  wake_all(pausers, s)
  if not ok then error(err, 0) end
end)

-- signal(signalnum, handler) -> the previous handler.
function M.signal(signalnum, handler)
  local s = check_signum(signalnum, 1, "signal")
  if not (handler == SIG_DFL or handler == SIG_IGN or callable(handler)) then
    argerror(2, "signal", "signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object")
  end
  local old = handlers[s]
  apply(s, handler)
  handlers[s] = handler
  return old
end

-- getsignal(signalnum) -> the handler, nil (None) for one not set from Lua.
function M.getsignal(signalnum)
  return handlers[check_signum(signalnum, 1, "getsignal")]
end

function M.raise_signal(signalnum)
  core.raise_signal(check_int(signalnum, 1, "raise_signal"))
end

function M.strsignal(signalnum) return core.strsignal(check_signum(signalnum, 1, "strsignal")) end

M.valid_signals = core.valid_signals

function M.alarm(seconds)
  return core.alarm(check_int(seconds, 1, "alarm"))
end

local function itimer_result(a, b)
  if a == nil then error(M.ItimerError(b, strerror(b)), 3) end
  return a, b
end

local function check_which(which, fname) check_int(which, 1, fname) end

-- Python's limit: seconds as a C int64 of nanoseconds.
local function check_seconds(v, n, fname)
  if type(v) ~= "number" then argerror(n, fname, "number expected, got " .. typename(v)) end
  if v ~= v then error(errors.ValueError("Invalid value NaN (not a number)"), 3) end
  if v >= 9223372036 or v <= -9223372036 then argerror(n, fname, "timestamp too large to convert to C _PyTime_t") end
  return v
end

-- setitimer(which, seconds[, interval]) -> the old delay and interval.
function M.setitimer(which, seconds, interval)
  check_which(which, "setitimer")
  check_seconds(seconds, 2, "setitimer")
  if interval == nil then interval = 0.0 end
  check_seconds(interval, 3, "setitimer")
  return itimer_result(core.setitimer(which, seconds, interval))
end

-- getitimer(which) -> the delay and interval.
function M.getitimer(which)
  check_which(which, "getitimer")
  return itimer_result(core.getitimer(which))
end

-- pthread_sigmask(how, mask) -> the previous mask, a sorted list.
function M.pthread_sigmask(how, mask)
  check_int(how, 1, "pthread_sigmask")
  if type(mask) ~= "table" then argerror(2, "pthread_sigmask", "table expected, got " .. typename(mask)) end
  for i = 1, #mask do
    local s = mask[i]
    if math.type(s) ~= "integer" then
      argerror(2, "pthread_sigmask", "integers expected, got " .. (math.type(s) or typename(s)))
    end
    if s < 1 or s >= NSIG then
      error(errors.ValueError(string.format("signal number %d out of range [1; %d]", s, NSIG - 1)), 2)
    end
  end
  return core.pthread_sigmask(how, mask)
end

-- set_wakeup_fd(fd) -> the previous fd (-1 for none): a byte, the signal's
-- number, is written to fd for each signal a Lua handler takes.
function M.set_wakeup_fd(fd, opts)
  check_int(fd, 1, "set_wakeup_fd")
  if opts ~= nil and type(opts) ~= "table" then
    argerror(2, "set_wakeup_fd", "table expected, got " .. typename(opts))
  end
  return core.set_wakeup_fd(fd)
end

-- Parks the calling task in set(s) until a dispatch wakes it or the
-- timeout passes; keeps the signals watched meanwhile.
local function park_in(sets, signals, timeout)
  local rec = {task = tcore.current()}
  for _, set in ipairs(sets) do set[rec] = true end
  local function leave()
    for _, set in ipairs(sets) do set[rec] = nil end
    for _, s in ipairs(signals) do apply(s, handlers[s]) end
  end
  local ok, err = pcall(function()
    for _, s in ipairs(signals) do apply(s, handlers[s]) end
    while not rec.got do
      if not tcore.park(timeout) then break end
    end
  end)
  leave()
  if not ok then error(err, 0) end
  return rec.got
end

-- pause(): waits until a signal's handler has run.
function M.pause()
  local handled = {}
  for s, h in pairs(handlers) do
    if callable(h) and not native_int(s, h) then handled[#handled + 1] = s end
  end
  park_in({pausers}, handled, nil)
end

-- wait(signums[, timeout]) -> the number of the signal that came first, nil
-- when the timeout passed. moonsock's own: parks only the calling task.
function M.wait(signums, timeout)
  if type(signums) ~= "table" then argerror(1, "wait", "table expected, got " .. typename(signums)) end
  if #signums == 0 then argerror(1, "wait", "non-empty list expected") end
  local sets, list = {}, {}
  for i = 1, #signums do
    local s = signums[i]
    if math.type(s) ~= "integer" then
      argerror(1, "wait", "integers expected, got " .. (math.type(s) or typename(s)))
    end
    if s < 1 or s >= NSIG then error(errors.ValueError("signal number out of range"), 2) end
    waiters[s] = waiters[s] or {}
    sets[#sets + 1], list[#list + 1] = waiters[s], s
  end
  if timeout ~= nil and type(timeout) ~= "number" then
    argerror(2, "wait", "number expected, got " .. typename(timeout))
  end
  check_timeout(timeout, 2, "wait")
  if timeout and timeout < 0 then argerror(2, "wait", "timeout must be non-negative") end
  return park_in(sets, list, timeout)
end

return M
