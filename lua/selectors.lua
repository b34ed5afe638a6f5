-- Python's selectors module (CPython 3.11 Lib/selectors.py), over the
-- cooperative select module: a selector's select() parks only its task.
--
--   EVENT_READ, EVENT_WRITE
--   SelectorKey(fileobj, fd, events, data): fields fileobj, fd, events, data
--     (also key[1]..key[4]); prints like Python's namedtuple; == compares fields.
--   BaseSelector (abstract), SelectSelector, PollSelector, EpollSelector,
--   DefaultSelector (= EpollSelector on Linux, as in Python). Instances:
--     sel:register(fileobj, events[, data]) -> key
--     sel:unregister(fileobj) -> key
--     sel:modify(fileobj, events[, data]) -> key
--     sel:select([timeout]) -> list of {key, events} tuples: timeout nil
--       blocks, <= 0 polls, > 0 waits at most that many seconds
--     sel:close(); also a <close> variable closes it
--     sel:get_key(fileobj) -> key (KeyError if not registered)
--     sel:get_map() -> a read-only view, nil once closed (see below)
--     sel:fileno() (EpollSelector: its epoll fd)
-- A file object is an fd or anything with a fileno() method (sockets...).
--
-- get_map(): Python's mapping is keyed by file object and also accepts an
-- fd, and iterating it gives the fds. Here map[fileobj] and map[fd] both
-- give the SelectorKey, or nil where Python raises KeyError (or ValueError
-- for an object that is no file object): indexing a Lua table never
-- raises. #map is the number registered; pairs(map) gives fd, key in the
-- order of Python's dict (registration order, as Python's items()).
--
-- Errors are Python's: errors.ValueError "Invalid events: 0", "Invalid file
-- object: ...", "Invalid file descriptor: -1"; errors.KeyError "... (FD n) is
-- already registered", "... is not registered"; errors.RuntimeError
-- "Selector is closed"; OSErrors from the system calls.
local select = require "select"
local errors = require "moonsock.errors"
local reprmod = require "moonsock.repr"
local check_timeout_value = require("moonsock.timeout").check

local repr, tuple, list = reprmod.repr, reprmod.tuple, reprmod.list
local ValueError, KeyError, RuntimeError = errors.ValueError, errors.KeyError, errors.RuntimeError

local selectors = {}

local EVENT_READ = 1 << 0
local EVENT_WRITE = 1 << 1
selectors.EVENT_READ, selectors.EVENT_WRITE = EVENT_READ, EVENT_WRITE

local function raise(err) error(err, 0) end

-- Lua's own wording for a wrong argument, at the caller of the method.
local argerror = errors.argerror

local function address(t)
  return (string.format("%p", t):gsub("^0x0*", "0x"))
end

-- ---- SelectorKey: namedtuple('SelectorKey', ['fileobj', 'fd', 'events', 'data']) ----

local FIELDS = {"fileobj", "fd", "events", "data"}
local SelectorKey = {__name = "SelectorKey"}

SelectorKey.__index = function(key, k)
  local name = FIELDS[k]
  if name then return rawget(key, name) end
  return nil
end

SelectorKey.__tostring = function(key)
  return string.format("SelectorKey(fileobj=%s, fd=%s, events=%s, data=%s)",
    repr(key.fileobj), repr(key.fd), repr(key.events), repr(key.data))
end

SelectorKey.__eq = function(a, b)
  return a.fileobj == b.fileobj and a.fd == b.fd and a.events == b.events and a.data == b.data
end

SelectorKey.__len = function() return 4 end

local function new_key(fileobj, fd, events, data)
  return setmetatable({fileobj = fileobj, fd = fd, events = events, data = data}, SelectorKey)
end

-- key._replace(...) of Python, for the fields that change.
local function replace(key, events, data)
  return new_key(key.fileobj, key.fd, events, data)
end

