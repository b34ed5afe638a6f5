-- Fault: the process runs out of fds. A child runs under
-- `sh -c 'ulimit -n 64; exec moonsock script'`: it fills its fd table with
-- sockets, lets one client connect, and its server task's accept raises
-- EMFILE ("[Errno 24] Too many open files", as Python's) while the table is
-- full; the server task keeps running, and once fds are freed it serves
-- that client and 20 more. python3 runs the same steps (without tasks)
-- under the same limit: the transcripts must be equal.
-- Bounded: the child is killed by timeout(1) after 60 s; every socket has a
-- timeout of 5 s.
local h = require "spec.support.helpers"

local MOONSOCK_SCRIPT = [[
local socket = require "socket"
local task = require "task"
local EMFILE = 24

local srv = socket.create_server({"127.0.0.1", 0})
local addr = srv:getsockname()
local emfiles, first_error, served = 0, nil, 0

-- A server as one is written: accept in a loop, and on a transient error
-- wait a little and accept again.
local server = task.spawn(function()
  srv:settimeout(5)
  while served < 21 do
    local ok, conn = pcall(srv.accept, srv)
    if ok then
      conn:settimeout(5)
      local line = conn:recv(100)
      conn:sendall("echo " .. line)
      conn:close()
      served = served + 1
    elseif socket.error:matches(conn) and conn.errno == EMFILE then
      emfiles = emfiles + 1
      first_error = first_error or tostring(conn)
      task.sleep(0.02)
    else
      error(conn, 0)
    end
  end
end)

-- Fill the fd table.
local filler = {}
while true do
  local ok, s = pcall(socket.socket)
  if not ok then
    print("socket: " .. tostring(s))
    break
  end
  filler[#filler + 1] = s
end
assert(#filler > 40 and #filler < 64, #filler)
-- One fd for a client: its connection waits in the listen queue, and
-- accepting it needs an fd there is none of.
table.remove(filler):close()
local c = socket.socket()
c:setblocking(false)
pcall(c.connect, c, addr)
task.sleep(0.3)
print("accept: " .. tostring(first_error))
print("the server task is " .. (server:done() and "done" or "running"))
-- Free some fds: the server accepts the waiting client.
for _ = 1, 4 do table.remove(filler):close() end
c:settimeout(5)
c:sendall("first")
print(c:recv(100))
c:close()
-- And keeps serving.
for i = 1, 20 do
  local k = socket.create_connection(addr, 5)
  k:sendall("client " .. i)
  local reply = k:recv(100)
  k:close()
  if reply ~= "echo client " .. i then print("bad reply " .. reply) end
end
server:join(10)
print("served " .. served)
io.stderr:write("accept raised EMFILE " .. emfiles .. " times\n")
]]

local PYTHON_SCRIPT = [[
import socket
srv = socket.create_server(("127.0.0.1", 0))
addr = srv.getsockname()
filler = []
while True:
    try:
        filler.append(socket.socket())
    except OSError as e:
        print("socket: " + str(e))
        break
filler.pop().close()
c = socket.socket()
c.setblocking(False)
try:
    c.connect(addr)
except OSError:
    pass
try:
    srv.accept()
    print("accept: None")
except OSError as e:
    print("accept: " + str(e))
print("the server task is running")
for _ in range(4):
    filler.pop().close()
c.settimeout(5)
c.sendall(b"first")
conn, _ = srv.accept()
conn.sendall(b"echo " + conn.recv(100))
conn.close()
print(c.recv(100).decode())
c.close()
served = 1
for i in range(1, 21):
    k = socket.create_connection(addr, 5)
    k.sendall(b"client %d" % i)
    conn, _ = srv.accept()
    conn.sendall(b"echo " + conn.recv(100))
    conn.close()
    reply = k.recv(100).decode()
    k.close()
    served += 1
    if reply != "echo client %d" % i:
        print("bad reply " + reply)
print("served %d" % served)
]]

describe("a process out of fds", function()
  it("raises EMFILE from accept, keeps its server running, and serves again once fds free", function()
    local script = h.write_temp(MOONSOCK_SCRIPT, ".lua")
    local out, err, code = h.run(string.format("sh -c 'ulimit -n 64; exec timeout 60 %s %s'",
      h.shell_quote(h.moonsock), h.shell_quote(script)))
    os.remove(script)
    local pyfile = h.write_temp(PYTHON_SCRIPT, ".py")
    local py, pyerr, pycode = h.run("sh -c 'ulimit -n 64; exec timeout 60 python3 " .. h.shell_quote(pyfile) .. "'")
    os.remove(pyfile)
    assert.are.equal(0, pycode, pyerr)
    assert.are.equal(0, code, err)
    assert.are.equal(py, out)
    assert.are.equal("[Errno 24] Too many open files", py:match("accept: ([^\n]*)"))
    -- The server tried again while the table was full, and failed each time.
    local times = tonumber(err:match("accept raised EMFILE (%d+) times"))
    assert.is_true(times ~= nil and times >= 2, err)
  end)
end)
