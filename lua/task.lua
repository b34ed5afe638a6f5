-- Tasks: the threads of moonsock. spawn() runs a function as a task on the
-- loop; the handle joins, cancels and reports like Python's Thread and
-- asyncio's Task. Synchronisation objects come from moonsock.sync.
local core = require "moonsock.core.task"
local errors = require "moonsock.errors"
local check_timeout = require("moonsock.timeout").check

local task = {}
local methods = core.methods
local state = setmetatable({}, {__mode = "k"}) -- handle -> what it ended with

task.Cancelled = errors.Cancelled
task.KeyboardInterrupt = errors.KeyboardInterrupt
task.sleep, task.now, task.yield = core.sleep, core.now, core.yield
task.current = core.current

-- Joiners wait in core.join, which the core ends when the coroutine ends:
-- if this bookkeeping itself runs out of memory, they still wake (and join
-- raises the core's error).
local function finish(st, ...)
  st.results = table.pack(...)
  st.done = true
end

-- A task's state is collected with its handle (state is weak-keyed).
local unretrieved_mt = {__gc = function(st)
  local text = st.unretrieved
  if text then
    st.unretrieved = nil
    pcall(io.stderr.write, io.stderr, "moonsock: uncaught error in task: ", text, "\n")
  end
end}

-- An error ends the task's coroutine; the core describes it with the dead
-- coroutine's traceback (text) and prints it at once unless this hook,
-- which records it for join, answers true: for a Cancelled, never printed,
-- and for an error it keeps to print only if nobody retrieves it (asyncio's
-- "Task exception was never retrieved"): join raising it retrieves it; the
-- handle's collection, or the state's close at exit, prints it, once. No
-- xpcall per task: its C frame would reserve stack in every parked
-- coroutine (about 700 bytes each).
core.on_failed(function(h, err, text)
  local st = state[h]
  if st then
    st.err = err
    st.done = true
  end
  if errors.Cancelled:matches(err) then return true end
  if not st or type(text) ~= "string" then return false end
  st.unretrieved = text
  -- Only a state with an error to print gets a finalizer: spawn makes none,
  -- so the tasks that end well cost the collector nothing more.
  setmetatable(st, unretrieved_mt)
  return true
end)

-- A task whose spawn ran out of memory after the core made it has no state:
-- it ends at once, as its spawn raised.
local function runner(fn, ...)
  local st = state[core.current()]
  if not st then return end
  if core.cancelled() then error(errors.Cancelled(), 0) end
  return finish(st, fn(...))
end

local function check_fn(fn, fname)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error("bad argument #1 to '" .. fname .. "' (function expected, got " .. type(fn) .. ")", 3)
  end
end

local function spawn(fn, ...)
  local st = {}
  local h = core.spawn(runner, fn, ...)
  state[h] = st
  return h
end

-- spawn(fn, ...) -> handle; the task starts on the next turn of the loop.
function task.spawn(fn, ...)
  check_fn(fn, "spawn")
  return spawn(fn, ...)
end

-- The methods written here look the handle up in state[], where a wrong
-- self is simply missing: join({}) said "cannot join the main task" and
-- cancelled(nil) answered false. The C core knows its handles.
local function check_handle(h, fname)
  if not pcall(core.status, h) then
    error(string.format("calling '%s' on bad self (task handle expected, got %s)", fname,
      errors.typename(h)), 3)
  end
end

-- join([timeout]) -> the function's results; raises its error, or a
-- TimeoutError if it has not ended within timeout seconds.
function methods:join(timeout)
  check_handle(self, "join")
  local st = state[self]
  if not st then error("cannot join the main task", 2) end
  if self == core.current() then error("cannot join the current task", 2) end
  if timeout ~= nil and type(timeout) ~= "number" then
    errors.argerror(1, "join", "number expected, got " .. type(timeout))
  end
  check_timeout(timeout, 1, "join")
  local deadline = timeout and core.now() + timeout
  while not st.done do
    -- Ended without recording how: its bookkeeping ran out of memory.
    if core.status(self) == "done" then error(core.error(self) or "not enough memory", 0) end
    local left = deadline and math.max(0, deadline - core.now())
    if not core.join(self, left) and not st.done then
      error(errors.TimeoutError("timed out"), 2)
    end
  end
  if st.err ~= nil then
    st.unretrieved = nil
    error(st.err, 0)
  end
  return table.unpack(st.results, 1, st.results.n)
end

function methods:cancel()
  check_handle(self, "cancel")
  return core.cancel(self)
end
function methods:done()
  check_handle(self, "done")
  return core.status(self) == "done"
end
function methods:status()
  check_handle(self, "status")
  return core.status(self)
end
function methods:cancelled()
  check_handle(self, "cancelled")
  local st = state[self]
  return st ~= nil and st.done and errors.Cancelled:matches(st.err)
end
function methods:setdaemon(flag)
  check_handle(self, "setdaemon")
  core.setdaemon(self, flag)
end
function methods:isdaemon()
  check_handle(self, "isdaemon")
  return core.isdaemon(self)
end

-- spawn_daemon: a task that does not keep the process alive.
function task.spawn_daemon(fn, ...)
  check_fn(fn, "spawn_daemon")
  local h = spawn(fn, ...)
  core.setdaemon(h, true)
  return h
end

function task.count() return core.count() end

local sync = require "moonsock.sync"
for k, v in pairs(sync) do task[k] = v end

return task
