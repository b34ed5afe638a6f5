-- The synchronisation objects of Python's threading and queue modules, for
-- tasks: Event, Lock, RLock, Semaphore, BoundedSemaphore, Condition, Queue,
-- LifoQueue, PriorityQueue, SimpleQueue, and queue's errors Empty and Full.
-- lua/task.lua copies every field of this table into the task module.
--
-- Each object keeps its waiters in a FIFO list of tokens. Whoever makes the
-- awaited thing available (the lock, a semaphore unit, a notification, an
-- item, a free slot) hands it to the first token at once ("grants" it): the
-- token leaves the list, so nothing is handed to it twice, and its task
-- wakes. A waiter that leaves the wait takes its token out of the list
-- itself, so a timed-out or cancelled waiter is never woken later. A grant
-- wins over a timeout that fired before the waiter ran again: it does not
-- get lost, the wait succeeds. A waiter that leaves with an error (Cancelled,
-- KeyboardInterrupt) although it was granted passes the grant on to the next
-- waiter. Since the thing is handed over, a newcomer cannot take it from
-- under a woken waiter: waiters are served in the order they came.
local core = require "moonsock.core.task"
local errors = require "moonsock.errors"

local sync = {}

-- ---- errors ----

-- errors.define registers a class with errors.lua, so that errors.describe
-- and the classes of errors.lua know it; where it is missing, make classes
-- that behave the same for cls(...), tostring and cls:matches.
local define = errors.define or function(name, base)
  local function matches(cls, err)
    local c = getmetatable(err)
    while type(c) == "table" do
      if c == cls then return true end
      c = rawget(c, "__base")
    end
    return false
  end
  local cls = {__name = name, __base = base, __tostring = base.__tostring,
               __index = base.__index, matches = matches}
  return setmetatable(cls, getmetatable(base))
end

local function class(name, base) return errors[name] or define(name, base) end

local RuntimeError = class("RuntimeError", errors.Exception)
local ValueError = class("ValueError", errors.Exception)
sync.Empty = class("Empty", errors.Exception)
sync.Full = class("Full", errors.Exception)

local here = debug.getinfo(1, "S").source

-- Lua's own wording for a wrong argument; n counts after self, as Lua does
-- for a method. The position is the caller's.
local argerror = errors.argerror

local function check_type(v, n, fname, want, optional)
  if (v == nil and optional) or type(v) == want then return v end
  argerror(n, fname, want .. " expected, got " .. (v == nil and "no value" or type(v)))
end

-- Python's threading.TIMEOUT_MAX: a longer wait is an OverflowError there,
-- where it would be a wait without end here.
local TIMEOUT_MAX = 9223372036

local function check_timeout(v, n, fname)
  check_type(v, n, fname, "number", true)
  if v ~= v then argerror(n, fname, "timeout is NaN") end
  if v and v > TIMEOUT_MAX then argerror(n, fname, "timeout value is too large") end
  return v
end

local function check_blocking(v, n, fname)
  if v == nil then return true end
  return check_type(v, n, fname, "boolean")
end

local function check_integer(v, n, fname, default)
  if v == nil then return default end
  check_type(v, n, fname, "number")
  local i = math.tointeger(v)
  if not i then argerror(n, fname, "number has no integer representation") end
  return i
end

local function address(obj) return string.format("%p", obj) end

-- ---- waiting ----

-- A waiter list is a ring of tokens through a sentinel: any token leaves it
-- in O(1), wherever it stands.
local function new_list()
  local l = {}
  l.next, l.prev = l, l
  return l
end

local function push(l, tok)
  tok.prev, tok.next = l.prev, l
  l.prev.next = tok
  l.prev = tok
end

local function unlink(tok)
  local p, n = tok.prev, tok.next
  if p then
    p.next, n.prev = n, p
    tok.prev, tok.next = nil, nil
  end
end

local function has_waiters(l) return l.next ~= l end

-- Hands the first waiter what it waits for; returns its token, or nil when
-- nobody waits. The task wakes on a later turn of the loop.
local function grant(l)
  local tok = l.next
  if tok == l then return nil end
  unlink(tok)
  tok.granted = true
  core.wake(tok.task)
  return tok
end

-- Whatever ended the wait, the token leaves the list; a grant that came
-- with an error is passed on by the object's lost(token).
local waiter_mt = {__close = function(tok, err)
  unlink(tok)
  if tok.granted and err ~= nil and tok.lost then tok.lost(tok) end
end}