selectors.SelectorKey = setmetatable({}, {
  __call = function(_, fileobj, fd, events, data) return new_key(fileobj, fd, events, data) end,
  __index = {_fields = tuple(table.unpack(FIELDS))},
  __tostring = function() return "<class 'selectors.SelectorKey'>" end,
})

-- ---- file objects ----

-- fileno() raising ValueError (a closed file) or a plain Lua error (no such
-- method, Python's AttributeError/TypeError) means "not a file object";
-- anything else (an OSError, a cancel) goes on up.
local function fileno_of(fileobj)
  local t = type(fileobj)
  if t ~= "table" and t ~= "userdata" then return nil end
  local ok, fileno = pcall(function() return fileobj.fileno end)
  if not ok or type(fileno) ~= "function" then return nil end
  local called, fd = pcall(fileno, fileobj)
  if not called then
    if type(fd) == "string" or ValueError:matches(fd) then return nil end
    raise(fd)
  end
  return math.tointeger(fd)
end

local function fileobj_to_fd(fileobj)
  local fd
  if math.type(fileobj) == "integer" then
    fd = fileobj
  else
    fd = fileno_of(fileobj)
    if fd == nil then raise(ValueError("Invalid file object: " .. repr(fileobj))) end
  end
  if fd < 0 then raise(ValueError("Invalid file descriptor: " .. fd)) end
  return fd
end
selectors._fileobj_to_fd = fileobj_to_fd

-- ---- classes ----

local function instance_tostring(self)
  return string.format("<selectors.%s object at %s>", getmetatable(self).__name, address(self))
end

local function class_tostring(cls) return "<class 'selectors." .. cls.__name .. "'>" end

local abstract = {}

local function instantiate(cls, ...)
  local missing = {}
  for name, fn in pairs(abstract) do
    if cls[name] == fn then missing[#missing + 1] = name end
  end
  if #missing > 0 then
    table.sort(missing)
    error(string.format("Can't instantiate abstract class %s with abstract methods %s",
      cls.__name, table.concat(missing, ", ")), 2)
  end
  local self = setmetatable({}, cls)
  self:__init(...)
  return self
end

-- Metamethods are looked up raw in the metatable: each class gets its own.
local function class(name, base)
  local cls = {__name = name, __tostring = instance_tostring}
  cls.__index = cls
  cls.__close = function(self) self:close() end
  return setmetatable(cls, {__index = base, __call = instantiate, __tostring = class_tostring})
end

-- ---- BaseSelector ----

local BaseSelector = class("BaseSelector")
selectors.BaseSelector = BaseSelector

-- Python's NotImplementedError is a RuntimeError.
local NotImplementedError = errors.NotImplementedError or errors.define("NotImplementedError", RuntimeError)

for _, name in ipairs {"register", "unregister", "select", "get_map"} do
  local fn = function() raise(NotImplementedError()) end
  abstract[name] = fn
  BaseSelector[name] = fn
end

function BaseSelector.__init() end

function BaseSelector:modify(fileobj, events, data)
  self:unregister(fileobj)
  return self:register(fileobj, events, data)
end

function BaseSelector.close() end

function BaseSelector:get_key(fileobj)
  local mapping = self:get_map()
  if mapping == nil then raise(RuntimeError("Selector is closed")) end
  local key = mapping[fileobj]
  if key == nil then raise(KeyError(repr(fileobj) .. " is not registered")) end
  return key
end

-- ---- _BaseSelectorImpl: the fd -> key dict and the mapping ----

local Impl = class("_BaseSelectorImpl", BaseSelector)
selectors._BaseSelectorImpl = Impl

-- The fd -> key dict keeps Python's dict order: a new fd goes last, a
-- replaced key keeps its place. Deleted places are holes until compacted.
local function dict_set(self, fd, key)
  local keys = self._fd_to_key
  if keys[fd] == nil then
    local order = self._order
    order[#order + 1] = fd
    self._pos[fd] = #order
    self._count = self._count + 1
  end
  keys[fd] = key
end

local function dict_pop(self, fd)
  local key = self._fd_to_key[fd]
  if key == nil then return nil end
  self._fd_to_key[fd] = nil
  self._order[self._pos[fd]] = false
  self._pos[fd] = nil
  self._count = self._count - 1
  local order = self._order
  if #order > 32 and self._count < #order // 2 then
    local packed, pos = {}, {}
    for _, f in ipairs(order) do
      if f then
        packed[#packed + 1] = f
        pos[f] = #packed
      end
    end
    self._order, self._pos = packed, pos
  end
  return key
end

local function dict_clear(self)
  self._fd_to_key, self._order, self._pos, self._count = {}, {}, {}, 0
end

local function dict_next(self)
  local order, i = self._order, 0
  return function()
    repeat
      i = i + 1
      local fd = order[i]
      if fd then
        local key = self._fd_to_key[fd]
        if key then return fd, key end
      end
    until fd == nil
    return nil
  end
end

-- The view get_map() returns; see the header.
local function new_mapping(sel)
  local lookup = function(_, fileobj)
    local ok, fd = pcall(sel._fileobj_lookup, sel, fileobj)
    if not ok then
      if ValueError:matches(fd) then return nil end
      raise(fd)
    end
    return sel._fd_to_key[fd]
  end
  return setmetatable({}, {
    __name = "_SelectorMapping",
    __index = lookup,
    __len = function() return sel._count end,
    __pairs = function(m) return dict_next(sel), m, nil end,
    __newindex = function() error("the selector's map is read-only", 2) end,
    __tostring = function(m) return "<selectors._SelectorMapping object at " .. address(m) .. ">" end,
  })
end

function Impl:__init()
  dict_clear(self)
  self._map = new_mapping(self)
end

-- fileobj_to_fd, but a registered object that no longer gives its fd (a
-- closed socket) is still found, so it can be unregistered.
function Impl:_fileobj_lookup(fileobj)
  local ok, fd = pcall(fileobj_to_fd, fileobj)
  if ok then return fd end
  if ValueError:matches(fd) then
    for _, key in dict_next(self) do
      if rawequal(key.fileobj, fileobj) then return key.fd end
    end
  end
  raise(fd)
end

local function check_events(events, fname)
  if events ~= nil and events ~= false and math.type(events) ~= "integer" then
    argerror(2, fname, "integer expected, got " .. (math.type(events) or type(events)))
  end
  if not events or events == 0 or events & ~(EVENT_READ | EVENT_WRITE) ~= 0 then
    raise(ValueError("Invalid events: " .. repr(events)))
  end
end

function Impl:register(fileobj, events, data)
  check_events(events, "register")
  local key = new_key(fileobj, self:_fileobj_lookup(fileobj), events, data)
  -- Python's poll/epoll refuse it when converting to a C int (OverflowError)
  if key.fd > 0x7fffffff then argerror(1, "register", "fd is greater than maximum") end
  if self._fd_to_key[key.fd] ~= nil then
    raise(KeyError(string.format("%s (FD %d) is already registered", repr(fileobj), key.fd)))
  end
  dict_set(self, key.fd, key)
  return key
end

local function not_registered(fileobj)
  raise(KeyError(repr(fileobj) .. " is not registered"))
end

-- The fd of a registered fileobj, or KeyError.
local function registered_fd(self, fileobj)
  local fd = self:_fileobj_lookup(fileobj)
  if self._fd_to_key[fd] == nil then not_registered(fileobj) end
  return fd
end

function Impl:unregister(fileobj)
  return dict_pop(self, registered_fd(self, fileobj))
end

function Impl:modify(fileobj, events, data)
  local key = self._fd_to_key[registered_fd(self, fileobj)]
  if events ~= key.events then
    self:unregister(fileobj)
    key = self:register(fileobj, events, data)
  elseif data ~= key.data then
    key = replace(key, key.events, data)
    dict_set(self, key.fd, key)
  end
  return key
end

function Impl:close()
  dict_clear(self)
  self._map = nil
end

function Impl:get_map() return self._map end

function Impl:get_key(fileobj)
  if self._map == nil then raise(RuntimeError("Selector is closed")) end
  local fd = self:_fileobj_lookup(fileobj)
  local key = self._fd_to_key[fd]
  if key == nil then not_registered(fileobj) end
  return key
end

function Impl:_key_from_fd(fd) return self._fd_to_key[fd] end

local function check_timeout(timeout)
  if timeout ~= nil and type(timeout) ~= "number" then
    argerror(1, "select", "number expected, got " .. type(timeout))
  end
  -- Python's selectors turn every timeout into a float (math.ceil(t * 1e3)
  -- * 1e-3) before the clock sees it: an int out of range gets a float's words.
  check_timeout_value(timeout and timeout + 0.0, 1, "select")
end

-- ---- SelectSelector ----

local SelectSelector = class("SelectSelector", Impl)
selectors.SelectSelector = SelectSelector

function SelectSelector:__init()
  Impl.__init(self)
  self._readers, self._writers = {}, {}
end

function SelectSelector:register(fileobj, events, data)
  local key = Impl.register(self, fileobj, events, data)
  if events & EVENT_READ ~= 0 then self._readers[key.fd] = true end
  if events & EVENT_WRITE ~= 0 then self._writers[key.fd] = true end
  return key
end

function SelectSelector:unregister(fileobj)
  local key = Impl.unregister(self, fileobj)
  self._readers[key.fd] = nil
  self._writers[key.fd] = nil
  return key
end

local function sorted_fds(set)
  local fds = {}
  for fd in pairs(set) do fds[#fds + 1] = fd end
  table.sort(fds)
  return fds
end

-- Ready fds come in ascending order, as Python's set of small ints gives them.
function SelectSelector:select(timeout)
  check_timeout(timeout)
  if timeout ~= nil then timeout = math.max(timeout, 0) end
  local ready = list()
  local r, w = select.select(sorted_fds(self._readers), sorted_fds(self._writers), {}, timeout)
  local got = {}
  for _, fd in ipairs(r) do got[fd] = EVENT_READ end
  for _, fd in ipairs(w) do got[fd] = (got[fd] or 0) | EVENT_WRITE end
  for _, fd in ipairs(sorted_fds(got)) do
    local key = self:_key_from_fd(fd)
    if key then ready[#ready + 1] = tuple(key, got[fd] & key.events) end
  end
  return ready
end

-- ---- _PollLikeSelector: poll and epoll ----

local PollLike = class("_PollLikeSelector", Impl)
selectors._PollLikeSelector = PollLike

function PollLike:__init()
  Impl.__init(self)
  self._selector = self._selector_cls()
end

local function poller_events(self, events)
  local ev = 0
  if events & EVENT_READ ~= 0 then ev = ev | self._EVENT_READ end
  if events & EVENT_WRITE ~= 0 then ev = ev | self._EVENT_WRITE end
  return ev
end

function PollLike:register(fileobj, events, data)
  local key = Impl.register(self, fileobj, events, data)
  local ok, err = pcall(self._selector.register, self._selector, key.fd, poller_events(self, events))
  if not ok then
    Impl.unregister(self, fileobj)
    raise(err)
  end
  return key
end

function PollLike:unregister(fileobj)
  local key = Impl.unregister(self, fileobj)
  -- The fd may have been closed since it was registered.
  local ok, err = pcall(self._selector.unregister, self._selector, key.fd)
  if not ok and not errors.OSError:matches(err) then raise(err) end
  return key
end

function PollLike:modify(fileobj, events, data)
  local key = self._fd_to_key[registered_fd(self, fileobj)]
  local changed = false
  if events ~= key.events then
    if math.type(events) ~= "integer" then
      argerror(2, "modify", "integer expected, got " .. (math.type(events) or type(events)))
    end
    local ok, err = pcall(self._selector.modify, self._selector, key.fd, poller_events(self, events))
    if not ok then
      Impl.unregister(self, fileobj)
      raise(err)
    end
    changed = true
  end
  if data ~= key.data then changed = true end
  if changed then
    key = replace(key, events, data)
    dict_set(self, key.fd, key)
  end
  return key
end

-- poll-like events to EVENT_*: anything but the read event (hang-ups,
-- errors) counts as writable and anything but the write event as readable.
local function to_events(event, read, write)
  local events = 0
  if event & ~read ~= 0 then events = events | EVENT_WRITE end
  if event & ~write ~= 0 then events = events | EVENT_READ end
  return events
end

local function collect(self, fd_event_list, read, write)
  local ready = list()
  for _, pair in ipairs(fd_event_list) do
    local key = self:_key_from_fd(pair[1])
    if key then
      ready[#ready + 1] = tuple(key, to_events(pair[2], read, write) & key.events)
    end
  end
  return ready
end

function PollLike:select(timeout)
  check_timeout(timeout)
  if timeout ~= nil then
    -- poll() counts milliseconds: round up to wait at least timeout.
    timeout = timeout <= 0 and 0 or math.ceil(timeout * 1e3)
  end
  return collect(self, self._selector:poll(timeout), self._EVENT_READ, self._EVENT_WRITE)
end

-- ---- PollSelector ----

local PollSelector = class("PollSelector", PollLike)
selectors.PollSelector = PollSelector
PollSelector._selector_cls = select.poll
PollSelector._EVENT_READ = select.POLLIN
PollSelector._EVENT_WRITE = select.POLLOUT

-- ---- EpollSelector ----

local EpollSelector = class("EpollSelector", PollLike)
selectors.EpollSelector = EpollSelector
EpollSelector._selector_cls = select.epoll
EpollSelector._EVENT_READ = select.EPOLLIN
EpollSelector._EVENT_WRITE = select.EPOLLOUT

function EpollSelector:fileno() return self._selector:fileno() end

function EpollSelector:select(timeout)
  check_timeout(timeout)
  if timeout == nil then
    timeout = -1
  elseif timeout <= 0 then
    timeout = 0
  else
    -- epoll_wait() counts milliseconds: round up to wait at least timeout.
    timeout = math.ceil(timeout * 1e3) * 1e-3
  end
  -- maxevents must be at least 1, even with nothing registered.
  local max_ev = math.max(self._count, 1)
  return collect(self, self._selector:poll(timeout, max_ev), select.EPOLLIN, select.EPOLLOUT)
end

function EpollSelector:close()
  self._selector:close()
  Impl.close(self)
end

-- Linux has epoll, as CPython's _can_use('epoll') finds.
selectors.DefaultSelector = EpollSelector

-- ---- self ----

-- A method called on something that is no selector (sel.register(x, ...)
-- with a dot) would fail somewhere inside, or answer (get_map): each
-- public method checks its self first.
local is_instance = require("moonsock.class").instance_of

local function guard(cls, name, fn)
  return function(self, ...)
    if not is_instance(self, cls) then
      error(string.format("calling '%s' on bad self (%s expected, got %s)", name, cls.__name,
        errors.typename(self)), 2)
    end
    return fn(self, ...)
  end
end

for _, cls in ipairs {BaseSelector, Impl, SelectSelector, PollLike, PollSelector, EpollSelector} do
  local names = {}
  for name, fn in pairs(cls) do
    if type(fn) == "function" and not name:find("^_") and abstract[name] ~= fn then names[name] = fn end
  end
  for name, fn in pairs(names) do cls[name] = guard(cls, name, fn) end
end

return selectors
