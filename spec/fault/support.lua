-- Shared by the fault specs (spec/fault/*_spec.lua).
local h = require "spec.support.helpers"

local M = {}

-- The number of socket fds this process holds. Sockets only: the pipe that
-- io.popen opens to run ls is counted by a plain fd count, or not, depending
-- on when ls reads the directory.
function M.socket_fds(pid)
  local p = assert(io.popen("ls -l /proc/" .. (pid or h.getpid()) .. "/fd"))
  local n = 0
  for line in p:lines() do
    if line:find("-> socket:", 1, true) then n = n + 1 end
  end
  p:close()
  return n
end

-- A line of /proc/PID/status in KiB (VmRSS, VmHWM, ...).
function M.status_kib(field, pid)
  local f = assert(io.open("/proc/" .. (pid or "self") .. "/status"))
  local text = f:read("a")
  f:close()
  return tonumber(text:match(field .. ":%s*(%d+) kB"))
end

-- Is this process (or pid) running under AddressSanitizer? Its memory
-- figures are then the sanitizer's (shadow memory, quarantine).
function M.sanitized(pid)
  local f = assert(io.open("/proc/" .. (pid or "self") .. "/maps"))
  local maps = f:read("a")
  f:close()
  return maps:find("libasan", 1, true) ~= nil
end

return M
