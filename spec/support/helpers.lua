-- Shared by the specs: run python3 (the reference) or a child moonsock.
local M = {}

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shell_quote = shell_quote

-- read_file(path) -> the file's bytes, or nil when it cannot be opened
-- (not written yet: the specs poll for files other processes write).
local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
M.read_file = read_file

local function slurp(path)
  return assert(read_file(path), "cannot read " .. path)
end

local function write_temp(content, suffix)
  local path = os.tmpname() .. (suffix or "")
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
  return path
end
M.write_temp = write_temp

-- Runs a command; returns stdout, stderr, exit code.
function M.run(cmd)
  local err = os.tmpname()
  local p = assert(io.popen(cmd .. " 2>" .. err, "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local e = slurp(err)
  os.remove(err)
  return out, e, code
end

-- python(code) -> stdout of python3 running code (raises if python fails).
function M.python(code)
  local path = write_temp(code, ".py")
  local out, err, code_ = M.run("python3 " .. shell_quote(path))
  os.remove(path)
  if code_ ~= 0 then error("python3 failed: " .. err, 2) end
  return out
end

-- The moonsock binary running the specs.
local function self_exe()
  local f = io.open("/proc/self/exe")
  if f then f:close() end
  local p = io.popen("readlink /proc/" .. (M.getpid()) .. "/exe")
  local exe = p:read("l")
  p:close()
  return exe
end

function M.getpid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return pid
end

M.moonsock = os.getenv("MOONSOCK_BIN") or (function()
  local ok, exe = pcall(self_exe)
  return ok and exe or "bin/moonsock"
end)()

-- moonsock_script(code, args...) -> stdout, stderr, exit code of a child.
function M.moonsock_script(code, ...)
  local path = write_temp(code, ".lua")
  local args = {}
  for i = 1, select("#", ...) do args[i] = shell_quote((select(i, ...))) end
  local out, err, rc = M.run(shell_quote(M.moonsock) .. " " .. shell_quote(path) .. " " .. table.concat(args, " "))
  os.remove(path)
  return out, err, rc
end

function M.tempdir()
  local p = io.popen("mktemp -d")
  local d = p:read("l")
  p:close()
  return d
end

-- fd_table() -> {[fd] = what it is ("socket:[123]", a path)}: the fds
-- this process has open, as the kernel lists them (os.execute opens
-- nothing here, where io.popen would add a pipe of its own).
function M.fd_table()
  local out = os.tmpname()
  os.execute("ls -l /proc/" .. M.getpid() .. "/fd > " .. out .. " 2>/dev/null")
  local fds = {}
  for line in io.lines(out) do
    local fd, target = line:match(" (%d+) %-> (.*)$")
    if fd then fds[tonumber(fd)] = target end
  end
  os.remove(out)
  return fds
end

-- tcp_pair([timeout]) -> a connected TCP pair over loopback: the client and
-- the accepted connection, both with the timeout (5 s unless given).
function M.tcp_pair(timeout)
  local socket = require "socket"
  timeout = timeout or 5
  local srv = socket.create_server({"127.0.0.1", 0})
  srv:settimeout(timeout)
  local c = socket.create_connection(srv:getsockname(), timeout)
  local a = srv:accept()
  srv:close()
  a:settimeout(timeout)
  return c, a
end

function M.open_fds()
  local p = io.popen("ls /proc/" .. M.getpid() .. "/fd | wc -l")
  local n = tonumber(p:read("l"))
  p:close()
  return n
end

-- hung_up_fifo() -> file: the read end of a pipe whose writer has gone
-- (a FIFO a shell opened for writing and closed), read to its EOF. A real
-- pipe: io.popen's is a socket pair. The open blocks the process until the
-- shell's writer comes (0.05 s).
function M.hung_up_fifo()
  local dir = M.tempdir()
  local path = dir .. "/fifo"
  assert(os.execute("mkfifo " .. shell_quote(path)))
  assert(os.execute("(sleep 0.05; : > " .. shell_quote(path) .. ") &"))
  local f = assert(io.open(path, "r"))
  assert(f:read("a") == "")
  os.execute("rm -rf " .. shell_quote(dir))
  return f
end

-- ticker([period]) -> t: a task that sleeps period seconds (0.01) in a loop
-- for at most 60 s, to show that the loop ran while the caller waited.
-- t.ticks counts its turns, t.longest is the longest time between two;
-- t:stop() ends it.
function M.ticker(period)
  local task = require "task"
  period = period or 0.01
  local t = {ticks = 0, longest = 0, running = true}
  t.task = task.spawn(function()
    local deadline, last = task.now() + 60, task.now()
    while t.running and task.now() < deadline do
      task.sleep(period)
      local now = task.now()
      t.ticks, t.longest, last = t.ticks + 1, math.max(t.longest, now - last), now
    end
  end)
  function t.stop()
    t.running = false
    t.task:join(5)
    return t
  end
  return t
end

return M
