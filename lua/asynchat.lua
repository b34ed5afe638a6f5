-- Python 3.11's asynchat: async_chat, an asyncore dispatcher for "chat"
-- protocols (command/response, as SMTP, NNTP, FTP). Input is cut at a
-- terminator (a string, a byte count or nil) and handed to
-- collect_incoming_data / found_terminator; output is a queue of strings
-- and producers sent as the socket takes them.
--
--   local Handler = asynchat.async_chat:extend{__name = "Handler"}
--   function Handler:__init__(sock)
--     asynchat.async_chat.__init__(self, sock)
--     self:set_terminator("\r\n")
--     self.lines = {}
--   end
--   function Handler:collect_incoming_data(data) self.lines[#self.lines + 1] = data end
--   function Handler:found_terminator()
--     self:push(table.concat(self.lines) .. "\r\n")
--     self.lines = {}
--   end
--
-- Classes work as in asyncore (see the top of lua/asyncore.lua). Python's
-- None in the producer queue (close_when_done) is `false` here; Lua strings
-- are bytes, so Python's use_encoding/encoding have no counterpart.
local asyncore = require "asyncore"
local errors = require "moonsock.errors"
local repr = require "moonsock.repr"

local asynchat = {}

local argerror = errors.argerror

local typename = errors.typename

-- ---- deque: Python's collections.deque, as much as async_chat needs ----

-- Items live in a separate table so that d[1] (Python's d[0]) reaches the
-- first item through __index whatever has been popped before it.
local deque_methods = {}
local deque_mt = {__name = "deque"}

local function deque()
  return setmetatable({_items = {}, _head = 1, _tail = 0}, deque_mt)
end
asynchat.deque = deque

deque_mt.__index = function(d, k)
  if math.type(k) == "integer" then
    if k < 1 or k > d._tail - d._head + 1 then return nil end
    return d._items[d._head + k - 1]
  end
  return deque_methods[k]
end

deque_mt.__newindex = function(d, k, v)
  if math.type(k) ~= "integer" or k < 1 or k > d._tail - d._head + 1 then
    error("deque index out of range", 2)
  end
  d._items[d._head + k - 1] = v
end

deque_mt.__len = function(d) return d._tail - d._head + 1 end

deque_mt.__tostring = function(d)
  local parts = {}
  for i = d._head, d._tail do
    local v = d._items[i]
    parts[#parts + 1] = v == false and "None" or repr.repr(v)
  end
  return "deque([" .. table.concat(parts, ", ") .. "])"
end

function deque_methods:append(v)
  self._tail = self._tail + 1
  self._items[self._tail] = v
end

function deque_methods:appendleft(v)
  self._head = self._head - 1
  self._items[self._head] = v
end

function deque_methods:popleft()
  if self._tail < self._head then error("pop from an empty deque", 2) end
  local v = self._items[self._head]
  self._items[self._head] = nil
  self._head = self._head + 1
  return v
end

function deque_methods:clear()
  self._items, self._head, self._tail = {}, 1, 0
end

-- collections.deque's methods refuse another self (TypeError: descriptor
-- 'append' for 'collections.deque' objects doesn't apply to a 'dict' object).
for name, fn in pairs(deque_methods) do
  deque_methods[name] = function(self, ...)
    if getmetatable(self) ~= deque_mt then
      error(string.format("calling '%s' on bad self (deque expected, got %s)", name, typename(self)), 2)
    end
    return fn(self, ...)
  end
end

-- ---- find_prefix_at_end ----

-- find_prefix_at_end(haystack, needle) -> the length of the longest prefix
-- of needle (shorter than needle) that haystack ends with; an exact match
-- must have been ruled out first. Python's loop, slicing included (an empty
-- needle gives -1).
function asynchat.find_prefix_at_end(haystack, needle)
  if type(haystack) ~= "string" then
    argerror(1, "find_prefix_at_end", "string expected, got " .. typename(haystack))
  end
  if type(needle) ~= "string" then
    argerror(2, "find_prefix_at_end", "string expected, got " .. typename(needle))
  end
  local l = #needle - 1
  -- A prefix longer than haystack cannot end it: start no higher (Python's
  -- loop is quadratic in #needle, a huge needle would never end).
  if l > #haystack then l = #haystack end
  while l ~= 0 do
    -- needle[:l], with Python's meaning for a negative l
    local prefix = needle:sub(1, l >= 0 and l or math.max(#needle + l, 0))
    if prefix == "" or haystack:sub(-#prefix) == prefix then break end
    l = l - 1
  end
  return l
end
local find_prefix_at_end = asynchat.find_prefix_at_end

-- ---- async_chat ----

local async_chat = asyncore.dispatcher:extend {
  __name = "asynchat.async_chat",
  -- overridable defaults
  ac_in_buffer_size = 65536,
  ac_out_buffer_size = 65536,
}
asynchat.async_chat = async_chat

function async_chat:__init__(sock, map)
  -- for string terminator matching
  self.ac_in_buffer = ""
  self.incoming = {}
  self.producer_fifo = deque()
  asyncore.dispatcher.__init__(self, sock, map)
end

function async_chat.collect_incoming_data()
  error(asyncore.NotImplementedError("must be implemented in subclass"), 2)
end

function async_chat:_collect_incoming_data(data)
  self.incoming[#self.incoming + 1] = data
end

function async_chat:_get_data()
  local d = table.concat(self.incoming)
  self.incoming = {}
  return d
end

function async_chat.found_terminator()
  error(asyncore.NotImplementedError("must be implemented in subclass"), 2)
end

-- set_terminator(term): a string of any length, a byte count, or nil.
-- set_terminator and get_terminator touch only self.terminator, which any
-- table takes: they check their self (Python: AttributeError).
function async_chat:set_terminator(term)
  asyncore._check_self(self, async_chat, "set_terminator")
  if math.type(term) == "integer" then
    if term < 0 then argerror(1, "set_terminator", "the number of received bytes must be positive") end
  elseif term ~= nil and type(term) ~= "string" then
    argerror(1, "set_terminator", "string, integer or nil expected, got " .. typename(term))
  end
  self.terminator = term
end

function async_chat:get_terminator()
  asyncore._check_self(self, async_chat, "get_terminator")
  return self.terminator
end

-- The OSError cases of Python's handle_read and initiate_send: the error
-- goes to handle_error, with its traceback (which starts at our caller, as
-- this helper is hidden), and anything else propagates. handle_read lets
-- BlockingIOError pass silently (blocking_ok).
local function catch_oserror(blocking_ok, obj, fn, ...)
  local ok, a = xpcall(fn, asyncore._capture, obj, ...)
  if ok then return true, a end
  if blocking_ok and errors.BlockingIOError:matches(a.err) then return false end
  if errors.OSError:matches(a.err) then
    asyncore._handle_caught(obj, a)
    return false
  end
  error(a.err, 0)
end
asyncore._hidden[catch_oserror] = true

-- Grabs more data from the socket, hands it to collect_incoming_data,
-- and calls found_terminator at each terminator; the loop is needed as one
-- recv may bring several data+terminator combinations.
function async_chat:handle_read()
  local ok, data = catch_oserror(true, self, self.recv, self.ac_in_buffer_size)
  if not ok then return end
  self.ac_in_buffer = self.ac_in_buffer .. data
  while self.ac_in_buffer ~= "" do
    local buf = self.ac_in_buffer
    local lb = #buf
    local terminator = self:get_terminator()
    if terminator == nil or terminator == false or terminator == "" or terminator == 0 then
      -- no terminator, collect it all
      self:collect_incoming_data(buf)
      self.ac_in_buffer = ""
    elseif math.type(terminator) == "integer" then
      -- numeric terminator
      local n = terminator
      if lb < n then
        self:collect_incoming_data(buf)
        self.ac_in_buffer = ""
        self.terminator = self.terminator - lb
      else
        self:collect_incoming_data(buf:sub(1, n))
        self.ac_in_buffer = buf:sub(n + 1)
        self.terminator = 0
        self:found_terminator()
      end
    else
      -- 1) the buffer holds the terminator: collect the data before it,
      --    transition;
      -- 2) the buffer ends with a prefix of the terminator: collect the
      --    data before the prefix, keep the prefix, wait for more;
      -- 3) neither: collect it all.
      local index = buf:find(terminator, 1, true)
      if index then
        -- don't bother reporting the empty string (source of subtle bugs)
        if index > 1 then self:collect_incoming_data(buf:sub(1, index - 1)) end
        self.ac_in_buffer = buf:sub(index + #terminator)
        -- This does the Right Thing if the terminator is changed here.
        self:found_terminator()
      else
        local prefix = find_prefix_at_end(buf, terminator)
        if prefix ~= 0 then
          if prefix ~= lb then
            self:collect_incoming_data(buf:sub(1, lb - prefix))
            self.ac_in_buffer = buf:sub(lb - prefix + 1)
          end
          break
        else
          self:collect_incoming_data(buf)
          self.ac_in_buffer = ""
        end
      end
    end
  end
end

function async_chat:handle_write() self:initiate_send() end

function async_chat:handle_close() self:close() end

-- push(data): queues data (in ac_out_buffer_size pieces) and sends what
-- the socket takes now.
function async_chat:push(data)
  if type(data) ~= "string" then
    argerror(1, "push", "data argument must be byte-ish (" .. typename(data) .. ")")
  end
  local sabs = self.ac_out_buffer_size
  if #data > sabs then
    for i = 1, #data, sabs do self.producer_fifo:append(data:sub(i, i + sabs - 1)) end
  else
    self.producer_fifo:append(data)
  end
  self:initiate_send()
end

-- push_with_producer(producer): queues a producer, an object whose more()
-- returns the next piece of data, "" or nil when it has no more.
function async_chat:push_with_producer(producer)
  local t = type(producer)
  if t ~= "string" and not ((t == "table" or t == "userdata") and producer.more ~= nil) then
    argerror(1, "push_with_producer", "producer must have a more() method, got " .. typename(producer))
  end
  self.producer_fifo:append(producer)
  self:initiate_send()
end

-- Predicate for inclusion in the readable for select(): the old
-- "ac_in_buffer not full" test would break set_terminator's promise.
function async_chat.readable() return true end

-- Predicate for inclusion in the writable for select().
function async_chat:writable()
  return #self.producer_fifo > 0 or not self.connected
end

-- Closes the channel once the outgoing queue is empty.
function async_chat:close_when_done()
  self.producer_fifo:append(false)
end

function async_chat:initiate_send()
  local fifo = self.producer_fifo
  while #fifo > 0 and self.connected do
    local first = fifo[1]
    -- an empty string, or the close marker
    if first == "" or first == false then
      fifo:popleft()
      if first == false then
        self:handle_close()
        return
      end
    end
    local obs = self.ac_out_buffer_size
    if type(first) ~= "string" then
      -- a producer: its next piece goes before it in the queue
      local data = first:more()
      if data ~= nil and data ~= "" then
        fifo:appendleft(data)
      else
        fifo:popleft()
      end
    else
      local data = first:sub(1, obs)
      local ok, num_sent = catch_oserror(false, self, self.send, data)
      if not ok then return end
      if num_sent and num_sent ~= 0 then
        if num_sent < #data or obs < #first then
          fifo[1] = first:sub(num_sent + 1)
        else
          fifo:popleft()
        end
      end
      -- we tried to send some actual data
      return
    end
  end
end

-- Emergencies only!
function async_chat:discard_buffers()
  self.ac_in_buffer = ""
  self.incoming = {}
  self.producer_fifo:clear()
end

-- ---- simple_producer ----

local simple_producer = asyncore.object:extend {__name = "asynchat.simple_producer"}
asynchat.simple_producer = simple_producer

function simple_producer:__init__(data, buffer_size)
  -- Level 4: past the class's __call, at the caller.
  if type(data) ~= "string" then argerror(1, "simple_producer", "string expected, got " .. typename(data)) end
  if buffer_size ~= nil and math.type(buffer_size) ~= "integer" then
    argerror(2, "simple_producer", "integer expected, got " .. typename(buffer_size))
  end
  self.data = data
  self.buffer_size = buffer_size or 512
end

function simple_producer:more()
  local result
  if #self.data > self.buffer_size then
    result = self.data:sub(1, self.buffer_size)
    self.data = self.data:sub(self.buffer_size + 1)
  else
    result = self.data
    self.data = ""
  end
  return result
end

return asynchat
