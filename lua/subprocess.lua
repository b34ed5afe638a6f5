-- Python's subprocess module over moonsock.core.process: children spawned
-- by libuv, pipes that are socket pairs read and written through socket
-- files (moonsock.makefile), waits that park only the calling task.
-- Keyword arguments are a trailing options table: run({"ls"}, {capture_output
-- = true}). Strings are bytes; text = true only turns "\r\n" and "\r" into
-- "\n" in what communicate returns, as Python's universal newlines do.
local core = require "moonsock.core.process"
local errors = require "moonsock.errors"
local pipes = require "moonsock.popen"
local repr = require "moonsock.repr"
local task = require "task"
local timeout_check = require("moonsock.timeout").check
local TIMEOUT_MAX = require("moonsock.timeout").TIMEOUT_MAX

local argerror, typename = errors.argerror, errors.typename
local format, concat = string.format, table.concat

local M = {}

M.PIPE, M.STDOUT, M.DEVNULL = -1, -2, -3
local PIPE, STDOUT, DEVNULL = M.PIPE, M.STDOUT, M.DEVNULL

local CHUNK = 65536 -- what a reader asks for at a time

---------------------------------------------------------------------------
-- Exceptions, with Python's fields and texts.

local SubprocessError = errors.define("SubprocessError", errors.Exception)
local CalledProcessError = errors.define("CalledProcessError", SubprocessError)
local TimeoutExpired = errors.define("TimeoutExpired", SubprocessError)
M.SubprocessError, M.CalledProcessError, M.TimeoutExpired = SubprocessError, CalledProcessError,
  TimeoutExpired

-- Python's type names, for TypeError texts.
local function pytype(v)
  local t = math.type(v)
  if t then return t == "integer" and "int" or "float" end
  if v == nil then return "NoneType" end
  if type(v) == "boolean" then return "bool" end
  if type(v) == "string" then return "str" end
  if type(v) == "table" then return "list" end
  return typename(v)
end

-- str(cmd): a string as it is, a list as Python's repr of it.
local function cmd_text(cmd)
  if type(cmd) == "table" then
    local copy = {}
    for i = 1, #cmd do copy[i] = cmd[i] end
    return repr.repr(repr.list(copy))
  end
  return tostring(cmd)
end

