-- Python 2's thread / Python 3's _thread, as the tutorials use it:
-- start_new_thread(fn, args) runs fn(table.unpack(args)) as a task.
local task = require "task"

local thread = {}

-- Unlike Python's _thread, the process waits for these tasks (as for
-- threading.Thread): the tutorials' servers rely on clients being served.
function thread.start_new_thread(fn, args, kwargs)
  local mt = getmetatable(fn)
  if type(fn) ~= "function" and not (type(mt) == "table" and mt.__call) then
    error("bad argument #1 to 'start_new_thread' (first arg must be callable)", 2)
  end
  if type(args) ~= "table" then
    error("bad argument #2 to 'start_new_thread' (2nd arg must be a table)", 2)
  end
  if kwargs ~= nil then
    error("bad argument #3 to 'start_new_thread' (keyword arguments are not supported)", 2)
  end
  local h = task.spawn(fn, table.unpack(args, 1, args.n or #args))
  return h
end

thread.allocate_lock = function() return task.Lock() end
thread.get_ident = function() return task.current() end
thread.error = require("moonsock.errors").RuntimeError

return thread
