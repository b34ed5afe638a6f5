-- socket.select(recvt, sendt[, timeout]) as LuaSocket's: any object with a
-- getfd method (and, for recvt, a dirty method) in the arrays; the answer
-- tables are arrays and sets at once; a dirty object is ready at once. The
-- wait is Python's select.select, which parks only the task.
local pselect = require("select").select
local task = require "task"
local core = require "moonsock.luasocket.core"

local argerror, typename = core.argerror, core.typename

local function fd_of(o)
  local getfd = o.getfd
  if getfd == nil then return nil end
  local fd = getfd(o)
  if type(fd) ~= "number" or fd < 0 then return nil end
  return math.floor(fd)
end

-- fds: fd -> object, for every object of t (its array part).
local function collect(t, n, by_fd, fds)
  if t == nil then return end
  if type(t) ~= "table" then argerror(n, "table expected, got " .. typename(t)) end
  local i = 1
  while true do
    local o = t[i]
    if o == nil then break end
    local fd = fd_of(o)
    if fd then
      if not by_fd[fd] then fds[#fds + 1] = fd end
      by_fd[fd] = o
    end
    i = i + 1
  end
end

local function assoc(t)
  for i = 1, #t do t[t[i]] = i + 0.0 end
  return t
end

return function(recvt, sendt, timeout)
  if timeout ~= nil and type(timeout) ~= "number" then
    timeout = tonumber(timeout) or argerror(3, "number expected, got " .. typename(timeout))
  end
  if timeout ~= timeout then argerror(3, "timeout must not be NaN") end
  local rby, wby, rfds, wfds = {}, {}, {}, {}
  collect(recvt, 1, rby, rfds)
  collect(sendt, 2, wby, wfds)
  local rout, wout = {}, {}
  -- the dirty ones come first and are not waited for
  local dirty = {}
  if recvt then
    for i = 1, #recvt do
      local o = recvt[i]
      local isdirty = o.dirty
      if isdirty ~= nil and isdirty(o) then
        rout[#rout + 1] = o
        dirty[o] = true
      end
    end
  end
  if timeout == nil or timeout < 0 then timeout = nil end
  if #rout > 0 then timeout = 0 end
  local waitr = {}
  for _, fd in ipairs(rfds) do
    if not dirty[rby[fd]] then waitr[#waitr + 1] = fd end
  end
  local readable, writable
  if #waitr == 0 and #wfds == 0 then
    if timeout == nil then
      while true do task.sleep(3600) end
    end
    if timeout > 0 then task.sleep(timeout) end
    readable, writable = {}, {}
  else
    readable, writable = pselect(waitr, wfds, {}, timeout)
  end
  table.sort(readable)
  table.sort(writable)
  for _, fd in ipairs(readable) do rout[#rout + 1] = rby[fd] end
  for _, fd in ipairs(writable) do wout[#wout + 1] = wby[fd] end
  if #rout == 0 and #wout == 0 then return assoc(rout), assoc(wout), "timeout" end
  return assoc(rout), assoc(wout)
end
