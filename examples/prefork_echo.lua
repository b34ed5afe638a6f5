-- prefork_echo.lua
-- Source: ../shared/seeds/001_b22fa077275f9854.txt ("Python Module_Socket_网络编程"),
--   section "Socket 编程 > Demo > TCP 服务端", NOTE2 (one thread per client),
--   told the moonsock way (a task per client) and run in several worker
--   processes on one port, to use every core.
-- Shows: the socket-level prefork pattern. The parent holds the port with a
--   socket bound with SO_REUSEPORT but not listening (so that no connection
--   waits on it), forks the workers (moonsock.posix.fork), and waits until
--   each says it listens before it prints its banner. Each worker listens on
--   a socket of its own (socket.create_server with reuse_port), among which
--   the kernel spreads the connections, and serves each client in a task of
--   its own, echoing until the client closes. A worker dies with the parent
--   (posix.set_pdeathsig), even if the parent is killed; a worker that dies
--   is reported on stderr and replaced. SIGTERM or ^C stop the parent, which
--   stops its workers, reaps them and prints "stopped".
--   socketserver.PreforkThreadingTCPServer does all this for a socketserver
--   handler, and also stops replacing workers that keep dying.
-- Usage: bin/moonsock examples/prefork_echo.lua [port [workers [host]]]
--   port defaults to 8888 (0: a free port, shown in the banner), workers to
--   the number of CPUs the process may use, host to "127.0.0.1".
local posix = require "moonsock.posix"
local signal = require "signal"
local socket = require "socket"
local task = require "task"

local PORT = math.tointeger(tonumber(arg[1] or "8888"))
local WORKERS = math.tointeger(tonumber(arg[2] or "")) or posix.process_cpu_count()
local HOST = arg[3] or "127.0.0.1"

-- One task per client: echo until the client closes.
local function client_task(conn)
  conn:setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
  -- A client that resets its connection ends only its own task.
  pcall(function()
    while true do
      local data = conn:recv(65536)
      if data == "" then break end
      conn:sendall(data)
    end
  end)
  conn:close()
end

-- The parent holds the port: a worker binds the same one, even when port 0
-- let the kernel choose it.
local holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
holder:setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
holder:bind({HOST, PORT})
PORT = holder:getsockname()[2]

-- SIGTERM and ^C only note the signal: the parent looks between its naps.
local caught = {}
local function note(sig) caught[#caught + 1] = sig end
signal.signal(signal.SIGTERM, note)
signal.signal(signal.SIGINT, note)

-- Each worker writes a byte here once it listens.
local ready_r, ready_w = socket.socketpair()
local parent = posix.getpid()
local workers = {} -- pid -> worker number

local function start_worker(number)
  local pid = posix.fork()
  if pid ~= 0 then
    workers[pid] = number
    return
  end
  -- In the worker: SIGTERM kills it; ^C is for the parent to handle.
  signal.signal(signal.SIGTERM, signal.SIG_DFL)
  signal.signal(signal.SIGINT, signal.SIG_IGN)
  posix.set_pdeathsig(posix.SIGTERM)
  if posix.getppid() ~= parent then posix._exit(1) end -- it died before that line
  holder:close()
  ready_r:close()
  local server = socket.create_server({HOST, PORT}, {reuse_port = true, backlog = 1024})
  ready_w:sendall("+")
  while true do
    local conn = server:accept()
    task.spawn(client_task, conn)
  end
end

for number = 1, WORKERS do start_worker(number) end
ready_r:settimeout(10)
for _ = 1, WORKERS do ready_r:recv(1) end
print(string.format("echo server on %s:%d, %d workers", HOST, PORT, WORKERS))
io.stdout:flush()

while #caught == 0 do
  local pid, status = posix.waitpid(-1, posix.WNOHANG)
  if pid ~= 0 then
    local number = workers[pid]
    workers[pid] = nil
    io.stderr:write(string.format("worker %d (pid %d) ended with %d; starting another\n",
      number, pid, posix.waitstatus_to_exitcode(status)))
    start_worker(number)
  end
  task.sleep(0.1)
end

for pid in pairs(workers) do posix.kill(pid, posix.SIGTERM) end
for pid in pairs(workers) do posix.waitpid(pid, 0) end
print("stopped")
