-- socketserver's graceful stop: shutdown() then server_close() on a
-- ThreadingTCPServer with requests in progress. block_on_close and
-- daemon_threads are Python's: the same scenario runs in python3 (threads)
-- and here (tasks), and prints the same lines; a connection the kernel
-- queued after shutdown() but nobody accepted is reset by server_close.
-- block_on_close_timeout is moonsock's: the handlers still running at the
-- deadline are cancelled and their request sockets shut down, the children
-- of a ForkingMixIn killed; what the clients and handlers see is checked
-- byte by byte and error by error.
local socketserver = require "socketserver"
local socket = require "socket"
local task = require "task"
local errors = require "moonsock.errors"
local helpers = require "spec.support.helpers"
local posix = require "moonsock.posix"

local TIMEOUT = 5
local LOCAL = {"127.0.0.1", 0}
local N = 20
local DELAY = 0.3

-- Client k's answer: 48 KiB that differ from one client to the next.
local PY_PAYLOAD = [[
def payload(k):
    unit = b"%d:" % k + bytes(range(256))
    return (unit * (49152 // len(unit) + 1))[:49152]
]]
local function payload(k)
  local bytes = {}
  for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
  local unit = k .. ":" .. table.concat(bytes)
  return unit:rep(49152 // #unit + 1):sub(1, 49152)
end

-- Everything the peer sends until it closes, or what came before an error.
local function recv_all(c)
  local parts = {}
  while true do
    local ok, s = pcall(c.recv, c, 65536)
    if not ok or s == "" then return table.concat(parts), (not ok) and s or nil end
    parts[#parts + 1] = s
  end
end

local function connect(addr)
  return socket.create_connection(addr, TIMEOUT)
end

-- What `connect` raises once the server is closed: the exception's class.
local function connect_after_close(addr)
  local ok, err = pcall(connect, addr)
  if ok then
    err:close()
    return "connected"
  end
  if errors.ConnectionRefusedError:matches(err) then return "ConnectionRefusedError" end
  return tostring(err)
end

-- The scenario in python3: N clients mid-request when the server is shut
-- down and closed. Its lines are the reference for the moonsock run below.
local function python_scenario(daemon_threads, block_on_close)
  return helpers.python(PY_PAYLOAD .. string.format([[
import socket, socketserver, threading, time
N, DELAY = %d, %s
started = threading.Semaphore(0)
lock = threading.Lock()
finished = [0]
class H(socketserver.StreamRequestHandler):
    def handle(self):
        k = int(self.rfile.readline())
        started.release()
        data = payload(k)
        third = len(data) // 3
        for i in range(3):
            time.sleep(DELAY / 3)
            self.wfile.write(data[i * third:len(data) if i == 2 else (i + 1) * third])
        with lock:
            finished[0] += 1
class S(socketserver.ThreadingTCPServer):
    daemon_threads = %s
    block_on_close = %s
    request_queue_size = N
server = S(("127.0.0.1", 0), H)
addr = server.server_address
threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
answers = [None] * N
def client(k):
    c = socket.create_connection(addr, 5)
    c.sendall(b"%%d\n" %% k)
    parts = []
    while True:
        s = c.recv(65536)
        if not s:
            break
        parts.append(s)
    c.close()
    answers[k] = b"".join(parts)
clients = [threading.Thread(target=client, args=(k,)) for k in range(N)]
for t in clients:
    t.start()
for _ in range(N):
    started.acquire(timeout=5)
server.shutdown()
late = socket.create_connection(addr, 5)
late.sendall(b"0\n")
t0 = time.monotonic()
server.server_close()
took = time.monotonic() - t0
at_close = finished[0]
try:
    socket.create_connection(addr, 5).close()
    refused = "connected"
except OSError as e:
    refused = type(e).__name__
try:
    late_reply = repr(late.recv(65536))
except OSError as e:
    late_reply = type(e).__name__
late.close()
for t in clients:
    t.join(5)
print("finished at close", at_close)
print("waited", str(took >= DELAY / 2).lower())
print("refused", refused)
print("queued, not accepted", late_reply)
print("full answers", sum(answers[k] == payload(k) for k in range(N)))
]], N, DELAY, daemon_threads and "True" or "False", block_on_close and "True" or "False"))
end

-- The same scenario here, with tasks.
local function moonsock_scenario(fields)
  local started = task.Semaphore(0)
  local finished = 0
  local H = socketserver.StreamRequestHandler:extend{handle = function(self)
    local k = tonumber(self.rfile:readline())
    started:release()
    local data = payload(k)
    local third = #data // 3
    for i = 0, 2 do
      task.sleep(DELAY / 3)
      self.wfile:write(data:sub(i * third + 1, i == 2 and #data or (i + 1) * third))
    end
    finished = finished + 1
  end}
  fields.request_queue_size = N
  local server = socketserver.ThreadingTCPServer:extend(fields)(LOCAL, H)
  local addr = server.server_address
  local serving = task.spawn(function() server:serve_forever(0.05) end)
  local answers = {}
  local clients = {}
  for k = 0, N - 1 do
    clients[#clients + 1] = task.spawn(function()
      local c = connect(addr)
      c:sendall(k .. "\n")
      answers[k] = recv_all(c)
      c:close()
    end)
  end
  for _ = 1, N do started:acquire(true, TIMEOUT) end
  server:shutdown()
  serving:join(TIMEOUT)
  -- queued by the kernel, never accepted
  local late = connect(addr)
  late:sendall("0\n")
  local t0 = task.now()
  server:server_close()
  local took = task.now() - t0
  local at_close = finished
  local refused = connect_after_close(addr)
  local ok, late_reply = pcall(late.recv, late, 65536)
  if ok then
    late_reply = late_reply == "" and "b''" or late_reply
  elseif errors.ConnectionResetError:matches(late_reply) then
    late_reply = "ConnectionResetError"
  end
  late:close()
  for _, t in ipairs(clients) do t:join(TIMEOUT) end
  local full = 0
  for k = 0, N - 1 do
    if answers[k] == payload(k) then full = full + 1 end
  end
  return table.concat({
    "finished at close " .. at_close,
    "waited " .. tostring(took >= DELAY / 2),
    "refused " .. refused,
    "queued, not accepted " .. tostring(late_reply),
    "full answers " .. full,
    "",
  }, "\n"), took
end

describe("socketserver graceful stop, as Python's", function()
  it("shutdown + server_close: every request in progress is answered in full, then close returns (block_on_close)",
  function()
    local expected = python_scenario(false, true)
    assert.are.equal("finished at close 20\nwaited true\nrefused ConnectionRefusedError\n" ..
      "queued, not accepted ConnectionResetError\nfull answers 20\n",
      expected)
    local out, took = moonsock_scenario({})
    assert.are.equal(expected, out)
    assert.is_true(took < DELAY + 0.5, "server_close took " .. took)
  end)

  it("daemon_threads: server_close does not wait, and the daemon tasks still answer in full", function()
    local expected = python_scenario(true, true)
    assert.are.equal("finished at close 0\nwaited false\nrefused ConnectionRefusedError\n" ..
      "queued, not accepted ConnectionResetError\nfull answers 20\n",
      expected)
    assert.are.equal(expected, (moonsock_scenario({daemon_threads = true})))
  end)

  it("block_on_close false: server_close does not wait either", function()
    local expected = python_scenario(false, false)
    assert.are.equal(expected, (moonsock_scenario({block_on_close = false})))
  end)

  it("a deadline longer than the handlers changes nothing", function()
    local out, took = moonsock_scenario({block_on_close_timeout = 3})
    assert.are.equal(python_scenario(false, true), out)
    assert.is_true(took < DELAY + 0.5, "server_close took " .. took)
  end)
end)

describe("socketserver block_on_close_timeout", function()
  -- A server whose handler writes "first\n", then waits `wait(self)`,
  -- then writes "second\n"; log records what its hooks saw.
  local function scenario(fields, wait, nclients)
    local log = {errors = {}, finish = 0, shutdown_request = 0, after = {}, read_after = {}}
    local H = socketserver.StreamRequestHandler:extend{
      handle = function(self)
        self.rfile:readline()
        self.wfile:write("first\n")
        local ok, err = pcall(wait, self)
        if not ok then
          log.errors[#log.errors + 1] = err
          if not self.swallow then error(err, 0) end
          -- A handler that goes on after the cancel: its socket is closed.
          local okw, errw = pcall(self.wfile.write, self.wfile, "after\n")
          log.after[#log.after + 1] = okw and "written" or errw
          log.read_after[#log.read_after + 1] = self.rfile:readline()
          return
        end
        self.wfile:write("second\n")
      end,
      finish = function(self)
        log.finish = log.finish + 1
        socketserver.StreamRequestHandler.finish(self)
      end,
    }
    if fields.swallow then
      H.swallow = true
      fields.swallow = nil
    end
    fields.request_queue_size = N
    local S = socketserver.ThreadingTCPServer:extend(fields)
    function S:shutdown_request(request)
      log.shutdown_request = log.shutdown_request + 1
      socketserver.ThreadingTCPServer.shutdown_request(self, request)
    end
    local server = S(LOCAL, H)
    local addr = server.server_address
    local conns = {}
    for i = 1, nclients do
      conns[i] = connect(addr)
      conns[i]:sendall("go\n")
    end
    for _ = 1, nclients do server:handle_request() end
    -- every handler has written "first" and is parked in wait
    for i = 1, nclients do assert.are.equal("first\n", conns[i]:recv(6)) end
    local t0 = task.now()
    server:server_close()
    log.took = task.now() - t0
    log.refused = connect_after_close(addr)
    log.replies = {}
    for i = 1, nclients do
      log.replies[i] = {recv_all(conns[i])}
      conns[i]:close()
    end
    return log
  end

  local function sleep_long() task.sleep(10) end

  it("stops the handlers still running at the deadline: task.Cancelled where they wait; finish and " ..
    "shutdown_request still run, and server_close returns at the deadline", function()
    local log = scenario({block_on_close_timeout = 0.2}, sleep_long, N)
    assert.is_true(log.took >= 0.19 and log.took < 0.6, "server_close took " .. log.took)
    assert.are.equal(N, #log.errors)
    for _, err in ipairs(log.errors) do assert.is_true(errors.Cancelled:matches(err), tostring(err)) end
    assert.are.equal(N, log.finish)
    assert.are.equal(N, log.shutdown_request)
    assert.are.equal("ConnectionRefusedError", log.refused)
    -- each client got what was written before the deadline, then the end
    for i = 1, N do assert.are.same({""}, log.replies[i]) end
  end)

  it("a handler parked on its own socket is cancelled the same way", function()
    local log = scenario({block_on_close_timeout = 0.1}, function(self) self.rfile:readline() end, 3)
    assert.is_true(log.took >= 0.09 and log.took < 0.5, "server_close took " .. log.took)
    assert.are.equal(3, #log.errors)
    for _, err in ipairs(log.errors) do assert.is_true(errors.Cancelled:matches(err), tostring(err)) end
    assert.are.equal(3, log.shutdown_request)
  end)

  it("a handler that catches the cancel finds its request shut down (EOF, [Errno 32] Broken pipe)", function()
    local log = scenario({block_on_close_timeout = 0.1, swallow = true}, sleep_long, 3)
    assert.is_true(log.took < 0.5, "server_close took " .. log.took)
    assert.are.equal(3, #log.after)
    local epipe = helpers.python("import errno; print(errno.EPIPE)")
    for _, err in ipairs(log.after) do
      assert.is_true(errors.BrokenPipeError:matches(err), tostring(err))
      assert.are.equal(tonumber(epipe), err.errno)
    end
    assert.are.same({"", "", ""}, log.read_after)
    assert.are.equal(3, log.shutdown_request)
    for i = 1, 3 do assert.are.same({""}, log.replies[i]) end
  end)

  it("0 cancels at once; nil (the default) waits for the handler", function()
    local log = scenario({block_on_close_timeout = 0}, function() task.sleep(DELAY) end, 2)
    assert.is_true(log.took < 0.2, "server_close took " .. log.took)
    assert.are.equal(2, #log.errors)
    log = scenario({}, function() task.sleep(DELAY) end, 2)
    assert.is_true(log.took >= DELAY - 0.05, "server_close took " .. log.took)
    assert.are.equal(0, #log.errors)
    for i = 1, 2 do assert.are.same({"second\n"}, log.replies[i]) end
  end)

  it("leaves the daemon tasks alone (daemon_threads), as block_on_close does", function()
    local log = scenario({block_on_close_timeout = 0, daemon_threads = true}, function() task.sleep(DELAY) end, 2)
    assert.is_true(log.took < 0.1, "server_close took " .. log.took)
    assert.are.equal(0, #log.errors)
    for i = 1, 2 do assert.are.same({"second\n"}, log.replies[i]) end
  end)

  it("is nil on the class; a value that is not a non-negative number is a ValueError at server_close", function()
    assert.is_nil(socketserver.ThreadingMixIn.block_on_close_timeout)
    assert.is_nil(socketserver.ThreadingTCPServer.block_on_close_timeout)
    for _, bad in ipairs({-1, "1", 0 / 0, math.huge, true}) do
      local server = socketserver.ThreadingTCPServer(LOCAL, socketserver.BaseRequestHandler)
      server.block_on_close_timeout = bad
      local ok, err = pcall(server.server_close, server)
      assert.is_false(ok)
      assert.is_true(errors.ValueError:matches(err), tostring(err))
      assert.matches("block_on_close_timeout must be nil or a number from 0 to", tostring(err), 1, true)
      server.block_on_close_timeout = nil
      server:server_close()
    end
  end)
end)

describe("socketserver block_on_close_timeout, ForkingMixIn", function()
  -- n clients of a ForkingTCPServer whose handler writes "first\n", sleeps
  -- `delay`, then writes "second\n"; returns how long server_close took,
  -- the children's pids and what each client got.
  local function scenario(fields, delay, n)
    local H = socketserver.StreamRequestHandler:extend{handle = function(self)
      self.rfile:readline()
      self.wfile:write("first\n")
      task.sleep(delay)
      self.wfile:write("second\n")
    end}
    fields.request_queue_size = n
    local S = socketserver.ForkingTCPServer:extend(fields)
    local server = S(LOCAL, H)
    local conns = {}
    for i = 1, n do
      conns[i] = connect(server.server_address)
      conns[i]:sendall("go\n")
    end
    for _ = 1, n do server:handle_request() end
    for i = 1, n do assert.are.equal("first\n", conns[i]:recv(6)) end
    local pids = {}
    for pid in pairs(server.active_children) do pids[#pids + 1] = pid end
    local t0 = task.now()
    server:server_close()
    local took = task.now() - t0
    local replies = {}
    for i = 1, n do
      replies[i] = recv_all(conns[i])
      conns[i]:close()
    end
    return took, pids, replies, server
  end

  it("kills the children still running at the deadline (SIGKILL) and reaps them", function()
    local took, pids, replies, server = scenario({block_on_close_timeout = 0.2}, 10, 4)
    assert.is_true(took >= 0.19 and took < 1, "server_close took " .. took)
    assert.are.equal(4, #pids)
    assert.is_nil(next(server.active_children))
    for _, pid in ipairs(pids) do
      -- reaped: no such process, not even a zombie
      local ok, err = pcall(posix.kill, pid, 0)
      assert.is_false(ok)
      assert.is_true(errors.ProcessLookupError:matches(err), tostring(err))
    end
    for i = 1, 4 do assert.are.equal("", replies[i]) end
  end)

  it("waits for the children that end before the deadline", function()
    local took, _, replies, server = scenario({block_on_close_timeout = 3}, DELAY, 4)
    assert.is_true(took >= DELAY - 0.1 and took < 2, "server_close took " .. took)
    assert.is_nil(next(server.active_children))
    for i = 1, 4 do assert.are.equal("second\n", replies[i]) end
  end)

  it("a bad value is a ValueError at server_close", function()
    local server = socketserver.ForkingTCPServer(LOCAL, socketserver.BaseRequestHandler)
    server.block_on_close_timeout = -1
    local ok, err = pcall(server.server_close, server)
    assert.is_false(ok)
    assert.is_true(errors.ValueError:matches(err), tostring(err))
    server.block_on_close_timeout = nil
    server:server_close()
  end)
end)
