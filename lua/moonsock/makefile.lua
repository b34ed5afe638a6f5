-- sock:makefile([mode[, buffering]]): a buffered file over a socket. Its
-- surface is a Lua io file (read/lines with Lua's formats, write chaining,
-- flush, close, setvbuf); underneath it follows Python's socket.makefile
-- (modes, buffering, reference counting of the socket, readline for
-- socketserver's rfile/wfile).
--
-- Reads park in sock:recv, writes in sock:send. A read call works on a
-- cursor into the read buffer and commits it only when all its formats are
-- done, so an error (a timeout, a reset, a cancel) loses no byte: the next
-- read sees everything the failed one had received.
local core = require "moonsock.core.task"
local errors = require "moonsock.errors"
local fileio = require "moonsock.fileio"
local repr = require "moonsock.repr"

local byte, find, sub, format = string.byte, string.find, string.sub, string.format
local concat = table.concat
local tointeger = math.tointeger
local g_read, lines_result = fileio.read_formats, fileio.lines_result
local tobytes = fileio.tobytes

local M = {}

local DEFAULT_BUFFER_SIZE = 8192 -- Python's io.DEFAULT_BUFFER_SIZE
M.DEFAULT_BUFFER_SIZE = DEFAULT_BUFFER_SIZE
local MAX_RECV = 1 << 20  -- a read(n) of a huge n must not allocate n at once
local ALL_RECV = 65536    -- chunk size of an "a" read, which keeps all it gets
local MAX_SEND = 1 << 18  -- slices of a big flush, so a partial send copies little

-- Python's io.UnsupportedOperation is an OSError; use it if errors.lua has it.
local Unsupported = errors.UnsupportedOperation or errors.OSError

local File = {}
local meta = {__index = File, __name = "socket file"}
M.metatable = meta

local typename = errors.typename

-- level: as error's, counted from the function that calls these.
local argerror = errors.argerror

local function check_file(f, fname, level)
  if getmetatable(f) ~= meta then
    error(format("calling '%s' on bad self (socket file expected, got %s)", fname, typename(f)),
      level + 1)
  end
  if f.closed then error("attempt to use a closed file", level + 1) end
  return f
end

---------------------------------------------------------------------------
-- Reference counting (Python's sock._io_refs / sock._closed): sock:close()
-- while makefile objects are open only marks the socket; closing the last
-- of them closes it. socket.lua's close() asks defer_close first.

local io_refs = setmetatable({}, {__mode = "k"})       -- sock -> open files
local close_pending = setmetatable({}, {__mode = "k"}) -- sock -> close() was called

-- Called by sock:close(): true if the fd must stay open for a file.
function M.defer_close(sock)
  if (io_refs[sock] or 0) > 0 then
    close_pending[sock] = true
    return true
  end
  close_pending[sock] = nil
  return false
end

-- True if sock:close() was called and waits for its files.
function M.close_pending(sock) return close_pending[sock] == true end

local function decref(f)
  local sock = f._sock
  local n = io_refs[sock] or 0
  if n > 0 then
    n = n - 1
    io_refs[sock] = n > 0 and n or nil
  end
  if n == 0 and close_pending[sock] then
    close_pending[sock] = nil
    sock:close()
  end
end

---------------------------------------------------------------------------
-- A lock per direction, as Python's buffered objects have: two tasks
-- reading the same file must not share a cursor. Releasing wakes every
-- waiter, so one that was cancelled meanwhile cannot strand the others.

local function close_token(token) token.live = false end
local token_mt = {__close = close_token}

local function release(lock)
  lock.held = false
  local waiters = lock.waiters
  if #waiters > 0 then
    lock.waiters = {}
    for _, token in ipairs(waiters) do
      if token.live then core.wake(token.task) end
    end
  end
end
local lock_mt = {__close = release}

local function new_lock() return setmetatable({held = false, waiters = {}}, lock_mt) end

local function acquire(lock)
  while lock.held do
    local token <close> = setmetatable({task = core.current(), live = true}, token_mt)
    local waiters = lock.waiters
    waiters[#waiters + 1] = token
    core.park()
  end
  lock.held = true
  return lock
end

---------------------------------------------------------------------------
-- Reading. f._rbuf holds received bytes; those before f._rpos are
-- consumed. A read call (an "op") moves op.p, its own cursor, and sets
-- f._rpos = op.p at the end; op.eof is set once recv returned "" during the
-- call (stdio's sticky EOF, cleared at the start of each read as g_read does).

local function recv_chunk(f, op, want)
  if op.eof then return nil end
  local size = f._size
  local n = size == 0 and want or (want > size and want or size)
  if n > MAX_RECV then n = MAX_RECV end
  if n < 1 then n = 1 end
  local data = f._sock:recv(n)
  if data == "" then
    op.eof = true
    return nil
  end
  return data
end

-- Drops the consumed prefix, moving the op's cursor with it.
local function compact(f, op)
  local r = f._rpos
  if r > 1 then
    f._rbuf = sub(f._rbuf, r)
    op.p = op.p - (r - 1)
    f._rpos = 1
  end
end

-- Receives once and appends; false at EOF.
local function more(f, op, want)
  local data = recv_chunk(f, op, want)
  if not data then return false end
  compact(f, op)
  f._rbuf = f._rbuf .. data
  return true
end

-- Long reads collect chunks in a list and join them once; the joiner's
-- __close joins them also when recv raises, so nothing received is lost.
local joiner_mt = {__close = function(j)
  local parts = j.parts
  j.parts = nil
  if parts and #parts > 1 then j.f._rbuf = concat(parts) end
end}

local function start_gather(f, op)
  compact(f, op)
  local j = f._joiner
  j.parts = {f._rbuf}
  return j
end

-- "l"/"L" and readline(limit): Lua's read_line (success if a newline or
-- any byte was read), with Python's optional size limit.
local function read_line(f, op, keep_nl, limit)
  local p = op.p
  local buf = f._rbuf
  local e = find(buf, "\n", p, true)
  if not e and not (limit and #buf - p + 1 >= limit) then
    local j <close> = start_gather(f, op)
    p = op.p
    local parts = j.parts
    local total = #parts[1]
    while true do
      local data = recv_chunk(f, op, 1)
      if not data then break end
      parts[#parts + 1] = data
      local k = find(data, "\n", 1, true)
      if k then
        e = total + k
        break
      end
      total = total + #data
      if limit and total - p + 1 >= limit then break end
    end
  end
  buf = f._rbuf
  local last = e or #buf
  if limit and last > p + limit - 1 then
    last = p + limit - 1
    e = nil
  end
  local line
  if e and not keep_nl then
    line = sub(buf, p, e - 1)
  else
    line = sub(buf, p, last)
  end
  op.p = last + 1
  if e or #line > 0 then return line end
  return nil
end

-- An integer count: up to n bytes, blocking until n or EOF as fread does.
local function read_chars(f, op, n)
  local p = op.p
  if #f._rbuf - p + 1 < n then
    local j <close> = start_gather(f, op)
    p = op.p
    local parts = j.parts
    local have = #parts[1] - p + 1
    while have < n do
      local data = recv_chunk(f, op, n - have)
      if not data then break end
      parts[#parts + 1] = data
      have = have + #data
    end
  end
  local s = sub(f._rbuf, p, p + n - 1)
  op.p = p + #s
  if #s > 0 then return s end
  return nil
end

-- "a": everything until EOF; "" at EOF.
local function read_all(f, op)
  do
    local j <close> = start_gather(f, op)
    local parts = j.parts
    while true do
      local data = recv_chunk(f, op, ALL_RECV)
      if not data then break end
      parts[#parts + 1] = data
    end
  end
  local buf = f._rbuf
  local s = sub(buf, op.p)
  op.p = #buf + 1
  return s
end

-- read(0): "" unless at EOF (liolib.c test_eof).
local function read_zero(f, op)
  if op.p <= #f._rbuf or more(f, op, 1) then return "" end
  return nil
end

-- The byte k places after the cursor, receiving as needed; nil at EOF.
local function peek(f, op, k)
  local buf = f._rbuf
  while op.p + k > #buf do
    if not more(f, op, 1) then return nil end
    buf = f._rbuf
  end
  return byte(buf, op.p + k)
end

local readers = {
  n = fileio.number_reader(peek),
  l = function(f, op) return read_line(f, op, false) end,
  L = function(f, op) return read_line(f, op, true) end,
  a = read_all,
}

local function parse_formats(fname, ...) return fileio.parse_formats(readers, fname, ...) end

-- Moves the file's cursor to where a read call ended, dropping the buffer
-- once all of it is consumed; passes the call's values on.
local function commit_read(f, op, ...)
  f._rpos = op.p
  if f._rpos > #f._rbuf then
    f._rbuf, f._rpos = "", 1
  end
  return ...
end

-- One read call: its formats from the cursor, which moves only at the end.
local function read_formats(f, fmts)
  local _ <close> = acquire(f._rlock)
  local op = {p = f._rpos, eof = false}
  return commit_read(f, op, g_read(f, op, fmts, read_chars, read_zero))
end

local function check_readable(f, fname)
  check_file(f, fname, 3)
  if not f._r then error(Unsupported("File or stream is not readable."), 3) end
  return f
end

local function check_writable(f, fname)
  check_file(f, fname, 3)
  if not f._w then error(Unsupported("File or stream is not writable."), 3) end
  return f
end

function File:read(...)
  check_readable(self, "read")
  return read_formats(self, parse_formats("read", ...))
end

function File:lines(...)
  check_readable(self, "lines")
  local fmts = parse_formats("lines", ...)
  local f = self
  return function()
    if f.closed then error("file is already closed", 2) end
    return lines_result(read_formats(f, fmts))
  end
end

-- A size for readline/readlines: nil or negative means no limit.
local function check_limit(i, fname, limit)
  if limit == nil then return nil end
  if type(limit) ~= "number" then argerror(i, fname, "number expected, got " .. typename(limit)) end
  local n = tointeger(limit)
  if not n then argerror(i, fname, "number has no integer representation") end
  if n < 0 then return nil end
  return n
end

-- Python's readline([limit]): the line with its "\n", "" at EOF.
local function readline(f, limit)
  if limit == 0 then return "" end
  local _ <close> = acquire(f._rlock)
  local op = {p = f._rpos, eof = false}
  local line = read_line(f, op, true, limit) or ""
  f._rpos = op.p
  return line
end

function File:readline(limit)
  check_readable(self, "readline")
  return readline(self, check_limit(1, "readline", limit))
end

-- Python's readlines([hint]): lines until their total size exceeds hint
-- (Modules/_io/iobase.c: the line that passes it is the last one).
function File:readlines(hint)
  check_readable(self, "readlines")
  hint = check_limit(1, "readlines", hint)
  local lines, total = repr.list(), 0
  while true do
    local line = readline(self, nil)
    if line == "" then break end
    lines[#lines + 1] = line
    total = total + #line
    if hint and hint > 0 and total > hint then break end
  end
  return lines
end

---------------------------------------------------------------------------
-- Writing. f._wq lists pending strings, the first already sent up to
-- f._woff; f._wlen counts the unsent bytes. A flush sends with sock:send
-- and records each partial send, so after an error (a timeout, EPIPE) the
-- unsent rest stays queued and is neither lost nor sent twice.

local function flush_locked(f)
  if f._wlen == 0 then return end
  local q = f._wq
  local s = #q == 1 and q[1] or concat(q)
  f._wq = {s}
  local sock = f._sock
  local off = f._woff
  while off < #s do
    local piece = s
    if off > 0 or #s > MAX_SEND then piece = sub(s, off + 1, off + MAX_SEND) end
    off = off + sock:send(piece)
    f._woff = off
    f._wlen = #s - off
  end
  f._wq, f._woff, f._wlen = {}, 0, 0
end

local function flush(f)
  local _ <close> = acquire(f._wlock)
  flush_locked(f)
end

local function write_strs(f, strs, n)
  local _ <close> = acquire(f._wlock)
  local q, len, nl = f._wq, f._wlen, false
  for i = 1, n do
    local s = strs[i]
    if #s > 0 then
      q[#q + 1] = s
      len = len + #s
      if f._line and not nl and find(s, "\n", 1, true) then nl = true end
    end
  end
  f._wlen = len
  if len > 0 and (f._size == 0 or len >= f._size or nl) then flush_locked(f) end
  return f
end

function File:write(...)
  check_writable(self, "write")
  local n = select("#", ...)
  local strs = {}
  for i = 1, n do strs[i] = tobytes(i, (select(i, ...)), "write") end
  return write_strs(self, strs, n)
end

-- Python's writelines(list of strings); returns the file, as write does.
function File:writelines(list)
  check_writable(self, "writelines")
  if type(list) ~= "table" then
    argerror(1, "writelines", "table expected, got " .. (list == nil and "no value" or typename(list)))
  end
  local n = #list
  for i = 1, n do
    if type(list[i]) ~= "string" then
      argerror(1, "writelines", format("string expected at index %d, got %s", i, typename(list[i])))
    end
  end
  return write_strs(self, list, n)
end

function File:flush()
  check_file(self, "flush", 2)
  if self._w then flush(self) end
  return true
end

---------------------------------------------------------------------------

local function drop(f)
  f.closed = true
  f._rbuf, f._rpos = "", 1
  f._wq, f._woff, f._wlen = {}, 0, 0
  decref(f)
end

-- Flushes, then closes the file even if the flush raised (as Python's
-- close does), and raises that error afterwards. The socket stays open
-- unless sock:close() was called before and this was its last file.
function File:close()
  check_file(self, "close", 2)
  local ok, err = true, nil
  if self._w and self._wlen > 0 then ok, err = pcall(flush, self) end
  if not self.closed then drop(self) end
  if not ok then error(err, 0) end
  return true
end

meta.__close = function(f)
  if getmetatable(f) == meta and not f.closed then f:close() end
end

-- A collected file cannot send (a finalizer cannot park): it only lets go
-- of the socket.
meta.__gc = function(f)
  if not f.closed then drop(f) end
end

meta.__tostring = function(f)
  if f.closed then return format("<socket file [closed] mode=%s>", repr.quote(f.mode)) end
  return format("<socket file fd=%d mode=%s>", f._sock:fileno(), repr.quote(f.mode))
end

local vbuf_modes = {no = true, full = true, line = true}

function File:setvbuf(mode, size)
  check_file(self, "setvbuf", 2)
  if type(mode) ~= "string" then
    argerror(1, "setvbuf", "string expected, got " .. (mode == nil and "no value" or typename(mode)))
  end
  if not vbuf_modes[mode] then argerror(1, "setvbuf", "invalid option '" .. mode .. "'") end
  local n
  if size ~= nil then
    if type(size) ~= "number" then argerror(2, "setvbuf", "number expected, got " .. typename(size)) end
    n = tointeger(size)
    if not n then argerror(2, "setvbuf", "number has no integer representation") end
    if n < 1 then argerror(2, "setvbuf", "size must be positive") end
  end
  if mode == "no" then
    self._size, self._line = 0, false
  else
    self._size = n or (self._size > 0 and self._size or DEFAULT_BUFFER_SIZE)
    self._line = mode == "line"
  end
  -- Bytes already queued go out under the new rule at once.
  if self._w and self._wlen > 0 and (self._size == 0 or self._wlen >= self._size) then flush(self) end
  return true
end

function File:seek()
  check_file(self, "seek", 2)
  error(Unsupported("File or stream is not seekable."), 2)
end

function File:fileno()
  check_file(self, "fileno", 2)
  return self._sock:fileno()
end

function File:readable()
  check_file(self, "readable", 2)
  return self._r
end

function File:writable()
  check_file(self, "writable", 2)
  return self._w
end

---------------------------------------------------------------------------

-- new's errors blame the line that called sock:makefile: socket.lua calls
-- new (not as a tail call) and has checked self.
local function makefile_error(msg)
  error(msg, 4) -- 1: this function, 2: new, 3: sock:makefile, 4: its caller
end

-- new(sock, mode, buffering), for sock:makefile(mode, buffering), which
-- has checked that sock is a socket. socket.lua requires this module, not
-- the other way round: what a file needs of its socket are its methods.
function M.new(sock, mode, buffering)
  if mode == nil then mode = "r" end
  if type(mode) ~= "string" then
    makefile_error("bad argument #1 to 'makefile' (string expected, got " .. typename(mode) .. ")")
  end
  -- Python: set(mode) <= {"r", "w", "b"}; "b" means nothing to Lua strings.
  if find(mode, "[^rwb]") then
    makefile_error(format("bad argument #1 to 'makefile' (invalid mode %s (only r, w, b allowed))",
      repr.quote(mode)))
  end
  local size = DEFAULT_BUFFER_SIZE
  if buffering ~= nil then
    if type(buffering) ~= "number" then
      makefile_error("bad argument #2 to 'makefile' (number expected, got " .. typename(buffering) .. ")")
    end
    local b = tointeger(buffering)
    if not b then makefile_error("bad argument #2 to 'makefile' (number has no integer representation)") end
    if b >= 0 then size = b end
  end
  local writing = find(mode, "w", 1, true) ~= nil
  local reading = find(mode, "r", 1, true) ~= nil or not writing
  local f = setmetatable({
    mode = mode, closed = false,
    _sock = sock, _r = reading, _w = writing, _size = size, _line = false,
    _rbuf = "", _rpos = 1, _rlock = new_lock(),
    _wq = {}, _woff = 0, _wlen = 0, _wlock = new_lock(),
  }, meta)
  f._joiner = setmetatable({f = f}, joiner_mt)
  io_refs[sock] = (io_refs[sock] or 0) + 1
  return f
end

return M
