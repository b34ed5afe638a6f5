-- Drives a command on a pseudo-terminal through spec/support/pty_driver.py:
-- type keys, read the screen a terminal would show, wait for text. The
-- driver is reached over a UNIX socket, so waiting parks only the spec's task.
local socket = require "socket"
local task = require "task"
local h = require "spec.support.helpers"

local M = {}

local Term = {}
Term.__index = Term

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

function Term:call(line)
  self.sock:sendall(line .. "\n")
  local head = ""
  while not head:find("\n", 1, true) do
    local chunk = self.sock:recv(1)
    assert(chunk ~= "", "the pty driver went away")
    head = head .. chunk
  end
  local len = tonumber(head:match("^(%d+)\n"))
  local parts, got = {}, 0
  while got < len do
    local chunk = self.sock:recv(len - got)
    assert(chunk ~= "", "the pty driver went away")
    parts[#parts + 1] = chunk
    got = got + #chunk
  end
  return table.concat(parts)
end

-- keys(s): types the bytes of s ("\r" is Enter, "\3" Ctrl-C, "\4" Ctrl-D).
function Term:keys(s)
  self:call("K " .. hex(s))
end

-- line(s): types s and Enter.
function Term:line(s)
  self:keys(s .. "\r")
end

function Term:screen()
  return self:call("S")
end

-- wait(regex[, seconds]) -> true, screen once the screen matches the
-- Python regex (re.S), or false, screen when the time is up.
function Term:wait(regex, seconds)
  local reply = self:call(string.format("W %g %s", seconds or 10, hex(regex)))
  return reply:sub(1, 1) == "1", reply:sub(3)
end

-- exit([seconds]) -> the exit status (a number), "signal N" or "running".
function Term:exit(seconds)
  local reply = self:call(string.format("X %g", seconds or 10))
  return tonumber(reply) or reply
end

function Term:transcript()
  return self:call("T")
end

function Term:close()
  if self.sock then
    self.sock:close()
    self.sock = nil
  end
  os.execute("rm -rf " .. h.shell_quote(self.dir))
end

-- start(command[, rows, cols]) -> a terminal running the shell command.
function M.start(command, rows, cols)
  local dir = h.tempdir()
  local ctl = dir .. "/ctl"
  os.execute(string.format("python3 spec/support/pty_driver.py %s %d %d sh -c %s >%s 2>&1 &",
    h.shell_quote(ctl), rows or 24, cols or 80, h.shell_quote("exec " .. command),
    h.shell_quote(dir .. "/driver.log")))
  local sock
  for _ = 1, 250 do
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if sock:connect_ex(ctl) == 0 then break end
    sock:close()
    sock = nil
    task.sleep(0.02)
  end
  assert(sock, "the pty driver did not start")
  sock:settimeout(30)
  return setmetatable({sock = sock, dir = dir}, Term)
end

M.hex = hex

return M