-- Parks the current task in list l until it is granted (true), the timeout
-- passes or a stray core.wake wakes it (false).
local function await(l, timeout, obj, lost)
  local tok <close> = setmetatable({task = core.current(), obj = obj, lost = lost}, waiter_mt)
  push(l, tok)
  core.park(timeout)
  return tok.granted
end

-- try(obj) takes what is free without waiting; otherwise waits in l until
-- granted or until the deadline (nil: none). Returns whether it got it.
local function wait_for_grant(obj, l, deadline, try, lost)
  repeat
    if try(obj) then return true end
    local rest = deadline and deadline - core.now()
    if rest and rest <= 0 then return false end
  until await(l, rest, obj, lost)
  return true
end

local function deadline_of(timeout) return timeout and core.now() + timeout end

local function never() return false end

-- obj:with(fn, ...): Python's `with obj:`: holds obj while fn runs, lets it
-- go even if fn raises, and returns fn's results.
local function release_quietly(obj, err)
  -- while an error unwinds, a failing release must not hide that error
  if err ~= nil then pcall(obj.release, obj) else obj:release() end
end

local holder_mt = {__close = function(h, err) release_quietly(h[1], err) end}

local function with(self, fn, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    argerror(1, "with", "function expected, got " .. type(fn))
  end
  self:acquire()
  local _ <close> = setmetatable({self}, holder_mt)
  return fn(...)
end

local function install_context(cls)
  cls.with = with
  -- `obj:acquire() local _ <close> = obj` releases at the end of the block
  cls.__close = release_quietly
end

-- ---- Lock ----

local Lock = {}
Lock.__index = Lock
Lock.__name = "lock"

function sync.Lock()
  return setmetatable({_locked = false, _waiters = new_list()}, Lock)
end

-- Python's lock.acquire arguments: -1 is forever, no other negative value.
local function lock_timeout(blocking, timeout, fname)
  blocking = check_blocking(blocking, 1, fname)
  timeout = check_timeout(timeout, 2, fname)
  if timeout == -1 then timeout = nil end
  if not blocking and timeout ~= nil then
    argerror(2, fname, "can't specify a timeout for a non-blocking call")
  end
  if timeout and timeout < 0 then argerror(2, fname, "timeout value must be positive") end
  return blocking, timeout
end

-- While anybody waits the lock is locked: release hands it over.
local function try_lock(self)
  if self._locked then return false end
  self._locked = true
  return true
end

local function unlock(self)
  if not grant(self._waiters) then self._locked = false end
end

local function lock_lost(tok) unlock(tok.obj) end

-- acquire([blocking[, timeout]]) -> true if it got the lock.
function Lock:acquire(blocking, timeout)
  blocking, timeout = lock_timeout(blocking, timeout, "acquire")
  if not blocking then return try_lock(self) end
  return wait_for_grant(self, self._waiters, deadline_of(timeout), try_lock, lock_lost)
end

function Lock:release()
  if not self._locked then error(RuntimeError("release unlocked lock"), 2) end
  unlock(self)
end

function Lock:locked() return self._locked end

function Lock:__tostring()
  return string.format("<%s _thread.lock object at %s>",
                       self._locked and "locked" or "unlocked", address(self))
end

install_context(Lock)

-- ---- RLock ----

local RLock = {}
RLock.__index = RLock
RLock.__name = "RLock"

function sync.RLock()
  return setmetatable({_owner = nil, _count = 0, _waiters = new_list()}, RLock)
end

local function try_rlock(self)
  local me = core.current()
  if self._owner == nil then
    self._owner, self._count = me, 1
    return true
  end
  if self._owner == me then
    self._count = self._count + 1
    return true
  end
  return false
end

local function hand_rlock(self)
  local tok = grant(self._waiters)
  if tok then
    self._owner, self._count = tok.task, 1
  else
    self._owner, self._count = nil, 0
  end
end

local function rlock_lost(tok) hand_rlock(tok.obj) end

function RLock:acquire(blocking, timeout)
  blocking, timeout = lock_timeout(blocking, timeout, "acquire")
  if not blocking then return try_rlock(self) end
  return wait_for_grant(self, self._waiters, deadline_of(timeout), try_rlock, rlock_lost)
end

function RLock:release()
  if self._owner ~= core.current() or self._count == 0 then
    error(RuntimeError("cannot release un-acquired lock"), 2)
  end
  self._count = self._count - 1
  if self._count == 0 then hand_rlock(self) end
end

function RLock:locked() return self._owner ~= nil end

-- What Condition needs: ownership, and letting go of every level at once.
function RLock:_is_owned() return self._owner == core.current() end

function RLock:_release_save()
  local count = self._count
  hand_rlock(self)
  return count
end

function RLock:_acquire_restore(count)
  self:acquire()
  self._count = count
end

function RLock:__tostring()
  -- Python shows the owner's thread ident: here, the task handle's address
  local owner = self._owner and math.tointeger(tonumber(address(self._owner))) or 0
  return string.format("<%s _thread.RLock object owner=%d count=%d at %s>",
                       self._owner and "locked" or "unlocked", owner, self._count, address(self))
end

install_context(RLock)

-- ---- Semaphore, BoundedSemaphore ----

local Semaphore = {}
Semaphore.__index = Semaphore
Semaphore.__name = "Semaphore"

local BoundedSemaphore = setmetatable({}, {__index = Semaphore})
BoundedSemaphore.__index = BoundedSemaphore
BoundedSemaphore.__name = "BoundedSemaphore"

local function new_semaphore(cls, fname, value)
  value = check_integer(value, 1, fname, 1)
  if value < 0 then argerror(1, fname, "semaphore initial value must be >= 0") end
  return setmetatable({_value = value, _initial = value, _waiters = new_list()}, cls)
end

function sync.Semaphore(value) return new_semaphore(Semaphore, "Semaphore", value) end
function sync.BoundedSemaphore(value)
  return new_semaphore(BoundedSemaphore, "BoundedSemaphore", value)
end

-- While anybody waits the value is 0: release hands units over.
local function try_semaphore(self)
  if self._value == 0 then return false end
  self._value = self._value - 1
  return true
end

local function semaphore_lost(tok)
  local self = tok.obj
  if not grant(self._waiters) then self._value = self._value + 1 end
end

-- acquire([blocking[, timeout]]) -> true if it got a unit. As in Python, a
-- negative timeout only tries.
function Semaphore:acquire(blocking, timeout)
  blocking = check_blocking(blocking, 1, "acquire")
  timeout = check_timeout(timeout, 2, "acquire")
  if not blocking and timeout ~= nil then
    argerror(2, "acquire", "can't specify timeout for non-blocking acquire")
  end
  if not blocking then return try_semaphore(self) end
  return wait_for_grant(self, self._waiters, deadline_of(timeout), try_semaphore, semaphore_lost)
end

local function check_release_count(n)
  n = check_integer(n, 1, "release", 1)
  if n < 1 then argerror(1, "release", "n must be one or more") end
  return n
end

-- Units go to the waiters first, the rest to the value: one step per
-- waiter, not per unit (release(math.maxinteger) must not loop for ever).
local function give_units(self, n)
  while n > 0 and grant(self._waiters) do n = n - 1 end
  self._value = self._value + n
end

function Semaphore:release(n)
  n = check_release_count(n)
  -- Lua's integers end where Python's do not
  if n > math.maxinteger - self._value then argerror(1, "release", "semaphore value too large") end
  give_units(self, n)
end

function BoundedSemaphore:release(n)
  n = check_release_count(n)
  if n > self._initial - self._value then
    error(ValueError("Semaphore released too many times"), 2)
  end
  give_units(self, n)
end

function Semaphore:__tostring()
  return string.format("<threading.Semaphore at %s: value=%d>", address(self), self._value)
end

function BoundedSemaphore:__tostring()
  return string.format("<threading.BoundedSemaphore at %s: value=%d/%d>", address(self),
                       self._value, self._initial)
end

install_context(Semaphore)
install_context(BoundedSemaphore)

-- ---- Event ----

local Event = {}
Event.__index = Event
Event.__name = "Event"

function sync.Event()
  return setmetatable({_flag = false, _waiters = new_list()}, Event)
end

function Event:is_set() return self._flag end

function Event:set()
  self._flag = true
  while grant(self._waiters) do end
end

function Event:clear() self._flag = false end

local function event_is_set(self) return self._flag end

-- wait([timeout]) -> true once the flag is set, false if the timeout passed
-- first; a timeout <= 0 only looks, as in Python.
function Event:wait(timeout)
  timeout = check_timeout(timeout, 1, "wait")
  return wait_for_grant(self, self._waiters, deadline_of(timeout), event_is_set, nil)
end

function Event:__tostring()
  return string.format("<threading.Event at %s: %s>", address(self), self._flag and "set" or "unset")
end

-- ---- Condition ----

local Condition = {}
Condition.__index = Condition
Condition.__name = "Condition"

function sync.Condition(lock)
  if lock == nil then
    lock = sync.RLock()
  elseif type(lock) ~= "table" or type(lock.acquire) ~= "function"
      or type(lock.release) ~= "function" then
    argerror(1, "Condition", "lock expected, got " .. type(lock))
  end
  return setmetatable({_lock = lock, _waiters = new_list()}, Condition)
end

-- Python's Condition._is_owned: a lock without owners counts as owned by
-- whoever cannot take it now.
local function is_owned(lock)
  if lock._is_owned then return lock:_is_owned() end
  if lock:acquire(false) then
    lock:release()
    return false
  end
  return true
end

local function release_save(lock)
  if lock._release_save then return lock:_release_save() end
  lock:release()
end

local function is_interrupt(err)
  return errors.Cancelled:matches(err) or errors.KeyboardInterrupt:matches(err)
end

-- wait() must return holding the lock, even when it raises: a cancel that
-- comes while it takes the lock back is raised once it holds it.
local function reacquire(lock, saved, pending)
  while true do
    local ok, err
    if lock._acquire_restore then
      ok, err = pcall(lock._acquire_restore, lock, saved)
    else
      ok, err = pcall(lock.acquire, lock)
    end
    if ok then break end
    if not is_interrupt(err) then error(err, 0) end
    if pending == nil then pending = err end
  end
  if pending ~= nil then error(pending, 0) end
end

local function notify_lost(tok) grant(tok.obj._waiters) end

function Condition:acquire(...) return self._lock:acquire(...) end
function Condition:release() return self._lock:release() end

-- wait([timeout]) -> true if notified, false if the timeout passed first.
function Condition:wait(timeout)
  if not is_owned(self._lock) then
    error(RuntimeError("cannot wait on un-acquired lock"), 2)
  end
  timeout = check_timeout(timeout, 1, "wait")
  -- Python waits for nothing when the timeout is <= 0
  if timeout and timeout <= 0 then return false end
  local saved = release_save(self._lock)
  local ok, notified = pcall(wait_for_grant, self, self._waiters, deadline_of(timeout), never,
                             notify_lost)
  reacquire(self._lock, saved, not ok and notified or nil)
  return notified
end

-- wait_for(predicate[, timeout]) -> the predicate's last result.
function Condition:wait_for(predicate, timeout)
  if type(predicate) ~= "function" and not (getmetatable(predicate) or {}).__call then
    argerror(1, "wait_for", "function expected, got " .. type(predicate))
  end
  timeout = check_timeout(timeout, 2, "wait_for")
  local deadline = deadline_of(timeout)
  local result = predicate()
  while not result do
    local rest = deadline and deadline - core.now()
    if rest and rest <= 0 then break end
    self:wait(rest)
    result = predicate()
  end
  return result
end

function Condition:notify(n)
  n = check_integer(n, 1, "notify", 1)
  if not is_owned(self._lock) then
    error(RuntimeError("cannot notify on un-acquired lock"), 2)
  end
  for _ = 1, n do
    if not grant(self._waiters) then break end
  end
end

function Condition:notify_all()
  if not is_owned(self._lock) then
    error(RuntimeError("cannot notify on un-acquired lock"), 2)
  end
  while grant(self._waiters) do end
end

function Condition:__tostring()
  local n = 0
  local tok = self._waiters.next
  while tok ~= self._waiters do
    n = n + 1
    tok = tok.next
  end
  return string.format("<Condition(%s, %d)>", tostring(self._lock), n)
end

install_context(Condition)

-- ---- Queue, LifoQueue, PriorityQueue ----

-- The waiters keep their turn the same way: a getter is granted an item
-- (_rsv_items counts the items promised to woken getters, which stay in the
-- queue until they run), a putter a free slot (_rsv_slots). So while getters
-- wait the queue has no item for anybody else, and while putters wait it has
-- no free slot.
local Queue = {}
Queue.__index = Queue
Queue.__name = "queue.Queue"

local function new_queue(cls, fname, maxsize)
  maxsize = check_integer(maxsize, 1, fname, 0)
  local q = setmetatable({maxsize = maxsize, unfinished_tasks = 0, _rsv_items = 0,
                          _rsv_slots = 0, _getters = new_list(), _putters = new_list(),
                          _joiners = new_list()}, cls)
  q:_init(maxsize)
  return q
end

function sync.Queue(maxsize) return new_queue(Queue, "Queue", maxsize) end

-- The storage, overridden by the subclasses as in Python's queue.py.
function Queue:_init()
  self._items, self._head, self._tail = {}, 1, 0
end
function Queue:_qsize() return self._tail - self._head + 1 end
function Queue:_put(item)
  self._tail = self._tail + 1
  self._items[self._tail] = item
end
function Queue:_get()
  local item = self._items[self._head]
  self._items[self._head] = nil
  self._head = self._head + 1
  return item
end

local function available(self) return self:_qsize() - self._rsv_items end

local function no_room(self)
  return self.maxsize > 0 and self:_qsize() + self._rsv_slots >= self.maxsize
end

local function try_item(self)
  if available(self) <= 0 then return false end
  self._rsv_items = self._rsv_items + 1
  return true
end

local function try_slot(self)
  if no_room(self) then return false end
  self._rsv_slots = self._rsv_slots + 1
  return true
end

local function offer_item(self)
  if grant(self._getters) then self._rsv_items = self._rsv_items + 1 end
end

local function offer_slot(self)
  if grant(self._putters) then self._rsv_slots = self._rsv_slots + 1 end
end

local function getter_lost(tok)
  tok.obj._rsv_items = tok.obj._rsv_items - 1
  offer_item(tok.obj)
end

local function putter_lost(tok)
  tok.obj._rsv_slots = tok.obj._rsv_slots - 1
  offer_slot(tok.obj)
end

-- put(item[, block[, timeout]]): raises Full when there is no free slot in
-- time (at once if block is false).
function Queue:put(item, block, timeout)
  block = check_blocking(block, 2, "put")
  timeout = check_timeout(timeout, 3, "put")
  if self.maxsize > 0 then
    if not block then
      if not try_slot(self) then error(sync.Full(), 2) end
    elseif timeout ~= nil and timeout < 0 then
      argerror(3, "put", "'timeout' must be a non-negative number")
    elseif not wait_for_grant(self, self._putters, deadline_of(timeout), try_slot, putter_lost) then
      error(sync.Full(), 2)
    end
    self._rsv_slots = self._rsv_slots - 1
  end
  local ok, err = pcall(self._put, self, item)
  if not ok then
    -- an item PriorityQueue cannot order: the slot it had goes to the next putter
    if has_waiters(self._putters) and not no_room(self) then offer_slot(self) end
    error(err, 0)
  end
  self.unfinished_tasks = self.unfinished_tasks + 1
  offer_item(self)
end

-- get([block[, timeout]]) -> an item; raises Empty when none comes in time
-- (at once if block is false).
function Queue:get(block, timeout)
  block = check_blocking(block, 1, "get")
  timeout = check_timeout(timeout, 2, "get")
  if not block then
    if not try_item(self) then error(sync.Empty(), 2) end
  elseif timeout ~= nil and timeout < 0 then
    argerror(2, "get", "'timeout' must be a non-negative number")
  elseif not wait_for_grant(self, self._getters, deadline_of(timeout), try_item, getter_lost) then
    error(sync.Empty(), 2)
  end
  self._rsv_items = self._rsv_items - 1
  local item = self:_get()
  if self.maxsize > 0 and not no_room(self) then offer_slot(self) end
  return item
end

function Queue:put_nowait(item) return self:put(item, false) end
function Queue:get_nowait() return self:get(false) end

function Queue:qsize() return available(self) end
function Queue:empty() return available(self) == 0 end
-- full() is true exactly when put_nowait would raise Full.
function Queue:full() return no_room(self) end

function Queue:task_done()
  if self.unfinished_tasks <= 0 then
    error(ValueError("task_done() called too many times"), 2)
  end
  self.unfinished_tasks = self.unfinished_tasks - 1
  if self.unfinished_tasks == 0 then
    while grant(self._joiners) do end
  end
end

local function all_done(self) return self.unfinished_tasks == 0 end

-- join(): waits until task_done() has been called for every item put.
function Queue:join()
  wait_for_grant(self, self._joiners, nil, all_done, nil)
end

function Queue:__tostring()
  return string.format("<%s object at %s>", getmetatable(self).__name, address(self))
end

local LifoQueue = setmetatable({}, {__index = Queue})
LifoQueue.__index = LifoQueue
LifoQueue.__name = "queue.LifoQueue"
LifoQueue.__tostring = Queue.__tostring

function sync.LifoQueue(maxsize) return new_queue(LifoQueue, "LifoQueue", maxsize) end

function LifoQueue:_init() self._items, self._n = {}, 0 end
function LifoQueue:_qsize() return self._n end
function LifoQueue:_put(item)
  self._n = self._n + 1
  self._items[self._n] = item
end
function LifoQueue:_get()
  local item = self._items[self._n]
  self._items[self._n] = nil
  self._n = self._n - 1
  return item
end

-- Python's order: tables without __lt compare as tuples do, element by
-- element, so {priority, data} entries work as (priority, data) do.
local function less(a, b)
  if type(a) == "table" and type(b) == "table" and not (getmetatable(a) or {}).__lt then
    local n = math.min(#a, #b)
    for i = 1, n do
      if a[i] ~= b[i] then return less(a[i], b[i]) end
    end
    return #a < #b
  end
  return a < b
end

local PriorityQueue = setmetatable({}, {__index = Queue})
PriorityQueue.__index = PriorityQueue
PriorityQueue.__name = "queue.PriorityQueue"
PriorityQueue.__tostring = Queue.__tostring

function sync.PriorityQueue(maxsize) return new_queue(PriorityQueue, "PriorityQueue", maxsize) end

function PriorityQueue:_init() self._heap, self._n = {}, 0 end
function PriorityQueue:_qsize() return self._n end

-- heapq's _siftdown and _siftup, step for step, so that items come out in
-- the order CPython gives them, equal ones included.
local function siftdown(heap, startpos, pos)
  local newitem = heap[pos]
  while pos > startpos do
    local parentpos = pos // 2
    local parent = heap[parentpos]
    if not less(newitem, parent) then break end
    heap[pos] = parent
    pos = parentpos
  end
  heap[pos] = newitem
end

local function siftup(heap, n, pos)
  local startpos = pos
  local newitem = heap[pos]
  local childpos = 2 * pos
  while childpos <= n do
    local rightpos = childpos + 1
    if rightpos <= n and not less(heap[childpos], heap[rightpos]) then childpos = rightpos end
    heap[pos] = heap[childpos]
    pos = childpos
    childpos = 2 * pos
  end
  heap[pos] = newitem
  siftdown(heap, startpos, pos)
end

-- heapq's _siftdown, but it compares before it moves anything, so an item
-- that does not compare leaves the heap as it was.
function PriorityQueue:_put(item)
  local heap, n = self._heap, self._n + 1
  local pos = n
  while pos > 1 and less(item, heap[pos // 2]) do pos = pos // 2 end
  local p = n
  while p > pos do
    heap[p] = heap[p // 2]
    p = p // 2
  end
  heap[pos] = item
  self._n = n
end

function PriorityQueue:_get()
  local heap, n = self._heap, self._n
  local last = heap[n]
  heap[n] = nil
  self._n = n - 1
  if n == 1 then return last end
  local top = heap[1]
  heap[1] = last
  siftup(heap, n - 1, 1)
  return top
end

-- SimpleQueue: an unbounded FIFO queue without task_done and join.
local SimpleQueue = {__name = "_queue.SimpleQueue", __tostring = Queue.__tostring}
SimpleQueue.__index = SimpleQueue
for _, k in ipairs {"_init", "_qsize", "_put", "_get", "put", "put_nowait", "get", "get_nowait",
                    "qsize", "empty"} do
  SimpleQueue[k] = Queue[k]
end

function sync.SimpleQueue(...)
  if select("#", ...) > 0 then
    argerror(1, "SimpleQueue", "SimpleQueue() takes no positional arguments")
  end
  return new_queue(SimpleQueue, "SimpleQueue", 0)
end

-- ---- self ----

-- Python's threading and queue types refuse a wrong self (TypeError:
-- descriptor 'acquire' for '_thread.lock' objects doesn't apply to a 'dict'
-- object); these methods would index it and fail anywhere, or not at all
-- (Lock.acquire({}) "took" the table). Every public method checks first.
local is_instance = require("moonsock.class").instance_of

local typename = errors.typename

local function guard(cls, name, fn)
  return function(self, ...)
    if not is_instance(self, cls) then
      local level = 2
      while (debug.getinfo(level, "S") or {}).source == here do level = level + 1 end
      error(string.format("calling '%s' on bad self (%s expected, got %s)", name, cls.__name,
                          typename(self)), level)
    end
    return fn(self, ...)
  end
end

for _, cls in ipairs {Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Queue, LifoQueue,
                      PriorityQueue, SimpleQueue} do
  local names = {}
  for name, fn in pairs(cls) do
    if type(fn) == "function" and not name:find("^_") then names[name] = fn end
  end
  for name, fn in pairs(names) do cls[name] = guard(cls, name, fn) end
end

return sync
