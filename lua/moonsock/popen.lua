-- io.popen and os.execute that park only their task, installed by
-- moonsock.boot over Lua's, which block the whole loop in popen(3) and
-- system(3). The child runs /bin/sh -c cmd, spawned by libuv
-- (moonsock.core.process); popen's pipe is a socket pair, its file the
-- socket file of moonsock.makefile, which has Lua's io formats.
-- Also the pipe maker subprocess.lua shares.
local core = require "moonsock.core.process"
local errors = require "moonsock.errors"

local argerror, typename = errors.argerror, errors.typename
local format = string.format

local M = {}

-- Lua's own, for the calls that cannot park (inside require, a metamethod):
-- there they block, as they always did.
local lua_popen, lua_execute = io.popen, os.execute
local can_park = core.can_park

local socket -- required on first use: socket.lua is large, and boot loads this

-- pipe() -> sock, fd: the parent's end as a blocking moonsock socket (it
-- parks only its task) and the child's end, an fd to hand to spawn and
-- close after it.
function M.pipe()
  socket = socket or require "socket"
  local mine, theirs = core.pipe()
  local ok, s = pcall(socket.socket, socket.AF_UNIX, socket.SOCK_STREAM, 0, mine)
  if not ok then
    socket.close(mine)
    socket.close(theirs)
    error(s, 0)
  end
  s:settimeout(nil)
  return s, theirs
end

-- close_fd(fd): closes an fd made by pipe (the child's end, once spawned).
function M.close_fd(fd)
  socket = socket or require "socket"
  socket.close(fd)
end

-- Lua's close results for a child's end: true|nil, "exit"|"signal", code.
local function result(status, signal)
  if signal ~= 0 then return nil, "signal", signal end
  return status == 0 or nil, "exit", status
end
M.result = result

-- libuv's child starts with every signal at SIG_DFL; popen(3)'s keeps the
-- ones this process ignores (core.ignored_signals): the shell ignores them
-- again before it runs cmd, and what it runs inherits that.
local function reignore(cmd)
  local ignored = core.ignored_signals()
  if #ignored == 0 then return cmd end
  return "trap '' " .. table.concat(ignored, " ") .. "; " .. cmd
end
M.reignore = reignore

local function sh(cmd, stdio)
  return core.spawn("/bin/sh", {"sh", "-c", reignore(cmd)}, {stdio = stdio})
end

---------------------------------------------------------------------------
-- The file popen returns: the socket file under Lua's popen file's rules.

local Pipe = {}
local pipe_meta = {__index = Pipe, __name = "FILE*"}

local function check(f, fname)
  if getmetatable(f) ~= pipe_meta then
    error(format("calling '%s' on bad self (FILE* expected, got %s)", fname, typename(f)), 3)
  end
  if f._closed then error("attempt to use a closed file", 3) end
  return f
end

-- Lua's answer to a read on a "w" pipe or a write on an "r" one (EBADF).
local function badf() return nil, "Bad file descriptor", 9 end

function Pipe:read(...)
  check(self, "read")
  if self._mode ~= "r" then return badf() end
  return self._file:read(...)
end

function Pipe:lines(...)
  check(self, "lines")
  return self._file:lines(...)
end

function Pipe:write(...)
  check(self, "write")
  if self._mode ~= "w" then return badf() end
  self._file:write(...)
  return self
end

function Pipe:flush()
  check(self, "flush")
  return self._file:flush()
end

function Pipe:setvbuf(...)
  check(self, "setvbuf")
  return self._file:setvbuf(...)
end

-- A pipe cannot seek: Lua returns ESPIPE's failure.
function Pipe:seek()
  check(self, "seek")
  return nil, "Illegal seek", 29
end

-- close() -> what Lua's pclose gives: the child's end, waited for by this
-- task alone. Closing a "w" pipe first sends the child its EOF.
function Pipe:close()
  check(self, "close")
  self._closed = true
  local ok, err = pcall(self._file.close, self._file)
  self._sock:close()
  local status, signal = self._proc:wait()
  self._proc:close()
  if not ok then error(err, 0) end
  return result(status, signal)
end

pipe_meta.__close = function(f) if not f._closed then f:close() end end

-- A collected pipe cannot wait: its socket closes by itself, and libuv
-- reaps the child when it ends (the process object detaches).
pipe_meta.__tostring = function(f)
  if f._closed then return "file (closed)" end
  return format("file (%p)", f)
end

local popen_modes = {r = true, w = true}

-- io.popen(prog[, mode]) with mode "r" (default) or "w".
function M.popen(prog, mode)
  if type(prog) ~= "string" and type(prog) ~= "number" then
    argerror(1, "io.popen", "string expected, got " .. (prog == nil and "no value" or typename(prog)))
  end
  if mode == nil then mode = "r" end
  if type(mode) ~= "string" and type(mode) ~= "number" then
    argerror(2, "io.popen", "string expected, got " .. typename(mode))
  end
  mode = tostring(mode)
  if not popen_modes[mode] then argerror(2, "io.popen", "invalid mode") end
  if not can_park() then return lua_popen(prog, mode) end
  local s, fd = M.pipe()
  local ok, proc = pcall(sh, tostring(prog), mode == "r" and {nil, fd} or {fd})
  M.close_fd(fd)
  if not ok then
    s:close()
    error(proc, 0)
  end
  local f = s:makefile(mode)
  return setmetatable({_file = f, _sock = s, _proc = proc, _mode = mode, _closed = false}, pipe_meta)
end

-- os.execute([command]): with none, whether a shell is there (true).
function M.execute(cmd)
  if cmd == nil then return true end
  if type(cmd) ~= "string" and type(cmd) ~= "number" then
    argerror(1, "os.execute", "string expected, got " .. typename(cmd))
  end
  if not can_park() then return lua_execute(cmd) end
  local proc <close> = sh(tostring(cmd))
  return result(proc:wait())
end

-- io.type(obj) also knows popen's files, as Lua's does.
function M.install()
  local io_type = io.type
  io.popen = M.popen
  os.execute = M.execute
  io.type = function(obj)
    if getmetatable(obj) == pipe_meta then return obj._closed and "closed file" or "file" end
    return io_type(obj)
  end
end

M.pipe_metatable = pipe_meta

return M
