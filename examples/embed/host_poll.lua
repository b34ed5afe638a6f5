-- host_poll.lua: the script examples/embed/host_poll.c runs inside its own
-- poll() loop. TCP clients connect to 127.0.0.1; every line the host reads
-- from its stdin is sent to every client connected then. At the end of
-- stdin the clients get the lines still queued, then the server closes.
-- usage: bin/examples/host_poll examples/embed/host_poll.lua
--   The first line printed names the port; each client is greeted with
--   "welcome, client N" once it is registered for lines.
local host = require "host"
local socket = require "socket"
local task = require "task"

local server = socket.create_server({"127.0.0.1", 0})
print(("listening on port %d"):format(server:getsockname()[2]))
io.stdout:flush() -- the port is what a client waits for

local queues = {} -- one per client connected, filled by the host's hooks
local sent, closing = 0, false

-- The host calls the hooks from its loop, outside any task: they only queue
-- and return. A client's task does the sending, which may block.
function host.on_line(line)
  for queue in pairs(queues) do queue:put_nowait(line) end
end

function host.on_eof()
  closing = true
  for queue in pairs(queues) do queue:put_nowait(false) end
  server:close() -- the accept below then raises
end

local function serve(conn, queue, n)
  local ok, err = pcall(function()
    conn:sendall(("welcome, client %d\n"):format(n))
    while true do
      local line = queue:get()
      if not line then break end -- on_eof's false
      conn:sendall(line .. "\n")
      sent = sent + 1
    end
  end)
  queues[queue] = nil
  conn:close()
  if not ok then io.stderr:write(("client %d: %s\n"):format(n, tostring(err))) end
end

local handlers = {}
while true do
  local ok, conn = pcall(server.accept, server)
  if not ok then
    if closing then break end
    error(conn, 0)
  end
  -- Registered before the task starts, so no line can slip past it.
  local queue = task.Queue()
  queues[queue] = true
  handlers[#handlers + 1] = task.spawn(serve, conn, queue, #handlers + 1)
end
for _, h in ipairs(handlers) do h:join() end
print(("sent %d lines to %d clients"):format(sent, #handlers))