-- Python's signal.Signals names on Linux, for "died with <Signals.X: n>".
local SIGNALS = {
  [1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP", [6] = "SIGABRT",
  [7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL", [10] = "SIGUSR1", [11] = "SIGSEGV",
  [12] = "SIGUSR2", [13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM", [16] = "SIGSTKFLT",
  [17] = "SIGCHLD", [18] = "SIGCONT", [19] = "SIGSTOP", [20] = "SIGTSTP", [21] = "SIGTTIN",
  [22] = "SIGTTOU", [23] = "SIGURG", [24] = "SIGXCPU", [25] = "SIGXFSZ", [26] = "SIGVTALRM",
  [27] = "SIGPROF", [28] = "SIGWINCH", [29] = "SIGIO", [30] = "SIGPWR", [31] = "SIGSYS",
  [34] = "SIGRTMIN", [64] = "SIGRTMAX",
}

-- The constructors take Python's positional arguments and set the fields.
local function with_fields(cls, init)
  local meta = getmetatable(cls)
  local new = meta.__call
  meta.__call = function(c, ...)
    local e = new(c, ...)
    init(e, ...)
    return e
  end
end

-- CalledProcessError(returncode, cmd[, output[, stderr]])
with_fields(CalledProcessError, function(e, returncode, cmd, output, stderr)
  e.returncode, e.cmd, e.output, e.stdout, e.stderr = returncode, cmd, output, output, stderr
end)
CalledProcessError.__tostring = function(e)
  local rc = e.returncode
  if math.type(rc) == "integer" and rc < 0 then
    local name = SIGNALS[-rc]
    if name then
      return format("Command '%s' died with <Signals.%s: %d>.", cmd_text(e.cmd), name, -rc)
    end
    return format("Command '%s' died with unknown signal %d.", cmd_text(e.cmd), -rc)
  end
  return format("Command '%s' returned non-zero exit status %s.", cmd_text(e.cmd), tostring(rc))
end

-- TimeoutExpired(cmd, timeout[, output[, stderr]])
with_fields(TimeoutExpired, function(e, cmd, timeout, output, stderr)
  e.cmd, e.timeout, e.output, e.stdout, e.stderr = cmd, timeout, output, output, stderr
end)
TimeoutExpired.__tostring = function(e)
  return format("Command '%s' timed out after %s seconds", cmd_text(e.cmd), repr.repr(e.timeout))
end

---------------------------------------------------------------------------
-- CompletedProcess(args, returncode[, stdout[, stderr]])

local CompletedProcess = {}
CompletedProcess.__index = CompletedProcess
CompletedProcess.__name = "CompletedProcess"
M.CompletedProcess = setmetatable(CompletedProcess, {
  __call = function(_, args, returncode, stdout, stderr, text)
    return setmetatable({args = args, returncode = returncode, stdout = stdout, stderr = stderr,
                         _text = text}, CompletedProcess)
  end,
})

local function value_repr(v, text)
  if type(v) == "string" and not text then return repr.bytes_literal(v) end
  if type(v) == "table" then return cmd_text(v) end
  return repr.repr(v)
end

CompletedProcess.__tostring = function(cp)
  local parts = {"args=" .. value_repr(cp.args), "returncode=" .. repr.repr(cp.returncode)}
  if cp.stdout ~= nil then parts[#parts + 1] = "stdout=" .. value_repr(cp.stdout, cp._text) end
  if cp.stderr ~= nil then parts[#parts + 1] = "stderr=" .. value_repr(cp.stderr, cp._text) end
  return "CompletedProcess(" .. concat(parts, ", ") .. ")"
end
CompletedProcess.__repr = CompletedProcess.__tostring

-- check_returncode(): CalledProcessError unless the return code is 0.
function CompletedProcess:check_returncode()
  if getmetatable(self) ~= CompletedProcess then
    error(format("calling 'check_returncode' on bad self (CompletedProcess expected, got %s)", typename(self)), 2)
  end
  if self.returncode ~= 0 then
    error(CalledProcessError(self.returncode, self.args, self.stdout, self.stderr), 2)
  end
end

---------------------------------------------------------------------------
-- Arguments

local POPEN_OPTS = {stdin = true, stdout = true, stderr = true, cwd = true, env = true,
                    shell = true, text = true, universal_newlines = true, close_fds = true}

local function type_error(msg, level) error(errors.TypeError(msg), level + 1) end

-- The keyword check of Python's calls: fname names the function in the text.
local function check_opts(opts, n, fname, allowed, extra)
  if opts == nil then return {} end
  if type(opts) ~= "table" then argerror(n, fname, "table expected, got " .. typename(opts)) end
  for k in pairs(opts) do
    if not allowed[k] and not (extra and extra[k]) then
      -- run and the others pass their options on to Popen, which rejects them
      type_error(format("Popen.__init__() got an unexpected keyword argument %s", repr.repr(k)), 3)
    end
  end
  return opts
end

-- argv for spawn, from a string or a list of strings; shell puts /bin/sh -c first.
local function make_argv(args, shell)
  local argv
  if type(args) == "string" then
    argv = {args}
  elseif type(args) == "table" then
    argv = {}
    for i = 1, #args do
      if type(args[i]) ~= "string" then
        type_error("expected str, bytes or os.PathLike object, not " .. pytype(args[i]), 4)
      end
      argv[i] = args[i]
    end
  else
    type_error(format("'%s' object is not iterable", pytype(args)), 4)
  end
  if shell then
    table.move(argv, 1, #argv, 3, argv)
    argv[1], argv[2] = "/bin/sh", "-c"
    if argv[3] then argv[3] = pipes.reignore(argv[3]) end
  end
  if #argv == 0 then error(errors.IndexError("list index out of range"), 4) end
  return argv
end

local function check_env(env)
  if env == nil then return nil end
  if type(env) ~= "table" then type_error("env must be a table of strings, got " .. pytype(env), 4) end
  for k, v in pairs(env) do
    if type(k) ~= "string" or type(v) ~= "string" then
      type_error("expected str, bytes or os.PathLike object, not " ..
        pytype(type(k) ~= "string" and k or v), 4)
    end
  end
  return env
end

-- The child's fd for one of stdin/stdout/stderr: nil (the parent's), false
-- (/dev/null), or an fd; PIPE makes a socket pair, whose parent end (a
-- socket) is returned second.
local function child_fd(v, name)
  if v == nil then return nil end
  if v == PIPE then
    local sock, fd = pipes.pipe()
    return fd, sock
  end
  if v == DEVNULL then return false end
  if math.type(v) == "integer" and v >= 0 then return v end
  if (type(v) == "table" or type(v) == "userdata") and v.fileno then return v:fileno() end
  error(errors.ValueError(format("invalid %s: %s", name, tostring(v))), 4)
end

---------------------------------------------------------------------------
-- Popen

local Popen = {}
Popen.__index = Popen
Popen.__name = "Popen"

-- Lua's "closes the child's ends, whatever happens" for the fds made here.
local function close_child_ends(ends)
  for _, fd in pairs(ends) do pipes.close_fd(fd) end
end

-- Popen(args[, opts]): starts the child. opts: stdin, stdout, stderr (PIPE,
-- DEVNULL, STDOUT for stderr, an fd, an object with fileno, nil to
-- share the parent's), cwd, env, shell, text.
function M.Popen(args, opts)
  opts = check_opts(opts, 2, "Popen", POPEN_OPTS)
  local argv = make_argv(args, opts.shell)
  local env = check_env(opts.env)
  local cwd = opts.cwd
  if cwd ~= nil and type(cwd) ~= "string" then
    type_error("expected str, bytes or os.PathLike object, not " .. pytype(cwd), 2)
  end
  local self = setmetatable({args = args, returncode = nil,
                             _text = opts.text or opts.universal_newlines or false}, Popen)
  local ends, socks, stdio = {}, {}, {}
  local ok, err = pcall(function()
    for i, name in ipairs {"stdin", "stdout", "stderr"} do
      if i == 3 and opts.stderr == STDOUT then
        stdio[3] = stdio[2] == nil and 1 or stdio[2]
      else
        local fd, sock = child_fd(opts[name], name)
        stdio[i] = fd
        if sock then ends[i], socks[i] = fd, sock end
      end
    end
    self._proc = core.spawn(argv[1], argv, {env = env, cwd = cwd, stdio = stdio})
  end)
  close_child_ends(ends)
  if not ok then
    for _, s in pairs(socks) do s:close() end
    if errors.FileNotFoundError:matches(err) and cwd ~= nil and not io.open(cwd .. "/.") then
      err.filename = cwd
    end
    error(err, 2)
  end
  self.pid = self._proc:pid()
  self._socks = socks
  -- The files own their sockets: closing a file closes its fd (the child's
  -- stdin then sees its end of file).
  for i, name in ipairs {"stdin", "stdout", "stderr"} do
    local s = socks[i]
    if s then
      self[name] = s:makefile(i == 1 and "wb" or "rb")
      s:close()
    end
  end
  return self
end

local function check_popen(p, fname)
  if getmetatable(p) ~= Popen then
    error(format("calling '%s' on bad self (Popen expected, got %s)", fname, typename(p)), 3)
  end
  return p
end

local function set_status(p, status, signal)
  if status ~= nil and p.returncode == nil then
    p.returncode = signal ~= 0 and -signal or status
  end
  return p.returncode
end

-- A timeout for Python's calls: a number or nil; negative means "now";
-- past TIMEOUT_MAX (math.huge) no deadline, as Python waits that long.
local function check_timeout(timeout, n, fname)
  if timeout == nil then return nil end
  if type(timeout) ~= "number" then argerror(n, fname, "number expected, got " .. typename(timeout)) end
  if timeout ~= timeout then timeout_check(timeout, n, fname) end
  if timeout > TIMEOUT_MAX then return nil end
  return timeout
end

-- poll() -> the return code, or nil while the child runs.
function Popen:poll()
  check_popen(self, "poll")
  if self.returncode == nil then set_status(self, self._proc:poll()) end
  return self.returncode
end

-- wait([timeout]) -> the return code; TimeoutExpired after timeout seconds.
function Popen:wait(timeout)
  check_popen(self, "wait")
  local limit = check_timeout(timeout, 1, "wait")
  if self.returncode ~= nil then return self.returncode end
  local status, signal = self._proc:wait(limit and math.max(limit, 0))
  if status == nil then error(TimeoutExpired(self.args, timeout), 2) end
  return set_status(self, status, signal)
end

-- send_signal(sig): nothing once the child has ended and been waited for.
function Popen:send_signal(sig)
  check_popen(self, "send_signal")
  if math.type(sig) ~= "integer" then
    argerror(1, "send_signal", "integer expected, got " .. (math.type(sig) or typename(sig)))
  end
  if self:poll() == nil then self._proc:kill(sig) end
end

function Popen:terminate() check_popen(self, "terminate"); self:send_signal(15) end
function Popen:kill() check_popen(self, "kill"); self:send_signal(9) end

local function universal(s)
  if s == nil then return nil end
  return (s:gsub("\r\n?", "\n"))
end

-- Starts the tasks of communicate, once: a writer of input and a reader of
-- each output pipe, each in its own task so no pipe can fill up and stall
-- the child. Chunks read are kept here, so a call that timed out loses
-- nothing; the next call goes on with the same tasks. They are daemons:
-- a child left running after a timeout does not keep the script alive.
local function start_communication(p, input)
  local c = {out = {}, err = {}, tasks = {}}
  p._comm = c
  if p.stdin then
    local f, sock = p.stdin, p._socks[1]
    c.tasks[#c.tasks + 1] = task.spawn_daemon(function()
      -- A child that exits without reading: Python ignores the broken pipe.
      -- The input goes in CHUNK slices with a turn for the others between
      -- them: a child that reads as fast as we send would keep send from
      -- ever parking.
      local ok, err = pcall(function()
        f:flush()
        if input == nil then return end
        local off = 0
        while off < #input do
          off = off + sock:send(input:sub(off + 1, off + CHUNK))
          task.yield()
        end
      end)
      pcall(f.close, f)
      if not ok and not errors.BrokenPipeError:matches(err) and not errors.ConnectionResetError:matches(err) then
        error(err, 0)
      end
    end)
  end
  -- Python's communicate reads the fds (os.read), not the files' buffers:
  -- the readers take what each recv gives, however little.
  for i, which in ipairs {"stdout", "stderr"} do
    local f, sock, into = p[which], p._socks[i + 1], which == "stdout" and c.out or c.err
    if f then
      c.tasks[#c.tasks + 1] = task.spawn_daemon(function()
        while true do
          local chunk = sock:recv(CHUNK)
          if chunk == "" then break end
          into[#into + 1] = chunk
          -- a child that writes as fast as we read would keep recv from
          -- ever parking: let the other tasks and the timers have a turn
          task.yield()
        end
        f:close()
      end)
    end
  end
end

local function outputs(p)
  local c = p._comm
  local out = p.stdout and concat(c.out) or nil
  local err = p.stderr and concat(c.err) or nil
  if p._text then out, err = universal(out), universal(err) end
  return out, err
end

-- communicate([input[, timeout]]) -> stdout, stderr (nil for those not
-- piped): sends input, reads both outputs at once, waits for the child.
function Popen:communicate(input, timeout)
  check_popen(self, "communicate")
  if input ~= nil and type(input) ~= "string" then
    argerror(1, "communicate", "string expected, got " .. typename(input))
  end
  local limit = check_timeout(timeout, 2, "communicate")
  if self._comm and input ~= nil and input ~= "" then
    error(errors.ValueError("Cannot send input after starting communication"), 2)
  end
  if not self._comm then start_communication(self, input) end
  local deadline = limit and task.now() + limit
  local function expired()
    local out, err = outputs(self)
    return TimeoutExpired(self.args, timeout, out, err)
  end
  for _, t in ipairs(self._comm.tasks) do
    local left = deadline and math.max(0, deadline - task.now())
    local ok, err = pcall(t.join, t, left)
    if not ok then
      if errors.TimeoutError:matches(err) and not t:done() then error(expired(), 2) end
      error(err, 0)
    end
  end
  local left = deadline and math.max(0, deadline - task.now())
  local status, signal = self._proc:wait(left)
  if status == nil and self.returncode == nil then error(expired(), 2) end
  set_status(self, status, signal)
  return outputs(self)
end

-- A Popen in a to-be-closed variable closes its pipes and waits, as
-- Python's `with Popen(...) as p`.
Popen.__close = function(p)
  for _, name in ipairs {"stdout", "stderr", "stdin"} do
    local f = p[name]
    if f and not f.closed then pcall(f.close, f) end
  end
  p:wait()
end

Popen.__tostring = function(p)
  return format("<Popen: returncode: %s args: %s>", repr.repr(p.returncode), value_repr(p.args))
end

---------------------------------------------------------------------------
-- The functions

local RUN_OPTS = {input = true, capture_output = true, timeout = true, check = true}

-- Popen's options out of a run/call options table.
local function popen_opts(opts)
  local p = {}
  for k, v in pairs(opts) do if POPEN_OPTS[k] then p[k] = v end end
  return p
end

-- run(args[, opts]) -> CompletedProcess. opts: Popen's, plus input,
-- capture_output, timeout, check.
function M.run(args, opts)
  opts = check_opts(opts, 2, "run", POPEN_OPTS, RUN_OPTS)
  local popts = popen_opts(opts)
  if opts.input ~= nil then
    if opts.stdin ~= nil then error(errors.ValueError("stdin and input arguments may not both be used."), 2) end
    popts.stdin = PIPE
  end
  if opts.capture_output then
    if opts.stdout ~= nil or opts.stderr ~= nil then
      error(errors.ValueError("stdout and stderr arguments may not be used with capture_output."), 2)
    end
    popts.stdout, popts.stderr = PIPE, PIPE
  end
  check_timeout(opts.timeout, 2, "run")
  local ok, p = pcall(M.Popen, args, popts)
  if not ok then error(p, 2) end
  local okc, out, err = pcall(p.communicate, p, opts.input, opts.timeout)
  if not okc then
    p:kill()
    p:wait()
    error(out, 2)
  end
  local rc = p.returncode
  if opts.check and rc ~= 0 then error(CalledProcessError(rc, args, out, err), 2) end
  return M.CompletedProcess(args, rc, out, err, p._text)
end

-- call(args[, opts]) -> the return code; opts: Popen's and timeout.
function M.call(args, opts)
  opts = check_opts(opts, 2, "call", POPEN_OPTS, {timeout = true})
  check_timeout(opts.timeout, 2, "call")
  local okp, p = pcall(M.Popen, args, popen_opts(opts))
  if not okp then error(p, 2) end
  local ok, rc = pcall(p.wait, p, opts.timeout)
  if not ok then
    p:kill()
    p:wait()
    error(rc, 2)
  end
  return rc
end

-- check_call(args[, opts]) -> 0, or CalledProcessError.
function M.check_call(args, opts)
  opts = check_opts(opts, 2, "check_call", POPEN_OPTS, {timeout = true})
  local ok, rc = pcall(M.call, args, opts)
  if not ok then error(rc, 2) end
  if rc ~= 0 then error(CalledProcessError(rc, args), 2) end
  return 0
end

-- check_output(args[, opts]) -> the child's stdout; CalledProcessError
-- unless it exits 0. opts: run's but stdout.
function M.check_output(args, opts)
  opts = check_opts(opts, 2, "check_output", POPEN_OPTS, RUN_OPTS)
  if opts.stdout ~= nil then
    error(errors.ValueError("stdout argument not allowed, it will be overridden."), 2)
  end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.stdout, o.check = PIPE, true
  local ok, r = pcall(M.run, args, o)
  if not ok then error(r, 2) end
  return r.stdout
end

return M
