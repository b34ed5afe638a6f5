-- Tasks: the threads of moonsock. spawn() runs a function as a task on the
-- loop; the handle joins, cancels and reports like Python's Thread and
-- asyncio's Task. Synchronisation objects come from moonsock.sync.
local core = require "moonsock.core.task"
local errors = require "moonsock.errors"

local task = {}
local methods = core.methods
local state = setmetatable({}, {__mode = "k"}) -- handle -> what it ended with

task.Cancelled = errors.Cancelled
task.KeyboardInterrupt = errors.KeyboardInterrupt
task.sleep, task.now, task.yield = core.sleep, core.now, core.yield
task.current = core.current

local function wake_joiners(st)
  local joiners = st.joiners
  st.joiners = nil
  for _, token in ipairs(joiners) do
    if token.live then core.wake(token.task) end
  end
end

local function traceback_of(err)
  return {err = err, tb = debug.traceback(errors.describe(err), 2)}
end

local function finish(st, ok, ...)
  if ok then
    st.results = table.pack(...)
  else
    local caught = ...
    st.err = caught.err
    if not errors.Cancelled:matches(caught.err) then
      io.stderr:write("moonsock: uncaught error in task: ", caught.tb, "\n")
    end
  end
  st.done = true
  wake_joiners(st)
end

local function runner(fn, ...)
  local st = state[core.current()]
  if core.cancelled() then
    return finish(st, false, {err = errors.Cancelled()})
  end
  return finish(st, xpcall(fn, traceback_of, ...))
end

-- spawn(fn, ...) -> handle; the task starts on the next turn of the loop.
function task.spawn(fn, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error("bad argument #1 to 'spawn' (function expected, got " .. type(fn) .. ")", 2)
  end
  local h = core.spawn(runner, fn, ...)
  state[h] = {joiners = {}}
  return h
end

-- A parked waiter's token stays live only while its task is in core.park,
-- so nothing wakes a task that has gone on to wait for something else.
local function close_token(token) token.live = false end
local token_mt = {__close = close_token}

-- join([timeout]) -> the function's results; raises its error, or a
-- TimeoutError if it has not ended within timeout seconds.
function methods:join(timeout)
  local st = state[self]
  if not st then error("cannot join the main task", 2) end
  if self == core.current() then error("cannot join the current task", 2) end
  if timeout ~= nil and type(timeout) ~= "number" then
    error("bad argument #1 to 'join' (number expected, got " .. type(timeout) .. ")", 2)
  end
  local deadline = timeout and core.now() + timeout
  while not st.done do
    local token <close> = setmetatable({task = core.current(), live = true}, token_mt)
    table.insert(st.joiners, token)
    local left = deadline and math.max(0, deadline - core.now())
    if not core.park(left) and not st.done then
      error(errors.TimeoutError("timed out"), 2)
    end
  end
  if st.err ~= nil then error(st.err, 0) end
  return table.unpack(st.results, 1, st.results.n)
end

function methods:cancel() return core.cancel(self) end
function methods:done() return core.status(self) == "done" end
function methods:status() return core.status(self) end
function methods:cancelled()
  local st = state[self]
  return st ~= nil and st.done and errors.Cancelled:matches(st.err)
end
function methods:setdaemon(flag) core.setdaemon(self, flag) end
function methods:isdaemon() return core.isdaemon(self) end

-- spawn_daemon: a task that does not keep the process alive.
function task.spawn_daemon(fn, ...)
  local h = task.spawn(fn, ...)
  core.setdaemon(h, true)
  return h
end

function task.count() return core.count() end

local sync = require "moonsock.sync"
for k, v in pairs(sync) do task[k] = v end

return task
